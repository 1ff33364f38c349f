"""The review workflow's keys on the demo: strategies, the edit dialog, commits, manual occurrences."""

from __future__ import annotations

from pathlib import Path

import pytest

from migrator_tui.demo import build_demo
from migrator_tui.tui.app import make_app
from migrator_tui.tui.screens.edit import EditScreen
from migrator_tui.tui.screens.strategy_pick import StrategyPickScreen
from migrator_tui.tui.screenshots import ready, settle, show, wait_until
from tests.test_tui_flow import _HAS_FUNCTION_ONLY, SIZE, sync


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    root = tmp_path / "demo"
    build_demo(root)
    return root


@sync
async def test_t_cycles_through_every_strategy_in_a_fixed_order(demo: Path) -> None:
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        ctl, screen = app.controller, app.review_screen
        occ = next(o for o in ctl.occurrences if len(ctl.strategies(ctl.summary(o))) > 2)
        await show(pilot, occ.id)
        names = ctl.strategies(ctl.proposal(occ))
        seen = [ctl.proposal(occ).strategy]
        for _ in names:
            await pilot.press("t")
            await wait_until(pilot, lambda: ctl.cached_proposal(occ) is not None and screen.current == occ.id)
            assert ctl.strategies(ctl.proposal(occ)) == names, "the order does not depend on the current one"
            seen.append(ctl.proposal(occ).strategy)
        assert set(seen) == set(names), "every strategy is reachable"
        assert seen[0] == seen[-1], "and the cycle comes back to where it began"


@sync
async def test_switching_the_strategy_of_a_decided_occurrence_asks_for_a_new_decision(demo: Path) -> None:
    """An accept (or reject) was given to one diff with its warnings; another strategy is another
    diff: the decision is cleared, never carried over with warnings nobody saw."""
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        ctl, screen = app.controller, app.review_screen
        occ = next(o for o in ctl.occurrences if len(ctl.strategies(ctl.summary(o))) > 1
                   and not ctl.summary(o).is_manual)
        await show(pilot, occ.id)
        for key, status in (("a", "accepted"), ("r", "rejected")):
            await show(pilot, occ.id)
            await pilot.press(key)
            await wait_until(pilot, lambda status=status: ctl.decision(occ.id).status == status)
            await show(pilot, occ.id)
            first = ctl.decision(occ.id).strategy or ctl.proposal(occ).strategy
            await pilot.press("t")
            await wait_until(pilot, lambda first=first: ctl.decision(occ.id).strategy not in (None, first))
            assert ctl.decision(occ.id).status == "pending"
            record = ctl.workspace.state.decision(occ.id)
            assert record is not None and not record.warnings, "no warning is acknowledged by a switch"
            assert screen.current == occ.id


@sync
async def test_T_picks_a_strategy_from_a_list_with_descriptions(demo: Path) -> None:
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        ctl, screen = app.controller, app.review_screen
        occ = next(o for o in ctl.occurrences if len(ctl.strategies(ctl.summary(o))) > 2)
        await show(pilot, occ.id)
        names = ctl.strategies(ctl.proposal(occ))
        await pilot.press("T")
        await wait_until(pilot, lambda: isinstance(app.screen, StrategyPickScreen))
        picker = app.screen
        assert [n for n, _ in picker.choices] == names  # type: ignore[attr-defined]
        assert all(d for _, d in picker.choices), "each strategy shows its description"  # type: ignore[attr-defined]
        await pilot.press(str(len(names)))
        await wait_until(pilot, lambda: not isinstance(app.screen, StrategyPickScreen))
        await wait_until(pilot, lambda: ctl.cached_proposal(occ) is not None and screen.current == occ.id)
        assert ctl.decision(occ.id).strategy == names[-1]
        assert ctl.proposal(occ).strategy == names[-1]


def _editable(ctl):  # type: ignore[no-untyped-def]
    return next(o for o in ctl.occurrences if not ctl.summary(o).is_manual
                and not _HAS_FUNCTION_ONLY.search(ctl.proposal(o).after)
                and len(ctl.proposal(o).after.splitlines()) > 3)


