"""A scan's printed output, kept for its key: run again with nothing changed (the repository,
the recipe, the tool, and the options that shape the output), `scan` prints it as it is, without
scanning, parsing the recipe or loading the analysis.

The output is a pure function of what the key covers and of the options: the repository as git
sees it (`cachekey.repository_state`), the recipe file's bytes and where it is, the tool's own
source, the interpreter, the scanned folder, and whether each module the recipe's strategies
import can be imported (their names are kept beside the output, so the recipe need not be
parsed to know them). Printing it again is the run itself, only sooner. It is kept only when
nothing changed while it was computed. The file is untrusted input: one for another key, too
large, not UTF-8, naming modules no recipe could, or holding a control character that the
output never contains (terminal escapes) is ignored.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import sys
from collections.abc import Iterable

from migrator_tui.recipe.locate import recipe_location
from migrator_tui.review.cache_sweep import sweep, touch
from migrator_tui.review.cachekey import code_digest, importable, located_state, repository_state

#: `typing.TYPE_CHECKING` without importing `typing` (a kept scan is printed without it)
TYPE_CHECKING = False

if TYPE_CHECKING:
    from migrator_tui.review.cachekey import Folder

#: The largest kept output read, and the most module names kept beside it.
MAX_BYTES = 64 << 20
MAX_MODULES = 256
#: A larger recipe file is never a kept scan's (its scan is left to the recipe loader).
MAX_RECIPE_BYTES = 1 << 20
#: What a scan's output never holds: JSON escapes every control character, the other forms
#: print names through `errors.printable`.
_FOREIGN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
#: The bytes that are plain printable ASCII (with line feed and tab): most of any output.
_PLAIN = bytes(range(0x20, 0x7F)) + b"\n\t"
_MODULE = re.compile(rb"[A-Za-z_][A-Za-z0-9_]{0,127}\Z")


def _printed(data: bytes) -> bool:
    """Whether `data` is UTF-8 text a scan could have printed."""
    try:  # (UTF-8 without its ASCII bytes is still UTF-8: only the rest needs a closer look)
        rest = data.translate(None, _PLAIN).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not _FOREIGN.search(rest)


class Slot:
    """Where the output of one scan (these options, this repository state) is kept.

    (A plain class: `dataclasses` would import `inspect` and `ast`, twice this module's cost. Paths
    are text: `pathlib` would be a tenth of the run.)"""

    __slots__ = ("options", "path", "recipe", "root", "state", "static")

    def __init__(self, root: Folder, recipe: str | None, path: str, static: str, state: str, options: str):
        self.root, self.recipe, self.path, self.options = root, recipe, path, options
        #: the digest of the recipe, the tool, the interpreter and the folder, and the
        #: repository's state, when the slot was made
        self.static, self.state = static, state

    def digest(self, modules: Iterable[str]) -> str:
        """The key of this slot's output for a recipe whose strategies import `modules`."""
        what = f"{self.static}\0{self.state}\0{self.options}\0"
        h = hashlib.sha256(what.encode("utf-8", "surrogateescape"))
        h.update(repr(importable([modules])).encode())
        return h.hexdigest()


def slot(root: Folder, recipe: str | None, options: str) -> Slot | None:
    """The slot of a scan of `root` with the recipe named `recipe` and `options` (a text naming
    everything else that shapes the output), or None where nothing can be kept (not a folder,
    outside git, a repository git refuses, a recipe file that cannot be read)."""
    if not os.path.isdir(root):
        return None
    static = _static(root, recipe)
    if static is None:
        return None
    common, state = located_state(root)
    if common is None or state is None:
        return None
    where = f"{options}\0{os.path.realpath(recipe_location(recipe)[0])}\0{os.path.realpath(root)}"
    name = hashlib.sha1(where.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return Slot(root, recipe, os.path.join(common, "migrator", "cache", f"output-{name}.txt"), static, state,
                options)


def _static(root: Folder, recipe: str | None) -> str | None:
    """The digest of the recipe file (where it is, its bytes), the tool's source, the
    interpreter and the scanned folder, or None when the recipe file cannot be read."""
    path, builtin = recipe_location(recipe)
    try:
        if not os.path.isfile(path) or os.stat(path).st_size > MAX_RECIPE_BYTES:
            return None
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    h = hashlib.sha256(data)
    where, folder = os.path.realpath(path), os.path.realpath(root)
    h.update(f"\0{recipe}\0{builtin}\0{where}\0{folder}\0{sys.version}\0".encode(
        "utf-8", "surrogateescape"))
    h.update(code_digest().encode())
    return h.hexdigest()


def kept(slot: Slot) -> bytes | None:
    """The output (UTF-8) kept in `slot` for its key, or None."""
    try:
        if os.path.islink(slot.path) or os.stat(slot.path).st_size > MAX_BYTES:
            return None
        with open(slot.path, "rb") as fh:  # (lines read apart: no copy of a large output)
            head, names, body = fh.readline(128), fh.readline(MAX_MODULES * 129), fh.read(MAX_BYTES)
    except OSError:
        return None
    if not (head.endswith(b"\n") and names.endswith(b"\n")):
        return None
    modules = names[:-1].split(b" ") if names != b"\n" else []
    if len(modules) > MAX_MODULES or not all(_MODULE.match(m) for m in modules):
        return None
    if head[:-1] != slot.digest(m.decode() for m in modules).encode() or not _printed(body):
        return None
    touch(slot.path)  # (in use: not swept)
    return body


def keep(slot: Slot, text: str, modules: Iterable[str]) -> None:
    """Keep `text` as the output of `slot`'s scan with a recipe whose strategies import
    `modules`, unless the repository or the recipe changed since the slot was made (the output
    may then not be its key's) or the text is not one a scan prints."""
    names = sorted(set(modules))
    try:
        body = text.encode("utf-8")
    except UnicodeEncodeError:  # (not expected: a scan's output is printable text)
        return
    if len(names) > MAX_MODULES or not all(_MODULE.match(m.encode()) for m in names):
        return
    if not _printed(body):
        return
    if repository_state(slot.root) != slot.state or _static(slot.root, slot.recipe) != slot.static:
        return
    from pathlib import Path

    from migrator_tui.review.state import atomic_write

    data = slot.digest(names).encode() + b"\n" + " ".join(names).encode() + b"\n" + body
    with contextlib.suppress(OSError):  # a read-only repository: nothing kept, nothing lost
        atomic_write(Path(slot.path), data)
        sweep(os.path.dirname(slot.path))
