"""Where a kept scan lives (`<git-common-dir>/migrator/cache/`) and what it is keyed by.

Light on purpose (a few modules of the standard library: no `pathlib`, no `subprocess`): a scan
whose result is kept computes its key and prints the kept output without loading the analysis.

The key of a scan is the digest of everything its result depends on: every file git tracks
(its blob id, or the content of a file changed since the index) and every untracked file git
does not ignore, the commit checked out, and the static part — the recipe, the interpreter, which
of the modules the recipe's strategies import it can import, this package's own source, and the
scanned folder.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from collections.abc import Iterable, Sequence

#: `typing.TYPE_CHECKING` without importing `typing` (a kept scan is printed without it)
TYPE_CHECKING = False

if TYPE_CHECKING:
    from pathlib import Path

    from migrator_tui.recipe import Recipe

    #: A folder given as a path or its text (a kept scan's key is computed on text alone)
    Folder = str | os.PathLike[str]

_CODE_DIGEST: str | None = None


def git(root: Folder, *args: str) -> bytes | None:
    """The output of `git ARGS` run in `root`, or None when it fails."""
    (out,) = git_all(root, [args])
    return out


def git_all(root: Folder, commands: Iterable[Sequence[str]]) -> list[bytes | None]:
    """The outputs of several `git` commands run side by side in `root` (None for one that fails).

    Spawned with `os.posix_spawnp` where there is one (`subprocess`, with what it imports, is a
    tenth of a kept scan's run); each output is read to its end in turn, so no child waits on a
    full pipe that nobody reads for long."""
    if not hasattr(os, "posix_spawnp"):
        return _git_all_subprocess(root, commands)
    cwd = os.fspath(root)
    children: list[tuple[int, int] | None] = []
    for args in commands:
        read, write = os.pipe()
        actions = [(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                   (os.POSIX_SPAWN_DUP2, write, 1),
                   (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)]
        try:
            pid = os.posix_spawnp("git", ["git", "-C", cwd, *args], os.environ, file_actions=actions)
        except OSError:
            pid = None
        os.close(write)
        if pid is None:
            os.close(read)
        children.append(None if pid is None else (pid, read))
    outs: list[bytes | None] = []
    for child in children:
        if child is None:
            outs.append(None)
            continue
        pid, read = child
        chunks = []
        try:
            while chunk := os.read(read, 1 << 16):
                chunks.append(chunk)
        finally:
            os.close(read)
            _, status = os.waitpid(pid, 0)
        outs.append(b"".join(chunks) if os.waitstatus_to_exitcode(status) == 0 else None)
    return outs


def _git_all_subprocess(root: Folder, commands: Iterable[Sequence[str]]) -> list[bytes | None]:
    import subprocess

    procs: list[subprocess.Popen[bytes] | None] = []
    for args in commands:
        try:
            procs.append(subprocess.Popen(["git", *args], cwd=root, stdin=subprocess.DEVNULL,
                                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL))
        except OSError:
            procs.append(None)
    outs: list[bytes | None] = []
    for proc in procs:
        if proc is None:
            outs.append(None)
            continue
        out, _ = proc.communicate()
        outs.append(out if proc.returncode == 0 else None)
    return outs


def git_common_dir(root: Path) -> Path | None:
    """The repository's common git folder, as a path from `root` (or absolute), or None."""
    out = git(root, "rev-parse", "--git-common-dir")
    return root / os.fsdecode(out.rstrip(b"\n")) if out else None


def cache_file(root: Path, recipe: Recipe, kind: str = "summaries", suffix: str = "json") -> Path | None:
    """The file a kept `kind` of this recipe's scan of `root` lives in, or None outside git."""
    common = git_common_dir(root)
    if common is None:
        return None
    # one file per recipe and scanned folder (a scan of a subfolder keeps its own)
    where = f"{recipe.name}\0{root.resolve()}"
    name = hashlib.sha1(where.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return common / "migrator" / "cache" / f"{kind}-{name}.{suffix}"


def repository_key(root: Path, static: str, state: str | None = None) -> str | None:
    """The digest of everything a scan and its summaries depend on (the repository's files as
    git sees them, and the `static` key), or None when it cannot be told. `state`: the
    repository's `repository_state`, when the caller just computed it."""
    state = repository_state(root) if state is None else state
    if state is None:
        return None
    return hashlib.sha256(f"{state}\0{static}".encode()).hexdigest()


#: The git commands whose outputs a repository's state is the digest of.
_STATE = [("rev-parse", "-q", "--verify", "HEAD"), ("ls-files", "-s", "-z"),
          ("diff-files", "--name-only", "-z"), ("ls-files", "-o", "--exclude-standard", "-z")]


def repository_state(root: Path) -> str | None:
    """The digest of the repository's files as git sees them (every tracked file's blob id,
    the content of the changed and untracked ones, the commit checked out), or None."""
    return _state(root, git_all(root, _STATE))


def located_state(root: Folder) -> tuple[str | None, str | None]:
    """`git_common_dir` (as text) and `repository_state` of `root`, their git commands run side
    by side."""
    common, *outs = git_all(root, [("rev-parse", "--git-common-dir"), *_STATE])
    where = os.path.join(root, os.fsdecode(common.rstrip(b"\n"))) if common else None
    return where, _state(root, outs)


def _state(root: Folder, outs: list[bytes | None]) -> str | None:
    head, tracked, changed, others = outs
    if tracked is None or changed is None or others is None:
        return None
    h = hashlib.sha256()
    h.update(head or b"no commit")
    h.update(tracked)
    for rel in sorted({p for p in changed.split(b"\0") if p} | {p for p in others.split(b"\0") if p}):
        h.update(b"\0" + rel + b"\0" + _content_digest(os.path.join(root, os.fsdecode(rel))))
    return h.hexdigest()


def static_key(root: Path, recipe: Recipe) -> str:
    """The digest of what a kept file's summaries depend on beyond the repository's files."""
    h = hashlib.sha256()
    h.update(repr(recipe).encode("utf-8", "surrogateescape"))
    h.update(sys.version.encode())
    h.update(repr(_importable(recipe)).encode())
    h.update(code_digest().encode())
    # the folder itself, not the name it was given: `scan .` in two alike folders of one
    # repository lists the same files, with the same ids, under the same relative names
    h.update(str(root.resolve()).encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def _content_digest(path: str) -> bytes:
    """A changed or untracked file's content (or what stands there instead)."""
    try:
        if os.path.islink(path) or not os.path.isfile(path):
            return b"-" + os.fsencode(os.readlink(path)) if os.path.islink(path) else b"-"
        with open(path, "rb") as fh:
            return hashlib.sha1(fh.read()).digest()
    except OSError:
        return b"?"


def _importable(recipe: Recipe) -> list[tuple[str, bool]]:
    """Whether this interpreter can import each module the recipe's strategies import."""
    return importable(s.imported_modules() for s in recipe.strategies.values())


def importable(modules: Iterable[Iterable[str]]) -> list[tuple[str, bool]]:
    """Whether this interpreter can import each of the (top-level) modules, sorted."""
    import importlib.util

    out = []
    for module in sorted({m for group in modules for m in group}):
        try:
            out.append((module, importlib.util.find_spec(module) is not None))
        except (ImportError, ValueError):
            out.append((module, False))
    return out


#: A source file changed this recently (seconds) may change again within its timestamp's
#: granularity without its status showing it: the tool's digest then reads every file.
RACY_SECONDS = 2.0


def code_digest() -> str:
    """The digest of this package's own source: another build of the tool analyses again."""
    global _CODE_DIGEST
    if _CODE_DIGEST is None:
        package = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
        _CODE_DIGEST = source_digest(package, time.time())
    return _CODE_DIGEST


def source_digest(package: Folder, now: float) -> str:
    """The digest of the `.py` and `.toml` files under `package` (its `demo` folder aside).

    Each file is known by its status (size, inode, modification and change times: any write
    changes the change time, which no tool sets back), and read only while some file was changed
    less than `RACY_SECONDS` before `now`, as git does with the files it indexed that recently."""
    package = os.fspath(package)
    files = []
    for folder, dirs, names in os.walk(package):
        if folder == package:
            dirs[:] = [d for d in dirs if d != "demo"]
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        files += [os.path.join(folder, n) for n in sorted(names) if n.endswith((".py", ".toml"))]
    stats = [os.stat(f) for f in files]
    racy = any(now - max(st.st_mtime, st.st_ctime) < RACY_SECONDS for st in stats)
    h = hashlib.sha256()
    for path, st in zip(files, stats, strict=True):
        h.update(os.path.relpath(path, package).encode("utf-8", "surrogateescape") + b"\0")
        if racy:
            with open(path, "rb") as fh:
                h.update(hashlib.sha256(fh.read()).digest())
        else:
            h.update(f"{st.st_size} {st.st_ino} {st.st_mtime_ns} {st.st_ctime_ns}\0".encode())
    return ("read:" if racy else "status:") + h.hexdigest()
