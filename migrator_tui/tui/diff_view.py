"""A line-API diff widget: highlighted Python, old/new line numbers, a +/- gutter, two layouts.

Only the visible lines are rendered (like `RichLog`), so a diff of thousands of lines scrolls
without delay. The gutter carries the sign, so the diff reads without colour.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.cache import LRUCache
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from migrator_tui.review.diff import DiffLine, Hunk, side_by_side
from migrator_tui.sourcefile import split_lines
from migrator_tui.tui.highlight import highlight_line

NUMBER_WIDTH = 5
#: Cells of a unified row before its code (both line numbers and the sign): they stay in place
#: when the diff scrolls sideways.
GUTTER_WIDTH = 2 * NUMBER_WIDTH + 4


@dataclass(frozen=True, slots=True)
class _Row:
    """One screen line: a hunk header, a note, or a pair of sides (equal in unified view)."""

    kind: str  # "hunk" | "note" | "line" | "pair"
    text: str = ""
    left: DiffLine | None = None
    right: DiffLine | None = None


class DiffView(ScrollView, can_focus=True):
    """Shows a list of hunks between two texts, unified or side by side."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "diff-view--gutter",
        "diff-view--added",
        "diff-view--removed",
        "diff-view--added-gutter",
        "diff-view--removed-gutter",
        "diff-view--hunk",
        "diff-view--note",
    }

    DEFAULT_CSS = """
    DiffView {
        background: $surface;
        scrollbar-size-vertical: 1;
    }
    DiffView > .diff-view--gutter { color: $text-muted; }
    DiffView > .diff-view--added { background: $success 20%; }
    DiffView > .diff-view--removed { background: $error 20%; }
    DiffView > .diff-view--added-gutter { background: $success 35%; color: $text; text-style: bold; }
    DiffView > .diff-view--removed-gutter { background: $error 35%; color: $text; text-style: bold; }
    DiffView > .diff-view--hunk { color: $accent; background: $boost; }
    DiffView > .diff-view--note { color: $text-muted; text-style: italic; }
    """

    split: reactive[bool] = reactive(False)
    """Side by side (old left, new right) instead of unified."""

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._old = ""
        self._new = ""
        self._hunks: list[Hunk] = []
        self._rows: list[_Row] = []
        self._width = 0
        self._cache: LRUCache[tuple[int, int, bool], Strip] = LRUCache(2048)

    # --- attributes down ---------------------------------------------------------------------

    def show_diff(self, old: str, new: str, hunks: list[Hunk], note: str | None = None,
                  at_change: bool = False, focus: int = 0) -> None:
        """Show `hunks` computed between `old` and `new`; `note` is a line shown above them.
        `at_change`: scroll so that the first changed line at or after original line `focus` (the
        occurrence, not an import added at the top) shows near the top."""
        self._old, self._new, self._hunks = old, new, list(hunks)
        self._rebuild(note)
        if at_change:  # once the new size is laid out (a scroll now would be clamped to the old one)
            self.call_after_refresh(self._scroll_to_change, focus)

    def _scroll_to_change(self, focus: int = 0) -> None:
        first = self.first_change_row(focus)
        if first is not None:
            self.scroll_to(0, max(0, first - 3), animate=False, immediate=True)

    def first_change_row(self, focus: int = 0) -> int | None:
        """The row of the first added or removed line (at or after original line `focus`, if there
        is one), None when nothing changed."""
        first = None
        for i, row in enumerate(self._rows):
            for line in (row.left, row.right):
                if row.kind in ("line", "pair") and line is not None and line.kind != "context":
                    if first is None:
                        first = i
                    if not focus or (row.left is not None and row.left.old is not None
                                     and row.left.old >= focus):
                        return i
        return first

    def show_code(self, source: str, start: int, end: int, note: str | None = None) -> None:
        """Show lines `start`..`end` of `source` unchanged (no diff), numbered."""
        lines = split_lines(source)
        start = max(1, start)
        end = min(len(lines), end if end >= start else len(lines))
        body = tuple(DiffLine("context", n, n, lines[n - 1]) for n in range(start, end + 1))
        self._old = self._new = source
        self._hunks = [Hunk(start, len(body), start, len(body), body)] if body else []
        self._rebuild(note)

    def clear(self, message: str | None = None) -> None:
        """Show nothing but `message` (default: "No change.")."""
        self._old = self._new = ""
        self._hunks = []
        self._rebuild(message)

    @property
    def hunks(self) -> list[Hunk]:
        return self._hunks

    @property
    def row_count(self) -> int:
        return len(self._rows)

    def watch_split(self) -> None:
        self._rebuild_rows()

    def _rebuild(self, note: str | None) -> None:
        self._note = note
        self._rebuild_rows()
        self.scroll_to(0, 0, animate=False, immediate=True)

    def _rebuild_rows(self) -> None:
        rows: list[_Row] = []
        if getattr(self, "_note", None):
            rows.append(_Row("note", self._note or ""))
        for hunk in self._hunks:
            rows.append(_Row("hunk", hunk.header))
            if self.split:
                rows.extend(_Row("pair", left=a, right=b) for a, b in side_by_side(hunk))
            else:
                rows.extend(_Row("line", left=line, right=line) for line in hunk.lines)
        if not self._hunks and not rows:
            rows.append(_Row("note", "No change."))
        self._rows = rows
        longest = max((len(line.text) for h in self._hunks for line in h.lines), default=0)
        self._width = (2 * (NUMBER_WIDTH + 3) + longest) if self.split else (2 * NUMBER_WIDTH + 4 + longest)
        self._cache.clear()
        self.virtual_size = Size(self._width if not self.split else 0, len(rows))
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()

    # --- rendering ---------------------------------------------------------------------------

    def _highlighted(self, line: DiffLine, old_side: bool) -> Text:
        dark = self.app.current_theme.dark if self.is_mounted else True
        source = self._old if old_side else self._new
        number = line.old if old_side else line.new
        found = highlight_line(source, number, dark) if number is not None else None
        if found is not None and found.plain == line.text:
            return found
        return Text(line.text, no_wrap=True, end="")

    def _side(self, line: DiffLine | None, old_side: bool, width: int, numbers: int) -> Text:
        """One side of a row: numbers, sign, then the code, padded/cropped to `width` if given."""
        gutter_style = self.get_component_rich_style("diff-view--gutter")
        if line is None:
            text = Text(" " * width if width else "", no_wrap=True, end="")
            return text
        if line.kind == "added":
            body_style = self.get_component_rich_style("diff-view--added")
            sign_style = self.get_component_rich_style("diff-view--added-gutter")
        elif line.kind == "removed":
            body_style = self.get_component_rich_style("diff-view--removed")
            sign_style = self.get_component_rich_style("diff-view--removed-gutter")
        else:
            body_style = Style()
            sign_style = gutter_style
        text = Text(no_wrap=True, end="")
        if numbers == 2:
            old_no = "" if line.old is None else str(line.old)
            new_no = "" if line.new is None else str(line.new)
            text.append(f"{old_no:>{NUMBER_WIDTH}} {new_no:>{NUMBER_WIDTH}} ", gutter_style)
        else:
            number = line.old if old_side else line.new
            text.append(f"{'' if number is None else number:>{NUMBER_WIDTH}} ", gutter_style)
        text.append(f"{line.sign} ", sign_style)
        gutter_len = len(text)
        use_old = line.kind == "removed" or (line.kind == "context" and old_side)
        text.append_text(self._highlighted(line, old_side=use_old))
        if width:
            text.truncate(width, pad=True)
        text.stylize_before(body_style, gutter_len)
        return text

    def _row_text(self, row: _Row, width: int) -> Text:
        if row.kind in ("hunk", "note"):
            style = self.get_component_rich_style(f"diff-view--{row.kind}")
            return Text(row.text, style=style, no_wrap=True, end="")
        if row.kind == "pair":
            half = max(10, (width - 1) // 2)
            left = self._side(row.left, True, half, 1)
            right = self._side(row.right, False, half, 1)
            sep = Text("│", style=self.get_component_rich_style("diff-view--gutter"), end="")
            return Text.assemble(left, sep, right, no_wrap=True, end="")
        assert row.left is not None
        return self._side(row.left, row.left.kind == "removed", 0, 2)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        # the note (what is shown, the keys that change it) stays on the first line when the
        # rows scroll, e.g. the whole file opened at the change
        index = 0 if y == 0 and self._rows and self._rows[0].kind == "note" else scroll_y + y
        width = self.scrollable_content_region.width
        base = self.rich_style
        if index >= len(self._rows):
            return Strip.blank(width, base)
        key = (index, width, self.split)
        strip = self._cache.get(key)
        if strip is None:
            text = self._row_text(self._rows[index], width)
            row = self._rows[index]
            fill = Style()
            if row.kind == "line" and row.left is not None and row.left.kind != "context":
                fill = self.get_component_rich_style(f"diff-view--{row.left.kind}")
            elif row.kind == "hunk":
                fill = self.get_component_rich_style("diff-view--hunk")
            segments = list(text.render(self.app.console))
            strip = Strip(segments).simplify()
            strip = strip.apply_style(base)
            length = max(width, self._width) if not self.split else width
            if strip.cell_length < length:
                strip = Strip([*strip, Segment(" " * (length - strip.cell_length), base + fill)])
            self._cache[key] = strip
        if not self.split and self._rows[index].kind == "line" and width > GUTTER_WIDTH:
            # numbers and sign stay; only the code scrolls sideways
            gutter = strip.crop_extend(0, GUTTER_WIDTH, base)
            code = strip.crop_extend(GUTTER_WIDTH + scroll_x, scroll_x + width, base)
            strip = Strip.join([gutter, code])
        elif not self.split:
            strip = strip.crop_extend(scroll_x, scroll_x + width, base)
        else:
            strip = strip.crop_extend(0, width, base)
        return strip.apply_offsets(scroll_x, index)