@sync
async def test_escape_closes_the_edit_dialog_without_deciding(demo: Path) -> None:
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        ctl = app.controller
        occ = _editable(ctl)
        await show(pilot, occ.id)
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, EditScreen))
        app.screen.editor.text = "changed = True\n"  # type: ignore[attr-defined]
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, EditScreen), timeout=5)
        assert ctl.decision(occ.id).status == "pending"
        assert ctl.decision(occ.id).edited is None


@sync
async def test_edit_parse_error_names_the_files_line_and_moves_the_cursor(demo: Path) -> None:
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        ctl = app.controller
        occ = _editable(ctl)
        await show(pilot, occ.id)
        proposal = ctl.proposal(occ)
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, EditScreen))
        editor = app.screen.editor  # type: ignore[attr-defined]
        lines = proposal.after.splitlines(keepends=True)
        row = len(lines) - 1
        lines[row] = lines[row].rstrip("\n") + " )\n"  # an unmatched parenthesis on the last line
        editor.text = "".join(lines)
        editor.move_cursor((0, 0))
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, EditScreen)
        message = str(app.screen.query_one("#edit-error").render())
        file_line = proposal.start_line + row
        assert f"at line {file_line} of {occ.path}" in message, message
        assert editor.cursor_location[0] == row, "the cursor is on the line at fault"
        await pilot.press("escape")
        await settle(pilot)


def _file_label(app, path: str) -> str:  # type: ignore[no-untyped-def]
    return str(app.review_screen.tree.nodes[("file", path)].label)


@sync
async def test_a_file_with_local_edits_shows_the_base_and_a_badge_until_rescanned(demo: Path) -> None:
    import git

    path = "web_app.py"
    base_text = (demo / path).read_text()
    (demo / path).write_text("# a local edit\n" + base_text)
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        ctl = app.controller
        assert ctl.dirty(path)
        occ = next(o for o in ctl.occurrences if o.path == path)
        assert ctl.source(path) == base_text, "the review shows the base commit's content"
        await show(pilot, occ.id)
        assert "local edits" in _file_label(app, path)

        git.Repo(demo).git.stash()
        await pilot.press("R")
        await wait_until(pilot, lambda: not ctl.dirty(path) and not app.review_screen._rescanning)
        await settle(pilot)
        assert "local edits" not in _file_label(app, path)


@sync
async def test_a_decision_after_the_commit_shows_as_uncommitted(demo: Path) -> None:
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        ctl = app.controller
        path = ctl.occurrences[0].path
        rewritable = [o for o in ctl.occurrences if o.path == path and not ctl.summary(o).is_manual]
        await show(pilot, rewritable[0].id)
        await pilot.press("a")
        await show(pilot, rewritable[0].id)
        await pilot.press("c")
        await wait_until(pilot, lambda: ctl.committed(path))
        await settle(pilot)
        assert not ctl.uncommitted(path)
        assert "⎇ committed" in _file_label(app, path)

        await show(pilot, rewritable[1].id)
        await pilot.press("a")
        await settle(pilot)
        assert ctl.uncommitted(path)
        assert "uncommitted decisions" in _file_label(app, path)
        row = next(b for b in ctl.branches() if b.path == path)
        assert "uncommitted decisions" in row.state

        await show(pilot, rewritable[1].id)
        await pilot.press("c")
        await wait_until(pilot, lambda: not ctl.uncommitted(path))


