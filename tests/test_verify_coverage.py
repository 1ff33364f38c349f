"""verify --coverage: which tests execute each rewritten block, on real runs of pytest under coverage.py.

A small repository (two functions, tests that reach one of them, one of those tests failing) runs
in seconds; the bundled demo's own tests run once, on web_app.py's branch, in
`test_the_demo_has_blocks_its_tests_reach_and_one_they_do_not`.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from pathlib import Path

import pytest
from gitfixtures import make_repo, snapshot

from migrator_tui import cli
from migrator_tui.checks.coverage import Anchor, describe_block, locate, outcomes
from migrator_tui.review.state import STATE_FILE, BlockCoverage, ReviewState, Verification

Capsys = pytest.CaptureFixture[str]
RECIPE = "sqlalchemy-with"
PYTEST = f"{sys.executable} -m pytest -q -p no:cacheprovider"

APP = '''\
from database import db_manager


def hit():
    session = db_manager.get_session()
    try:
        return session.query("x")
    finally:
        session.close()


def missed():
    session = db_manager.get_session()
    try:
        return session.query("y")
    finally:
        session.close()
'''

DATABASE = '''\
class Session:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def query(self, what):
        return what

    def close(self):
        pass


class Manager:
    def get_session(self):
        return Session()


db_manager = Manager()
'''

TESTS = '''\
from app import hit


def test_hit():
    assert hit() == "x"


def test_hit_fails():
    assert hit() == "not x"


def test_other():
    assert True
'''


@pytest.fixture
def tmp_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    return tmp


@pytest.fixture
def small(tmp_path: Path, tmp_root: Path, capsys: Capsys) -> Path:
    root = make_repo(tmp_path / "repo", {"app.py": APP, "database.py": DATABASE, "test_app.py": TESTS})
    assert cli.main(["apply", "--recipe", RECIPE, str(root)]) == 0
    capsys.readouterr()
    return root


def state(root: Path, recipe: str = RECIPE) -> ReviewState:
    loaded = ReviewState.load(root / ".git" / "migrator" / recipe / STATE_FILE)
    assert loaded is not None
    return loaded


def test_each_block_records_the_tests_that_executed_it_and_their_outcomes(small: Path, tmp_root: Path,
                                                                          capsys: Capsys) -> None:
    before = snapshot(small)
    code = cli.main(["verify", "--recipe", RECIPE, str(small), "--coverage", "--test-cmd", PYTEST])
    out = capsys.readouterr().out
    assert code == 1  # one test fails: the status is the test command's, as without --coverage
    v = state(small).files["app.py"].verification
    assert v is not None and v.status == "failed" and v.coverage is not None
    run = v.coverage
    assert (run.error, run.tests, run.failed) == ("", 3, 1)
    hit, missed = run.blocks
    assert (hit.function, hit.line, hit.start, hit.end) == ("hit", 5, 5, 6)
    assert (missed.function, missed.line, missed.start, missed.end) == ("missed", 13, 10, 11)
    assert hit.tests == 2 and hit.failed == ("test_app.py::test_hit_fails",)
    assert (hit.statements, hit.executed) == (2, 2)
    assert (missed.tests, missed.failed, missed.statements, missed.executed) == (0, (), 2, 0)
    assert "line 5 hit() (lines 5-6): executed by 2 tests (1 failed)" in out
    assert "line 13 missed() (lines 10-11): no test executes this block" in out
    assert "app.py: 1 of 2 rewritten blocks executed by a test (3 tests ran)" in out
    # the data stays in the state folder; the user's checkout is untouched; worktrees are gone
    folder = small / ".git" / "migrator" / RECIPE / "coverage" / "app.py"
    assert list(folder.glob("coverage.*")) and list(folder.glob("outcomes-*.json"))
    assert snapshot(small) == before
    assert list(tmp_root.iterdir()) == []


def test_json_carries_the_blocks_and_the_report_lists_the_unexecuted_as_unverified(small: Path,
                                                                                 capsys: Capsys) -> None:
    cli.main(["verify", "--recipe", RECIPE, str(small), "--coverage", "--json", "--test-cmd", PYTEST])
    data = json.loads(capsys.readouterr().out)
    (result,) = data["results"]
    assert result["target"] == "app.py" and result["status"] == "failed"
    blocks = {b["function"]: b for b in result["coverage"]["blocks"]}
    assert blocks["hit"]["tests"] == 2 and blocks["hit"]["failed"] == ["test_app.py::test_hit_fails"]
    assert blocks["missed"]["tests"] == 0
    assert cli.main(["branches", "--recipe", RECIPE, str(small), "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["files"]
    assert row["verification"]["coverage"]["blocks"] == result["coverage"]["blocks"]
    assert cli.main(["report", "--recipe", RECIPE, str(small)]) == 0
    report = capsys.readouterr().out
    assert "| `app.py:13` missed | 10–11 | 0 of 2 | **unverified**: no test executes this block |" in report
    assert "- **unverified** `app.py:13` missed" in report
    assert "1 of 2 rewritten blocks measured is **unverified**" in report
    assert "executed by 2 tests (1 failed)" in report


def test_a_command_that_runs_no_python_is_one_sentence_and_exit_2(small: Path, capsys: Capsys) -> None:
    code = cli.main(["verify", "--recipe", RECIPE, str(small), "--coverage", "--test-cmd", "true"])
    err = capsys.readouterr().err
    assert code == 2
    assert "app.py: no coverage recorded: the test command wrote no coverage data" in err
    v = state(small).files["app.py"].verification
    assert v is not None and v.status == "passed"  # the run itself is still recorded
    assert v.coverage is not None and v.coverage.blocks == () and "did not run pytest" in v.coverage.error


def test_a_timeout_is_a_timeout_with_coverage_too(small: Path, capsys: Capsys) -> None:
    code = cli.main(["verify", "--recipe", RECIPE, str(small), "--coverage", "--timeout", "1",
                     "--test-cmd", "sleep 30"])
    assert code == 1, "reported by its status, as without --coverage"
    v = state(small).files["app.py"].verification
    assert v is not None and v.status == "timeout"
    assert v.coverage is not None and "did not run to their end (timeout)" in v.coverage.error
    assert "no coverage recorded" in capsys.readouterr().err


def test_coverage_missing_in_the_tests_python_is_named(small: Path, tmp_path: Path, capsys: Capsys,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    broken = tmp_path / "broken"
    (broken / "coverage").mkdir(parents=True)
    (broken / "coverage" / "__init__.py").write_text("raise ImportError('no coverage here')\n")
    monkeypatch.setenv("PYTHONPATH", str(broken))  # shadows coverage.py in the tests' Python only
    code = cli.main(["verify", "--recipe", RECIPE, str(small), "--coverage", "--test-cmd", PYTEST])
    err = capsys.readouterr().err
    assert code == 2
    assert "coverage.py cannot be imported (no coverage here) in the Python that runs the tests" in err


def test_coverage_not_installed_here_is_one_sentence(small: Path, capsys: Capsys,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "coverage", None)  # import coverage -> ImportError
    code = cli.main(["verify", "--recipe", RECIPE, str(small), "--coverage", "--test-cmd", PYTEST])
    err = capsys.readouterr().err
    assert code == 2
    assert "verify --coverage needs coverage.py, which is not installed" in err
    assert state(small).files["app.py"].verification is None, "nothing ran"


def test_without_coverage_nothing_is_measured(small: Path, capsys: Capsys) -> None:
    cli.main(["verify", "--recipe", RECIPE, str(small), "--test-cmd", PYTEST])
    v = state(small).files["app.py"].verification
    assert v is not None and v.coverage is None
    assert "coverage of the rewritten blocks" not in capsys.readouterr().out
    assert not (small / ".git" / "migrator" / RECIPE / "coverage").exists()


def test_missing_or_hostile_data_files_are_a_sentence_not_a_traceback(tmp_path: Path) -> None:
    from migrator_tui.checks.coverage import NoCoverage, measure

    folder = tmp_path / "run"
    folder.mkdir()
    with pytest.raises(NoCoverage, match="wrote no coverage data"):
        outcomes(folder)
    (folder / "outcomes-1.json").write_text("{not json")
    run = measure(folder, tmp_path, "app.py", APP, APP, [Anchor("a", 5, "hit")])
    assert run.blocks == () and "unreadable" in run.error
    hostile = {"outcomes": {"t::a": "passed", "t::b": "weird", "3": 4}}
    (folder / "outcomes-1.json").write_text(json.dumps(hostile))
    (folder / "coverage.x").write_bytes(b"this is not sqlite")
    run = measure(folder, tmp_path, "app.py", APP, APP, [Anchor("a", 5, "hit")])
    assert run.blocks == () and "coverage data file coverage.x is unreadable" in run.error


# --- where a block is --------------------------------------------------------------------------


def test_locate_maps_each_occurrence_to_its_with_block_in_the_tip() -> None:
    tip = APP.replace('''    session = db_manager.get_session()
    try:
        return session.query("x")
    finally:
        session.close()''', '''    with db_manager.get_session() as session:
        return session.query("x")''')
    hit, missed = locate(APP, tip, [Anchor("h", 5, "hit"), Anchor("m", 13, "missed")])
    assert hit is not None and (hit.start, hit.end) == (5, 6)
    assert missed is None, "not rewritten on this branch"


def test_locate_takes_a_service_fallback_whole_and_not_a_try_around_a_with() -> None:
    base = '''\
def get(self):
    session = self.db_manager.get_session()
    try:
        return session.query(1)
    except KeyError:
        return None
    finally:
        session.close()


def other(self):
    session = self.db_manager.get_session()
    try:
        return 2
    finally:
        session.close()
'''
    tip = '''\
def get(self):
    try:
        with self.scope() as session:
            return session.query(1)
    except KeyError:
        return None


def other(self):
    if self.unified_session_manager:
        with self.unified_session_manager.get_db_session() as session:
            return 2
    else:
        with self.db_manager.get_session() as session:
            return 2
'''
    get, other = locate(base, tip, [Anchor("g", 2, "get"), Anchor("o", 12, "other")])
    assert get is not None and (get.start, get.end) == (3, 4), "the with, not the try and its handler"
    assert other is not None and (other.start, other.end) == (10, 15)
    assert other.statements == frozenset({10, 11, 12, 14, 15})


def test_locate_two_occurrences_in_one_change_take_its_blocks_in_order() -> None:
    base = '''\
def f():
    a = db.get_session()
    try:
        x = a.q()
    finally:
        a.close()
    b = db.get_session()
    try:
        return b.q(x)
    finally:
        b.close()
'''
    tip = '''\
def f():
    with db.get_session() as a:
        x = a.q()
    with db.get_session() as b:
        return b.q(x)
'''
    first, second = locate(base, tip, [Anchor("b", 7, "f"), Anchor("a", 2, "f")])
    assert first is not None and second is not None
    assert (first.start, first.end) == (4, 5) and (second.start, second.end) == (2, 3)


def test_locate_a_tip_that_does_not_parse_locates_nothing() -> None:
    assert locate(APP, "def (:\n", [Anchor("h", 5, "hit")]) == [None]


def test_words() -> None:
    def block(tests: int, failed: tuple[str, ...] = (), end: int = 9) -> BlockCoverage:
        return BlockCoverage("x", 1, "f", 2, end, 3, 1, tests, failed)

    assert describe_block(block(0)) == "no test executes this block"
    assert describe_block(block(1)) == "executed by 1 test (passed)"
    assert describe_block(block(3)) == "executed by 3 tests (all passed)"
    assert describe_block(block(3, ("a", "b"))) == "executed by 3 tests (2 failed)"
    assert describe_block(block(0, end=0)) == "its rewritten block was not found in the branch's file"


# --- the state ---------------------------------------------------------------------------------


def _state_with_coverage(tmp_path: Path) -> tuple[Path, dict[str, object]]:
    from migrator_tui.review.state import CoverageRun

    path = tmp_path / "state.json"
    st = ReviewState.create(path, recipe="db-session", base="a" * 40, prefix="migrate/db-session")
    block = BlockCoverage("m.py::f::0", 5, "f", 5, 9, 4, 2, 2, ("t::x",))
    run = CoverageRun(tests=3, failed=1, blocks=(block,))
    st.set_file("m.py", verification=Verification("failed", "pytest", "b" * 40, "t", coverage=run))
    loaded = ReviewState.load(path)
    assert loaded is not None and loaded.files["m.py"].verification == st.files["m.py"].verification
    return path, json.loads(path.read_text())


@pytest.mark.parametrize("change", [
    lambda c: c["blocks"][0].update(tests=-1),
    lambda c: c["blocks"][0].update(start=10),  # start after end
    lambda c: c["blocks"][0].update(executed=5),  # more run than there are
    lambda c: c["blocks"][0].update(failed=["a", "b", "c"]),  # more failed than tests
    lambda c: c["blocks"][0].update(failed="t::x"),
    lambda c: c["blocks"][0].update(line="5"),
    lambda c: c["blocks"][0].pop("id"),
    lambda c: c.update(failed=4),
    lambda c: c.update(blocks={}),
    lambda c: c.update(error=None),
])
def test_a_bad_coverage_record_is_a_corrupt_state(tmp_path: Path, change) -> None:  # type: ignore[no-untyped-def]
    from migrator_tui.errors import StateError

    path, data = _state_with_coverage(tmp_path)
    change(data["files"][0]["verification"]["coverage"])  # type: ignore[index]
    path.write_text(json.dumps(data))
    with pytest.raises(StateError, match="is corrupt"):
        ReviewState.load(path)
    assert list(tmp_path.glob("state.json.corrupt-*")), "moved aside, not lost"


def test_a_commit_record_naming_occurrences_by_anything_but_text_is_corrupt(tmp_path: Path) -> None:
    from migrator_tui.errors import StateError
    from migrator_tui.review.state import CommitInfo

    path = tmp_path / "state.json"
    st = ReviewState.create(path, recipe="db-session", base="a" * 40, prefix="migrate/db-session")
    info = CommitInfo("migrate/db-session/m.py", "b" * 40, "a" * 40, "t", ("m.py::f::0",))
    st.set_file("m.py", commit=info)
    data = json.loads(path.read_text())
    data["files"][0]["commit"]["occurrences"] = [["m.py::f::0"]]  # would be unhashable as a key
    path.write_text(json.dumps(data))
    with pytest.raises(StateError, match="is corrupt"):
        ReviewState.load(path)


def test_a_state_without_coverage_still_loads(tmp_path: Path) -> None:
    path, data = _state_with_coverage(tmp_path)
    del data["files"][0]["verification"]["coverage"]  # type: ignore[index]
    path.write_text(json.dumps(data))
    loaded = ReviewState.load(path)
    assert loaded is not None and loaded.files["m.py"].verification.coverage is None  # type: ignore[union-attr]


# --- the demo, for real ------------------------------------------------------------------------


def test_the_demo_has_blocks_its_tests_reach_and_one_they_do_not(tmp_path: Path, tmp_root: Path,
                                                                 capsys: Capsys) -> None:
    """The demo's own tests of web_app.py on its branch (the safe proposals, as `apply` commits them):
    image_detail's block is executed by no test, the others are; the branches screen says so."""
    from migrator_tui.demo import build_demo
    from migrator_tui.tui.app import make_app
    from migrator_tui.tui.screens.branches import BranchesScreen
    from migrator_tui.tui.screenshots import ready, settle, wait_until

    demo = tmp_path / "demo"
    build_demo(demo)
    assert cli.main(["apply", str(demo), "--file", "web_app.py"]) == 0
    cmd = f"{sys.executable} -m pytest -q tests/test_web_app.py"
    code = cli.main(["verify", str(demo), "--only", "web_app.py", "--coverage", "--test-cmd", cmd])
    out = capsys.readouterr().out
    assert code == 0, out
    run = state(demo, "db-session").files["web_app.py"].verification.coverage  # type: ignore[union-attr]
    assert run is not None and not run.error and run.failed == 0
    by_function = {b.function: b for b in run.blocks}
    assert set(by_function) == {"role_required.decorator.decorated_function", "_captions_csv", "dashboard",
                                "image_detail", "switch_platform"}
    assert by_function["image_detail"].tests == 0
    assert all(b.tests > 0 for f, b in by_function.items() if f != "image_detail")
    assert "line 259 image_detail() (lines 248-257): no test executes this block" in out
    assert "web_app.py: 4 of 5 rewritten blocks executed by a test" in out

    async def look() -> None:
        app = make_app(demo)
        async with app.run_test(size=(120, 40)) as pilot:
            await ready(pilot)
            await pilot.press("b")
            await wait_until(pilot, lambda: isinstance(app.screen, BranchesScreen))
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, BranchesScreen)
            (row,) = [r for r in screen.rows if r.path == "web_app.py"]
            assert row.check is not None and row.check.unverified == 1
            panel = str(screen.query_one("#branch-check").render())
            assert "coverage: 4 of 5 rewritten blocks executed by a test" in panel
            assert "line 259 image_detail() (lines 248-257): no test executes this block" in panel
            await pilot.press("q")

    asyncio.run(look())


def test_a_run_on_a_commit_the_branch_no_longer_holds_shows_no_blocks() -> None:
    """After an undo re-commits the file, the blocks measured before may not be on the branch:
    the front ends show where the run was measured, not its blocks (as `report` does)."""
    from migrator_tui.checks.coverage import shown_coverage
    from migrator_tui.review.state import BlockCoverage, CoverageRun, Verification

    run = CoverageRun(tests=4, failed=0, blocks=(BlockCoverage("a.py::f::0", 3, "f", 3, 5, 2, 0, 0, ()),))
    v = Verification(status="passed", command="pytest", sha="a37513c76036ff", time="", coverage=run)
    summary, blocks, unverified = shown_coverage(v, outdated=False)
    assert blocks and unverified == 1 and "0 of 1" in summary
    summary, blocks, unverified = shown_coverage(v, outdated=True)
    assert blocks == () and unverified == 0
    assert summary == "measured at a37513c76036; the branch moved since, so not shown (verify again)"
