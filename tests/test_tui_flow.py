"""The review TUI driven by keys on the demo repository; assertions on decisions and branches."""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import git
import pytest

from migrator_tui.demo import build_demo
from migrator_tui.rewrite import apply_choices
from migrator_tui.rewrite.proposal import Choice
from migrator_tui.tui.app import MigratorApp, make_app
from migrator_tui.tui.screens.branches import BranchesScreen
from migrator_tui.tui.screens.edit import EditScreen
from migrator_tui.tui.screens.text_prompt import TextPromptScreen
from migrator_tui.tui.screenshots import ready, settle, show, wait_until

SIZE = (120, 36)
#: Statements that only compile inside a function.
_HAS_FUNCTION_ONLY = re.compile(r"^\s*(return|yield|await)\b|\byield\b|\bawait\b", re.MULTILINE)


def sync(fn: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async test in its own event loop (Pilot needs one)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        asyncio.run(fn(*args, **kwargs))

    return wrapper


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    root = tmp_path / "demo"
    build_demo(root)
    return root


def _screen(app: MigratorApp):  # type: ignore[no-untyped-def]
    return app.review_screen


@sync
async def test_opens_on_first_pending_with_its_diff(demo: Path) -> None:
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        ctl = app.controller
        assert len(ctl.occurrences) == ctl.result.total  # type: ignore[union-attr]
        assert _screen(app).current == ctl.occurrences[0].id
        assert _screen(app).diff_view.hunks, "the first proposal's diff is shown"


@sync
async def test_accept_reject_undo_and_next(demo: Path) -> None:
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        ctl, screen = app.controller, _screen(app)
        first, second, third = (o.id for o in ctl.occurrences[:3])
        await pilot.press("a")
        assert ctl.decision(first).status == "accepted"
        assert screen.current == second  # moved on to the next pending
        await pilot.press("r")
        assert ctl.decision(second).status == "rejected"
        assert screen.current == third
        await pilot.press("u")
        assert ctl.decision(second).status == "pending"
        assert screen.current == second
        await pilot.press("u")
        assert ctl.decision(first).status == "pending"
        # n skips decided ones: accept the first, then n from it lands on the next pending
        await show(pilot, first)
        await pilot.press("a")
        await show(pilot, first)
        await pilot.press("n")
        assert screen.current == second
        await pilot.press("p")
        assert screen.current != first  # first is decided: p wraps to the last pending
        assert ctl.decision(screen.current).status == "pending"  # type: ignore[arg-type]


@sync
async def test_strategy_switch_changes_the_proposal(demo: Path) -> None:
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        ctl, screen = app.controller, _screen(app)
        occ = next(o for o in ctl.occurrences if len(ctl.strategies(ctl.summary(o))) > 1)
        await show(pilot, occ.id)
        before = ctl.proposal(occ)
        await pilot.press("t")
        await wait_until(pilot, lambda: ctl.cached_proposal(occ) is not None and screen.current == occ.id)
        after = ctl.proposal(occ)
        assert ctl.decision(occ.id).strategy == ctl.strategies(before)[1]
        assert after.strategy == ctl.strategies(before)[1] != before.strategy
        await pilot.press("a")
        assert ctl.decision(occ.id).status == "accepted"
        assert ctl.decision(occ.id).strategy == after.strategy


@sync
async def test_edit_valid_is_accepted_and_invalid_is_refused(demo: Path) -> None:
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        ctl = app.controller
        occ = next(o for o in ctl.occurrences if not ctl.summary(o).is_manual
                   and not _HAS_FUNCTION_ONLY.search(ctl.proposal(o).after))
        await show(pilot, occ.id)
        proposal = ctl.proposal(occ)

        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, EditScreen))
        editor = app.screen.editor  # type: ignore[attr-defined]
        assert editor.text == proposal.after
        editor.text = proposal.after.replace("with ", "with (", 1)  # unbalanced: does not parse
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, EditScreen), "an invalid edit is refused and the editor stays"
        assert ctl.decision(occ.id).status == "pending"

        valid = proposal.after.rstrip("\n") + "  # reviewed\n"
        editor.text = valid
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not isinstance(app.screen, EditScreen))
        await settle(pilot)
        decision = ctl.decision(occ.id)
        assert decision.status == "accepted"
        assert decision.edited == valid
        assert "# reviewed" in ctl.proposed_source(occ, proposal)


@sync
async def test_edit_of_a_region_that_returns(demo: Path) -> None:
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        ctl = app.controller
        occ = next(o for o in ctl.occurrences if not ctl.summary(o).is_manual
                   and _HAS_FUNCTION_ONLY.search(ctl.proposal(o).after))
        proposal = ctl.proposal(occ)
        edited = proposal.after.rstrip("\n") + "  # reviewed\n"
        ctl.edit(occ.id, edited)
        assert ctl.decision(occ.id).edited == edited


