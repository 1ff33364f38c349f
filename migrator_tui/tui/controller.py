"""The review as the TUI sees it: occurrences, proposals (cached), decisions, branches.

No Textual here: this is the one place that talks to the core (scan, rewrite, review state, git),
so the widgets only see plain values and `MigratorError`s. Slow calls (scan, propose, commit) are
made from the app's worker threads.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from migrator_tui.errors import MigratorError
from migrator_tui.model import Occurrence, ScanResult
from migrator_tui.recipe import Recipe, compile_glob
from migrator_tui.review.diff import Hunk, build_diff
from migrator_tui.rewrite.proposal import Choice, Proposal
from migrator_tui.sourcefile import split_lines

if TYPE_CHECKING:
    from migrator_tui.git.flow import Committed, IntegrateResult, RollbackResult
    from migrator_tui.review.cluster_decision import ClusterScope
    from migrator_tui.review.state import DecisionRecord, GroupDecision, Verification
    from migrator_tui.review.workspace import UndoResult, Workspace
    from migrator_tui.rewrite import FileAnalysis
    from migrator_tui.rewrite.clusters import Cluster

PENDING, ACCEPTED, REJECTED = "pending", "accepted", "rejected"
#: An accepted decision whose file's migration was rolled back: shown, not applied until decided again.
ROLLED_BACK = "rolled back"

#: Diff context levels for `+`/`-`: 0 changes only, 1 three lines, 2 the enclosing function
#: (default), 3+ the function widened by `WIDEN_STEP` lines per level.
DEFAULT_CONTEXT_LEVEL = 2
WIDEN_STEP = 10
#: Diffs kept (oldest dropped first).
DIFF_CACHE = 256


@dataclass(frozen=True, slots=True)
class DecisionView:
    """What the reviewer decided for one occurrence (`stale`: its code changed since)."""

    status: str = PENDING
    strategy: str | None = None
    edited: str | None = None
    note: str = ""
    stale: bool = False


@dataclass(frozen=True, slots=True)
class ProposalView:
    """Everything the review screen shows for one proposal, prepared by a worker.

    The screen only paints these values: it never builds a proposal, a diff or an edit itself.
    `hunks` is None when the code is shown as it is (a manual proposal without an edit).
    """

    proposal: Proposal
    strategies: tuple[str, ...]
    source: str
    new_source: str
    hunks: tuple[Hunk, ...] | None


@dataclass(frozen=True, slots=True)
class BranchView:
    """One file of the review as the branches screen lists it."""

    path: str
    branch: str
    sha: str
    state: str
    decisions: str
    has_branch: bool
    #: The file's last `migrator-tui verify` result, None when it was never verified.
    check: CheckView | None = None


@dataclass(frozen=True, slots=True)
class CheckView:
    """A `verify` result as the TUI shows it.

    `badge` is the status ("passed", "failed", "timeout", "error") or "outdated" when the commit
    moved since the run; `log` is relative to the repository when it lies inside it.
    """

    badge: str
    status: str
    seconds: float
    sha: str
    command: str
    log: str
    output: str
    #: `verify --coverage`: a summary ("5 of 7 rewritten blocks executed by a test ...") and one
    #: line per rewritten block ("line 41 get_user(): executed by 3 tests (all passed)"); empty
    #: when the run was not measured.
    coverage: str = ""
    blocks: tuple[str, ...] = ()
    #: Rewritten blocks no test executed.
    unverified: int = 0


class EditError(MigratorError):
    """An edited proposal that does not parse; `line` and `column` (the file's line, 1-based, and
    0-based column) say where, when known."""

    def __init__(self, message: str, *, line: int | None = None, column: int = 0) -> None:
        super().__init__(message, title="Edit refused")
        self.line = line
        self.column = column


def context_args(level: int, occ: Occurrence) -> tuple[int, tuple[int, int] | None]:
    """`build_diff` arguments (context, focus) for a context level."""
    if level <= 0:
        return 0, None
    if level == 1:
        return 3, None
    widen = (level - 2) * WIDEN_STEP
    start = occ.scope_start or occ.line
    end = occ.scope_end or occ.end_line or occ.line
    return 3, (max(1, start - widen), end + widen)


def replace_region(source: str, start_line: int, end_line: int, text: str) -> str:
    """`source` with lines `start_line`..`end_line` (1-based, inclusive) replaced by `text`."""
    lines = split_lines(source, keepends=True)
    if text and not text.endswith("\n"):
        text += "\n"
    return "".join(lines[: start_line - 1]) + text + "".join(lines[end_line:])


def validate_python(source: str, path: str = "<edited>") -> None:
    """Raise `EditError` naming the file's line if `source` is not valid Python."""
    try:
        compile(ast.parse(source, filename=path), path, "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise EditError(f"The edited code does not parse: {exc.msg} at line {exc.lineno} of {path}.",
                        line=exc.lineno, column=max((exc.offset or 1) - 1, 0)) from None


