"""A commit of many files killed with SIGKILL at a random moment: every branch absent or complete.

The child processes are killed alone (their git subprocesses run on) and with their whole process
group. Afterwards each `migrate/` branch must point at a commit whose parent is the base and whose
tree is exactly the base with that one file migrated; the review state must load; and a new run
must finish the job.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from gitfixtures import branches, git, head, make_repo

from migrator_tui.cli import main
from migrator_tui.git.flow import FileChange, GitFlow
from migrator_tui.git.objects import ObjectStore
from migrator_tui.git.repo import open_repo
from migrator_tui.review.state import ReviewState

BATCH_CHILD = """
import sys
from migrator_tui.git.flow import FileChange, GitFlow
from migrator_tui.git.repo import open_repo
repo = open_repo(sys.argv[1])
base = repo.head.commit.hexsha
flow = GitFlow(repo, recipe="db-session", base=base, author="R <r@example.com>")
msg = f"Migrate\\n\\nMigrator-Recipe: db-session\\nMigrator-Base: {base}\\n"
changes = [FileChange(f"pkg/m{i:03d}.py", lambda b: b + b"# migrated\\n", msg)
           for i in range(int(sys.argv[2]))]
print("ready", flush=True)
result = flow.commit_files(changes)
assert not result.failed, result.failed
print("done", flush=True)
"""

SOURCE = """\
from database import db_manager
from flask import Flask


def count_{i}():
    session = db_manager.get_session()
    try:
        return session.query(User).count()
    finally:
        session.close()
"""


def _spawn(args: list[str], group: bool) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=group)


def _kill(proc: subprocess.Popen[str], group: bool) -> None:
    if group:
        os.killpg(proc.pid, signal.SIGKILL)
    else:
        proc.send_signal(signal.SIGKILL)
    proc.wait()
    if proc.stdout:
        proc.stdout.close()
    if proc.stderr:
        proc.stderr.close()


def _wait_for_git_children(root: Path) -> None:
    """Give orphaned git processes of a killed child (killed alone) a moment to finish."""
    time.sleep(0.2)


def _check_complete(root: Path, expected: dict[str, bytes]) -> int:
    """Every migrate/ branch has the base as parent and exactly one file migrated; returns their count."""
    repo = open_repo(root)
    store = ObjectStore(repo)
    base = head(root)
    base_tree = store.commit(base).tree
    made = branches(root)
    for branch, tip in made.items():
        path = "pkg/" + branch.rsplit("/", 1)[1].split("__", 1)[1]
        commit = store.commit(tip)
        assert commit.parents == (base,), branch
        mode, _ = store.lookup(base_tree, path)  # type: ignore[misc]
        blob = store.write(b"blob", expected[path])
        assert commit.tree == store.replace_blobs(base_tree, {path: (mode, blob)}), branch
    repo.close()
    return len(made)


@pytest.mark.parametrize("group", [False, True])
def test_batch_killed_at_random_moments(tmp_path: Path, group: bool) -> None:
    n = 300
    files = {f"pkg/m{i:03d}.py": f"v = {i}\n" for i in range(n)}
    expected = {p: c.encode() + b"# migrated\n" for p, c in files.items()}
    # calibrate: how long does a full run take here?
    calib = make_repo(tmp_path / "calib", files)
    proc = _spawn(["-c", BATCH_CHILD, str(calib), str(n)], group)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    start = time.monotonic()
    out, err = proc.communicate()
    duration = time.monotonic() - start
    assert proc.returncode == 0 and "done" in out, err
    assert _check_complete(calib, expected) == n

    rng = random.Random()
    for trial in range(3):
        root = make_repo(tmp_path / f"r{trial}", files)
        delay = rng.uniform(0, duration * 1.1)
        proc = _spawn(["-c", BATCH_CHILD, str(root), str(n)], group)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        time.sleep(delay)
        _kill(proc, group)
        _wait_for_git_children(root)
        count = _check_complete(root, expected)  # each branch absent or complete
        if not group:  # the orphaned git finishes alone: its transaction is applied whole or not at all
            assert count in (0, n), f"delay {delay:.3f}s: {count} branches (the update is one transaction)"
        # killed with its group, `git update-ref` itself may die while renaming the loose refs' lock
        # files one by one (git's files backend), so some branches may already be complete
        assert git(root, "fsck", "--connectivity-only", "--no-dangling").strip() == ""
        # a new run clears what the killed one left (ref lock files) and completes every branch
        repo = open_repo(root)
        flow = GitFlow(repo, recipe="db-session", base=head(root), author="R <r@example.com>")
        flow.clear_stale_ref_locks(age=0.0)
        msg = f"Migrate\n\nMigrator-Recipe: db-session\nMigrator-Base: {head(root)}\n"
        result = flow.commit_files([FileChange(p, expected[p], msg) for p in files])
        repo.close()
        assert not result.failed, result.failed
        assert _check_complete(root, expected) == n


def test_apply_killed_then_resumed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    n = 40
    files = {f"pkg/m{i:03d}.py": SOURCE.format(i=i) for i in range(n)}
    calib = make_repo(tmp_path / "calib", files)
    start = time.monotonic()
    proc = _spawn(["-m", "migrator_tui", "apply", "--min-confidence", "review", str(calib), "--all"], False)
    proc.communicate()
    duration = time.monotonic() - start
    assert proc.returncode == 0
    final = {b: git(calib, "rev-parse", f"{t}^{{tree}}").strip() for b, t in branches(calib).items()}
    assert len(final) == n

    rng = random.Random()
    for trial, group in enumerate((False, True, False)):
        root = make_repo(tmp_path / f"r{trial}", files)
        delay = rng.uniform(duration * 0.3, duration * 1.05)
        argv = ["-m", "migrator_tui", "apply", "--min-confidence", "review", str(root), "--all"]
        proc = _spawn(argv, group)
        time.sleep(delay)
        _kill(proc, group)
        _wait_for_git_children(root)
        after_kill = branches(root)
        for branch, tip in after_kill.items():
            assert git(root, "rev-parse", f"{tip}^{{tree}}").strip() == final[branch], (delay, branch)
            assert git(root, "rev-parse", f"{tip}^").strip() == head(root)
        state_path = root / ".git/migrator/db-session/state.json"
        if state_path.exists():
            assert ReviewState.load(state_path) is not None
        # resume: the stale lock is taken over and the job finishes
        assert main(["apply", "--min-confidence", "review", str(root), "--all"]) == 0, capsys.readouterr().err
        capsys.readouterr()
        resumed = {b: git(root, "rev-parse", f"{t}^{{tree}}").strip() for b, t in branches(root).items()}
        assert resumed == final
        loaded = ReviewState.load(state_path)
        assert loaded is not None and sum(f.commit is not None for f in loaded.files.values()) == n
