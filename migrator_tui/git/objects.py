"""Objects and refs at the lowest level: read and write blobs, trees and commits, edit trees.

Reads go through GitPython's object database (one long-lived `git cat-file --batch`); writes go
to the loose object store through gitdb, in process. Trees are edited by replacing entries of
the base tree and re-writing only the trees on the changed paths: no index, no working tree, no
HEAD is ever involved. Ref updates go through `git update-ref` (atomic, compare-and-swap, reflog).
"""

from __future__ import annotations

import io
import os
import subprocess
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from migrator_tui.errors import RepositoryError

if TYPE_CHECKING:
    import git

ZERO = "0" * 40
_READS = threading.Lock()
TREE_MODE = b"40000"
BLOB_MODES = (b"100644", b"100755")


@dataclass(frozen=True, slots=True)
class CommitData:
    sha: str
    tree: str
    parents: tuple[str, ...]
    message: str


def parse_tree(data: bytes) -> list[tuple[bytes, bytes, bytes]]:
    """Entries of a raw tree object: (mode, name, 20-byte sha), in stored order."""
    out: list[tuple[bytes, bytes, bytes]] = []
    i, n = 0, len(data)
    while i < n:
        sp = data.index(b" ", i)
        nul = data.index(b"\0", sp)
        out.append((data[i:sp], data[sp + 1 : nul], data[nul + 1 : nul + 21]))
        i = nul + 21
    return out


def serialize_tree(entries: list[tuple[bytes, bytes, bytes]]) -> bytes:
    return b"".join(mode + b" " + name + b"\0" + sha for mode, name, sha in entries)


class ObjectStore:
    """Read and write git objects of one repository."""

    def __init__(self, repo: git.Repo) -> None:
        from gitdb import LooseObjectDB

        self.repo = repo
        self._loose = LooseObjectDB(os.path.join(repo.common_dir, "objects"))
        self._trees: dict[str, bytes] = {}

    # -- reading ---------------------------------------------------------------------------

    def read(self, sha: str) -> tuple[bytes, bytes]:
        """(type, raw data) of an object.

        GitPython reads through one long-lived `git cat-file --batch` per repository; two threads
        (the TUI's workers) reading at once would interleave its answers, so reads take turns."""
        with _READS:
            stream = self.repo.odb.stream(bytes.fromhex(sha))
            return stream.type, stream.read()

    def tree(self, sha: str) -> bytes:
        data = self._trees.get(sha)
        if data is None:
            kind, data = self.read(sha)
            if kind != b"tree":
                raise RepositoryError(f"Object {sha} is a {kind.decode()}, not a tree.")
            self._trees[sha] = data
        return data

    def commit(self, sha: str) -> CommitData:
        kind, data = self.read(sha)
        if kind != b"commit":
            raise RepositoryError(f"Object {sha} is a {kind.decode()}, not a commit.")
        head, _, body = data.partition(b"\n\n")
        tree = ""
        parents: list[str] = []
        for line in head.split(b"\n"):
            if line.startswith(b"tree "):
                tree = line[5:].decode()
            elif line.startswith(b"parent "):
                parents.append(line[7:].decode())
        return CommitData(sha, tree, tuple(parents), body.decode("utf-8", "replace"))

    def lookup(self, tree_sha: str, path: str) -> tuple[bytes, str] | None:
        """(mode, sha) of `path` in a tree, or None when it is not there."""
        parts = path.encode("utf-8", "surrogateescape").split(b"/")
        current = tree_sha
        for k, name in enumerate(parts):
            for mode, ename, sha in parse_tree(self.tree(current)):
                if ename == name:
                    if k == len(parts) - 1:
                        return mode, sha.hex()
                    if mode != TREE_MODE:
                        return None
                    current = sha.hex()
                    break
            else:
                return None
        return None

    def blob(self, sha: str) -> bytes:
        kind, data = self.read(sha)
        if kind != b"blob":
            raise RepositoryError(f"Object {sha} is a {kind.decode()}, not a blob.")
        return data

    # -- writing ---------------------------------------------------------------------------

    def write(self, kind: bytes, data: bytes) -> str:
        from gitdb.base import IStream

        istream = self._loose.store(IStream(kind, len(data), io.BytesIO(data)))
        return istream.hexsha.decode() if isinstance(istream.hexsha, bytes) else istream.hexsha

    def replace_blobs(self, tree_sha: str, changes: Mapping[str, tuple[bytes, str]]) -> str:
        """A new tree: `tree_sha` with each existing file `path` replaced by (mode, blob sha)."""
        nested: dict[bytes, dict[bytes, tuple[bytes, str]]] = {}
        for path, value in changes.items():
            raw = path.encode("utf-8", "surrogateescape")
            head, sep, rest = raw.partition(b"/")
            nested.setdefault(head, {})[rest if sep else b""] = value
        return self._replace(tree_sha, nested)

    def _replace(self, tree_sha: str, nested: dict[bytes, dict[bytes, tuple[bytes, str]]]) -> str:
        entries = parse_tree(self.tree(tree_sha))
        seen: set[bytes] = set()
        for i, (mode, name, sha) in enumerate(entries):
            sub = nested.get(name)
            if sub is None:
                continue
            seen.add(name)
            if b"" in sub:  # this entry is a replaced file
                new_mode, blob = sub[b""]
                if mode not in BLOB_MODES or new_mode not in BLOB_MODES:
                    what = name.decode("utf-8", "replace")
                    raise RepositoryError(f"{what} is not a regular file in the tree.")
                entries[i] = (new_mode, name, bytes.fromhex(blob))
            else:
                if mode != TREE_MODE:
                    what = name.decode("utf-8", "replace")
                    raise RepositoryError(f"{what} is not a directory in the tree.")
                deeper: dict[bytes, dict[bytes, tuple[bytes, str]]] = {}
                for rest, value in sub.items():
                    head, sep, tail = rest.partition(b"/")
                    deeper.setdefault(head, {})[tail if sep else b""] = value
                entries[i] = (mode, name, bytes.fromhex(self._replace(sha.hex(), deeper)))
        missing = set(nested) - seen
        if missing:
            raise RepositoryError(f"{sorted(missing)[0].decode('utf-8', 'replace')} is not in the tree.")
        data = serialize_tree(entries)
        sha = self.write(b"tree", data)
        self._trees[sha] = data
        return sha

    def write_commit(
        self, tree: str, parents: tuple[str, ...], message: str, author: str, committer: str | None = None
    ) -> str:
        """Write a commit; `author`/`committer` are `Name <email>` (the time is now)."""
        stamp = timestamp()
        lines = [f"tree {tree}"] + [f"parent {p}" for p in parents]
        lines += [f"author {author} {stamp}", f"committer {committer or author} {stamp}"]
        data = ("\n".join(lines) + "\n\n" + message).encode("utf-8")
        return self.write(b"commit", data)