@sync
async def test_a_rolled_back_decision_is_shown_and_taken_back_by_deciding_again(demo: Path) -> None:
    from migrator_tui.tui.screens.branches import BranchesScreen

    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        ctl, screen = app.controller, app.review_screen
        path = ctl.occurrences[0].path
        occ = next(o for o in ctl.occurrences if o.path == path and not ctl.summary(o).is_manual)
        await show(pilot, occ.id)
        await pilot.press("a")
        await show(pilot, occ.id)
        await pilot.press("c")
        await wait_until(pilot, lambda: ctl.committed(path))
        await pilot.press("b")
        await wait_until(pilot, lambda: isinstance(app.screen, BranchesScreen))
        await pilot.pause(0.2)
        await pilot.press("x")
        await pilot.pause(0.2)
        await pilot.press("y")
        await wait_until(pilot, lambda: not ctl.committed(path))
        await pilot.press("escape")
        await settle(pilot)
        assert ctl.decision(occ.id).status == "rolled back"
        assert str(screen.tree.nodes[("occurrence", occ.id)].label).startswith("↩")
        assert "1 rolled back" in screen.sub_title
        await show(pilot, occ.id)
        await pilot.press("a")
        assert ctl.decision(occ.id).status == "accepted"


@sync
async def test_integrate_confirmation_names_the_target_and_the_failed_branches(demo: Path) -> None:
    from migrator_tui.tui.screens.branches import BranchesScreen
    from migrator_tui.tui.screens.confirm import ConfirmScreen
    from migrator_tui.tui.screenshots import commit_first_two, record_verification

    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        path = app.controller.occurrences[0].path
        await commit_first_two(pilot, path)
        record_verification(app, path, "failed", 1.5, "1 failed")
        await pilot.press("b")
        await wait_until(pilot, lambda: isinstance(app.screen, BranchesScreen))
        await pilot.pause(0.2)
        await pilot.press("i")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        question = app.screen.question  # type: ignore[attr-defined]
        assert "into migrate/db-session/all" in question
        assert f"failed verify: {path} (failed)" in question
        await pilot.press("n")


@sync
async def test_deciding_a_files_last_occurrence_stays_so_c_commits_that_file(demo: Path) -> None:
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        ctl, screen = app.controller, app.review_screen
        # a file (not the review's last) whose last occurrence has an automatic rewrite
        paths = list(dict.fromkeys(o.path for o in ctl.occurrences))[:-1]
        path = next(p for p in paths
                    if not ctl.summary([o for o in ctl.occurrences if o.path == p][-1]).is_manual)
        occs = [o for o in ctl.occurrences if o.path == path]
        for o in occs[:-1]:
            ctl.reject(o.id)
        last = occs[-1]
        await show(pilot, last.id)
        await pilot.press("a")
        await settle(pilot)
        assert ctl.decision(last.id).status == "accepted"
        assert ctl.occurrence(screen.current).path == path, "the cursor stays in the finished file"  # type: ignore[arg-type]
        await pilot.press("c")
        await wait_until(pilot, lambda: ctl.committed(path))


@sync
async def test_a_manual_occurrence_offers_no_strategy_and_its_hand_edit_reads_accepted(demo: Path) -> None:
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        ctl, screen = app.controller, app.review_screen
        occ = next(o for o in ctl.occurrences if ctl.summary(o).is_manual)
        await show(pilot, occ.id)
        header = str(screen.query_one("#proposal-header").render())
        assert "t: next" not in header and "[unified]" not in header
        assert "no automatic rewrite" in header
        panel = str(screen.query_one("#warnings-body").render())
        assert "✗ manual" in panel

        proposal = ctl.proposal(occ)
        text = ctl.edit_region(occ, proposal)[2]
        ctl.edit(occ.id, text.replace("session.close()", "session.close()  # checked by hand"))
        await show(pilot, occ.id)
        await settle(pilot)
        header = str(screen.query_one("#proposal-header").render())
        panel = str(screen.query_one("#warnings-body").render())
        assert "your hand edit" in header
        assert "✗ manual" not in panel and "hand edit is accepted" in panel


@sync
async def test_a_manual_occurrences_reason_is_shown_once(demo: Path) -> None:
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        ctl, screen = app.controller, app.review_screen
        for occ in [o for o in ctl.occurrences if ctl.summary(o).is_manual]:
            await show(pilot, occ.id)
            await settle(pilot)
            proposal = ctl.proposal(occ)
            reason = proposal.manual_reason
            assert reason
            panel = str(screen.query_one("#warnings-body").render())
            assert panel.count(reason) == 1, panel
            assert f"✗ manual ({proposal.warnings[0].code}, L{proposal.warnings[0].line})" in panel, panel


