"""Line diffs for review: hunks with old/new line numbers and a +/- gutter.

Plain data built with `difflib`; the TUI renders it with highlighting, the CLI prints it as a
unified diff. Besides the usual `context` lines around each change, a diff can be asked to show a
whole range of the old file (the enclosing function) or the whole file.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

from migrator_tui.sourcefile import split_lines as _split_lines

LineKind = Literal["context", "removed", "added"]

#: The gutter sign of each kind: the diff reads without colour.
SIGNS: dict[str, str] = {"context": " ", "removed": "-", "added": "+"}


@dataclass(frozen=True, slots=True)
class DiffLine:
    """One line of a diff. `old`/`new` are 1-based line numbers, `None` where the line is absent."""

    kind: LineKind
    old: int | None
    new: int | None
    text: str

    @property
    def sign(self) -> str:
        return SIGNS[self.kind]


@dataclass(frozen=True, slots=True)
class Hunk:
    """A run of consecutive diff lines; the header numbers follow `diff -u`."""

    old_start: int
    old_count: int
    new_start: int
    new_count: int
    lines: tuple[DiffLine, ...]

    @property
    def header(self) -> str:
        return f"@@ -{_range(self.old_start, self.old_count)} +{_range(self.new_start, self.new_count)} @@"

    @property
    def changed(self) -> bool:
        return any(line.kind != "context" for line in self.lines)


def _range(start: int, count: int) -> str:
    return str(start) if count == 1 else f"{start},{count}"


def _all_lines(old: list[str], new: list[str]) -> list[DiffLine]:
    """Every line of both texts in diff order, with its kind and line numbers."""
    out: list[DiffLine] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out.extend(DiffLine("context", i1 + k + 1, j1 + k + 1, old[i1 + k]) for k in range(i2 - i1))
            continue
        out.extend(DiffLine("removed", i + 1, None, old[i]) for i in range(i1, i2))
        out.extend(DiffLine("added", None, j + 1, new[j]) for j in range(j1, j2))
    return out


def split_lines(text: str) -> list[str]:
    """Lines without their line ending (a final newline does not make an empty last line)."""
    return _split_lines(text)


def build_diff(
    old: str,
    new: str,
    context: int | None = 3,
    focus: tuple[int, int] | None = None,
) -> list[Hunk]:
    """Diff `old` against `new` as hunks.

    `context` lines of unchanged text surround each change; `None` shows the whole file as one
    hunk. `focus` is an inclusive range of old line numbers (e.g. the enclosing function) shown
    entirely, together with the new lines that replace any part of it.
    """
    lines = _all_lines(split_lines(old), split_lines(new))
    if not lines:
        return []
    if context is None:
        return list(_hunks(lines, [True] * len(lines)))
    context = max(0, context)
    visible = [False] * len(lines)
    if focus is not None:
        lo, hi = focus
        last_old = 0
        for idx, line in enumerate(lines):
            if line.old is not None:
                last_old = line.old
                visible[idx] = lo <= line.old <= hi
            else:
                # an added line sits after old line `last_old`: inside the range if its neighbours are
                visible[idx] = lo <= last_old + 1 and last_old <= hi
    changed = [idx for idx, line in enumerate(lines) if line.kind != "context"]
    for idx in changed:
        for k in range(max(0, idx - context), min(len(lines), idx + context + 1)):
            visible[k] = True
    return list(_hunks(lines, visible))


def _hunks(lines: list[DiffLine], visible: list[bool]) -> Iterator[Hunk]:
    run: list[DiffLine] = []
    # line numbers *before* the run starts, to number empty sides like `diff -u`
    old_seen = new_seen = 0
    run_old = run_new = 0
    for line, show in zip(lines, visible, strict=True):
        if show:
            if not run:
                run_old, run_new = old_seen, new_seen
            run.append(line)
        elif run:
            yield _hunk(run, run_old, run_new)
            run = []
        if line.old is not None:
            old_seen = line.old
        if line.new is not None:
            new_seen = line.new
    if run:
        yield _hunk(run, run_old, run_new)


def _hunk(run: list[DiffLine], old_before: int, new_before: int) -> Hunk:
    old_count = sum(1 for line in run if line.old is not None)
    new_count = sum(1 for line in run if line.new is not None)
    old_start = old_before + 1 if old_count else old_before
    new_start = new_before + 1 if new_count else new_before
    return Hunk(old_start, old_count, new_start, new_count, tuple(run))


def unified(hunks: Iterable[Hunk], old_name: str = "a", new_name: str = "b") -> str:
    """The hunks as `diff -u` text (with `---`/`+++` headers), ending with a newline."""
    hunks = list(hunks)
    if not hunks:
        return ""
    out = [f"--- {old_name}", f"+++ {new_name}"]
    for hunk in hunks:
        out.append(hunk.header)
        out.extend(line.sign + line.text for line in hunk.lines)
    return "\n".join(out) + "\n"


Row = tuple[DiffLine | None, DiffLine | None]


def side_by_side(hunk: Hunk) -> list[Row]:
    """Pair the hunk's lines as (old side, new side) rows: removals face the additions after them."""
    rows: list[Row] = []
    removed: list[DiffLine] = []
    added: list[DiffLine] = []

    def flush() -> None:
        for k in range(max(len(removed), len(added))):
            rows.append((removed[k] if k < len(removed) else None, added[k] if k < len(added) else None))
        removed.clear()
        added.clear()

    for line in hunk.lines:
        if line.kind == "context":
            flush()
            rows.append((line, line))
        elif line.kind == "removed":
            if added:
                flush()
            removed.append(line)
        else:
            added.append(line)
    flush()
    return rows


def stats(hunks: Iterable[Hunk]) -> tuple[int, int]:
    """(lines added, lines removed)."""
    added = removed = 0
    for hunk in hunks:
        for line in hunk.lines:
            added += line.kind == "added"
            removed += line.kind == "removed"
    return added, removed
