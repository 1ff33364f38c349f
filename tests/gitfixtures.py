"""Helpers for tests on real temporary git repositories (no mocks of git)."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

WEB_APP = '''\
from database import db_manager
from flask import Flask

def count_users():
    session = db_manager.get_session()
    try:
        return session.query(User).count()
    finally:
        session.close()


def add_user(name):
    session = db_manager.get_session()
    try:
        session.add(User(name=name))
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()
'''

#: A plain function that acquires, commits and closes a session (its callers decide its verdict).
REPORTS = """\
def save(db_manager, name):
    session = db_manager.get_session()
    try:
        session.add(Report(name=name))
        session.commit()
    finally:
        session.close()
"""

#: A caller of `REPORTS`' `save()` that catches a specific type around it (in another file:
#: its arrival changes the verdict of `save`'s occurrence).
CALLER = """\
from reports import save


def job():
    try:
        save(None, 'x')
    except ValueError:
        pass
"""

SERVICE = '''\
class UserService:
    def __init__(self, db_manager):
        self.db_manager = db_manager

    def get(self, user_id):
        session = self.db_manager.get_session()
        try:
            return session.query(User).get(user_id)
        finally:
            session.close()
'''


#: A service method whose decorator (`DECORATORS`) may wrap its exceptions.
DECORATED_SERVICE = """\
from decorators import db_errors


class Reports:
    def __init__(self, db_manager):
        self.db_manager = db_manager

    @db_errors
    def weekly(self):
        session = self.db_manager.get_session()
        try:
            session.add(Report(name="weekly"))
            session.commit()
        finally:
            session.close()
"""

DECORATORS = """\
import functools


def db_errors(f):
    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        return f(*args, **kwargs)
    return wrapper
"""

#: `DECORATORS`, whose wrapper now catches what the session's errors are.
CATCHING_DECORATORS = DECORATORS.replace(
    "        return f(*args, **kwargs)\n",
    "        try:\n            return f(*args, **kwargs)\n        except IntegrityError:\n"
    "            return None\n")


def git(cwd: Path, *args: str, check: bool = True) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout


def make_repo(root: Path, files: dict[str, str | bytes], *, modes: dict[str, int] | None = None) -> Path:
    """A fresh repository at `root` with `files` committed on `main`."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "core.autocrlf", "false")
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            p.write_bytes(content.encode())
        else:
            p.write_bytes(content)
        if modes and rel in modes:
            p.chmod(modes[rel])
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root


def demo_repo(root: Path) -> Path:
    return make_repo(root, {"web_app.py": WEB_APP, "admin/services/user_service.py": SERVICE,
                            "README.md": "demo\n"})


def head(root: Path) -> str:
    return git(root, "rev-parse", "HEAD").strip()


def branches(root: Path, pattern: str = "refs/heads/migrate/") -> dict[str, str]:
    out = git(root, "for-each-ref", "--format=%(refname:short) %(objectname)", pattern)
    return dict(line.split(" ", 1) for line in out.splitlines())


def snapshot(root: Path) -> dict[str, object]:
    """Everything of the user's checkout that must never change: status, index, HEAD, stash, files."""
    files = {}
    for p in sorted(root.rglob("*")):
        if ".git" in p.relative_to(root).parts or not p.is_file():
            continue
        files[str(p.relative_to(root))] = (hashlib.sha1(p.read_bytes()).hexdigest(), p.stat().st_mode)
    return {
        "status": git(root, "status", "--porcelain=v1", "--untracked-files=all"),
        "index": git(root, "ls-files", "-s"),
        "head": git(root, "rev-parse", "HEAD"),
        "symbolic": git(root, "symbolic-ref", "-q", "HEAD", check=False),
        "stash": git(root, "stash", "list"),
        "files": files,
    }


def make_dirty(root: Path) -> None:
    """Unstaged, staged and untracked changes, and a stash entry."""
    (root / "README.md").write_text("demo\nedited, unstaged\n")
    (root / "notes.txt").write_text("untracked\n")
    (root / "staged.txt").write_text("staged\n")
    git(root, "add", "staged.txt")
    (root / "stashed.txt").write_text("x\n")
    git(root, "add", "stashed.txt")
    git(root, "stash", "push", "-q", "-m", "keep me", "--", "stashed.txt")
