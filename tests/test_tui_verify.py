"""`verify` results in the review TUI: a badge per file in the tree, a column on the branches screen.

Real runs: two files are committed in the app, `migrator-tui verify` runs `true` on one branch and
`false` on the other, and the reopened app reports passed / failed for them; a new commit of the
passing file turns its badge "outdated" at once.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from migrator_tui import cli
from migrator_tui.demo import build_demo
from migrator_tui.tui.app import make_app
from migrator_tui.tui.screens.branches import BranchesScreen
from migrator_tui.tui.screenshots import commit_first_two, ready, settle, show, wait_until

SIZE = (120, 36)


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    root = tmp_path / "demo"
    build_demo(root)
    return root


def test_verify_results_show_in_tree_and_branches(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths: list[str] = []

    async def commit_two() -> None:
        app = make_app(demo)
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            ctl = app.controller
            paths.extend(list(dict.fromkeys(o.path for o in ctl.occurrences))[:2])
            for path in paths:
                await commit_first_two(pilot, path)
            assert app.review_screen.shown_checks[paths[0]] is None, "not verified yet"
            await pilot.press("q")

    asyncio.run(commit_two())
    passing, failing = paths
    assert cli.main(["verify", str(demo), "--test-cmd", "true", "--only", passing]) == 0
    assert cli.main(["verify", str(demo), "--test-cmd", "echo broken; false", "--only", failing]) == 1
    capsys.readouterr()

    async def review() -> None:
        app = make_app(demo)
        async with app.run_test(size=SIZE) as pilot:
            await ready(pilot)
            ctl = app.controller
            screen = app.review_screen
            assert ctl.file_check(passing).badge == "passed"  # type: ignore[union-attr]
            failed = ctl.file_check(failing)
            assert failed is not None and failed.badge == "failed" and "broken" in failed.output
            assert Path(demo, failed.log).is_file(), "the log path is shown relative to the repository"
            assert screen.shown_checks[passing] == "passed"
            assert screen.shown_checks[failing] == "failed"
            others = [p for p in screen.shown_checks if p not in paths]
            assert others and all(screen.shown_checks[p] is None for p in others)

            await pilot.press("b")
            await wait_until(pilot, lambda: isinstance(app.screen, BranchesScreen))
            branches = app.screen
            assert isinstance(branches, BranchesScreen)
            by_path = {r.path: r for r in branches.rows}
            assert by_path[passing].check is not None and by_path[passing].check.status == "passed"
            assert by_path[failing].check is not None and by_path[failing].check.status == "failed"
            await pilot.press("escape")
            await settle(pilot)

            # a new commit moves the branch: the result no longer applies to it
            pending = next(o for o in ctl.occurrences
                           if o.path == passing and ctl.decision(o.id).status == "pending"
                           and not ctl.summary(o).is_manual)
            await show(pilot, pending.id)
            await pilot.press("a")
            await show(pilot, pending.id)
            await pilot.press("c")
            await wait_until(pilot, lambda: screen.shown_checks[passing] == "outdated")
            assert ctl.file_check(failing).badge == "failed"  # type: ignore[union-attr]
            await pilot.press("q")

    asyncio.run(review())