def test_the_scan_reports_its_total_from_the_start(demo: Path) -> None:
    from migrator_tui.recipe import load_recipe
    from migrator_tui.scan import scan

    seen: list[tuple[int, int]] = []
    result = scan(demo, load_recipe(), progress=lambda d, t: seen.append((d, t)))
    assert seen[0] == (0, result.files_scanned) and seen[-1] == (result.files_scanned,) * 2


@sync
async def test_the_scan_progress_reads_files_done_of_the_total(demo: Path) -> None:
    from textual.widgets import Label, ProgressBar

    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        screen = app.review_screen
        screen.scan_progress(7, 25)
        await pilot.pause()
        assert "7 / 25 files" in str(screen.query_one("#scan-label", Label).render())
        bar = screen.query_one("#scan-bar", ProgressBar)
        assert (bar.progress, bar.total) == (7, 25)
        assert not bar.show_percentage, "no `--%` while the total is unknown"


def test_a_narrow_tree_cuts_the_function_not_the_badge() -> None:
    from migrator_tui.tui.labels import occurrence_label

    occ = next(iter(_demo_occurrences()))
    text = occurrence_label(occ, "accepted", False, "review", note=False)
    assert text.plain.index("[review]") < text.plain.index(occ.function)


def _demo_occurrences():  # type: ignore[no-untyped-def]
    import tempfile

    from migrator_tui.recipe import load_recipe
    from migrator_tui.scan import scan

    root = Path(tempfile.mkdtemp()) / "demo"
    build_demo(root)
    return [o for o in scan(root, load_recipe()).occurrences if o.function]


@sync
async def test_marks_and_words_say_only_what_is_true(demo: Path) -> None:
    from migrator_tui.review.state import APPLY_NOTE

    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        ctl, screen = app.controller, app.review_screen
        occs = [o for o in ctl.occurrences if not ctl.summary(o).is_manual]
        # the note apply writes is not a reviewer's note: no ✉
        ctl.workspace.decide(occs[0].id, "accepted", strategy=ctl.summary(occs[0]).strategy, note=APPLY_NOTE)
        screen.refresh_labels(occs[0].id)
        assert "✉" not in str(screen.tree.nodes[("occurrence", occs[0].id)].label)
        # an "edit" identical to the proposal is a plain accept
        ctl.edit(occs[1].id, ctl.proposal(occs[1]).after)
        assert ctl.decision(occs[1].id).status == "accepted" and ctl.decision(occs[1].id).edited is None
        # palette entries do not repeat their title
        for command in app.get_system_commands(screen):
            assert command.help != command.title.rsplit(" (", 1)[0], command.title
        # a toast counts in words
        path = occs[1].path
        messages: list[str] = []
        app.notify = lambda message, **_: messages.append(message)  # type: ignore[method-assign]
        await show(pilot, occs[1].id)
        await pilot.press("c")
        await wait_until(pilot, lambda: ctl.committed(path))
        await settle(pilot)
        assert any("accepted proposals of" in m for m in messages), messages
        assert not any("(s)" in m for m in messages)


@sync
async def test_long_branch_names_give_way_at_150_columns_and_the_selected_one_is_shown_whole(
        demo: Path) -> None:
    from textual.widgets import DataTable

    from migrator_tui.tui.diff_view import DiffView
    from migrator_tui.tui.screens.branches import BranchesScreen
    from migrator_tui.tui.screenshots import commit_first_two

    app = make_app(demo)
    async with app.run_test(size=(150, 45)) as pilot:
        await ready(pilot)
        ctl = app.controller
        paths = sorted(dict.fromkeys(o.path for o in ctl.occurrences), key=len, reverse=True)[:3]
        for path in paths:
            await commit_first_two(pilot, path)
        # one more decision after the commit: the longest state, "committed · uncommitted decisions"
        await pilot.press("a")
        await settle(pilot)
        await pilot.press("b")
        await wait_until(pilot, lambda: isinstance(app.screen, BranchesScreen))
        screen = app.screen
        table = screen.query_one(DataTable)
        await pilot.pause(0.2)
        widths = {c.label.plain: c.get_render_width(table) for c in table.columns.values()}
        assert sum(widths.values()) <= 150, widths
        rows = screen.rows  # type: ignore[attr-defined]
        assert any("uncommitted decisions" in r.state for r in rows)
        shown = [str(table.get_row_at(i)[-1]) for i in range(len(rows))]
        assert any("…" in b for b in shown), shown  # these names do not fit whole
        for name, row in zip(shown, rows, strict=True):  # a cut name keeps its start and its end
            head, _, tail = name.partition("…")
            assert row.branch.startswith(head) and row.branch.endswith(tail)
        diff = screen.query_one(DiffView)
        selected = rows[table.cursor_row]
        await wait_until(pilot, lambda: selected.branch in (diff._note or ""), timeout=10)


