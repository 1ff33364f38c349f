"""The review as the TUI sees it: occurrences, proposals (cached), decisions, branches.

No Textual here: this is the one place that talks to the core (scan, rewrite, review state, git),
so the widgets only see plain values and `MigratorError`s. Slow calls (scan, propose, commit) are
made from the app's worker threads.
"""

from __future__ import annotations

import ast
import hashlib
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from migrator_tui.diff import Hunk, build_diff
from migrator_tui.errors import MigratorError
from migrator_tui.model import Occurrence, ScanResult
from migrator_tui.proposal import Choice, Proposal
from migrator_tui.recipe import Recipe, glob_to_regex

PENDING, ACCEPTED, REJECTED = "pending", "accepted", "rejected"

#: Diff context levels for `+`/`-`: 0 changes only, 1 three lines, 2 the enclosing function
#: (default), 3+ the function widened by `WIDEN_STEP` lines per level.
DEFAULT_CONTEXT_LEVEL = 2
WIDEN_STEP = 10


@dataclass(frozen=True, slots=True)
class DecisionView:
    """What the reviewer decided for one occurrence."""

    status: str = PENDING
    strategy: str | None = None
    edited: str | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class BranchView:
    """One per-file branch as the branches screen lists it."""

    path: str
    branch: str
    sha: str
    state: str


class EditError(MigratorError):
    """An edited proposal that does not parse."""


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
    lines = source.splitlines(keepends=True)
    if text and not text.endswith("\n"):
        text += "\n"
    return "".join(lines[: start_line - 1]) + text + "".join(lines[end_line:])


