from __future__ import annotations

import difflib

from migrator_tui.review.diff import build_diff, side_by_side, stats, unified

OLD = "".join(f"line {i}\n" for i in range(1, 21))


def _replace(text: str, lineno: int, new: str) -> str:
    lines = text.splitlines(keepends=True)
    lines[lineno - 1] = new
    return "".join(lines)


def test_identical_texts_have_no_change() -> None:
    hunks = build_diff(OLD, OLD, context=3)
    assert hunks == []
    assert unified(hunks) == ""


def test_one_change_with_context_matches_difflib() -> None:
    new = _replace(OLD, 10, "LINE TEN\n")
    hunks = build_diff(OLD, new, context=3)
    assert len(hunks) == 1
    hunk = hunks[0]
    assert (hunk.old_start, hunk.old_count, hunk.new_start, hunk.new_count) == (7, 7, 7, 7)
    expected = "".join(
        difflib.unified_diff(OLD.splitlines(keepends=True), new.splitlines(keepends=True), "a", "b", n=3)
    )
    assert unified(hunks) == expected
    assert stats(hunks) == (1, 1)


def test_line_numbers_on_both_sides() -> None:
    new = _replace(OLD, 5, "five\nfive and a half\n")
    lines = build_diff(OLD, new, context=1)[0].lines
    assert [(ln.sign, ln.old, ln.new) for ln in lines] == [
        (" ", 4, 4), ("-", 5, None), ("+", None, 5), ("+", None, 6), (" ", 6, 7),
    ]


def test_far_changes_make_separate_hunks_and_close_ones_merge() -> None:
    new = _replace(_replace(OLD, 2, "two\n"), 18, "eighteen\n")
    assert len(build_diff(OLD, new, context=3)) == 2
    close = _replace(_replace(OLD, 8, "eight\n"), 12, "twelve\n")
    assert len(build_diff(OLD, close, context=2)) == 1


def test_focus_range_is_shown_whole() -> None:
    new = _replace(OLD, 10, "LINE TEN\n")
    hunks = build_diff(OLD, new, context=0, focus=(3, 15))
    assert len(hunks) == 1
    olds = [ln.old for ln in hunks[0].lines if ln.old is not None]
    assert olds == list(range(3, 16))
    assert any(ln.kind == "added" and ln.text == "LINE TEN" for ln in hunks[0].lines)


def test_focus_range_keeps_lines_added_at_its_end_and_drops_lines_outside() -> None:
    new = _replace(OLD, 6, "line 6\ninserted\n")
    hunks = build_diff(OLD, new, context=0, focus=(2, 6))
    kinds = [(ln.kind, ln.text) for ln in hunks[0].lines]
    assert ("added", "inserted") in kinds
    assert all(ln.old is None or 2 <= ln.old <= 6 for ln in hunks[0].lines)


def test_whole_file() -> None:
    new = _replace(OLD, 10, "LINE TEN\n")
    hunks = build_diff(OLD, new, context=None)
    assert len(hunks) == 1
    assert hunks[0].old_count == 20 and hunks[0].new_count == 20


def test_pure_insertion_header_like_diff_u() -> None:
    new = "zero\n" + OLD
    hunk = build_diff(OLD, new, context=0)[0]
    assert hunk.header == "@@ -0,0 +1 @@"


def test_side_by_side_pairs_removals_with_additions() -> None:
    new = _replace(OLD, 5, "five\nfive and a half\n")
    rows = side_by_side(build_diff(OLD, new, context=1)[0])
    shape = [(a.old if a else None, b.new if b else None) for a, b in rows]
    assert shape == [(4, 4), (5, 5), (None, 6), (6, 7)]