@sync
async def test_branches_screen_fits_150_columns_and_its_diff_follows_the_cursor(demo: Path) -> None:
    from textual.widgets import DataTable

    from migrator_tui.tui.diff_view import DiffView
    from migrator_tui.tui.screens.branches import BranchesScreen
    from migrator_tui.tui.screens.confirm import ConfirmScreen
    from migrator_tui.tui.screenshots import commit_first_two

    app = make_app(demo)
    async with app.run_test(size=(150, 45)) as pilot:
        await ready(pilot)
        ctl = app.controller
        paths = list(dict.fromkeys(o.path for o in ctl.occurrences))[:2]
        for path in paths:
            await commit_first_two(pilot, path)
        await pilot.press("b")
        await wait_until(pilot, lambda: isinstance(app.screen, BranchesScreen))
        screen = app.screen
        diff = screen.query_one(DiffView)
        rows = screen.rows  # type: ignore[attr-defined]
        await wait_until(pilot, lambda: bool(diff.hunks), timeout=10)
        assert "No change." not in str(diff._rows[0].text)
        first = rows[screen.query_one(DataTable).cursor_row]  # type: ignore[attr-defined]
        assert first.path in diff._note  # the diff shown is the selected row's
        summary = str(screen.query_one("#branches-summary").render())
        assert "Enter: diff" not in summary
        await pilot.press("down")
        second = rows[screen.query_one(DataTable).cursor_row]
        await wait_until(pilot, lambda: second.path in (diff._note or ""), timeout=10)

        await pilot.press("i")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, BranchesScreen)
                         and all(r.state == "integrated" for r in app.screen.rows))  # type: ignore[attr-defined]
        await pilot.pause(0.2)
        table = app.screen.query_one(DataTable)
        widths = {c.label.plain: c.get_render_width(table) for c in table.columns.values()}
        assert widths["state"] >= len("integrated") + 2, widths
        assert sum(widths.values()) <= 150, widths
        table._line_cache.clear()  # what is painted now: the header lines up with the refilled rows
        header, first_row = table.render_line(0).text, table.render_line(1).text
        assert header.index("state") == first_row.index("integrated"), (header, first_row)


@sync
async def test_diff_modes_open_at_the_change_take_the_width_and_keep_the_gutter(demo: Path) -> None:
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        ctl, screen = app.controller, app.review_screen
        occ = next(o for o in ctl.occurrences if o.line > 200 and not ctl.summary(o).is_manual)
        await show(pilot, occ.id)
        diff = screen.diff_view
        assert "f whole file" in diff._note and "s split" in diff._note
        await pilot.press("f")
        await wait_until(pilot, lambda: "f function" in (diff._note or ""))
        await settle(pilot)
        first = diff.first_change_row()
        assert first is not None and first > 50
        assert diff.scroll_offset.y <= first < diff.scroll_offset.y + diff.size.height, "opens at the change"
        assert diff.scroll_offset.y > 0 and "f function" in diff.render_line(0).text, "its hint stays in view"

        await pilot.press("f")
        await settle(pilot)
        await pilot.press("s")
        await wait_until(pilot, lambda: "s unified" in (diff._note or ""))
        assert not screen.query_one("#tree-pane").display, "the diff takes the width"
        await pilot.press("s")
        await wait_until(pilot, lambda: "s split" in (diff._note or ""))
        assert screen.query_one("#tree-pane").display

        # sideways scrolling moves the code, not the numbers and the sign
        from migrator_tui.tui.diff_view import GUTTER_WIDTH

        y = next(i for i, r in enumerate(diff._rows) if r.kind == "line") - diff.scroll_offset.y
        before = diff.render_line(y).text[:GUTTER_WIDTH]
        diff.scroll_to(x=8, animate=False, immediate=True)
        await pilot.pause()
        diff._cache.clear()
        assert diff.render_line(y).text[:GUTTER_WIDTH] == before