class ReviewController:
    """Occurrences of one repository under one recipe, optionally sliced by phase or path glob.

    Decisions, commits and branches go through the review workspace (`migrator_tui.review.workspace`),
    which saves each decision as it is made.
    """

    def __init__(
        self,
        root: Path,
        recipe: Recipe,
        *,
        phase: int | None = None,
        path_glob: str | None = None,
        rescan: bool = False,
    ) -> None:
        self.root = root
        self.recipe = recipe
        self.phase = phase
        self.path_glob = path_glob
        self.rescan = rescan
        self.result: ScanResult | None = None
        self.occurrences: list[Occurrence] = []
        self.stale_on_load: list[str] = []
        self._by_id: dict[str, Occurrence] = {}
        self._analyses: dict[tuple[str, str], FileAnalysis] = {}
        self._proposals: dict[tuple[str, str, str | None], Proposal] = {}
        self._summaries: dict[tuple[str, str], Proposal] = {}
        self._lock = threading.RLock()
        self.ws: Workspace | None = None
        self._edits: dict[tuple[str, str, str, str], str] = {}
        self._diffs: dict[tuple[str, str, str | None, str | None, int, bool], list[Hunk]] = {}
        #: path -> tip of its branch, read once per change of branches (`forget_tips`).
        self._tips: dict[str, str] | None = None
        #: Clusters of the slice's proposals (None until `compute_clusters` ran on this scan).
        self._clusters: list[Cluster] | None = None
        self._cluster_of: dict[str, Cluster] = {}

    # --- opening -----------------------------------------------------------------------------

    def open(self) -> None:
        """Open the review of the repository (takes the review lock); `MigratorError` if it cannot."""
        from migrator_tui.review.workspace import Workspace

        self.ws = Workspace.open(self.root, self.recipe, rescan=self.rescan)
        self.root = self.ws.root.resolve()

    def close(self) -> None:
        if self.ws is not None:
            self.ws.close()
            self.ws = None

    @property
    def workspace(self) -> Workspace:
        if self.ws is None:
            raise MigratorError("The review is not open.")
        return self.ws

    def branch_name(self, path: str) -> str:
        return self.workspace.flow.branch_for(path)

    def base_label(self) -> str:
        return self.workspace.state.base[:10]

    # --- scan --------------------------------------------------------------------------------

    def scan(self, progress: Callable[[int, int], None] | None = None) -> ScanResult:
        """Scan (again) and load the result; files with uncommitted edits are scanned as the base
        commit holds them (`dirty`), since that is what their branches are built from."""
        from migrator_tui.review.cache import kept_for_review, kept_reads

        result = self.workspace.scan_base(progress)
        kept: dict[str, Proposal] = {}
        if not self.workspace.dirty:  # the scan `scan` keeps is of the working tree: this one
            kept, reads = kept_for_review(self.root, self.recipe, result)
        else:
            reads = kept_reads(self.root, self.recipe)
        self.prime_callers(result, reads)
        self.load(result, loaded=True)
        with self._lock:
            self._summaries.update(((oid, ""), p) for oid, p in kept.items())
        return result

    def dirty(self, path: str) -> bool:
        """True when the file has uncommitted edits (the review shows its base commit's content)."""
        ws = self.ws
        return ws is not None and path in ws.dirty

    def prime_callers(self, result: ScanResult, reads: object = ...) -> None:
        """Index the repository's callers of every scanned function at once (one `git grep`), so no
        proposal pays for its own search later; from the reads the last scan kept (`reads`, when
        read already) where they still hold."""
        from migrator_tui.review.cache import use_kept_reads
        from migrator_tui.rewrite.repo_index import function_origins, repo_index

        names, origins = function_origins(o for o in result.occurrences if o.function)
        if names:
            use_kept_reads(self.root, self.recipe, reads)
            repo_index(self.root).prime(names, origins)

    def load(self, result: ScanResult, loaded: bool = False) -> None:
        """Take a scan's result: match saved decisions (unless the workspace `loaded` it already),
        keep the slice, order by phase, path, line."""
        if not loaded:
            self.stale_on_load = self.workspace.load_scan(result)
        occs = list(result.occurrences)
        if self.phase is not None:
            occs = [o for o in occs if o.phase == self.phase]
        if self.path_glob:
            pattern = compile_glob(self.path_glob)
            occs = [o for o in occs if pattern.match(o.path)]
        order = {p.number: i for i, p in enumerate(self.recipe.phases)}
        occs.sort(key=lambda o: (order.get(o.phase, len(order)) if o.phase is not None else 1 << 30,
                                 o.path, o.line, o.column))
        self.result = result
        self.occurrences = occs
        self._by_id = {o.id: o for o in occs}
        with self._lock:
            self._clusters, self._cluster_of = None, {}
            # every analysis answered questions about the repository as the last scan saw it (a
            # caller in another file changes a verdict without changing this file's text)
            self._analyses.clear()
            self._proposals.clear()
            self._summaries.clear()
            self._edits.clear()
            self._diffs.clear()

    def occurrence(self, occ_id: str) -> Occurrence:
        return self._by_id[occ_id]

    # --- sources and proposals ---------------------------------------------------------------

    def source(self, path: str) -> str:
        text = self.workspace.sources.get(path)
        if text is None:
            raise MigratorError(f"{path} could not be read.")
        return text

    def file_hash(self, path: str) -> str:
        if self.result is not None and path in self.result.file_hashes:
            return self.result.file_hashes[path]
        return hashlib.sha1(self.source(path).encode("utf-8")).hexdigest()

    def analysis(self, path: str) -> FileAnalysis:
        """The rewrite engine's analysis of one file (parsed once, cached by file hash)."""
        from migrator_tui.rewrite import FileAnalysis

        key = (path, self.file_hash(path))
        with self._lock:
            found = self._analyses.get(key)
            if found is not None:
                return found
            occs = self.workspace.occurrences_of(path)
            try:
                fa = FileAnalysis(self.source(path), occs, self.recipe, repo_root=self.root)
            except SyntaxError as exc:
                raise MigratorError(f"{path} does not parse: {exc.msg} at line {exc.lineno}.") from None
            self._analyses[key] = fa
            return fa

    def _strategy(self, occ_id: str, strategy: str | None) -> str | None:
        return strategy if strategy is not None else self.decision(occ_id).strategy

    def cached_proposal(self, occ: Occurrence, strategy: str | None = None) -> Proposal | None:
        key = (self.file_hash(occ.path), occ.id, self._strategy(occ.id, strategy))
        with self._lock:
            return self._proposals.get(key)

    def proposal(self, occ: Occurrence, strategy: str | None = None) -> Proposal:
        """The proposal for `occ` under `strategy` (default: the decided one, else the engine's)."""
        strategy = self._strategy(occ.id, strategy)
        key = (self.file_hash(occ.path), occ.id, strategy)
        with self._lock:
            found = self._proposals.get(key)
        if found is not None:
            return found
        proposal = self._propose(occ, strategy)
        with self._lock:
            self._proposals[key] = proposal
            if strategy is None and proposal.strategy is not None:
                self._proposals[(key[0], occ.id, proposal.strategy)] = proposal
        return proposal

    def _propose(self, occ: Occurrence, strategy: str | None) -> Proposal:
        return self.analysis(occ.path).propose(occ.id, strategy)

    def confidence(self, occ: Occurrence) -> str | None:
        """The confidence of the current proposal if known (cheap: no rewrite is built for it)."""
        proposal = self.cached_proposal(occ)
        if proposal is not None:
            return proposal.confidence
        strategy = self._strategy(occ.id, None)
        with self._lock:
            summary = self._summaries.get((occ.id, strategy or ""))
        return summary.confidence if summary is not None else None

    def cached_summary(self, occ: Occurrence) -> Proposal | None:
        """The current proposal's summary if a worker computed it (a lookup, never an analysis)."""
        with self._lock:
            return self._summaries.get((occ.id, self._strategy(occ.id, None) or ""))

    def summary(self, occ: Occurrence) -> Proposal:
        """Strategy, confidence and warnings of the current proposal, without its new text."""
        cached = self.cached_proposal(occ)
        if cached is not None:
            return cached
        strategy = self._strategy(occ.id, None)
        key = (occ.id, strategy or "")
        with self._lock:
            found = self._summaries.get(key)
        if found is None:
            found = self.analysis(occ.path).summary(occ.id, strategy)
            with self._lock:
                self._summaries[key] = found
        return found

    def view(self, occ: Occurrence, level: int, whole_file: bool) -> ProposalView:
        """From a worker: the proposal of `occ` with its diff at this view, ready to be shown."""
        proposal = self.proposal(occ)
        source = self.source(occ.path)
        if proposal.is_manual and self.decision(occ.id).edited is None:
            return ProposalView(proposal, tuple(self.strategies(proposal)), source, source, None)
        hunks = self.diff(occ, proposal, level, whole_file)
        return ProposalView(proposal, tuple(self.strategies(proposal)), source,
                            self.proposed_source(occ, proposal), tuple(hunks))

    def strategies(self, proposal: Proposal) -> list[str]:
        """Every strategy the proposal offers, in the recipe's order (the same whichever is chosen),
        so cycling through them reaches each one."""
        names = {proposal.strategy, *proposal.alternatives} - {None}
        order = {name: i for i, name in enumerate(self.recipe.strategies)}
        return sorted(names, key=lambda n: (order.get(n, len(order)), n))  # type: ignore[arg-type]

    def strategy_description(self, name: str) -> str:
        strategy = self.recipe.strategies.get(name)
        return strategy.description if strategy is not None else ""

    def proposed_source(self, occ: Occurrence, proposal: Proposal) -> str:
        """The whole file with this proposal (or the reviewer's edit of it) applied."""
        source = self.source(occ.path)
        edited = self.decision(occ.id).edited
        if edited is not None:
            return self.apply_edit(occ, proposal, edited)
        return proposal.new_source if proposal.new_source is not None else source

    def apply_edit(self, occ: Occurrence, proposal: Proposal, text: str) -> str:
        """The file with `text` in place of the proposal's region; `EditError` if it does not parse."""
        from migrator_tui.rewrite.engine import edit_error_at

        error = edit_error_at(text)
        if error:
            why, row, column = error
            line = self.edit_region(occ, proposal)[0] + row - 1
            raise EditError(f"The edited code does not parse: {why} at line {line} of {occ.path}.",
                            line=line, column=column)
        strategy = self.edit_strategy(proposal)
        key = (occ.path, occ.id, strategy, text)
        with self._lock:
            cached = self._edits.get(key)
        if cached is not None:
            return cached
        try:
            new = self.analysis(occ.path).apply({occ.id: Choice(strategy, text)})
        except MigratorError as exc:
            raise EditError(exc.message) from None
        except Exception as exc:  # the engine could not place the edit: refuse it, say why
            raise EditError(f"The edited code cannot replace lines {proposal.start_line}–"
                            f"{proposal.end_line}: {exc.__class__.__name__}: {exc}.") from None
        validate_python(new, occ.path)
        with self._lock:
            self._edits[key] = new
        return new

    def edit_strategy(self, proposal: Proposal) -> str:
        """The strategy an edit is recorded under (a manual proposal may have none)."""
        if proposal.strategy:
            return proposal.strategy
        if proposal.alternatives:
            return proposal.alternatives[0]
        return next(iter(self.recipe.strategies))

    def edit_region(self, occ: Occurrence, proposal: Proposal) -> tuple[int, int, str]:
        """(first line, last line, text) the editor starts from."""
        d = self.decision(occ.id)
        if proposal.is_manual:
            start, end = occ.scope_start or occ.line, occ.scope_end or occ.line
            lines = split_lines(self.source(occ.path), keepends=True)
            text = proposal.before or "".join(lines[start - 1:end])
        else:
            start, end, text = proposal.start_line, proposal.end_line, proposal.after
        return start, end, d.edited if d.edited is not None else text

    def diff(self, occ: Occurrence, proposal: Proposal, level: int, whole_file: bool) -> list[Hunk]:
        """The proposal's hunks at a context level (cached: `n` back to a shown one costs nothing)."""
        key = (self.file_hash(occ.path), occ.id, proposal.strategy, self.decision(occ.id).edited, level,
               whole_file)
        with self._lock:
            found = self._diffs.get(key)
        if found is not None:
            return found
        old = self.source(occ.path)
        new = self.proposed_source(occ, proposal)
        if whole_file:
            hunks = build_diff(old, new, context=None)
        else:
            context, focus = context_args(level, occ)
            hunks = build_diff(old, new, context=context, focus=focus)
        with self._lock:
            if len(self._diffs) >= DIFF_CACHE:
                self._diffs.pop(next(iter(self._diffs)))
            self._diffs[key] = hunks
        return hunks

    # --- decisions ---------------------------------------------------------------------------

    def decision(self, occ_id: str) -> DecisionView:
        ws = self.ws
        record = ws.state.decision(occ_id) if ws is not None else None
        if record is None:
            return DecisionView()
        # a stale decision (its code changed since) is to be made again: it counts as pending
        status = PENDING if record.stale else ROLLED_BACK if record.rolled_back else record.decision
        return DecisionView(status, record.strategy, record.edited, record.note, record.stale)

    def accept(self, occ_id: str) -> None:
        occ = self._by_id[occ_id]
        proposal = self.proposal(occ)
        current = self.decision(occ_id)
        if proposal.is_manual and current.edited is None:
            raise MigratorError(f"{occ.path}:{occ.line} has no automatic rewrite ({proposal.manual_reason}); "
                                "press e to write it by hand, or r to leave it.")
        self.workspace.decide(occ_id, ACCEPTED, strategy=self.edit_strategy(proposal), edited=current.edited,
                              warnings=[f.code for f in proposal.warnings])

    def reject(self, occ_id: str) -> None:
        current = self.decision(occ_id)
        self.workspace.decide(occ_id, REJECTED, strategy=current.strategy, edited=current.edited)

    def set_strategy(self, occ_id: str, strategy: str) -> bool:
        """Switch strategy. An accepted or rejected occurrence becomes pending again: the reviewer
        decided on another diff (with other warnings), so the new one is theirs to decide. True
        when a decision was cleared."""
        current = self.decision(occ_id)
        cleared = current.status in (ACCEPTED, REJECTED)
        self.workspace.decide(occ_id, PENDING, strategy=strategy, edited=None)
        return cleared

    def set_note(self, occ_id: str, note: str) -> None:
        self.workspace.note(occ_id, note)

    def edit(self, occ_id: str, text: str) -> None:
        """Accept `occ_id` with the reviewer's `text` for the replaced region, if it parses."""
        occ = self._by_id[occ_id]
        proposal = self.proposal(occ)
        if not proposal.is_manual and text == proposal.after:  # unchanged: a plain accept, not an edit
            self.workspace.decide(occ_id, ACCEPTED, strategy=self.edit_strategy(proposal), edited=None,
                                  warnings=[f.code for f in proposal.warnings])
            return
        self.apply_edit(occ, proposal, text)
        self.workspace.decide(occ_id, ACCEPTED, strategy=self.edit_strategy(proposal), edited=text,
                              warnings=[f.code for f in proposal.warnings])

    def undo(self) -> UndoResult | None:
        """Undo the last decision change, or all of the last cluster decision (committed files are
        re-committed, or their branch removed)."""
        try:
            return self.workspace.undo()
        finally:
            self.forget_tips()

    def first_pending(self) -> Occurrence | None:
        return next((o for o in self.occurrences if self.decision(o.id).status == PENDING), None)

    def next_pending(self, occ_id: str | None, step: int = 1, among: Iterable[Occurrence] | None = None
                     ) -> Occurrence | None:
        """The next (or previous, `step=-1`) pending occurrence after `occ_id`, wrapping around."""
        occs = list(among) if among is not None else self.occurrences
        if not occs:
            return None
        index = next((i for i, o in enumerate(occs) if o.id == occ_id), None)
        start = index if index is not None else (-1 if step > 0 else 0)
        for k in range(1, len(occs) + 1):
            occ = occs[(start + step * k) % len(occs)]
            if self.decision(occ.id).status == PENDING:
                return occ
        return None

    # --- clusters ----------------------------------------------------------------------------

    def compute_clusters(self, progress: Callable[[int, int], None] | None = None,
                         cancelled: Callable[[], bool] = lambda: False) -> list[Cluster] | None:
        """From a worker: group the slice's proposals into clusters (their default strategies),
        file by file from the cached analyses; `progress(files done, files)`. None if cancelled.
        A file that cannot be analysed gives no members (its occurrences stay single)."""
        from migrator_tui.rewrite.batch import file_members
        from migrator_tui.rewrite.clusters import Member, clusters

        by_path: dict[str, list[Occurrence]] = {}
        for occ in self.occurrences:
            by_path.setdefault(occ.path, []).append(occ)
        members: list[Member] = []
        for done, (path, occs) in enumerate(by_path.items()):
            if cancelled():
                return None
            try:
                fa = self.analysis(path)
                summaries = {o.id: fa.summary(o.id) for o in occs}
                members.extend(file_members(fa, self.source(path), path, occs, summaries))
            except MigratorError:
                continue
            with self._lock:  # the tree's badges read these (the default strategy's)
                for o in occs:
                    if self._strategy(o.id, None) is None:
                        self._summaries.setdefault((o.id, ""), summaries[o.id])
            if progress is not None:
                progress(done + 1, len(by_path))
        found = clusters(members)
        with self._lock:
            self._clusters = found
            self._cluster_of = {m: c for c in found for m in c.members}
        return found

    @property
    def clusters(self) -> list[Cluster] | None:
        """The clusters, largest first (None until computed for this scan)."""
        with self._lock:
            return self._clusters

    def cluster_of(self, occ_id: str) -> Cluster | None:
        with self._lock:
            return self._cluster_of.get(occ_id)

    def cluster(self, cluster_id: str) -> Cluster | None:
        return next((c for c in self.clusters or () if c.id == cluster_id), None)

    def cluster_scope(self, cluster: Cluster) -> ClusterScope:
        """Whom a decision on `cluster` covers now (members decided individually are left)."""
        from migrator_tui.review.cluster_decision import scope

        return scope(cluster, self.workspace.state.decisions)

    def decide_cluster(self, cluster: Cluster, decisions: list[GroupDecision]) -> list[DecisionRecord]:
        """Record a cluster decision's outcome as one decision (one undo takes it all back)."""
        from migrator_tui.review.cluster_decision import new_group_id

        if not decisions:
            return []
        return self.workspace.decide_group(new_group_id(cluster), decisions)

    # --- verification ------------------------------------------------------------------------

    def _check_view(self, verification: Verification | None, tip: str | None) -> CheckView | None:
        from migrator_tui.checks.verify import badge

        shown = badge(verification, tip)
        if verification is None or shown is None:
            return None
        log = verification.log
        if log:
            with contextlib.suppress(ValueError):
                log = str(Path(log).resolve().relative_to(self.root))
        from migrator_tui.checks.coverage import shown_coverage

        coverage, blocks, unverified = shown_coverage(verification, outdated=shown == "outdated")
        return CheckView(shown, verification.status, verification.seconds, verification.sha,
                         verification.command, log, verification.output, coverage, blocks, unverified)

    def tips(self) -> dict[str, str]:
        """path -> tip of every per-file branch (cached until a commit, rollback or undo)."""
        with self._lock:
            if self._tips is None:
                self._tips = self.workspace.flow.tips()
            return self._tips

    def forget_tips(self) -> None:
        with self._lock:
            self._tips = None

    def file_check(self, path: str) -> CheckView | None:
        """The file's verification against its branch's current tip (None: never verified)."""
        ws = self.ws
        record = ws.state.files.get(path) if ws is not None else None
        if record is None or record.verification is None:
            return None
        return self._check_view(record.verification, self.tips().get(path))

    def checks(self) -> dict[str, CheckView]:
        """The verifications of whole commits: "base" (the review's base) and "integration"."""
        from migrator_tui.checks.verify import BASE, INTEGRATION

        state = self.workspace.state
        out: dict[str, CheckView] = {}
        for name, verification in sorted(state.checks.items()):
            if name == BASE:
                tip: str | None = state.base
            elif name == INTEGRATION:
                branch = self.workspace.flow.integration_branch
                tip = self.workspace.flow.tips_of([branch]).get(branch, "")
            else:
                tip = None
            view = self._check_view(verification, tip)
            if view is not None:
                out[name] = view
        return out

    # --- git ---------------------------------------------------------------------------------

    def commit_file(self, path: str) -> Committed | None:
        """Commit the file's accepted proposals to its branch (None: nothing accepted, branch removed)."""
        try:
            return self.workspace.commit_file(path)
        finally:
            self.forget_tips()

    def committed(self, path: str) -> bool:
        ws = self.ws
        record = ws.state.files.get(path) if ws is not None else None
        return record is not None and record.commit is not None

    def uncommitted(self, path: str) -> bool:
        """True when the file's branch does not hold its current accepted decisions."""
        ws = self.ws
        return ws is not None and ws.uncommitted(path)

    def branches(self) -> list[BranchView]:
        out = []
        for row in self.workspace.rows():
            if row.integrated:
                state = "integrated"
            elif row.tip is None:
                state = "no branch"
            elif row.stale:
                state = "stale: " + ", ".join(row.stale)
            else:
                state = "committed"
            if row.tip is not None and row.uncommitted:
                state += " · uncommitted decisions"
            # the review's marks: ✓ accepted, ✗ rejected, · pending, ↩ rolled back
            counts = f"{row.accepted} ✓  {row.rejected} ✗  {row.pending} ·"
            if row.rolled_back:
                counts += f"  {row.rolled_back} ↩"
            check = None
            record = self.workspace.state.files.get(row.path)
            if record is not None:
                check = self._check_view(record.verification, row.tip)
            out.append(BranchView(row.path, row.branch, row.tip or "", state, counts, row.tip is not None,
                                  check))
        return out

    def branch_diff(self, path: str) -> tuple[str, str]:
        """(text in the base commit, text at the tip of the file's branch)."""
        from migrator_tui.git.objects import ref_tip
        from migrator_tui.scan.files import decode_source

        flow = self.workspace.flow
        tip = ref_tip(flow.repo, f"refs/heads/{flow.branch_for(path)}")
        if tip is None:
            raise MigratorError(f"{path} has no migration branch.")
        texts = []
        for commit in (self.workspace.state.base, tip):
            blob = flow.file_blob(commit, path)
            texts.append(decode_source(flow.store.blob(blob)) if blob else "")
        return texts[0], texts[1]

    def rollback(self, path: str) -> RollbackResult:
        try:
            return self.workspace.rollback(path)
        finally:
            self.forget_tips()

    def failed_checks(self) -> dict[str, str]:
        """path -> status of each branch whose `verify` at its current tip did not pass."""
        return self.workspace.failed_checks()

    def integrate(self) -> IntegrateResult:
        try:
            return self.workspace.integrate()
        finally:
            self.forget_tips()
