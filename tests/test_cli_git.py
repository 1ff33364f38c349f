"""`apply`, `branches`, `rollback`, `integrate` through `cli.main`, on real temporary repositories."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from gitfixtures import WEB_APP, branches, demo_repo, git, head, make_dirty, snapshot

from migrator_tui.cli import main

BRANCH = "migrate/db-session/web_app.py"
SERVICE_BRANCH = "migrate/db-session/admin__services__user_service.py"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return demo_repo(tmp_path / "repo")


def test_full_cycle_leaves_a_dirty_checkout_untouched(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_dirty(repo)
    # the dirty README is not a scanned file; the Python files are clean
    before = snapshot(repo)
    code, out, err = run(capsys, "apply", "--min-confidence", "review", str(repo))
    assert code == 0, err
    made = branches(repo)
    assert set(made) == {BRANCH, SERVICE_BRANCH}
    assert f"web_app.py: {BRANCH} {made[BRANCH][:12]} 2/2" in out
    state = json.loads((repo / ".git/migrator/db-session/state.json").read_text())
    notes = {d["note"] for d in state["decisions"]}
    assert notes == {"accepted by apply"}
    assert snapshot(repo) == before

    code, out, _ = run(capsys, "branches", str(repo), "--json")
    data = json.loads(out)
    rows = {f["path"]: f for f in data["files"]}
    assert rows["web_app.py"]["tip"] == made[BRANCH]
    assert rows["web_app.py"]["accepted"] == 2 and rows["web_app.py"]["pending"] == 0
    assert not rows["web_app.py"]["integrated"] and not rows["web_app.py"]["stale"]
    assert data["integration"]["tip"] is None

    code, out, _ = run(capsys, "integrate", str(repo))
    assert code == 0 and "migrate/db-session/all now at" in out
    all_tip = branches(repo)["migrate/db-session/all"]
    assert git(repo, "diff", "--name-only", head(repo), all_tip).split() == [
        "admin/services/user_service.py", "web_app.py"]
    code, out, _ = run(capsys, "branches", str(repo), "--json")
    assert all(f["integrated"] for f in json.loads(out)["files"])
    code, out, _ = run(capsys, "branches", str(repo))
    assert "integrated" in out and BRANCH in out

    code, out, _ = run(capsys, "rollback", str(repo), "web_app.py")
    assert code == 0
    assert f"git branch {BRANCH} {made[BRANCH]}" in out
    assert "reverted on migrate/db-session/all" in out
    assert BRANCH not in branches(repo)
    new_all = branches(repo)["migrate/db-session/all"]
    assert git(repo, "show", f"{new_all}:web_app.py") == WEB_APP
    assert snapshot(repo) == before

    # the rollback sticks: apply leaves the rolled-back decisions alone until decided again
    code, out, _ = run(capsys, "apply", str(repo))
    assert code == 0 and BRANCH not in branches(repo) and "rolled-back decisions not applied" in out
    from migrator_tui.recipe import load_recipe
    from migrator_tui.review.workspace import Workspace

    with Workspace.open(repo, load_recipe("db-session")) as ws:  # the reviewer accepts them again
        ws.scan_base()
        for d in ws.state.for_path("web_app.py"):
            ws.decide(d.id, "accepted", strategy=d.strategy)
    # not integrated: just deleted; by branch name
    code, out, _ = run(capsys, "apply", "--min-confidence", "review", str(repo))
    assert code == 0 and BRANCH in branches(repo)
    code, out, _ = run(capsys, "rollback", str(repo), BRANCH)
    assert code == 0 and "deleted" in out and "reverted" not in out
    assert snapshot(repo) == before


def test_integrate_into_refuses_dirty_then_works(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "apply", "--min-confidence", "review", str(repo))[0] == 0
    (repo / "README.md").write_text("dirty\n")
    code, _, err = run(capsys, "integrate", str(repo), "--into", "main")
    assert code == 2 and "README.md" in err and err.count("\n") == 1
    git(repo, "checkout", "-q", "README.md")
    code, _out, err = run(capsys, "integrate", str(repo), "--into", "main")
    assert code == 0, err
    assert "with unified_session_manager" in (repo / "web_app.py").read_text()
    assert git(repo, "status", "--porcelain") == ""


def test_dry_run_and_in_place(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "apply", "--min-confidence", "review", str(repo), "--dry-run")
    assert code == 0
    assert "--- a/web_app.py" in out and "+    with " in out and "\x1b[" not in out
    assert branches(repo) == {} and git(repo, "status", "--porcelain") == ""
    assert not (repo / ".git/migrator").exists()

    (repo / "web_app.py").chmod(0o755)
    git(repo, "commit", "-qam", "exec")
    code, out, _ = run(capsys, "apply", "--min-confidence", "review", str(repo), "--in-place",
                       "--file", "web_app.py")
    assert code == 0 and "web_app.py: 2/2 rewritten" in out
    assert "with " in (repo / "web_app.py").read_text()
    assert (repo / "web_app.py").stat().st_mode & 0o777 == 0o755
    assert git(repo, "status", "--porcelain").split() == ["M", "web_app.py"]


def test_unknown_phase(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "apply", "--min-confidence", "review", str(repo), "--phase", "9")
    assert code == 2 and err == "migrator-tui: Unknown phase 9: recipe db-session has phases 1, 2, 3, 4.\n"


def test_phase_filter(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, _ = run(capsys, "apply", "--min-confidence", "review", str(repo), "--phase", "2")
    assert code == 0 and set(branches(repo)) == {SERVICE_BRANCH}


def test_not_a_repository(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for cmd in ("apply", "branches", "integrate"):
        code, _, err = run(capsys, cmd, str(tmp_path))
        assert code == 2 and "is not inside a git repository" in err and err.count("\n") == 1


def test_no_commits_and_bare(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q")
    code, _, err = run(capsys, "apply", "--min-confidence", "review", str(empty))
    assert code == 2 and "has no commits yet" in err
    bare = tmp_path / "bare.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    code, _, err = run(capsys, "branches", str(bare))
    assert code == 2 and "is a bare repository" in err


def test_branch_taken(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    git(repo, "branch", BRANCH)
    code, _out, err = run(capsys, "apply", "--min-confidence", "review", str(repo))
    assert code == 2 and f"Branch {BRANCH} already exists and was not made by migrator-tui" in err
    assert branches(repo)[BRANCH] == head(repo)
    assert SERVICE_BRANCH in branches(repo)  # the other file still committed


def test_head_moved_offers_rescan(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "apply", "--min-confidence", "review", str(repo))[0] == 0
    (repo / "notes.md").write_text("x\n")
    git(repo, "add", "notes.md")
    git(repo, "commit", "-qm", "more")
    code, _, err = run(capsys, "apply", "--min-confidence", "review", str(repo))
    assert code == 2 and "--rescan" in err and err.count("\n") == 1
    code, _out, err = run(capsys, "apply", "--min-confidence", "review", str(repo), "--rescan")
    assert code == 0, err
    tip = branches(repo)[BRANCH]
    assert git(repo, "rev-parse", f"{tip}^").strip() == head(repo)


def test_lock_held_by_another_review(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lock = repo / ".git/migrator/db-session/lock"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import time; from migrator_tui.review.lock import ReviewLock; "
         f"ReviewLock({str(lock)!r}).acquire(); print('held', flush=True); time.sleep(30)"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        code, _, err = run(capsys, "apply", "--min-confidence", "review", str(repo))
        assert code == 2 and f"pid {holder.pid}" in err and err.count("\n") == 1
    finally:
        holder.kill()
        holder.wait()
    assert run(capsys, "apply", "--min-confidence", "review", str(repo))[0] == 0


def test_rollback_unknown(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "rollback", str(repo), "web_app.py")
    assert code == 2 and "no migration branch for web_app.py" in err
