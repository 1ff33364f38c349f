"""Which files a scan reads, and how it reads them: git's file list, the tree walk, decoding.

Only the standard library, and only light modules, so `migrator-tui scan` starts fast.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
from pathlib import Path

from migrator_tui.errors import MigratorError, RepositoryError, dubious_ownership

#: Files larger than this are not read: they are listed as skipped (generated code, data dumps).
MAX_FILE_BYTES = 2 * 1024 * 1024

#: Directory names never entered when walking a folder that is not a git repository.
SKIP_DIRS = frozenset({"__pycache__", "venv", "env", "build", "dist", "node_modules", "site-packages"})


class Unreadable(Exception):
    """A file the scan cannot read; `str(exc)` is the reason in a few words."""


def _git(root: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        ["git", *args], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
    )


def list_python_files(root: Path) -> tuple[list[str], str | None]:
    """The `.py` files under `root` (POSIX paths relative to it) and the HEAD commit, if any.

    In a git work tree: tracked files plus untracked files that are not ignored, as git lists them.
    Elsewhere: a walk of the tree that skips hidden folders, virtual environments and build folders.
    """
    try:
        files = _git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "*.py")
        head = _git(root, "rev-parse", "-q", "--verify", "HEAD^{commit}")
    except FileNotFoundError:  # no git on this machine
        return walk_python_files(root), None
    out, err = files.communicate()
    head_out, _ = head.communicate()
    if files.returncode != 0:
        message = err.decode("utf-8", "replace").strip()
        if "not a git repository" in message:
            return walk_python_files(root), None
        dubious = re.search(r"dubious ownership in repository at '(.*)'", message)
        if dubious:
            raise dubious_ownership(dubious.group(1))
        first = message.splitlines()[0] if message else f"exit code {files.returncode}"
        raise RepositoryError(f"git cannot list the files of {root}: {first.removeprefix('fatal: ')}.")
    base = (head_out.decode().strip() or None) if head.returncode == 0 else None
    paths = out.decode("utf-8", "surrogateescape").split("\0")
    return list(dict.fromkeys(p for p in paths if p)), base


#: Why a submodule's files are not scanned from the repository that holds it.
SUBMODULE_REASON = "a git submodule: its files belong to another repository (scan it on its own)"


def list_submodules(root: Path) -> list[str]:
    """The submodules (gitlinks in the index) under `root`, relative to it; [] outside git."""
    try:
        proc = _git(root, "ls-files", "-z", "--stage")
    except FileNotFoundError:
        return []
    out, _ = proc.communicate()
    if proc.returncode != 0:
        return []
    subs = []
    for entry in out.decode("utf-8", "surrogateescape").split("\0"):
        meta, tab, path = entry.partition("\t")
        if tab and meta.startswith("160000 "):
            subs.append(path)
    return subs


def walk_python_files(root: Path) -> list[str]:
    """The `.py` files under a folder that is not a git repository, sorted."""
    out: list[str] = []
    top = str(root)
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(
            d for d in dirnames
            if not d.startswith(".") and d not in SKIP_DIRS
            and not os.path.exists(os.path.join(dirpath, d, "pyvenv.cfg"))
        )
        rel = os.path.relpath(dirpath, top)
        prefix = "" if rel == "." else rel.replace(os.sep, "/") + "/"
        out.extend(prefix + f for f in sorted(filenames) if f.endswith(".py"))
    return out


def check_root(root: Path) -> Path:
    """`root` if it is an existing directory, else a `MigratorError` naming it."""
    if not root.exists():
        raise MigratorError(f"{root} does not exist.")
    if not root.is_dir():
        raise MigratorError(f"{root} is not a directory.")
    return root


def linked_folder(root_real: str, path: str) -> str | None:
    """The first folder of `path` (relative to `root_real`) that is a symbolic link, or None.

    Every component is checked, not only the last: a file inside `pkg -> /elsewhere/pkg` is
    reached through the link, wherever the file itself seems to be.
    """
    parts = path.split("/")[:-1]
    current = root_real
    for k, part in enumerate(parts):
        current = os.path.join(current, part)
        try:
            if stat.S_ISLNK(os.lstat(current).st_mode):
                return "/".join(parts[: k + 1])
        except OSError:
            return None
    return None


def read_file(root_real: str, path: str, known: frozenset[str] | set[str]) -> bytes | None:
    """The bytes of `path` (relative to the repository whose real path is `root_real`).

    None when there is nothing to scan there (the file is gone, or it is a link to another listed
    file, which is scanned under its own name). Raises `Unreadable` with the reason otherwise.
    """
    full = os.path.join(root_real, path)
    link = linked_folder(root_real, path)
    if link is not None:
        raise Unreadable(f"inside {link}, a symbolic link to a folder (links are never followed)")
    try:
        st = os.lstat(full)
    except FileNotFoundError:  # tracked but deleted from the work tree
        return None
    except OSError as exc:
        raise Unreadable(f"cannot be read ({exc.strerror or exc.__class__.__name__})") from None
    if stat.S_ISLNK(st.st_mode):
        target = os.path.realpath(full)
        if os.path.commonpath([target, root_real]) != root_real:
            raise Unreadable("symbolic link leading outside the repository")
        if not os.path.exists(target):
            raise Unreadable("broken symbolic link")
        if os.path.relpath(target, root_real).replace(os.sep, "/") in known:
            return None
        st = os.stat(target)
    if not stat.S_ISREG(st.st_mode):
        return None
    if st.st_size > MAX_FILE_BYTES:
        raise Unreadable(f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MB ({st.st_size / 1048576:.1f} MB)")
    try:
        with open(full, "rb") as fh:
            return fh.read()
    except OSError as exc:
        raise Unreadable(f"cannot be read ({exc.strerror or exc.__class__.__name__})") from None


def decode_source(data: bytes) -> str:
    """Source text from bytes, as Python reads it (`sourcefile.decode`); `Unreadable` if it cannot."""
    from migrator_tui.sourcefile import UndecodableSource, decode

    try:
        return decode(data)[0]
    except UndecodableSource as exc:
        raise Unreadable(str(exc)) from None