@sync
async def test_80x24_shows_the_whole_header_footer_and_the_change(demo: Path) -> None:
    from textual.widgets._footer import FooterKey

    app = make_app(demo)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await settle(pilot)
        screen = app.review_screen
        assert len(f"  {screen.title} — {screen.sub_title}  ") <= 80 - 8, (screen.title, screen.sub_title)
        keys = {k.description: k for k in screen.query(FooterKey)}
        for name in ("Accept", "Reject", "Commit", "Branches", "Help", "Quit"):
            region = keys[name].region
            assert region.width and region.right <= 80, (name, region)
        diff = screen.diff_view
        ctl = app.controller
        # an occurrence whose proposal also adds an import at the top of its file: the diff must
        # open at the occurrence's own change, not at the import
        checked = 0
        for occ in [o for o in ctl.occurrences if not ctl.summary(o).is_manual]:
            await show(pilot, occ.id)
            await settle(pilot)
            proposal = ctl.cached_proposal(occ)
            assert proposal is not None
            own, top = diff.first_change_row(proposal.start_line), diff.first_change_row()
            if own == top:
                continue  # nothing added above it
            assert own is not None
            assert diff.scroll_offset.y <= own < diff.scroll_offset.y + diff.size.height, occ.id
            checked += 1
            if checked == 2:
                break
        assert checked, "the demo has an occurrence whose proposal adds code above it"
        assert diff.size.height >= 8, "enough diff lines to read"


def test_the_screenshots_show_real_runs_on_the_demo() -> None:
    from migrator_tui.tui import screenshots

    shot = (Path(__file__).parent.parent / "screenshots" / "branches.svg").read_text(encoding="utf-8")
    assert "test_reviews.py" not in shot and "23&#160;passed" not in shot, "no made-up test run"
    assert not hasattr(screenshots, "FAILED_OUTPUT")
    assert "tests/test_services.py" in screenshots.DEMO_TESTS


def test_the_help_names_every_mark_and_the_palette() -> None:
    from migrator_tui.tui.screens.help import INTRO, marks_text

    legend = marks_text().plain
    for mark in ("· pending", "✓ accepted", "✎ edited", "✗ rejected", "↩ rolled back", "! stale",
                 "⎇ committed", "⎇ uncommitted decisions", "± local edits", "✉ has a note"):
        assert mark in legend, mark
    assert INTRO.startswith("Ctrl+P opens the command palette")


@sync
async def test_quitting_while_a_commit_runs_ends_quietly(demo: Path) -> None:
    """The commit runs in a worker; the app closing cancels it: the action waiting on it ends
    without an error (it used to end the app with WorkerCancelled)."""
    import threading

    app = make_app(demo)
    release = threading.Event()
    started = threading.Event()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        ctl, screen = app.controller, app.review_screen
        occ = next(o for o in ctl.occurrences if not ctl.summary(o).is_manual)
        await show(pilot, occ.id)
        await pilot.press("a")
        await settle(pilot)
        await show(pilot, occ.id)

        def slow_commit(path: str) -> None:
            started.set()
            release.wait(10)
            return None

        ctl.commit_file = slow_commit  # type: ignore[method-assign]
        await pilot.press("c")
        await wait_until(pilot, started.is_set)
        assert screen.current == occ.id
    release.set()  # (run_test re-raises what ended the app: reaching here is the check)
