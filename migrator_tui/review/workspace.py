"""One review of one repository under one recipe: the lock, the state, the base, the branches.

This is what the TUI and the headless commands drive. Opening takes the review lock and loads (or
starts) the state; `load_scan` matches saved decisions to a scan; `decide` saves each decision at
once; `commit_file` turns a file's accepted decisions into one commit on its branch; `undo`
reverts the last decision and, when its file was committed, re-commits it (or removes its branch
when nothing stays accepted); `rollback` and `integrate` keep the state in step with the branches.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from migrator_tui.errors import MigratorError, StateError
from migrator_tui.git import commitmsg, refnames
from migrator_tui.git.flow import (
    BatchResult,
    BranchInfo,
    CommitError,
    Committed,
    FileChange,
    GitFlow,
    IntegrateResult,
    RollbackResult,
)
from migrator_tui.git.repo import head_sha, open_repo, reviewer_identity, state_dir
from migrator_tui.model import Occurrence, ScanResult
from migrator_tui.review.lock import ReviewLock
from migrator_tui.review.state import (
    STATE_FILE,
    CommitInfo,
    DecisionRecord,
    GroupDecision,
    HistoryEntry,
    ReviewState,
    choices_digest,
    fingerprint,
    remove_leftovers,
    utc_now,
)

if TYPE_CHECKING:
    import git

    from migrator_tui.recipe import Recipe
    from migrator_tui.rewrite.proposal import Choice


@dataclass(frozen=True, slots=True)
class UndoResult:
    """What `undo` reverted: the decision changes (one, or every one of a cluster decision, latest
    first), and what happened to the branches of the committed files they touched."""

    entries: tuple[HistoryEntry, ...]
    #: New commits of files that had been committed and still have accepted occurrences.
    commits: tuple[Committed, ...] = ()
    #: path -> deleted tip, for files whose branch was removed (nothing accepted any more).
    removed: Mapping[str, str | None] = field(default_factory=dict)
    #: path -> why its re-commit failed (its branch is left as it was).
    failed: Mapping[str, str] = field(default_factory=dict)

    @property
    def entry(self) -> HistoryEntry:
        """The first decision of what was undone (the only one, for a single decision)."""
        return self.entries[-1]

    @property
    def group(self) -> str:
        return self.entries[0].group

    @property
    def recommitted(self) -> Committed | None:
        return self.commits[0] if self.commits else None

    @property
    def removed_branch(self) -> str | None:
        return next(iter(self.removed.values()), None)


@dataclass(frozen=True, slots=True)
class FileRow:
    """One file of the review, for `branches` and the TUI's branches screen."""

    path: str
    branch: str
    tip: str | None
    accepted: int
    rejected: int
    pending: int
    stale_decisions: int
    integrated: bool
    #: Why the branch is stale ("base moved", "file changed", "stale decisions"); empty when fresh.
    stale: tuple[str, ...]
    ours: bool = True
    #: Decisions whose migration was rolled back (not applied until decided again).
    rolled_back: int = 0
    #: The branch does not hold the file's current accepted decisions.
    uncommitted: bool = False


def decode_python(data: bytes) -> tuple[str, str, bool]:
    """(text, encoding, had a UTF-8 BOM) of Python source bytes; line endings are kept as is."""
    from migrator_tui.sourcefile import UndecodableSource, decode

    try:
        text, encoding = decode(data)
    except UndecodableSource:
        raise CommitError("The file is neither UTF-8 nor in the encoding it declares.") from None
    if encoding == "utf-8-sig":
        return text, "utf-8", True
    return text, encoding, False


def encode_python(text: str, encoding: str, bom: bool) -> bytes:
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        raise CommitError(f"The rewritten text cannot be encoded as {encoding}.") from None
    return codecs.BOM_UTF8 + data if bom else data


def _check_new_prefix(repo: git.Repo, prefix: str) -> None:
    """Refuse, before a new review is saved, a branch prefix no branch could be made under."""
    from migrator_tui.errors import RepositoryError
    from migrator_tui.git.objects import prefix_conflict

    prefix = prefix.rstrip("/")
    why = refnames.prefix_error(prefix)
    if why is None:
        taken = prefix_conflict(repo, prefix)
        if taken is not None:
            why = f"branch {taken!r} exists, and a branch cannot also be a folder of branches"
    if why is not None:
        raise RepositoryError(f"The branch prefix {prefix!r} cannot be used: {why}.")