def validate_python(source: str, path: str = "<edited>") -> None:
    """Raise `EditError` naming the line if `source` is not valid Python."""
    try:
        compile(ast.parse(source, filename=path), path, "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise EditError(f"The edited code does not parse: {exc.msg} at line {exc.lineno}.") from None


class ReviewController:
    """Occurrences of one repository under one recipe, optionally sliced by phase or path glob."""

    def __init__(
        self,
        root: Path,
        recipe: Recipe,
        *,
        phase: int | None = None,
        path_glob: str | None = None,
    ) -> None:
        self.root = root
        self.recipe = recipe
        self.phase = phase
        self.path_glob = path_glob
        self.result: ScanResult | None = None
        self.occurrences: list[Occurrence] = []
        self._by_id: dict[str, Occurrence] = {}
        self._sources: dict[str, str] = {}
        self._proposals: dict[tuple[str, str, str | None], Proposal] = {}
        self._lock = threading.RLock()
        self._state = None  # the review state (migrator_tui.review), opened after the scan

    def open(self) -> None:
        """Check the repository and open the review state (before any scan)."""
        if not self.root.is_dir():
            raise MigratorError(f"{self.root} is not a directory.")

    def branch_name(self, path: str) -> str:
        return f"migrate/{self.recipe.name}/{path.replace('/', '__')}"

    def base_label(self) -> str:
        base = self.result.base if self.result is not None else None
        return base[:10] if base else "(none)"

    # --- scan --------------------------------------------------------------------------------

    def scan(self, progress: Callable[[int, int], None] | None = None) -> ScanResult:
        from migrator_tui.scan import scan

        result = scan(self.root, self.recipe, progress=progress)
        self.load(result)
        return result

    def load(self, result: ScanResult) -> None:
        """Take a scan's result: filter it to the slice and order it by phase, path, line."""
        occs = list(result.occurrences)
        if self.phase is not None:
            occs = [o for o in occs if o.phase == self.phase]
        if self.path_glob:
            pattern = glob_to_regex(self.path_glob)
            occs = [o for o in occs if pattern.match(o.path)]
        order = {p.number: i for i, p in enumerate(self.recipe.phases)}
        occs.sort(key=lambda o: (order.get(o.phase, len(order)) if o.phase is not None else 1 << 30,
                                 o.path, o.line, o.column))
        self.result = result
        self.occurrences = occs
        self._by_id = {o.id: o for o in occs}
        self._open_state()

    def _open_state(self) -> None:
        self._decisions: dict[str, DecisionView] = {}
        self._undo: list[tuple[str, DecisionView]] = []

    def occurrence(self, occ_id: str) -> Occurrence:
        return self._by_id[occ_id]

    # --- sources and proposals ---------------------------------------------------------------

    def source(self, path: str) -> str:
        with self._lock:
            text = self._sources.get(path)
        if text is None:
            try:
                text = (self.root / path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise MigratorError(f"Cannot read {path}: {exc}.") from None
            with self._lock:
                self._sources[path] = text
        return text

    def file_hash(self, path: str) -> str:
        if self.result is not None and path in self.result.file_hashes:
            return self.result.file_hashes[path]
        return hashlib.sha1(self.source(path).encode("utf-8")).hexdigest()

    def cached_proposal(self, occ: Occurrence, strategy: str | None = None) -> Proposal | None:
        strategy = strategy if strategy is not None else self.decision(occ.id).strategy
        key = (self.file_hash(occ.path), occ.id, strategy)
        with self._lock:
            return self._proposals.get(key)

    def proposal(self, occ: Occurrence, strategy: str | None = None) -> Proposal:
        """The proposal for `occ` under `strategy` (default: the decided one, else the engine's)."""
        strategy = strategy if strategy is not None else self.decision(occ.id).strategy
        key = (self.file_hash(occ.path), occ.id, strategy)
        with self._lock:
            found = self._proposals.get(key)
        if found is not None:
            return found
        proposal = self._propose(self.source(occ.path), occ, strategy)
        with self._lock:
            self._proposals[key] = proposal
            if strategy is None and proposal.strategy is not None:
                self._proposals[(key[0], occ.id, proposal.strategy)] = proposal
        return proposal

    def _propose(self, source: str, occ: Occurrence, strategy: str | None) -> Proposal:
        from migrator_tui.rewrite import propose

        return propose(source, occ, self.recipe, strategy=strategy)

    def strategies(self, proposal: Proposal) -> list[str]:
        names = [proposal.strategy] if proposal.strategy else []
        return names + [a for a in proposal.alternatives if a not in names]

    def proposed_source(self, occ: Occurrence, proposal: Proposal) -> str:
        """The whole file with this proposal (or the reviewer's edit of it) applied."""
        source = self.source(occ.path)
        edited = self.decision(occ.id).edited
        if edited is not None and proposal.start_line:
            return replace_region(source, proposal.start_line, proposal.end_line, edited)
        return proposal.new_source if proposal.new_source is not None else source

    def diff(self, occ: Occurrence, proposal: Proposal, level: int, whole_file: bool) -> list[Hunk]:
        old = self.source(occ.path)
        new = self.proposed_source(occ, proposal)
        if whole_file:
            return build_diff(old, new, context=None)
        context, focus = context_args(level, occ)
        return build_diff(old, new, context=context, focus=focus)

    # --- decisions ---------------------------------------------------------------------------

    def decision(self, occ_id: str) -> DecisionView:
        return self._decisions.get(occ_id, DecisionView())

    def _set(self, occ_id: str, view: DecisionView) -> None:
        self._undo.append((occ_id, self.decision(occ_id)))
        self._decisions[occ_id] = view

    def accept(self, occ_id: str, strategy: str | None = None, edited: str | None = None) -> None:
        occ = self._by_id[occ_id]
        proposal = self.proposal(occ, strategy)
        if proposal.is_manual and edited is None:
            raise MigratorError(f"{occ.path}:{occ.line} has no automatic rewrite: {proposal.manual_reason}")
        current = self.decision(occ_id)
        self._set(occ_id, replace(current, status=ACCEPTED, strategy=proposal.strategy,
                                  edited=edited if edited is not None else current.edited))

    def reject(self, occ_id: str) -> None:
        self._set(occ_id, replace(self.decision(occ_id), status=REJECTED))

    def set_strategy(self, occ_id: str, strategy: str) -> None:
        self._set(occ_id, replace(self.decision(occ_id), strategy=strategy, edited=None))

    def set_note(self, occ_id: str, note: str) -> None:
        self._set(occ_id, replace(self.decision(occ_id), note=note))

    def edit(self, occ_id: str, text: str) -> None:
        """Accept `occ_id` with the reviewer's `text` for the replaced region, if it parses."""
        occ = self._by_id[occ_id]
        proposal = self.proposal(occ)
        source = self.source(occ.path)
        start = proposal.start_line or occ.scope_start or occ.line
        end = proposal.end_line or occ.scope_end or occ.line
        validate_python(replace_region(source, start, end, text), occ.path)
        current = self.decision(occ_id)
        self._set(occ_id, replace(current, status=ACCEPTED, strategy=proposal.strategy, edited=text))

    def undo(self) -> str | None:
        """Undo the last decision change; the id it concerned, or None if there is nothing to undo."""
        if not self._undo:
            return None
        occ_id, previous = self._undo.pop()
        self._decisions[occ_id] = previous
        return occ_id

    def first_pending(self) -> Occurrence | None:
        return next((o for o in self.occurrences if self.decision(o.id).status == PENDING), None)

    def next_pending(self, occ_id: str | None, step: int = 1, among: Iterable[Occurrence] | None = None
                     ) -> Occurrence | None:
        """The next (or previous, `step=-1`) pending occurrence after `occ_id`, wrapping around."""
        occs = list(among) if among is not None else self.occurrences
        if not occs:
            return None
        ids = [o.id for o in occs]
        start = ids.index(occ_id) if occ_id in ids else (-1 if step > 0 else 0)
        for k in range(1, len(occs) + 1):
            occ = occs[(start + step * k) % len(occs)]
            if self.decision(occ.id).status == PENDING:
                return occ
        return None

    def choices(self, path: str) -> dict[str, Choice]:
        out: dict[str, Choice] = {}
        for occ in self.occurrences:
            if occ.path != path:
                continue
            d = self.decision(occ.id)
            if d.status == ACCEPTED:
                strategy = d.strategy or self.proposal(occ).strategy
                if strategy is not None:
                    out[occ.id] = Choice(strategy, d.edited)
        return out

    # --- git ---------------------------------------------------------------------------------

    def commit_file(self, path: str) -> str:
        raise MigratorError("Committing needs the git workflow module, which is not available.")

    def branches(self) -> list[BranchView]:
        return []

    def committed(self, path: str) -> bool:
        return False

    def branch_diff(self, path: str) -> tuple[str, str]:
        raise MigratorError("Branches need the git workflow module, which is not available.")

    def rollback(self, path: str) -> None:
        raise MigratorError("Rollback needs the git workflow module, which is not available.")

    def integrate(self) -> str:
        raise MigratorError("Integration needs the git workflow module, which is not available.")
