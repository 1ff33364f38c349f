"""`validate`: the spec's validation script, on the working tree or a ref, in three formats."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from migrator_tui import cli

PLAIN = '''def f():
    session = db_manager.get_session()
    try:
        return session.query(User).count()
    finally:
        session.close()
'''
MIGRATED = '''def f():
    with unified_session_manager.get_db_session() as session:
        return session.query(User).count()
'''
SERVICE = '''class S:
    @property
    def unified_session_manager(self):
        return None

    def f(self):
        if self.unified_session_manager:
            with self.unified_session_manager.get_db_session() as session:
                return session.query(User).count()
        else:
            # Fallback for non-Flask contexts
            session = self.db_manager.get_session()
            try:
                return session.query(User).count()
            finally:
                session.close()
'''


def _repo(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(["git", "commit", "-qm", "init"], cwd=root, check=True)
    return root


def test_remaining_usage_exits_1_and_is_listed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _repo(tmp_path, {"web_app.py": PLAIN, "ok.py": MIGRATED})
    assert cli.main(["validate", str(root)]) == 1
    out = capsys.readouterr().out
    assert "web_app.py:2: f" in out
    assert "ok.py" not in out


def test_clean_tree_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _repo(tmp_path, {"ok.py": MIGRATED})
    assert cli.main(["validate", str(root)]) == 0
    assert "No direct db_manager.get_session() usage remains" in capsys.readouterr().out


def test_service_fallbacks_are_not_remaining(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _repo(tmp_path, {"svc.py": SERVICE})
    assert cli.main(["validate", str(root), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["remaining"] == []


def test_ref_is_read_without_checkout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _repo(tmp_path, {"web_app.py": PLAIN})
    (root / "web_app.py").write_text(MIGRATED)  # the working tree is fixed, HEAD is not
    subprocess.run(["git", "branch", "old"], cwd=root, check=True)
    assert cli.main(["validate", str(root)]) == 0
    capsys.readouterr()
    assert cli.main(["validate", str(root), "--ref", "old", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert [(r["path"], r["line"], r["function"]) for r in data["remaining"]] == [("web_app.py", 2, "f")]
    assert (root / "web_app.py").read_text() == MIGRATED


def test_github_annotations(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _repo(tmp_path, {"a/web_app.py": PLAIN})
    assert cli.main(["validate", str(root), "--format", "github"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("::error file=a/web_app.py,line=2,col=15,")
    assert lines[-1].startswith("::notice ")


def test_unknown_ref_is_an_input_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _repo(tmp_path, {"ok.py": MIGRATED})
    assert cli.main(["validate", str(root), "--ref", "no-such-branch"]) == 2
    err = capsys.readouterr().err
    assert "'no-such-branch' does not name a commit" in err
    assert err.count("\n") == 1
