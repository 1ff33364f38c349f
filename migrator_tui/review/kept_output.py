"""A scan's printed output, kept for its key: run again with nothing changed (the repository,
the recipe, the tool, and the options that shape the output), `scan` prints it as it is, without
scanning or loading the analysis.

The output is a pure function of what the key covers (`review.cachekey`) and of the options, so
printing it again is the run itself, only sooner. It is kept only when nothing changed while it
was computed. The file is untrusted input: one for another key, too large, not UTF-8, or holding
a control character that the output never contains (terminal escapes) is ignored.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from migrator_tui.recipe import Recipe
from migrator_tui.review.cachekey import cache_file, repository_key, static_key

#: The largest kept output read.
MAX_BYTES = 64 << 20
#: What a scan's output never holds: JSON escapes every control character, the other forms
#: print names through `errors.printable`.
_FOREIGN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
#: The bytes that are plain printable ASCII (with line feed and tab): most of any output.
_PLAIN = bytes(range(0x20, 0x7F)) + b"\n\t"


def _printed(data: bytes) -> str | None:
    """`data` as text when it is UTF-8 a scan could have printed, else None."""
    try:  # (UTF-8 without its ASCII bytes is still UTF-8: only the rest needs a closer look)
        rest = data.translate(None, _PLAIN).decode("utf-8")
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return None if _FOREIGN.search(rest) else text


@dataclass(frozen=True, slots=True)
class Slot:
    """Where the output of one scan (these options, this repository state) is kept."""

    root: Path
    recipe: Recipe
    path: Path
    static: str
    #: the repository's key when the slot was made, and the digest of it with the options
    key: str
    digest: str


def slot(root: Path, recipe: Recipe, options: str) -> Slot | None:
    """The slot of a scan of `root` with `options` (a text naming everything else that shapes
    the output), or None where nothing can be kept (outside git, a repository git refuses)."""
    name = hashlib.sha1(options.encode("utf-8", "surrogateescape")).hexdigest()[:12]
    where = cache_file(root, recipe, f"output-{name}", "txt")
    if where is None:
        return None
    static = static_key(root, recipe)
    key = repository_key(root, static)
    if key is None:
        return None
    digest = hashlib.sha256(f"{key}\0{options}".encode("utf-8", "surrogateescape")).hexdigest()
    return Slot(root, recipe, where, static, key, digest)


def kept(slot: Slot) -> str | None:
    """The output kept in `slot` for its key, or None."""
    try:
        if slot.path.is_symlink() or slot.path.stat().st_size > MAX_BYTES:
            return None
        data = slot.path.read_bytes()
    except OSError:
        return None
    head, sep, body = data.partition(b"\n")
    if not sep or head != slot.digest.encode():
        return None
    return _printed(body)


def keep(slot: Slot, text: str) -> None:
    """Keep `text` as the output of `slot`'s scan, unless the repository changed since the slot
    was made (the output may then not be its key's) or the text is not one a scan prints."""
    try:
        body = text.encode("utf-8")
    except UnicodeEncodeError:  # (not expected: a scan's output is printable text)
        return
    if _printed(body) is None or repository_key(slot.root, slot.static) != slot.key:
        return
    from migrator_tui.review.state import atomic_write

    data = slot.digest.encode() + b"\n" + body
    with contextlib.suppress(OSError):  # a read-only repository: nothing kept, nothing lost
        atomic_write(slot.path, data)