class Workspace:
    """A review in progress. Use `Workspace.open(...)`, and `close()` (or `with`) when done."""

    def __init__(self, repo: git.Repo, recipe: Recipe, state: ReviewState, lock: ReviewLock | None) -> None:
        self.repo = repo
        self.recipe = recipe
        self.state = state
        self.lock = lock
        self.root = Path(repo.working_tree_dir or ".")
        self.identity = reviewer_identity(repo)
        self.flow = GitFlow(repo, recipe=recipe.name, base=state.base, prefix=state.prefix,
                            author=str(self.identity))
        self.occurrences: dict[str, Occurrence] = {}
        self.sources: dict[str, str] = {}
        self.scan: ScanResult | None = None
        #: Files with uncommitted edits (the working tree differs from the base commit), as the
        #: last `scan_base` found them: they are reviewed and committed as the base holds them.
        self.dirty: frozenset[str] = frozenset()

    # -- opening and closing -------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        path: str | Path,
        recipe: Recipe,
        *,
        rescan: bool = False,
        prefix: str | None = None,
        lock: bool = True,
        check_head: bool = True,
    ) -> Workspace:
        """Open (or begin) the review of the repository holding `path`.

        Raises `StateError` when HEAD moved since the review began, unless `rescan` is set: then
        the base becomes the current HEAD, and `load_scan` keeps the decisions whose code matches.
        With `check_head=False` (rollback, integrate) the review keeps its base whatever HEAD is.
        """
        repo = open_repo(path)
        sdir = state_dir(repo, recipe.name)
        held = ReviewLock(sdir / "lock").acquire() if lock else None
        try:
            if held is not None:  # temporary state files of a killed review
                remove_leftovers(sdir)
            head = head_sha(repo)
            state = ReviewState.load(sdir / STATE_FILE)
            if state is None:
                _check_new_prefix(repo, prefix or refnames.default_prefix(recipe.name))
                state = ReviewState(path=sdir / STATE_FILE, recipe=recipe.name, base=head,
                                    prefix=prefix or refnames.default_prefix(recipe.name))
            if not lock:
                state.readonly = True
            elif not state.path.exists():
                state.save()
            elif state.base != head and (check_head or rescan):
                if not rescan:
                    raise StateError(
                        f"HEAD moved from {state.base[:12]} to {head[:12]} since the review began; "
                        "run again with --rescan to re-scan from the new HEAD and keep the decisions "
                        "whose code is unchanged."
                    )
                state.base = head
                state.save()
            ws = cls(repo, recipe, state, held)
            if held is not None:
                ws.flow.clear_stale_ref_locks()
                ws.reconcile_branches()
            return ws
        except BaseException:
            if held is not None:
                held.release()
            raise

    def reconcile_branches(self) -> list[str]:
        """Record the per-file branches of ours the state does not know at their tip; returns
        their paths.

        A kill between the ref transaction and the state save (or a state restored from a
        backup) leaves branches the state has no record of: `verify` would skip them and the
        review would show them uncommitted. A branch is taken back only when it is ours (our
        trailers, its base as its single parent); it is recorded with the file's accepted
        decisions, which were saved before the commit was made.
        """
        tips = self.flow.tips()
        records = {p: f.commit.sha for p, f in self.state.files.items() if f.commit is not None}
        unknown = [p for p, tip in tips.items() if records.get(p) != tip]
        fixed: list[str] = []
        if not unknown:
            return fixed
        from migrator_tui.git import commitmsg

        with self.state.batch():
            for path in unknown:
                commit = self.flow.store.commit(tips[path])
                if not self.flow.is_ours(commit):
                    continue
                base = commitmsg.parse_trailers(commit.message)[commitmsg.TRAILER_BASE][0]
                accepted = tuple(d.id for d in self.state.accepted(path))
                info = CommitInfo(branch=self.flow.branch_for(path), sha=tips[path], base=base,
                                  time=utc_now(), occurrences=accepted, total=len(self.state.for_path(path)))
                self.state.set_file(path, commit=info)
                fixed.append(path)
        return fixed

    def close(self) -> None:
        if self.lock is not None:
            self.lock.release()
            self.lock = None
        self.repo.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- scan ----------------------------------------------------------------------------------

    def dirty_paths(self) -> set[str]:
        """Tracked files whose working-tree content differs from the review's base commit."""
        import git as gitmod

        try:
            out = self.repo.git.diff("--name-only", "-z", "--no-renames", "--no-ext-diff", self.state.base,
                                     "--")
        except gitmod.GitCommandError as exc:
            raise MigratorError(f"git cannot compare the working tree with the base commit "
                                f"{self.state.base[:12]} ({exc.stderr.strip() or exc.status}).") from None
        return {p for p in out.split("\0") if p}

    def scan_base(self, progress: Callable[[int, int], None] | None = None) -> ScanResult:
        """Scan the repository for a review whose branches are built on the base commit.

        A file with uncommitted edits is scanned, shown and committed as the base commit holds it
        (its branch never carries working-tree text); `dirty` names those files. Loads the scan.
        """
        from migrator_tui.scan import scan
        from migrator_tui.scan.files import decode_source

        contents: dict[str, bytes] = {}
        for path in sorted(self.dirty_paths()):
            if not path.endswith(".py"):
                continue
            try:
                blob = self.flow.file_blob(self.state.base, path)
            except (KeyError, ValueError):
                blob = None
            if blob is not None:
                contents[path] = self.flow.store.blob(blob)
        result = scan(self.root, self.recipe, progress=progress, contents=contents)
        sources = {}
        for path, data in contents.items():
            try:
                sources[path] = decode_source(data)
            except (MigratorError, ValueError):
                continue
        self.dirty = frozenset(contents)
        self.load_scan(result, sources)
        return result

    def load_scan(self, result: ScanResult, sources: Mapping[str, str] | None = None) -> list[str]:
        """Take a scan of the working tree; mark stale the decisions whose code changed.

        `sources` are the scanned files' texts (read from the working tree when not given).
        Returns the ids of decisions that became stale.
        """
        from migrator_tui.rewrite.repo_index import forget_index
        from migrator_tui.scan.files import decode_source

        forget_index(self.root)  # the callers and models around may have changed with the files
        self.scan = result
        self.occurrences = {o.id: o for o in result.occurrences}
        self.sources = dict(sources or {})
        for path in result.by_path():
            if path not in self.sources:
                try:
                    self.sources[path] = decode_source((self.root / path).read_bytes())
                except (OSError, MigratorError, ValueError):
                    continue
        fps = {
            o.id: fingerprint(self.sources[o.path], o) for o in result.occurrences if o.path in self.sources
        }
        with self.state.batch():
            stale = self.state.reconcile(result.occurrences, fps)
            for path, blob in result.file_hashes.items():
                rec = self.state.files.get(path)
                if rec is None or rec.blob != blob:
                    self.state.set_file(path, blob=blob)
        return stale

    def occurrences_of(self, path: str) -> list[Occurrence]:
        return sorted((o for o in self.occurrences.values() if o.path == path), key=lambda o: (o.line, o.id))

    # -- decisions -----------------------------------------------------------------------------

    def decide(
        self,
        occ_id: str,
        decision: str,
        *,
        strategy: str | None = None,
        edited: str | None = None,
        note: str | None = None,
        warnings: Sequence[str] = (),
        group: str = "",
        sampled: bool = False,
    ) -> DecisionRecord:
        """Record a decision for an occurrence of the loaded scan (saved at once; `group`: the
        cluster decision it is part of, see `decide_group`)."""
        occ = self.occurrences.get(occ_id)
        if occ is None:
            raise StateError(f"{occ_id} is not an occurrence of the current scan.")
        source = self.sources.get(occ.path)
        if source is None:
            raise StateError(f"{occ.path} could not be read, so {occ_id} cannot be decided.")
        if decision == "accepted" and strategy is None:
            previous = self.state.decision(occ_id)
            strategy = previous.strategy if previous else None
        return self.state.decide(
            occ, decision, fingerprint=fingerprint(source, occ), reviewer=str(self.identity),
            strategy=strategy, edited=edited, note=note, warnings=warnings, group=group, sampled=sampled,
        )

    def decide_group(self, group: str, decisions: Sequence[GroupDecision]) -> list[DecisionRecord]:
        """Record several decisions as one (a cluster decision), saved once: one `undo` takes all
        of them back. Every occurrence is checked before anything is recorded."""
        for d in decisions:
            if d.occ_id not in self.occurrences:
                raise StateError(f"{d.occ_id} is not an occurrence of the current scan.")
            if self.occurrences[d.occ_id].path not in self.sources:
                raise StateError(f"{self.occurrences[d.occ_id].path} could not be read, so {d.occ_id} "
                                 "cannot be decided.")
        with self.state.batch():
            return [self.decide(d.occ_id, d.decision, strategy=d.strategy, warnings=d.warnings, group=group,
                                sampled=d.sampled) for d in decisions]

    def note(self, occ_id: str, text: str) -> DecisionRecord:
        """Set the reviewer note of an occurrence, keeping its decision."""
        current = self.state.decision(occ_id)
        if current is None:
            return self.decide(occ_id, "pending", note=text)
        return self.decide(occ_id, current.decision, strategy=current.strategy, edited=current.edited,
                           note=text, warnings=current.warnings)

    def undo(self) -> UndoResult | None:
        """Undo the last decision, or every decision of the last cluster decision; each committed
        file it touched is re-committed, or its branch removed when nothing stays accepted.

        A single decision's re-commit that fails raises (as before); in a cluster decision, the
        other files are still re-committed and the failures named in `failed`.
        """
        entries = self.state.undo()
        if not entries:
            return None
        paths = sorted({e.after.path for e in entries})
        commits: list[Committed] = []
        removed: dict[str, str | None] = {}
        failed: dict[str, str] = {}
        for path in paths:
            record = self.state.files.get(path)
            if record is None or record.commit is None:
                continue
            try:
                if self.state.accepted(path):
                    committed = self.commit_file(path)
                    if committed is not None:
                        commits.append(committed)
                else:
                    removed[path] = self._remove_branch(path)
            except MigratorError as exc:
                if len(entries) == 1:
                    raise
                failed[path] = exc.message
        return UndoResult(tuple(entries), tuple(commits), removed, failed)

    # -- commits -------------------------------------------------------------------------------

    def _change_for(self, path: str, prepared: Prepared | None = None
                    ) -> tuple[FileChange, list[DecisionRecord]]:
        accepted = self.state.accepted(path)
        occs = self.occurrences_of(path)
        if not occs:
            raise CommitError(f"{path} has no occurrences in the current scan; re-scan to continue.")
        by_id = {o.id: o for o in occs}
        accepted = [d for d in accepted if d.id in by_id]
        recipe = self.recipe

        def content(base: bytes) -> bytes:
            from migrator_tui.rewrite import apply_choices
            from migrator_tui.rewrite.proposal import Choice

            text, encoding, bom = decode_python(base)
            choices = {d.id: Choice(d.strategy or self._default_strategy(text, by_id[d.id]), d.edited)
                       for d in accepted}
            if prepared is not None and prepared.text == text and prepared.choices == choices:
                new = prepared.new_text  # built from this very text with these very choices
            else:
                new = apply_choices(text, occs, choices, recipe, repo_root=self.root)
            return encode_python(new, encoding, bom)

        entries = [commitmsg.Entry(d.line, d.function, d.strategy, d.warnings, d.note, d.edited is not None)
                   for d in accepted]
        message = commitmsg.file_message(
            path, entries, len(occs), occs[0].phase, recipe=recipe.name, base=self.state.base,
            reviewers=sorted({d.reviewer for d in accepted}),
        )
        blob = self.scan.file_hashes.get(path) if self.scan else None
        return FileChange(path, content, message, expected_blob=blob), accepted

    def _default_strategy(self, text: str, occ: Occurrence) -> str:
        from migrator_tui.rewrite import propose

        strategy = propose(text, occ, self.recipe, repo_root=self.root).strategy
        if strategy is None:
            raise CommitError(f"{occ.id} has no strategy to apply; choose one or edit it by hand.")
        return strategy

    def _record_commit(self, c: Committed, accepted: Iterable[DecisionRecord]) -> None:
        accepted = list(accepted)
        record = self.state.files.get(c.path)
        if not c.changed and record is not None and record.commit is not None and record.commit.sha == c.sha:
            return  # the branch already held this change: nothing moved, nothing to record
        info = CommitInfo(branch=c.branch, sha=c.sha, base=self.state.base, time=utc_now(),
                          occurrences=tuple(d.id for d in accepted),
                          total=len(self.occurrences_of(c.path)), choices=choices_digest(accepted))
        self.state.set_file(c.path, commit=info)

    def uncommitted(self, path: str) -> bool:
        """True when the file's branch does not hold its current accepted decisions (one was made,
        undone or changed after the commit)."""
        return uncommitted_decisions(self.state, path)

    def commit_file(self, path: str) -> Committed | None:
        """Commit a file's accepted occurrences to its branch; with none accepted, remove the branch."""
        change, accepted = self._change_for(path)
        if not accepted:
            self._remove_branch(path)
            return None
        committed = self.flow.commit_file(change)
        self._record_commit(committed, accepted)
        return committed

    def commit_files(self, paths: Iterable[str], prepared: Mapping[str, Prepared] | None = None
                     ) -> BatchResult:
        """Commit many files (one fast-import for many); failures are reported per file.

        `prepared` holds new texts already built (in worker processes, beside the analysis that
        decided them); one is used only when its file's text and choices are the commit's."""
        changes: list[FileChange] = []
        accepted_of: dict[str, list[DecisionRecord]] = {}
        result = BatchResult()
        for path in paths:
            try:
                change, accepted = self._change_for(path, (prepared or {}).get(path))
            except MigratorError as exc:
                result.failed[path] = exc
                continue
            if accepted:
                changes.append(change)
                accepted_of[path] = accepted
        batch = self.flow.commit_files(changes)
        result.failed.update(batch.failed)
        result.committed = batch.committed
        with self.state.batch():
            for c in batch.committed:
                self._record_commit(c, accepted_of[c.path])
        return result

    def _remove_branch(self, path: str) -> str | None:
        tip = self.flow.delete_branch(path)
        if path in self.state.files:
            self.state.set_file(path, commit=None)
        return tip

    # -- branches ------------------------------------------------------------------------------

    def rollback(self, target: str) -> RollbackResult:
        """Roll back a file's migration; its accepted decisions become "rolled back" (kept and
        shown, never applied again until the reviewer decides anew)."""
        result = self.flow.rollback(target)
        with self.state.batch():
            if result.path in self.state.files:
                self.state.set_file(result.path, commit=None)
            self.state.mark_rolled_back(result.path)
        return result

    def integrate(self, into: str | None = None, paths: Iterable[str] | None = None) -> IntegrateResult:
        """Integrate every per-file change, or only those of `paths` (e.g. the verified ones)."""
        if into is None:
            return self.flow.integrate(paths)
        return self.flow.integrate_into(into, paths)

    def failed_checks(self, paths: Iterable[str] | None = None) -> dict[str, str]:
        """path -> "failed" / "timeout" / "error" for each branch whose last `verify` at its current
        tip did not pass (among `paths`, or every branch)."""
        tips = self.flow.tips()
        wanted = set(paths) if paths is not None else set(tips)
        out = {}
        for path, tip in sorted(tips.items()):
            record = self.state.files.get(path)
            ver = record.verification if record is not None else None
            if path in wanted and ver is not None and ver.sha == tip and ver.status != "passed":
                out[path] = ver.status
        return out

    def rows(self) -> list[FileRow]:
        """Every file with a decision or a branch: its branch and counts, integrated, stale."""
        return file_rows(self.flow, self.state, self.occurrences)