def timestamp() -> str:
    now = time.time()
    offset = time.localtime(now).tm_gmtoff // 60
    sign = "+" if offset >= 0 else "-"
    return f"{int(now)} {sign}{abs(offset) // 60:02d}{abs(offset) % 60:02d}"


# --- refs ------------------------------------------------------------------------------------


def list_refs(repo: git.Repo, pattern: str) -> dict[str, str]:
    """refname -> sha of every ref under `pattern` (e.g. `refs/heads/migrate/x/`)."""
    out = repo.git.for_each_ref("--format=%(objectname) %(refname)", pattern)
    refs: dict[str, str] = {}
    for line in out.splitlines():
        sha, _, name = line.partition(" ")
        refs[name] = sha
    return refs


def ref_tip(repo: git.Repo, ref: str) -> str | None:
    """The sha a full ref name points at, or None."""
    return list_refs(repo, ref).get(ref)


def prefix_conflict(repo: git.Repo, prefix: str) -> str | None:
    """An existing branch that makes `<prefix>/<leaf>` impossible (`main` for prefix `main`,
    `migrate` for `migrate/x`): a ref cannot be both a branch and a folder of branches."""
    parts = prefix.split("/")
    names = ["refs/heads/" + "/".join(parts[: k + 1]) for k in range(len(parts))]
    out = repo.git.for_each_ref("--format=%(refname)", "--", *names)
    existing = set(out.splitlines())
    return next((n[len("refs/heads/") :] for n in names if n in existing), None)


def run_git(repo: git.Repo, args: list[str], stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    """Run `git <args>` in the repository, feeding `stdin`; the result is returned, not checked."""
    cwd = repo.working_tree_dir or repo.git_dir
    env = {**os.environ, "GIT_DIR": str(repo.git_dir)}
    return subprocess.run(["git", *args], input=stdin, cwd=cwd, env=env, capture_output=True, check=False)


def git_error(proc: subprocess.CompletedProcess[bytes]) -> str:
    """The last line git wrote to stderr, for a one-sentence error."""
    lines = [ln.strip() for ln in proc.stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    if not lines:
        return "no reason given"
    return lines[-1].removeprefix("fatal: ").removeprefix("error: ").rstrip(".")


_HEX = frozenset("0123456789abcdef")


def _check_ref(ref: str) -> None:
    from migrator_tui.git.refnames import ref_format_error

    why = ref_format_error(ref) if ref.startswith("refs/") else "it is not under refs/"
    if why is not None:
        raise RepositoryError(f"Branches were not updated: {ref!r} is not a valid ref name ({why}).")


def _check_oid(oid: str) -> None:
    if len(oid) not in (40, 64) or not set(oid) <= _HEX:
        raise RepositoryError(f"Branches were not updated: {oid!r} is not an object id.")


def update_refs(repo: git.Repo, updates: list[tuple[str, str, str | None]], message: str) -> None:
    """Update refs in one transaction: (ref, new or ZERO to delete, expected old or None = absent).

    Every ref name is checked against git's rules and every object id is checked to be hex before
    anything is sent, and the NUL-terminated protocol (`--stdin -z`) is used, so no name can
    smuggle in a command. Each ref's reflog is written (created if needed). Nothing changes if any
    expectation fails.
    """
    if not updates:
        return
    cmds = [b"start"]
    for ref, new, old in updates:
        _check_ref(ref)
        expect = old or ZERO
        _check_oid(new)
        _check_oid(expect)
        if new == ZERO:
            cmds.append(b"delete " + ref.encode() + b"\0" + expect.encode())
        else:
            cmds.append(b"update " + ref.encode() + b"\0" + new.encode() + b"\0" + expect.encode())
    cmds += [b"prepare", b"commit"]
    if "\0" in message or "\n" in message:
        message = " ".join(message.replace("\0", " ").split())
    args = ["update-ref", "--create-reflog", "-m", message, "--stdin", "-z"]
    proc = run_git(repo, args, b"".join(c + b"\0" for c in cmds))
    if proc.returncode != 0:
        raise RepositoryError(f"Branches were not updated: {git_error(proc)}.")
