"""verify on real repositories: results in the state and in `branches`, worktrees always removed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from gitfixtures import branches, demo_repo, git, snapshot

from migrator_tui import cli
from migrator_tui.checks.verify import OUTDATED, Runner, badge, file_targets, run_all
from migrator_tui.recipe import load_recipe
from migrator_tui.review.state import STATE_FILE, ReviewState, Verification

Capsys = pytest.CaptureFixture[str]
WEB = "web_app.py"
SERVICE = "admin/services/user_service.py"
#: Passes on web_app.py's branch (migrated), fails on the service's branch (web_app.py as at the base).
PASS_ON_WEB = "grep -q unified_session_manager web_app.py"


@pytest.fixture
def tmp_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Temporary worktrees go under tmp_path/tmp, so leftovers can be counted."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    return tmp


@pytest.fixture
def repo(tmp_path: Path, tmp_root: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    root = demo_repo(tmp_path / "repo")
    assert cli.main(["apply", "--min-confidence", "review", str(root)]) == 0
    capsys.readouterr()
    return root


def state(root: Path) -> ReviewState:
    loaded = ReviewState.load(root / ".git" / "migrator" / "db-session" / STATE_FILE)
    assert loaded is not None
    return loaded


def worktrees(root: Path) -> list[str]:
    return [line for line in git(root, "worktree", "list", "--porcelain").splitlines()
            if line.startswith("worktree ")]


def assert_clean(root: Path, tmp_root: Path) -> None:
    assert worktrees(root) == [f"worktree {root}"]
    assert list(tmp_root.iterdir()) == []
    assert not (root / ".git" / "worktrees").exists() or not any((root / ".git" / "worktrees").iterdir())


def test_pass_and_fail_are_recorded_with_tip_log_and_duration(repo: Path, tmp_root: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(repo)
    code = cli.main(["verify", str(repo), "--test-cmd", PASS_ON_WEB, "--jobs", "2"])
    out = capsys.readouterr().out
    assert code == 1
    tips = {k.split("/", 2)[2]: v for k, v in branches(repo).items()}
    files = state(repo).files
    web, svc = files[WEB].verification, files[SERVICE].verification
    assert web is not None and svc is not None
    assert (web.status, svc.status) == ("passed", "failed")
    assert web.sha == tips["web_app.py"] and svc.sha == tips["admin__services__user_service.py"]
    assert web.command == PASS_ON_WEB and web.seconds >= 0 and web.time.endswith("Z")
    log = Path(svc.log)
    assert log.is_file() and log.parent == repo / ".git" / "migrator" / "db-session" / "logs"
    assert PASS_ON_WEB in log.read_text() and "failed" in log.read_text()
    assert "web_app.py" in out and "passed" in out and "failed" in out
    assert ".git/migrator/db-session/logs/web_app.py.log" in out
    assert snapshot(repo) == before  # the user's checkout, index and HEAD are untouched
    assert_clean(repo, tmp_root)


def test_branches_json_shows_result_then_outdated(repo: Path, capsys: Capsys) -> None:
    cli.main(["verify", str(repo), "--test-cmd", PASS_ON_WEB])
    capsys.readouterr()
    assert cli.main(["branches", str(repo), "--json"]) == 0
    rows = {f["path"]: f for f in json.loads(capsys.readouterr().out)["files"]}
    assert rows[WEB]["verified"] == "passed" and rows[SERVICE]["verified"] == "failed"
    assert rows[WEB]["verification"]["sha"] == rows[WEB]["tip"]
    # the branch moves (one occurrence rejected, the file re-committed): the result is outdated
    from migrator_tui.review.workspace import Workspace
    from migrator_tui.scan import scan

    recipe = load_recipe()
    with Workspace.open(repo, recipe) as ws:
        ws.load_scan(scan(ws.root, recipe))
        first = ws.occurrences_of(WEB)[0]
        ws.decide(first.id, "rejected")
        assert ws.commit_file(WEB) is not None
    cli.main(["branches", str(repo), "--json"])
    rows = {f["path"]: f for f in json.loads(capsys.readouterr().out)["files"]}
    assert rows[WEB]["verified"] == OUTDATED
    cli.main(["branches", str(repo)])
    text = capsys.readouterr().out
    assert "outdated" in text and "VERIFIED" in text


def test_timeout_kills_the_process_group_and_removes_the_worktree(repo: Path, tmp_root: Path, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    pidfile = tmp_path / "pid"
    # a grandchild (the backgrounded sleep) must die too: the whole group is killed
    cmd = f"sleep 60 & echo $! > {pidfile}; wait"
    t0 = time.monotonic()
    code = cli.main(["verify", str(repo), "--test-cmd", cmd, "--timeout", "1", "--only", WEB])
    assert code == 1
    assert time.monotonic() - t0 < 30
    v = state(repo).files[WEB].verification
    assert v is not None and v.status == "timeout"
    assert "timed out" in Path(v.log).read_text()
    assert state(repo).files[SERVICE].verification is None  # --only
    assert "timeout" in capsys.readouterr().out
    pid = int(pidfile.read_text())
    _assert_gone(pid)
    assert_clean(repo, tmp_root)


def _assert_gone(pid: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        stat = Path(f"/proc/{pid}/stat")
        if stat.exists() and stat.read_text().split(") ")[1].startswith("Z"):
            return  # killed, waiting for its (former) parent to be reaped
        time.sleep(0.1)
    raise AssertionError(f"process {pid} survived")


def test_ctrl_c_kills_the_commands_removes_worktrees_and_exits_130(repo: Path, tmp_root: Path,
                                                                  tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    # the command interrupts migrator-tui itself (its parent), as Ctrl-C would, then keeps running
    cmd = f"sleep 60 & echo $! > {pidfile}; kill -INT $PPID; wait"
    env = {**os.environ, "TMPDIR": str(tmp_root)}
    proc = subprocess.run([sys.executable, "-m", "migrator_tui", "verify", str(repo), "--test-cmd", cmd,
                           "--only", WEB], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 130, proc.stderr
    assert "interrupted" in proc.stderr
    _assert_gone(int(pidfile.read_text()))
    assert_clean(repo, tmp_root)
    v = state(repo).files[WEB].verification
    assert v is None or v.status != "passed"


def test_keyboard_interrupt_in_the_loop_cancels_the_rest_and_cleans_up(repo: Path, tmp_root: Path) -> None:
    st = state(repo)
    targets = file_targets(st, {p: f.commit.sha for p, f in st.files.items() if f.commit}, ())
    assert len(targets) == 2
    runner = Runner(repo, "sleep 0.2", timeout=30, log_dir=tmp_root.parent / "logs")
    seen = []

    def interrupt(outcome: object) -> None:
        seen.append(outcome)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_all(runner, targets, jobs=1, on_result=interrupt)
    assert len(seen) == 1
    assert_clean(repo, tmp_root)


def test_baseline_marks_failures_that_exist_at_the_base(repo: Path, capsys: Capsys) -> None:
    code = cli.main(["verify", str(repo), "--test-cmd", "grep -q no-such-text web_app.py", "--baseline"])
    out = capsys.readouterr().out
    assert code == 1
    base = state(repo).checks["base"]
    assert base.status == "failed" and base.sha == state(repo).base
    assert out.count("fails at base too") == 2


def test_a_failure_that_passes_at_the_base_is_not_excused(repo: Path, capsys: Capsys) -> None:
    cmd = "! grep -q unified_session_manager web_app.py"
    cli.main(["verify", str(repo), "--test-cmd", cmd, "--baseline"])
    out = capsys.readouterr().out
    assert state(repo).checks["base"].status == "passed"
    assert state(repo).files[WEB].verification.status == "failed"  # type: ignore[union-attr]
    assert "fails at base too" not in out


def test_integrate_only_verified_takes_only_passing_tips(repo: Path, capsys: Capsys) -> None:
    cli.main(["verify", str(repo), "--test-cmd", PASS_ON_WEB])
    capsys.readouterr()
    assert cli.main(["integrate", str(repo), "--only-verified"]) == 0
    out = capsys.readouterr().out
    assert f"skipped {SERVICE}: failed" in out
    listed = git(repo, "ls-tree", "-r", "--name-only", "migrate/db-session/all").split()
    assert set(listed) >= {WEB, SERVICE}
    all_web = git(repo, "show", f"migrate/db-session/all:{WEB}")
    all_svc = git(repo, "show", f"migrate/db-session/all:{SERVICE}")
    assert "unified_session_manager" in all_web
    assert all_svc == git(repo, "show", f"HEAD:{SERVICE}")  # left as at the base
    # and the integration branch itself can be verified
    assert cli.main(["verify", str(repo), "--test-cmd", PASS_ON_WEB, "--integration", "--only", WEB]) == 0
    integ = state(repo).checks["integration"]
    assert integ.status == "passed" and integ.sha == branches(repo)["migrate/db-session/all"]


def test_unknown_only_file_is_a_one_line_error(repo: Path, capsys: Capsys) -> None:
    assert cli.main(["verify", str(repo), "--test-cmd", "true", "--only", "nope.py"]) == 2
    assert "nope.py has no per-file branch" in capsys.readouterr().err


def test_badge() -> None:
    v = Verification("passed", "true", "a" * 40, "t")
    assert badge(None, "a" * 40) is None
    assert badge(v, "a" * 40) == "passed"
    assert badge(v, "b" * 40) == OUTDATED


def test_state_keeps_log_and_whole_commit_checks(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    st = ReviewState.create(path, recipe="db-session", base="a" * 40, prefix="migrate/db-session")
    v = Verification("timeout", "pytest", "b" * 40, "2024-01-01T00:00:00Z", 2.5, "tail", log="/x/m.py.log")
    st.set_file("m.py", verification=v)
    st.set_check("base", Verification("failed", "pytest", "a" * 40, "2024-01-01T00:00:00Z"))
    loaded = ReviewState.load(path)
    assert loaded is not None
    assert loaded.files["m.py"].verification == v
    assert loaded.checks == st.checks
    # a state written before these fields existed still loads
    data = json.loads(path.read_text())
    del data["checks"]
    del data["files"][0]["verification"]["log"]
    path.write_text(json.dumps(data))
    old = ReviewState.load(path)
    assert old is not None and old.checks == {} and old.files["m.py"].verification.log == ""  # type: ignore[union-attr]


def test_integrate_names_failed_branches_and_needs_include_failed(repo: Path, capsys: Capsys) -> None:
    cli.main(["verify", str(repo), "--test-cmd", PASS_ON_WEB])
    capsys.readouterr()
    assert cli.main(["integrate", str(repo)]) == 2
    err = capsys.readouterr().err
    assert f"verify failed on {SERVICE}" in err and "--include-failed" in err
    assert "migrate/db-session/all" not in branches(repo), "nothing was integrated"
    assert cli.main(["integrate", str(repo), "--include-failed"]) == 0
    out = capsys.readouterr().out
    assert f"{SERVICE}  (verify failed, included with --include-failed)" in out
    assert "migrate/db-session/all" in branches(repo)


def test_pytest_that_cannot_run_is_an_error_with_a_hint(repo: Path, capsys: Capsys) -> None:
    # pytest exits 4 on a usage error (as it exits 2 on a conftest that does not import)
    code = cli.main(["verify", str(repo), "--test-cmd", f"{sys.executable} -m pytest --no-such-option"])
    captured = capsys.readouterr()
    assert code == 1
    assert state(repo).files[WEB].verification.status == "error"  # type: ignore[union-attr]
    assert "ended in error" in captured.err and "--baseline" in captured.err
    # any other command's non-zero exit is a failure
    cli.main(["verify", str(repo), "--test-cmd", "exit 4"])
    assert state(repo).files[WEB].verification.status == "failed"  # type: ignore[union-attr]
