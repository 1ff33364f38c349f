"""Review state on disk: atomic saves, validation, corrupt files moved aside, undo, stale decisions, lock."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from migrator_tui.errors import StateError
from migrator_tui.model import Occurrence
from migrator_tui.review.lock import ReviewLock
from migrator_tui.review.state import CommitInfo, ReviewState, Verification, fingerprint

SOURCE = """\
import os


def f():
    session = db_manager.get_session()
    try:
        return session.query(X).all()
    finally:
        session.close()


def g():
    return 1
"""


def _occ(occ_id: str = "m.py::f::0", line: int = 5, start: int = 4, end: int = 9) -> Occurrence:
    return Occurrence(id=occ_id, path="m.py", line=line, column=14, end_line=line, end_column=38,
                      function="f", decorators=(), variable="session", receiver="db_manager",
                      shapes=("try-finally",), phase=1, scope_start=start, scope_end=end)


def _state(tmp_path: Path) -> ReviewState:
    return ReviewState.create(tmp_path / "state.json", recipe="db-session", base="a" * 40,
                              prefix="migrate/db-session")


def test_fingerprint_ignores_edits_elsewhere() -> None:
    fp = fingerprint(SOURCE, _occ())
    moved = "# a new comment\n\n" + SOURCE.replace("return 1", "return 2")
    assert fingerprint(moved, _occ(line=7, start=6, end=11)) == fp
    changed = SOURCE.replace("query(X)", "query(Y)")
    assert fingerprint(changed, _occ()) != fp
    crlf = SOURCE.replace("\n", "\r\n")
    assert fingerprint(crlf, _occ()) != fp


@given(st.text(max_size=40), st.text(max_size=40))
@settings(max_examples=100, deadline=None)
def test_fingerprint_only_depends_on_scope(before: str, after: str) -> None:
    before = before.replace("\r", "").replace("\n", " ") + "\n"
    lines = SOURCE.splitlines(keepends=True)
    scope = "".join(lines[3:9])
    text = before + scope + after
    occ = _occ(line=3, start=2, end=7)
    assert fingerprint(text, occ) == fingerprint(scope, _occ(line=2, start=1, end=6))


def test_save_load_round_trip(tmp_path: Path) -> None:
    state = _state(tmp_path)
    occ = _occ()
    state.decide(occ, "accepted", fingerprint="fp", reviewer="R <r@x>", strategy="unified",
                 edited="with x:\n    pass\n", note="ok", warnings=("implicit-commit",))
    state.set_file("m.py", blob="b" * 40, commit=CommitInfo("migrate/x/m.py", "c" * 40, "a" * 40, "t",
                                                              (occ.id,), 1))
    state.set_file("m.py", verification=Verification("passed", "pytest", "c" * 40, "t", 1.5, "ok"))
    loaded = ReviewState.load(tmp_path / "state.json")
    assert loaded is not None
    assert loaded.decisions == state.decisions
    assert loaded.files == state.files
    assert loaded.history == state.history
    assert loaded.base == "a" * 40
    # no temporary files left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]


def test_undo_restores_previous_decisions(tmp_path: Path) -> None:
    state = _state(tmp_path)
    occ = _occ()
    state.decide(occ, "accepted", fingerprint="fp", reviewer="r", strategy="unified")
    state.decide(occ, "rejected", fingerprint="fp", reviewer="r", note="no")
    [entry] = state.undo()
    assert entry.after.decision == "rejected"
    reloaded = ReviewState.load(state.path)
    assert reloaded is not None and reloaded.decisions[occ.id].decision == "accepted"
    assert len(reloaded.undo()) == 1
    assert occ.id not in reloaded.decisions
    assert reloaded.undo() == []


def test_reconcile_marks_stale_and_keeps(tmp_path: Path) -> None:
    state = _state(tmp_path)
    a, b = _occ("m.py::f::0"), _occ("m.py::g::0", line=12, start=12, end=13)
    state.decide(a, "accepted", fingerprint="fa", reviewer="r")
    state.decide(b, "rejected", fingerprint="fb", reviewer="r")
    newly = state.reconcile([a, b], {a.id: "fa", b.id: "changed"})
    assert newly == [b.id]
    assert not state.decisions[a.id].stale and state.decisions[b.id].stale
    assert state.accepted("m.py") == [state.decisions[a.id]]
    assert state.counts("m.py") == {"accepted": 1, "rejected": 0, "pending": 0, "stale": 1, "rolled_back": 0}
    # gone from the scan: stale too, still kept
    state.reconcile([b], {b.id: "fb"})
    assert state.decisions[a.id].stale and not state.decisions[b.id].stale
    assert state.accepted("m.py") == []


@pytest.mark.parametrize("content", [b"{not json", b"\xff\xfe", b"[]", b'{"version": 1}',
                                     b'{"version": 1, "recipe": "r", "base": "b", "prefix": "p", '
                                     b'"decisions": [{"id": 1}], "files": []}',
                                     b'{"version": 1, "recipe": "r", "base": "b", "prefix": "p", '
                                     b'"decisions": [], "files": [], "checks": {"base": {"status": "bogus", '
                                     b'"command": "c", "sha": "s"}}}'])
def test_corrupt_state_is_moved_aside(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "state.json"
    path.write_bytes(content)
    with pytest.raises(StateError) as err:
        ReviewState.load(path)
    msg = err.value.message
    assert "is corrupt" in msg and "moved to" in msg and msg.count(". ") == 0
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("state.json.corrupt-")]
    assert len(aside) == 1 and aside[0].read_bytes() == content
    assert str(aside[0]) in msg
    assert not path.exists()
    assert ReviewState.load(path) is None


def test_newer_format_is_not_moved(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text(json.dumps({"version": 99}))
    with pytest.raises(StateError, match="newer migrator-tui"):
        ReviewState.load(path)
    assert path.exists()


# --- lock ------------------------------------------------------------------------------------


def test_lock_excludes_a_live_owner(tmp_path: Path) -> None:
    path = tmp_path / "lock"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from migrator_tui.review.lock import ReviewLock; "
         f"l = ReviewLock({str(path)!r}).acquire(); print('held', flush=True); time.sleep(30)"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(StateError, match=f"pid {holder.pid}"):
            ReviewLock(path).acquire()
    finally:
        holder.kill()
        holder.wait()
    # the owner died (SIGKILL): its lock is stale and taken over
    lock = ReviewLock(path).acquire()
    assert lock.took_over is not None and lock.took_over["pid"] == holder.pid
    assert json.loads(path.read_text())["pid"] == os.getpid()
    lock.release()
    assert not path.exists()


def test_stale_lock_file_of_dead_pid(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead = int(proc.stdout)
    import socket

    (tmp_path / "lock").write_text(json.dumps({"pid": dead, "host": socket.gethostname(), "started": "x"}))
    with ReviewLock(tmp_path / "lock") as lock:
        assert lock.took_over is not None and lock.took_over["pid"] == dead
        with pytest.raises(StateError, match=f"pid {os.getpid()}"):
            ReviewLock(tmp_path / "lock").acquire()


def test_lock_of_another_host_is_respected(tmp_path: Path) -> None:
    (tmp_path / "lock").write_text(json.dumps({"pid": 1, "host": "elsewhere.example", "started": "x"}))
    with pytest.raises(StateError, match=r"on elsewhere\.example"):
        ReviewLock(tmp_path / "lock").acquire()
