"""Write the demo repository to a directory as a fresh git repository with one reproducible commit.

The application's files are package data under `migrator_tui/demo/app/`. Files whose name cannot
ship as package data (dotfiles) are stored under another name and renamed here. The commit has a
fixed author, committer and date, and git runs with an environment of its own (no user or system
configuration, no templates, no hooks), so building twice gives the same commit hash.
"""

from __future__ import annotations

import os
import subprocess
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from migrator_tui.errors import MigratorError, RepositoryError

#: (name, email) of the demo's author and committer.
DEMO_AUTHOR = ("Demo Author", "demo@example.com")
#: Author and committer date of the demo's single commit.
DEMO_DATE = "2024-01-15T09:00:00+00:00"
DEMO_BRANCH = "main"
DEMO_MESSAGE = "Caption publisher: Flask app, admin blueprint, maintenance scripts and tests\n"

#: Package-data names that become other names in the repository.
_RENAMES = {"dot-gitignore": ".gitignore"}
#: Build and run leftovers that never belong to the repository.
_SKIP_DIRS = frozenset({"__pycache__", ".pytest_cache"})
_SKIP_SUFFIXES = (".pyc", ".pyo", ".db", ".db-journal")
_FILE_MODE = 0o644


def _app_root() -> Traversable:
    return resources.files("migrator_tui.demo").joinpath("app")


def _walk(node: Traversable, prefix: str, out: list[tuple[str, bytes]]) -> None:
    for child in node.iterdir():
        if child.is_dir():
            if child.name not in _SKIP_DIRS:
                _walk(child, f"{prefix}{child.name}/", out)
        elif not child.name.endswith(_SKIP_SUFFIXES):
            out.append((prefix + _RENAMES.get(child.name, child.name), child.read_bytes()))


def demo_files() -> list[tuple[str, bytes]]:
    """The demo repository's files as (POSIX relative path, content), sorted by path."""
    files: list[tuple[str, bytes]] = []
    _walk(_app_root(), "", files)
    return sorted(files)


def _git_env() -> dict[str, str]:
    name, email = DEMO_AUTHOR
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_TERMINAL_PROMPT="0",
        GIT_AUTHOR_NAME=name,
        GIT_AUTHOR_EMAIL=email,
        GIT_AUTHOR_DATE=DEMO_DATE,
        GIT_COMMITTER_NAME=name,
        GIT_COMMITTER_EMAIL=email,
        GIT_COMMITTER_DATE=DEMO_DATE,
        LC_ALL="C",
    )
    return env


_GIT_OPTIONS = (
    "-c", "core.autocrlf=false",
    "-c", "core.safecrlf=false",
    "-c", "core.fileMode=true",
    "-c", "commit.gpgsign=false",
    "-c", "core.hooksPath=" + os.devnull,
)  # fmt: skip


def _git(target: Path, *args: str) -> str:
    try:
        done = subprocess.run(
            ["git", *_GIT_OPTIONS, *args],
            cwd=target,
            env=_git_env(),
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError as exc:
        raise RepositoryError("git is not installed or not on PATH.") from exc
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise RepositoryError(f"git {args[0]} failed in {target}: {reason}")
    return done.stdout.strip()


def _check_target(target: Path) -> None:
    if target.exists() and not target.is_dir():
        raise MigratorError(f"{target} exists and is not a directory; choose a new or empty directory.")
    if target.is_dir() and any(target.iterdir()):
        raise MigratorError(f"{target} is not empty; choose a new or empty directory for the demo.")


def build_demo(target: Path) -> str:
    """Write the demo repository into `target` (new or empty) and commit it; return the commit sha."""
    target = Path(target)
    _check_target(target)
    files = demo_files()
    target.mkdir(parents=True, exist_ok=True)
    for relative, content in files:
        path = target.joinpath(*relative.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        path.chmod(_FILE_MODE)
    _git(target, "init", "--quiet", "--template=", f"--initial-branch={DEMO_BRANCH}")
    _git(target, "add", "--", *(relative for relative, _ in files))
    _git(target, "commit", "--quiet", "--no-verify", "--no-gpg-sign", "-m", DEMO_MESSAGE)
    return _git(target, "rev-parse", "HEAD")
