"""The syntax trees this process parsed last, by source text: a file the scan parsed is not parsed
again by the analysis, the caller index or a build in the same process.

A tree is shared by everyone who asks for the same text, so no reader may change one (none
does: the analysis keeps its walks beside the nodes, `prune` copies a class before giving it
another body). Bounded: the `MAX_TREES` most recently asked for, holding at most `MAX_TEXT`
characters of source; a larger file is parsed each time. A tree is asked for again soon or not
at all (the caller index reading the files around the one it is asked about, the analysis of a
file the index just read); keeping more only makes the garbage collector's passes longer: with
128 trees a scan of 2,000 small files took 10% more CPU than with none, with 32 it took none
more, and the reuse elsewhere was the same.
"""

from __future__ import annotations

import ast
import threading
from collections import OrderedDict

MAX_TREES = 32
MAX_TEXT = 16 << 20

_TREES: OrderedDict[str, ast.Module] = OrderedDict()
_SIZE = [0]
_LOCK = threading.Lock()  # (the review analyses files in threads)


def parse(text: str, filename: str = "<unknown>") -> ast.Module:
    """`ast.parse(text, filename)`, or the tree of an earlier parse of the same text. Errors are
    raised as `ast.parse` raises them (and nothing is kept)."""
    with _LOCK:
        tree = _TREES.get(text)
        if tree is not None:
            _TREES.move_to_end(text)
            return tree
    tree = ast.parse(text, filename=filename)
    if len(text) <= MAX_TEXT // 8:
        with _LOCK:
            if text not in _TREES:
                _TREES[text] = tree
                _SIZE[0] += len(text)
                while len(_TREES) > MAX_TREES or _SIZE[0] > MAX_TEXT:
                    old, _ = _TREES.popitem(last=False)
                    _SIZE[0] -= len(old)
    return tree


def forget() -> None:
    """Drop every kept tree."""
    with _LOCK:
        _TREES.clear()
        _SIZE[0] = 0
