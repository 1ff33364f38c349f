"""The README's screenshots, taken on the bundled demo: `python -m migrator_tui.tui.screenshots [DIR]`.

Each scenario builds a fresh demo repository, opens the app at a fixed size, drives it to one state
and saves an SVG into DIR (default `screenshots/`). The snapshot tests reuse the same scenarios.
Commits get a fixed date and author so branch shas are the same on every run.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from textual.pilot import Pilot

from migrator_tui.tui.app import MigratorApp, make_app

if TYPE_CHECKING:
    from migrator_tui.review.state import CoverageRun

#: A fixed `<seconds> <offset>` for commit objects (2024-01-15 10:00 UTC).
FIXED_TIMESTAMP = "1705312800 +0000"
IDENTITY = {
    "GIT_AUTHOR_NAME": "Demo Reviewer", "GIT_AUTHOR_EMAIL": "reviewer@example.com",
    "GIT_COMMITTER_NAME": "Demo Reviewer", "GIT_COMMITTER_EMAIL": "reviewer@example.com",
}


async def wait_until(pilot: Pilot, condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Pause until `condition()` holds (the app keeps running meanwhile)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise TimeoutError("the app did not reach the expected state in time")
        await pilot.pause(0.05)


async def ready(pilot: Pilot) -> None:
    """Scan done, first diff shown, every badge filled, no toast left."""
    app = pilot.app
    assert isinstance(app, MigratorApp)
    ctl = app.controller
    await wait_until(pilot, lambda: ctl.result is not None and app.review_screen.shown_count > 0)
    await wait_until(pilot, lambda: all(ctl.confidence(o) is not None for o in ctl.occurrences))
    await settle(pilot)


async def settle(pilot: Pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause(0.2)
    pilot.app.clear_notifications()
    await pilot.pause()


async def show(pilot: Pilot, occ_id: str) -> None:
    """Select an occurrence and wait for its diff."""
    app = pilot.app
    assert isinstance(app, MigratorApp)
    screen = app.review_screen
    before = screen.shown_count
    screen.select(occ_id)
    await wait_until(pilot, lambda: screen.current == occ_id and screen.shown_count > before
                     and app.controller.cached_proposal(app.controller.occurrence(occ_id)) is not None)
    await settle(pilot)


async def main_screen(pilot: Pilot) -> None:
    await ready(pilot)


async def several_warnings(pilot: Pilot) -> None:
    await ready(pilot)
    ctl = pilot.app.controller  # type: ignore[attr-defined]
    best = max(ctl.occurrences, key=lambda o: (len(ctl.summary(o).warnings), -ctl.occurrences.index(o)))
    await show(pilot, best.id)


async def manual(pilot: Pilot) -> None:
    await ready(pilot)
    ctl = pilot.app.controller  # type: ignore[attr-defined]
    occ = next(o for o in ctl.occurrences if ctl.summary(o).is_manual)
    await show(pilot, occ.id)


#: The demo's own tests the branches screenshot runs on each branch (and the base), for real.
DEMO_TESTS = "python -m pytest -q -p no:cacheprovider tests/test_web_app.py tests/test_services.py"
#: What a run's duration is shown as, so that the snapshots are the same on every machine.
SHOWN_SECONDS = 4.2


def run_demo_tests(app: MigratorApp) -> None:
    """`migrator-tui verify --coverage` on the base and every committed branch with `DEMO_TESTS`, recorded in
    the review state. The runs and their output are real; only the durations (the seconds
    recorded and pytest's own "in N.NNs") are set to `SHOWN_SECONDS`, for reproducible snapshots."""
    import re
    from dataclasses import replace

    from migrator_tui.checks.coverage import meter_for
    from migrator_tui.checks.verify import Runner, base_target, file_targets, run_all

    ctl = app.controller
    state = ctl.workspace.state
    # `python` is this interpreter (the one with the demo's test dependencies)
    bindir = str(Path(sys.executable).parent)
    if not os.environ.get("PATH", "").startswith(bindir + os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    targets = [base_target(state), *file_targets(state, ctl.tips())]
    runner = Runner(ctl.root, DEMO_TESTS, timeout=600, log_dir=state.path.parent / "logs",
                    meter=meter_for(ctl.workspace, targets))  # `verify --coverage`
    for outcome in run_all(runner, targets, jobs=2):
        v = outcome.verification
        v = replace(v, seconds=SHOWN_SECONDS, time="2024-01-15T10:05:00Z",
                    output=re.sub(r" in \d+\.\d+s", f" in {SHOWN_SECONDS:.2f}s", v.output))
        if outcome.target.is_file:
            state.set_file(outcome.target.key, verification=v)
        else:
            state.set_check(outcome.target.key, v)
    ctl.forget_tips()


async def commit_first_two(pilot: Pilot, path: str) -> None:
    """Accept the first two pending proposals of `path` and commit it."""
    app = pilot.app
    assert isinstance(app, MigratorApp)
    ctl = app.controller
    first = next(o for o in ctl.occurrences if o.path == path and ctl.decision(o.id).status == "pending")
    await show(pilot, first.id)
    await pilot.press("a", "a")
    await settle(pilot)
    await pilot.press("c")
    await wait_until(pilot, lambda: ctl.committed(path))
    await settle(pilot)


#: What `fixed_demo_results` records for each branch: the real run's failure, as a fixed text.
FIXED_FAILURE = """\
E   session_managers.SessionDatabaseError: database operation failed: (sqlite3.OperationalError) no such
table: processing_runs
FAILED tests/test_services.py::test_cleanup_old_runs - session_managers.SessionDatabaseError
1 failed, 11 passed in 4.20s"""


def fixed_demo_results(app: MigratorApp) -> None:
    """What `run_demo_tests` records, without running anything: the base passes and every committed
    branch fails with `FIXED_FAILURE`. The snapshot tests use it, since a real run's output is worded
    by the installed libraries (SQLAlchemy's error text, pytest's summary) and differs between
    machines."""
    from migrator_tui.checks.verify import base_target
    from migrator_tui.review.state import Verification

    ctl = app.controller
    state = ctl.workspace.state
    base = base_target(state)
    state.set_check(base.key, Verification(
        status="passed", command=DEMO_TESTS, sha=base.sha, time="2024-01-15T10:05:00Z",
        seconds=SHOWN_SECONDS, output="12 passed in 4.20s", log=""))
    for path in ctl.tips():
        record_verification(app, path, "failed", SHOWN_SECONDS, FIXED_FAILURE, command=DEMO_TESTS,
                            coverage=_fixed_coverage(app, path))
    ctl.forget_tips()


def _fixed_coverage(app: MigratorApp, path: str) -> CoverageRun:
    """A `--coverage` record for `path`'s committed occurrences: the first executed by 3 tests
    (one failed), the others by none."""
    from migrator_tui.review.state import BlockCoverage, CoverageRun

    state = app.controller.workspace.state
    record = state.files[path]
    blocks = []
    for i, occ_id in enumerate(record.commit.occurrences if record.commit else ()):
        d = state.decisions[occ_id]
        ran = i == 0
        blocks.append(BlockCoverage(occ_id, d.line, d.function, d.line, d.line + 4, statements=5,
                                    executed=5 if ran else 0, tests=3 if ran else 0,
                                    failed=("tests/test_services.py::test_cleanup_old_runs",) if ran else ()))
    return CoverageRun(tests=12, failed=1, blocks=tuple(blocks))


def record_verification(app: MigratorApp, path: str, status: str, seconds: float, output: str,
                        command: str = "pytest -q", coverage: CoverageRun | None = None) -> None:
    """Record a `verify` result for `path`'s branch tip as `migrator-tui verify` would, log included."""
    from migrator_tui.git import refnames
    from migrator_tui.review.state import Verification

    ctl = app.controller
    state = ctl.workspace.state
    log = state.path.parent / "logs" / f"{refnames.encode_leaf(path)}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(output + "\n", encoding="utf-8")
    state.set_file(path, verification=Verification(
        status=status, command=command, sha=ctl.tips()[path], time="2024-01-15T10:05:00Z",
        seconds=seconds, output=output, log=str(log), coverage=coverage))


async def branches(pilot: Pilot, verify: Callable[[MigratorApp], None] | None = None) -> None:
    """Commit two files and run the demo's tests on them (`verify`, or `verify(app)` in its place);
    the branches screen on the second."""
    await ready(pilot)
    app = pilot.app
    assert isinstance(app, MigratorApp)
    ctl = app.controller
    paths = list(dict.fromkeys(o.path for o in ctl.occurrences))[:2]
    for path in paths:
        await commit_first_two(pilot, path)
    await asyncio.to_thread(verify or run_demo_tests, app)
    await pilot.press("b")
    await pilot.pause(0.3)
    rows = app.screen.rows  # type: ignore[attr-defined]
    for _ in range(next(i for i, r in enumerate(rows) if r.path == paths[1])):
        await pilot.press("down")
    await pilot.press("enter")
    await settle(pilot)


async def clusters(pilot: Pilot) -> None:
    """The cluster view (`g`), the largest cluster open at its representative."""
    await ready(pilot)
    app = pilot.app
    assert isinstance(app, MigratorApp)
    await pilot.press("g")
    await wait_until(pilot, lambda: app.review_screen.cluster_view)
    found = app.controller.clusters or []
    await show(pilot, found[0].representative)


async def help_screen(pilot: Pilot) -> None:
    await ready(pilot)
    await pilot.press("question_mark")
    await settle(pilot)


@dataclass(frozen=True)
class Scenario:
    name: str
    size: tuple[int, int]
    run: Callable[[Pilot], Awaitable[None]]


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("main", (120, 36), main_screen),
    Scenario("warnings", (120, 36), several_warnings),
    Scenario("manual", (120, 36), manual),
    Scenario("branches", (120, 36), branches),
    Scenario("clusters", (120, 36), clusters),
    Scenario("help", (120, 36), help_screen),
    Scenario("main-80x24", (80, 24), main_screen),
)


def fix_commit_time() -> None:
    """Commits made from here on carry `FIXED_TIMESTAMP` and a fixed identity."""
    from migrator_tui.git import objects as gitobjects

    gitobjects.timestamp = lambda: FIXED_TIMESTAMP  # type: ignore[assignment]
    os.environ.update(IDENTITY)


def demo_app(parent: Path) -> MigratorApp:
    """A fresh demo repository at `parent/demo` and an app on it."""
    from migrator_tui.demo import build_demo

    root = parent / "demo"
    build_demo(root)
    return make_app(root)


async def _shoot(scenario: Scenario, out: Path) -> Path:
    with tempfile.TemporaryDirectory(prefix="migrator-shot-") as tmp:
        app = demo_app(Path(tmp))
        async with app.run_test(size=scenario.size) as pilot:
            await scenario.run(pilot)
            name = f"{scenario.name}.svg"
            app.save_screenshot(filename=name, path=str(out))
            app.exit()
    return out / name


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0] if args else "screenshots")
    out.mkdir(parents=True, exist_ok=True)
    fix_commit_time()
    for scenario in SCENARIOS:
        path = asyncio.run(_shoot(scenario, out))
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