@sync
async def test_note_is_saved(demo: Path) -> None:
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        ctl, screen = app.controller, _screen(app)
        occ_id = screen.current
        await pilot.press("m")
        await wait_until(pilot, lambda: isinstance(app.screen, TextPromptScreen))
        await pilot.press(*"ask ops")
        await pilot.press("enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, TextPromptScreen))
        assert ctl.decision(occ_id).note == "ask ops"  # type: ignore[arg-type]
        assert ctl.decision(occ_id).status == "pending"  # type: ignore[arg-type]


@sync
async def test_commit_then_rollback_then_reopen(demo: Path) -> None:
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        ctl = app.controller
        path = ctl.occurrences[0].path
        in_file = [o for o in ctl.occurrences if o.path == path]
        rewritable = [o for o in in_file if not ctl.summary(o).is_manual]
        accepted, rejected = rewritable[0], rewritable[1]
        await show(pilot, accepted.id)
        await pilot.press("a")
        await show(pilot, rejected.id)
        await pilot.press("r")
        await pilot.press("c")
        await wait_until(pilot, lambda: ctl.committed(path))
        branch = ctl.branch_name(path)

        repo = git.Repo(demo)
        assert branch in [h.name for h in repo.heads]
        held = repo.git.show(f"{branch}:{path}", strip_newline_in_stdout=False)
        source = (demo / path).read_text(encoding="utf-8")
        strategy = ctl.decision(accepted.id).strategy
        assert strategy is not None
        expected = apply_choices(source, in_file, {accepted.id: Choice(strategy)}, ctl.recipe, repo_root=demo)
        assert held == expected
        assert repo.is_dirty(untracked_files=True) is False, "the working tree is not touched"

        await pilot.press("b")
        await wait_until(pilot, lambda: isinstance(app.screen, BranchesScreen))
        await pilot.pause(0.2)
        await pilot.press("x")
        await pilot.pause(0.2)
        await pilot.press("y")
        await wait_until(pilot, lambda: branch not in [h.name for h in git.Repo(demo).heads])
        assert not ctl.committed(path)
        await pilot.press("escape")
        await pilot.press("q")
    # the rollback sticks: the accepted one reads "rolled back" until decided again
    decisions = {accepted.id: "rolled back", rejected.id: "rejected"}

    reopened = make_app(demo)
    async with reopened.run_test(size=SIZE) as pilot:
        await ready(pilot)
        ctl = reopened.controller
        assert {k: ctl.decision(k).status for k in decisions} == decisions
        first_pending = next(o for o in ctl.occurrences if ctl.decision(o.id).status == "pending")
        assert _screen(reopened).current == first_pending.id


@sync
async def test_accept_all_safe_in_file_asks_then_accepts_only_safe(demo: Path) -> None:
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        ctl = app.controller
        path = ctl.occurrences[0].path
        in_file = [o for o in ctl.occurrences if o.path == path]
        safe = {o.id for o in in_file if ctl.summary(o).confidence == "safe"}
        assert safe, "the demo's first file has safe proposals"
        await pilot.press("A")
        await pilot.pause(0.5)
        await pilot.press("y")
        await wait_until(pilot, lambda: all(ctl.decision(i).status == "accepted" for i in safe))
        others = [o.id for o in in_file if o.id not in safe]
        assert all(ctl.decision(i).status == "pending" for i in others)


@sync
async def test_filter_narrows_the_tree(demo: Path) -> None:
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        screen = _screen(app)
        await pilot.press("slash")
        await wait_until(pilot, lambda: isinstance(app.screen, TextPromptScreen))
        await pilot.press(*"path:admin/**", "space", *"confidence:safe", "enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, TextPromptScreen))
        ctl = app.controller
        assert screen.shown_occs
        assert all(o.path.startswith("admin/") and ctl.summary(o).confidence == "safe"
                   for o in screen.shown_occs)
        assert len(screen.shown_occs) < len(ctl.occurrences)


@sync
async def test_phase_slice_and_bad_phase(demo: Path) -> None:
    from migrator_tui.errors import MigratorError

    with pytest.raises(MigratorError):
        make_app(demo, phase=99)
    app = make_app(demo, phase=2)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert app.controller.occurrences
        assert {o.phase for o in app.controller.occurrences} == {2}


@sync
async def test_no_analysis_runs_on_the_ui_thread(demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Proposals, diffs and caller searches are computed by workers; the screen only shows values
    (docs/architecture.md). Every analysis, build and repository search is recorded with the
    thread it ran on while a reviewer moves, switches strategy, widens the context and accepts."""
    import threading

    from migrator_tui.rewrite import engine, repo_index

    on_ui: list[str] = []
    ui = threading.main_thread()

    def watch(owner: object, name: str) -> None:
        original = getattr(owner, name)

        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if threading.current_thread() is ui:
                on_ui.append(name)
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, wrapped)

    watch(engine.FileAnalysis, "__init__")
    watch(engine.FileAnalysis, "apply_with_regions")
    watch(engine.FileAnalysis, "summary")
    watch(repo_index.RepoIndex, "prime")
    app = make_app(demo)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        for key in ["n", "n", "t", "+", "+", "-", "f", "f", "a", "n", "p", "s", "s", "r", "u"]:
            await pilot.press(key)
            await settle(pilot)
        assert _screen(app).diff_view.hunks or _screen(app).current, "the review went on"
    assert on_ui == [], f"analysis on the UI thread: {on_ui}"
