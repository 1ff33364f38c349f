"""Opening the repository a review works on, and who the reviewer is.

Every refusal is a `RepositoryError` with one sentence: not a git repository, a bare repository, a
repository without commits.
"""

from __future__ import annotations

import getpass
import os
import re
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from migrator_tui.errors import RepositoryError, dubious_ownership

if TYPE_CHECKING:
    import git


@dataclass(frozen=True, slots=True)
class Identity:
    name: str
    email: str

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


_RECIPE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}\Z", re.ASCII)
_IDENT = re.compile(r"^(?P<name>.*?) <(?P<email>[^<>]*)> \d+ [+-]\d{4}$")


def open_repo(path: str | os.PathLike[str]) -> git.Repo:
    """The non-bare repository with at least one commit that holds `path`."""
    import git

    p = Path(path)
    if not p.exists():
        raise RepositoryError(f"{p} does not exist.")
    try:
        repo = git.Repo(p, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        if p.is_dir():
            _refuse_dubious(p)
        raise RepositoryError(
            f"{p} is not inside a git repository (run `git init` and commit first)."
        ) from None
    if repo.bare or repo.working_tree_dir is None:
        raise RepositoryError(
            f"{p} is a bare repository: migrator-tui needs a working tree (clone it and run there)."
        )
    if not repo.head.is_valid():
        _refuse_dubious(repo.working_tree_dir)
        raise RepositoryError(
            f"The repository at {repo.working_tree_dir} has no commits yet: "
            "commit the files to migrate first."
        )
    return repo


def _refuse_dubious(path: str | os.PathLike[str]) -> None:
    """Git refuses a repository owned by another user ("dubious ownership", CVE-2022-24765); say
    so, rather than taking its silence for a repository without commits."""
    import subprocess

    proc = subprocess.run(["git", "rev-parse", "--verify", "-q", "HEAD"], cwd=path, capture_output=True,
                          text=True, errors="replace", check=False)
    if "dubious ownership" in proc.stderr:
        raise dubious_ownership(str(path))


def head_sha(repo: git.Repo) -> str:
    return repo.head.commit.hexsha


def state_dir(repo: git.Repo, recipe: str) -> Path:
    """`<git-common-dir>/migrator/<recipe>`: shared by the worktrees, like the branches it describes."""
    if not _RECIPE_NAME.match(recipe):
        raise RepositoryError(f"{recipe[:80]!r} is not a recipe name (a short identifier).")
    return Path(os.path.normpath(repo.common_dir)) / "migrator" / recipe


def reviewer_identity(repo: git.Repo) -> Identity:
    """The reviewer as git would name the author here (environment, then config); else the login."""
    import git

    try:
        out = repo.git.var("GIT_AUTHOR_IDENT")
    except git.GitCommandError:
        out = ""
    m = _IDENT.match(out.strip())
    if m and m.group("name") and m.group("email"):
        return Identity(m.group("name"), m.group("email"))
    name = os.environ.get("GIT_AUTHOR_NAME") or getpass.getuser()
    email = os.environ.get("GIT_AUTHOR_EMAIL") or f"{getpass.getuser()}@{socket.gethostname()}"
    return Identity(name, email)
