"""Per-file migration branches: commit, list, roll back, integrate — never touching the checkout.

Each migrated file gets one commit whose parent is the review's base commit, on the branch
`<prefix>/<escaped path>` (see `refnames`). The commit is built from objects: the base tree with
that one path's blob replaced. The user's index, working tree, HEAD and stash are never read or
written (except by `integrate_into`, which a user asks for on a clean checkout).

Committing many files at once drives one `git fast-import` for all the objects, then moves every
branch in a single `git update-ref --stdin` transaction: after a crash at any moment each branch is
either absent (or at its old tip) or complete.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from migrator_tui.errors import MigratorError, RepositoryError, printable
from migrator_tui.git import commitmsg, refnames
from migrator_tui.git.objects import (
    ZERO,
    CommitData,
    ObjectStore,
    git_error,
    list_refs,
    ref_tip,
    run_git,
    timestamp,
    update_refs,
)

if TYPE_CHECKING:
    import git

#: From this many files on, `commit_files` uses the fast-import batch path.
BATCH_MIN_FILES = 8
INTEGRATION_LEAF = "all"


class CommitError(MigratorError):
    """A file cannot be committed (changed since the scan, output does not compile, ...)."""


class BranchTakenError(RepositoryError):
    """A branch exists at one of our names but was not made by this review."""


Content = bytes | Callable[[bytes], bytes]


@dataclass(frozen=True, slots=True)
class FileChange:
    """What to commit for one file: new bytes, or a function of the base bytes."""

    path: str
    content: Content
    message: str
    #: The blob sha the scan saw; the base blob must be this one (None: do not check).
    expected_blob: str | None = None


@dataclass(frozen=True, slots=True)
class Committed:
    path: str
    branch: str
    sha: str
    #: The previous tip the branch replaced (None when it was created).
    old: str | None
    blob: str
    #: False when the branch already held exactly this change (same tree, parent and message):
    #: it was left where it was, so its `verify` result still applies.
    changed: bool = True


@dataclass(slots=True)
class BatchResult:
    committed: list[Committed] = field(default_factory=list)
    failed: dict[str, MigratorError] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BranchInfo:
    """One of our per-file branches as the repository holds it."""

    path: str
    branch: str
    tip: str
    base: str | None
    ours: bool
    #: The file's change is in the integration branch or the current HEAD.
    integrated: bool
    in_head: bool
    #: Reasons it no longer applies cleanly ("base moved", "file changed"); empty when fresh.
    stale: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RollbackResult:
    path: str
    branch: str
    #: The deleted tip: `git branch <branch> <sha>` restores it.
    sha: str
    #: The revert commit on the integration branch, when the change was integrated.
    revert: str | None = None
    #: The change is also in the current HEAD (integrated with `--into`): revert it there by hand.
    in_head: bool = False
    #: The commit the branch was built on (the file's content before its migration).
    base: str = ""


@dataclass(frozen=True, slots=True)
class IntegrateResult:
    branch: str
    sha: str | None
    files: tuple[str, ...]
    skipped: dict[str, str] = field(default_factory=dict)
    changed: bool = True


@dataclass(slots=True)
class _Prepared:
    path: str
    branch: str
    mode: bytes
    data: bytes
    message: str
    old: str | None


def _short(sha: str | None) -> str:
    return (sha or "")[:12]


class GitFlow:
    """Per-file branches of one review: `base`, `recipe` and the branch `prefix` are fixed."""

    def __init__(
        self,
        repo: git.Repo,
        *,
        recipe: str,
        base: str,
        prefix: str | None = None,
        author: str = "",
    ) -> None:
        self.repo = repo
        self.recipe = recipe
        self.base = base
        self.prefix = (prefix or refnames.default_prefix(recipe)).rstrip("/")
        self.author = author
        why = refnames.prefix_error(self.prefix)
        if why is not None:
            raise RepositoryError(f"The branch prefix {self.prefix!r} cannot be used: {why}.")
        self.store = ObjectStore(repo)
        self._base_tree = self._base_commit(base).tree

    def _base_commit(self, base: str) -> CommitData:
        try:
            if len(base) not in (40, 64) or base.strip("0123456789abcdef"):
                raise ValueError(base)
            return self.store.commit(base)
        except (ValueError, RepositoryError):
            raise RepositoryError(
                f"The review's base commit {base[:40]!r} is not a commit of this repository (it was "
                "amended away and garbage-collected, or state.json was edited); run `migrator-tui "
                "apply --rescan` to start again from HEAD, keeping the decisions whose code is unchanged."
            ) from None

    # -- names -----------------------------------------------------------------------------

    @property
    def integration_branch(self) -> str:
        return f"{self.prefix}/{INTEGRATION_LEAF}"

    def branch_for(self, path: str) -> str:
        try:
            return refnames.branch_for(self.prefix, path)
        except ValueError as exc:
            raise CommitError(f"{path} cannot be given a branch: {exc}.") from None

    def path_for(self, branch: str) -> str | None:
        return refnames.path_for(self.prefix, branch)

    def _ref(self, branch: str) -> str:
        return f"refs/heads/{branch}"

    # -- checks ----------------------------------------------------------------------------

    def base_entry(self, path: str) -> tuple[bytes, str]:
        """(mode, blob sha) of `path` in the base commit; CommitError when it is gone."""
        entry = self.store.lookup(self._base_tree, path)
        if entry is None:
            raise CommitError(
                f"{path} is not in the base commit {_short(self.base)}: it was deleted or renamed since "
                "the scan, or is not committed yet (commit it, then re-scan)."
            )
        mode, sha = entry
        if mode not in (b"100644", b"100755"):
            raise CommitError(f"{path} is not a regular file in the base commit (mode {mode.decode()}).")
        return mode, sha

    def is_ours(self, commit: CommitData, kind: str | None = None) -> bool:
        """Made by a review of this recipe: our trailers, and a single parent equal to its base."""
        t = commitmsg.parse_trailers(commit.message)
        if t.get(commitmsg.TRAILER_RECIPE) != [self.recipe]:
            return False
        bases = t.get(commitmsg.TRAILER_BASE, [])
        if kind is not None:
            return t.get(commitmsg.TRAILER_KIND) == [kind] and len(bases) == 1
        return len(bases) == 1 and commit.parents == (bases[0],) and commitmsg.TRAILER_KIND not in t

    def _check_ours(self, branch: str, tip: str, kind: str | None = None) -> None:
        if not self.is_ours(self.store.commit(tip), kind):
            raise BranchTakenError(
                f"Branch {branch} already exists and was not made by migrator-tui for recipe {self.recipe} "
                f"(tip {_short(tip)}); rename or delete it, or choose another prefix."
            )

    def _cleans_to(self, path: str, scanned: str, base_blob: str) -> bool:
        """Whether the working-tree file is still the one scanned and git sees no change in it.

        The scan hashes the bytes on disk; with `eol=crlf` in `.gitattributes`, `core.autocrlf`
        or a clean filter those differ from the committed blob although the file is clean. Git
        itself decides: `git hash-object --path` runs the same conversion `git add` would.
        """
        import hashlib

        try:
            with open(os.path.join(self.repo.working_tree_dir or ".", path), "rb") as fh:
                data = fh.read()
        except OSError:
            return False
        if hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest() != scanned:
            return False
        proc = run_git(self.repo, ["hash-object", f"--path={path}", "--stdin"], data)
        return proc.returncode == 0 and proc.stdout.decode().strip() == base_blob

    def _prepare(self, change: FileChange, tips: dict[str, str]) -> _Prepared:
        path = change.path
        branch = self.branch_for(path)
        mode, base_blob = self.base_entry(path)
        if (change.expected_blob is not None and change.expected_blob != base_blob
                and not self._cleans_to(path, change.expected_blob, base_blob)):
            raise CommitError(
                f"{path} differs from the base commit {_short(self.base)} (changed since the scan, or "
                "uncommitted edits in the working tree); commit or stash them and re-scan."
            )
        content = change.content
        data = content(self.store.blob(base_blob)) if callable(content) else content
        if not isinstance(data, bytes):
            raise TypeError("new content must be bytes")
        try:
            compile(data, path, "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as exc:
            where = f" at line {exc.lineno}" if isinstance(exc, SyntaxError) and exc.lineno else ""
            raise CommitError(
                f"The migrated {path} does not compile{where}; nothing was committed."
            ) from None
        old = tips.get(self._ref(branch))
        if old is not None:
            self._check_ours(branch, old)
        return _Prepared(path, branch, mode, data, change.message, old)

    def _unchanged(self, p: _Prepared) -> Committed | None:
        """The branch's current tip when it already holds this very change (nothing to commit)."""
        import hashlib

        if p.old is None:
            return None
        blob = hashlib.sha1(b"blob %d\0" % len(p.data) + p.data).hexdigest()
        tip = self.store.commit(p.old)
        if tip.parents != (self.base,) or tip.message != p.message:
            return None
        if self.store.lookup(tip.tree, p.path) != (p.mode, blob):
            return None
        # One parent (the base) and that one blob replaced: the tree is the one we would write,
        # unless the tip also changed other files.
        if self.store.replace_blobs(self._base_tree, {p.path: (p.mode, blob)}) != tip.tree:
            return None
        return Committed(p.path, p.branch, p.old, p.old, blob, changed=False)

    # -- committing ------------------------------------------------------------------------

    def commit_file(self, change: FileChange) -> Committed:
        """Commit one file on its branch (creating it or replacing its tip)."""
        branch = self.branch_for(change.path)
        tips = {}
        tip = ref_tip(self.repo, self._ref(branch))
        if tip:
            tips[self._ref(branch)] = tip
        p = self._prepare(change, tips)
        same = self._unchanged(p)
        if same is not None:
            return same
        blob = self.store.write(b"blob", p.data)
        tree = self.store.replace_blobs(self._base_tree, {p.path: (p.mode, blob)})
        sha = self.store.write_commit(tree, (self.base,), p.message, self.author)
        verb = "replace" if p.old else "create"
        update_refs(self.repo, [(self._ref(p.branch), sha, p.old)], f"migrator-tui: {verb} {p.path}")
        return Committed(p.path, p.branch, sha, p.old, blob)

    def commit_files(self, changes: Sequence[FileChange], *, batch_min: int = BATCH_MIN_FILES) -> BatchResult:
        """Commit many files; each failure is reported per file, the others still commit."""
        result = BatchResult()
        if len(changes) < batch_min:
            for change in changes:
                try:
                    result.committed.append(self.commit_file(change))
                except MigratorError as exc:
                    result.failed[change.path] = exc
            return result
        tips = list_refs(self.repo, f"refs/heads/{self.prefix}/")
        prepared: list[_Prepared] = []
        for change in changes:
            try:
                p = self._prepare(change, tips)
                same = self._unchanged(p)
            except MigratorError as exc:
                result.failed[change.path] = exc
                continue
            if same is not None:
                result.committed.append(same)
            else:
                prepared.append(p)
        if prepared:
            result.committed += self._fast_import(prepared)
        return result

    def _fast_import(self, prepared: list[_Prepared]) -> list[Committed]:
        """Write all commits with one `git fast-import`, then move every branch in one transaction."""
        import hashlib

        scratch = f"refs/migrator-tmp/{os.getpid()}"
        author = f"{self.author} {timestamp()}"
        chunks: list[bytes] = [b"feature done\n"]
        for i, p in enumerate(prepared):
            chunks.append(b"blob\nmark :%d\ndata %d\n" % (2 * i + 1, len(p.data)))
            chunks.append(p.data)
            msg = p.message.encode("utf-8")
            chunks.append(
                b"\ncommit %s\nmark :%d\nauthor %s\ncommitter %s\ndata %d\n"
                % (scratch.encode(), 2 * i + 2, author.encode(), author.encode(), len(msg))
            )
            chunks.append(msg)
            chunks.append(
                b"\nfrom %s\nM %s :%d %s\n\n" % (self.base.encode(), p.mode, 2 * i + 1, _quote_path(p.path))
            )
        chunks.append(b"reset %s\n\ndone\n" % scratch.encode())
        fd, marks = tempfile.mkstemp(prefix="migrator-marks-")
        os.close(fd)
        try:
            proc = run_git(
                self.repo,
                ["fast-import", "--quiet", "--date-format=raw", f"--export-marks={marks}"],
                b"".join(chunks),
            )
            if proc.returncode != 0:
                raise RepositoryError(f"git fast-import failed: {git_error(proc)}.")
            shas: dict[int, str] = {}
            for line in Path(marks).read_text().splitlines():
                mark, _, sha = line.partition(" ")
                shas[int(mark[1:])] = sha
        finally:
            Path(marks).unlink(missing_ok=True)
        committed = []
        updates: list[tuple[str, str, str | None]] = []
        for i, p in enumerate(prepared):
            sha = shas[2 * i + 2]
            blob = hashlib.sha1(b"blob %d\0" % len(p.data) + p.data).hexdigest()
            committed.append(Committed(p.path, p.branch, sha, p.old, blob))
            updates.append((self._ref(p.branch), sha, p.old))
        update_refs(self.repo, updates, f"migrator-tui: migrate {len(prepared)} files")
        return committed

    def clear_stale_ref_locks(self, *, age: float = 5.0) -> list[str]:
        """Remove the `.lock` files a killed ref update left under our prefix; returns their refs.

        Only reviews of this recipe write there, and the caller holds the review lock, so a lock
        file is a leftover once it is `age` seconds old (an orphaned `git update-ref` of a killed
        review finishes well within that); younger ones are waited for.
        """
        import time

        folder = Path(self.repo.common_dir) / "refs" / "heads" / self.prefix
        removed: list[str] = []
        deadline = time.monotonic() + age + 1.0
        while True:
            locks = list(folder.glob("*.lock")) if folder.is_dir() else []
            if not locks:
                return removed
            now = time.time()
            young = False
            for lock in locks:
                try:
                    if now - lock.stat().st_mtime >= age or time.monotonic() > deadline:
                        lock.unlink()
                        removed.append(f"{self.prefix}/{lock.name.removesuffix('.lock')}")
                    else:
                        young = True
                except FileNotFoundError:
                    continue
            if not young:
                return removed
            time.sleep(0.1)

    # -- reading branches --------------------------------------------------------------------

    def tips(self) -> dict[str, str]:
        """path -> tip of every per-file branch under the prefix (not the integration branch)."""
        out: dict[str, str] = {}
        for ref, sha in list_refs(self.repo, f"refs/heads/{self.prefix}/").items():
            path = self.path_for(ref)
            if path is not None:
                out[path] = sha
        return out

    def tips_of(self, branches: Iterable[str]) -> dict[str, str]:
        """branch -> tip for those of `branches` that exist."""
        out = {}
        for branch in branches:
            tip = ref_tip(self.repo, self._ref(branch))
            if tip:
                out[branch] = tip
        return out

    def file_blob(self, commit: str, path: str) -> str | None:
        entry = self.store.lookup(self.store.commit(commit).tree, path)
        return entry[1] if entry else None

    def branches(self, head: str | None = None) -> list[BranchInfo]:
        """Every per-file branch: ours or not, integrated or not, stale or not."""
        head = head or self.repo.head.commit.hexsha
        head_tree = self.store.commit(head).tree
        all_tip = ref_tip(self.repo, self._ref(self.integration_branch))
        all_tree = self.store.commit(all_tip).tree if all_tip else None
        out = []
        for path, tip in sorted(self.tips().items()):
            commit = self.store.commit(tip)
            ours = self.is_ours(commit)
            parent = commit.parents[0] if commit.parents else None
            mine = self.store.lookup(commit.tree, path)
            base_entry = self.store.lookup(self.store.commit(parent).tree, path) if parent else None
            head_entry = self.store.lookup(head_tree, path)
            changed = mine is not None and mine != base_entry
            in_all = bool(changed and all_tree and self.store.lookup(all_tree, path) == mine)
            in_head = bool(mine and head_entry == mine and mine != base_entry)
            stale: list[str] = []
            if parent != self.base:
                stale.append("base moved")
            if not in_head and head_entry != base_entry:
                stale.append("file changed")
            out.append(BranchInfo(path, self.branch_for(path), tip, parent, ours, in_all or in_head, in_head,
                                  tuple(stale)))
        return out

    # -- rollback ----------------------------------------------------------------------------

    def resolve(self, target: str) -> tuple[str, str]:
        """(path, branch) for a file path or one of our branch names."""
        name = target.removeprefix("refs/heads/")
        path = self.path_for(name)
        if path is not None:
            return path, name
        if name == self.integration_branch:
            raise CommitError(f"{name} is the integration branch; roll back the files in it one by one.")
        return target, self.branch_for(target)

    def delete_branch(self, path: str) -> str | None:
        """Delete a file's branch (ours only); returns the deleted tip, None if there was none."""
        branch = self.branch_for(path)
        tip = ref_tip(self.repo, self._ref(branch))
        if tip is None:
            return None
        self._check_ours(branch, tip)
        update_refs(self.repo, [(self._ref(branch), ZERO, tip)], f"migrator-tui: roll back {path}")
        return tip

    def rollback(self, target: str) -> RollbackResult:
        """Undo one file's migration: delete its branch, and revert it on the integration branch."""
        path, branch = self.resolve(target)
        tip = ref_tip(self.repo, self._ref(branch))
        if tip is None:
            raise CommitError(f"There is no migration branch for {path} ({branch}).")
        self._check_ours(branch, tip)
        commit = self.store.commit(tip)
        mine = self.store.lookup(commit.tree, path)
        base_entry = self.store.lookup(self.store.commit(commit.parents[0]).tree, path)
        head_entry = self.store.lookup(self.store.commit(self.repo.head.commit.hexsha).tree, path)
        in_head = bool(mine and head_entry == mine and mine != base_entry)
        all_ref = self._ref(self.integration_branch)
        all_tip = ref_tip(self.repo, all_ref)
        updates: list[tuple[str, str, str | None]] = []
        revert = None
        if all_tip and base_entry is not None:
            self._check_ours(self.integration_branch, all_tip, "integration")
            all_commit = self.store.commit(all_tip)
            if mine is not None and self.store.lookup(all_commit.tree, path) == mine and mine != base_entry:
                tree = self.store.replace_blobs(all_commit.tree, {path: base_entry})
                subject = commit_subject(commit.message)
                message = (
                    f"Roll back the migration of {printable(path)}\n\n"
                    f"This restores {printable(path)} as it is in the base "
                    f"commit {_short(commit.parents[0])}, reverting:\n\n    {subject}\n\n"
                    + "\n".join(commitmsg.trailers(recipe=self.recipe, base=self.base, kind="integration"))
                    + "\n"
                )
                revert = self.store.write_commit(tree, (all_tip,), message, self.author)
                updates.append((all_ref, revert, all_tip))
        updates.append((self._ref(branch), ZERO, tip))
        update_refs(self.repo, updates, f"migrator-tui: roll back {path}")
        return RollbackResult(path, branch, tip, revert, in_head, commit.parents[0])

    # -- integration -------------------------------------------------------------------------

    def integration_tree(
        self, onto_tree: str, paths: Iterable[str] | None = None
    ) -> tuple[str, list[str], dict[str, str]]:
        """`onto_tree` with every fresh per-file change applied: (tree, files, skipped reasons)."""
        changes: dict[str, tuple[bytes, str]] = {}
        skipped: dict[str, str] = {}
        wanted = set(paths) if paths is not None else None
        for path, tip in sorted(self.tips().items()):
            if wanted is not None and path not in wanted:
                continue
            commit = self.store.commit(tip)
            if not self.is_ours(commit):
                skipped[path] = "not made by migrator-tui"
                continue
            if commit.parents[0] != self.base:
                skipped[path] = f"based on {_short(commit.parents[0])}, not the review's base"
                continue
            entry = self.store.lookup(commit.tree, path)
            if entry is None:
                skipped[path] = "the branch does not hold the file"
                continue
            changes[path] = entry
        if not changes:
            return onto_tree, [], skipped
        return self.store.replace_blobs(onto_tree, changes), sorted(changes), skipped

    def _integration_message(self, files: Sequence[str], tips: dict[str, str], title: str) -> str:
        parts = [title, ""]
        for path in files:
            body = commitmsg.strip_trailers(self.store.commit(tips[path]).message)
            parts += ["    " + line if line else "" for line in body.split("\n")] + [""]
        parts += commitmsg.trailers(recipe=self.recipe, base=self.base, kind="integration")
        return "\n".join(parts) + "\n"

    def integrate(self, paths: Iterable[str] | None = None) -> IntegrateResult:
        """Create or update `<prefix>/all`: the base plus every per-file change, in one new commit.

        With `paths`, only those files' changes (the others are left at the base).
        """
        ref = self._ref(self.integration_branch)
        all_tip = ref_tip(self.repo, ref)
        parent = self.base
        if all_tip:
            self._check_ours(self.integration_branch, all_tip, "integration")
            all_commit = self.store.commit(all_tip)
            if commitmsg.parse_trailers(all_commit.message).get(commitmsg.TRAILER_BASE) == [self.base]:
                parent = all_tip
        tree, files, skipped = self.integration_tree(self._base_tree, paths)
        if all_tip and parent == all_tip and self.store.commit(all_tip).tree == tree:
            return IntegrateResult(self.integration_branch, all_tip, tuple(files), skipped, changed=False)
        if not files and not all_tip:
            return IntegrateResult(self.integration_branch, None, (), skipped, changed=False)
        tips = self.tips()
        n = len(files)
        title = f"Migrate {n} file{'s' if n != 1 else ''} ({self.recipe})"
        message = self._integration_message(files, tips, title)
        sha = self.store.write_commit(tree, (parent,), message, self.author)
        update_refs(self.repo, [(ref, sha, all_tip)], f"migrator-tui: integrate {n} files")
        return IntegrateResult(self.integration_branch, sha, tuple(files), skipped)

    def integrate_into(self, branch: str, paths: Iterable[str] | None = None) -> IntegrateResult:
        """Bring every per-file change (or those of `paths`) into the current branch `branch` (clean
        checkout only)."""
        try:
            current = self.repo.active_branch.name
        except TypeError:
            current = None
        if current != branch:
            where = f"the current branch is {current}" if current else "HEAD is detached"
            raise RepositoryError(
                f"--into {branch} needs {branch} checked out, but {where}; switch to it first, or "
                f"integrate into {self.integration_branch} (the default)."
            )
        dirty = self.repo.git.status("--porcelain", "--untracked-files=no", "-z").split("\0")
        dirty = [d[3:] for d in dirty if d]
        if dirty:
            shown = ", ".join(dirty[:10]) + (f" and {len(dirty) - 10} more" if len(dirty) > 10 else "")
            raise RepositoryError(
                f"The working tree has uncommitted changes ({shown}); commit or stash them before "
                f"integrating into {branch}."
            )
        head = self.repo.head.commit.hexsha
        head_tree = self.store.commit(head).tree
        tips = self.tips()
        for path in tips:
            if self.store.lookup(head_tree, path) != self.store.lookup(self._base_tree, path):
                raise RepositoryError(
                    f"{path} changed on {branch} since the review's base {_short(self.base)}; "
                    "re-scan (`apply --rescan`) and commit it again before integrating."
                )
        tree, files, skipped = self.integration_tree(head_tree, paths)
        if not files:
            return IntegrateResult(branch, head, (), skipped, changed=False)
        n = len(files)
        title = f"Migrate {n} file{'s' if n != 1 else ''} ({self.recipe})"
        message = self._integration_message(files, tips, title)
        sha = self.store.write_commit(tree, (head,), message, self.author)
        proc = run_git(self.repo, ["merge", "--ff-only", "--quiet", sha])
        if proc.returncode != 0:
            raise RepositoryError(f"git could not fast-forward {branch}: {git_error(proc)}.")
        return IntegrateResult(branch, sha, tuple(files), skipped)


def commit_subject(message: str) -> str:
    return message.split("\n", 1)[0]


def _quote_path(path: str) -> bytes:
    """A path in fast-import's C-style quoting (always quoted)."""
    out = bytearray(b'"')
    for b in path.encode("utf-8", "surrogateescape"):
        if b in (0x22, 0x5C):
            out += b"\\" + bytes([b])
        elif b < 0x20 or b >= 0x7F:
            out += b"\\%03o" % b
        else:
            out.append(b)
    out += b'"'
    return bytes(out)