@dataclass(frozen=True, slots=True)
class Prepared:
    """A file's new text built ahead of its commit: from `text`, with exactly `choices`."""

    text: str
    choices: Mapping[str, Choice]
    new_text: str


def uncommitted_decisions(state: ReviewState, path: str) -> bool:
    """True when the file's recorded commit does not hold its current accepted decisions."""
    record = state.files.get(path)
    if record is None or record.commit is None:
        return False
    accepted = state.accepted(path)
    if record.commit.choices:
        return record.commit.choices != choices_digest(accepted)
    return set(record.commit.occurrences) != {d.id for d in accepted}


def file_rows(
    flow: GitFlow, state: ReviewState, occurrences: Mapping[str, Occurrence] | None = None
) -> list[FileRow]:
    infos: dict[str, BranchInfo] = {b.path: b for b in flow.branches()}
    paths = set(infos) | {d.path for d in state.decisions.values()} | {
        p for p, f in state.files.items() if f.commit is not None
    }
    rows = []
    for path in sorted(paths):
        ids = [o.id for o in (occurrences or {}).values() if o.path == path] or None
        counts = state.counts(path, ids)
        info = infos.get(path)
        stale = list(info.stale) if info else []
        if counts["stale"]:
            stale.append("stale decisions")
        rows.append(FileRow(
            path=path, branch=info.branch if info else flow.branch_for(path), tip=info.tip if info else None,
            accepted=counts["accepted"], rejected=counts["rejected"], pending=counts["pending"],
            stale_decisions=counts["stale"], integrated=bool(info and info.integrated), stale=tuple(stale),
            ours=info.ours if info else True, rolled_back=counts["rolled_back"],
            uncommitted=bool(info) and uncommitted_decisions(state, path),
        ))
    return rows


def open_readonly(path: str | Path, recipe: Recipe) -> Workspace:
    """A view of the review without taking the lock (for listing): keeps its base, never saves."""
    return Workspace.open(path, recipe, lock=False)
