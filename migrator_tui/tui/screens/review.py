"""The main screen: the occurrence tree on the left, the selected proposal on the right."""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING, ClassVar, TypeVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Label, ProgressBar, Tree
from textual.worker import Worker, WorkerCancelled, get_current_worker

from migrator_tui.errors import MigratorError
from migrator_tui.model import Occurrence
from migrator_tui.review.diff import stats
from migrator_tui.review.state import APPLY_NOTE
from migrator_tui.rewrite.proposal import Proposal
from migrator_tui.sourcefile import split_lines
from migrator_tui.tui.controller import (
    ACCEPTED,
    DEFAULT_CONTEXT_LEVEL,
    PENDING,
    REJECTED,
    ROLLED_BACK,
    ProposalView,
    ReviewController,
)
from migrator_tui.tui.diff_view import DiffView
from migrator_tui.tui.filters import FILTER_HELP, Filter, parse_filter
from migrator_tui.tui.highlight import warm
from migrator_tui.tui.keys import REVIEW_KEYS
from migrator_tui.tui.labels import (
    check_palette,
    cluster_label,
    file_label,
    occurrence_label,
    phase_label,
    singles_label,
)
from migrator_tui.tui.occurrence_tree import NodeRef, OccurrenceTree
from migrator_tui.tui.proposal_header import ProposalHeader
from migrator_tui.tui.screens.branches import BranchesScreen
from migrator_tui.tui.screens.cluster_decide import (
    ACCEPT_ALL,
    REJECT_ALL,
    ClusterDecisionScreen,
    SampleScreen,
)
from migrator_tui.tui.screens.confirm import ConfirmScreen
from migrator_tui.tui.screens.edit import EditScreen
from migrator_tui.tui.screens.help import HelpScreen
from migrator_tui.tui.screens.strategy_pick import StrategyPickScreen
from migrator_tui.tui.screens.text_prompt import TextPromptScreen
from migrator_tui.tui.warnings_panel import WarningsPanel

if TYPE_CHECKING:
    from migrator_tui.git.flow import Committed
    from migrator_tui.review.state import GroupDecision
    from migrator_tui.review.workspace import UndoResult
    from migrator_tui.rewrite.clusters import Cluster

UNPLANNED = "unplanned"
#: The key of the cluster view's group of occurrences in no cluster.
SINGLES = "singles"
PREFETCH = 3
BADGE_BATCH = 50


class ReviewScreen(Screen[None]):
    """Review every occurrence: decide, edit, commit per file."""

    BINDINGS: ClassVar[list[BindingType]] = [binding for _, binding in REVIEW_KEYS]
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-narrow"), (100, "-wide")]

    def __init__(self, controller: ReviewController) -> None:
        super().__init__()
        self.controller = controller
        self.current: str | None = None
        self.context_level = DEFAULT_CONTEXT_LEVEL
        self.whole_file = False
        self.filter = Filter()
        self.shown_occs: list[Occurrence] = []
        #: Set each time a proposal's diff is on screen (the benchmark and tests wait on it).
        self.shown_count = 0
        #: path -> the verification badge its tree node shows (None: not verified).
        self.shown_checks: dict[str, str | None] = {}
        #: Views prepared by workers (diff built, texts highlighted), by `_view_key`.
        self._prepared: dict[tuple[object, ...], ProposalView] = {}
        self._rescanning = False
        #: The list shows clusters (`g`) instead of phases (once they are computed).
        self.by_cluster = False
        self._clustering = False
        #: The members the last "accept with a sample" asked to confirm (tests read it).
        self.last_sample: list[str] = []

    # --- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="scan-progress"):
            yield Label("Scanning…", id="scan-label")
            yield ProgressBar(id="scan-bar", show_eta=False, show_percentage=False)
        with Horizontal(id="main"):
            with Vertical(id="tree-pane"):
                yield Label("", id="cluster-progress")
                yield OccurrenceTree(id="tree")
                yield Label("", id="view-hint")
                yield Label("", id="filter-label")
            with Vertical(id="detail-pane"):
                yield ProposalHeader(id="proposal-header")
                yield DiffView(id="diff")
                yield WarningsPanel(id="warnings")
        yield Footer()

    #: Below this width the layout stacks and the header and footer take their compact forms.
    NARROW = 100

    @property
    def narrow(self) -> bool:
        return self.size.width < self.NARROW

    def on_resize(self) -> None:
        footer = self.query_one(Footer)
        footer.compact = self.narrow
        footer.show_command_palette = not self.narrow  # Ctrl+P still opens it (the help says so)
        if self.controller.result is not None:
            self._update_title()

    @property
    def tree(self) -> OccurrenceTree:
        return self.query_one(OccurrenceTree)

    @property
    def diff_view(self) -> DiffView:
        return self.query_one(DiffView)

    def on_mount(self) -> None:
        self.query_one("#filter-label", Label).display = False
        self.query_one("#cluster-progress", Label).display = False
        self.query_one("#view-hint", Label).display = False
        self.query_one(WarningsPanel).display = False
        if self.controller.result is None:
            self.query_one("#main").display = False
            self.run_scan()
        else:
            self.query_one("#scan-progress").display = False
            self.populate(select_first=True)

    # --- scan --------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="scan")
    def run_scan(self) -> None:
        def progress(done: int, total: int) -> None:
            self.app.call_from_thread(self.scan_progress, done, total)

        # load the rewrite engine (libcst) now, while the scan's progress is on screen
        import migrator_tui.rewrite.build  # noqa: F401

        try:
            self.controller.scan(progress=progress)
        except MigratorError as exc:
            self.app.call_from_thread(self.scan_failed, exc)
            return
        self.app.call_from_thread(self.scan_done)

    def scan_progress(self, done: int, total: int) -> None:
        """Show how far the scan is: files done of the total (the bar and, in words, the label)."""
        self.query_one("#scan-bar", ProgressBar).update(total=max(total, 1), progress=done)
        verb = "Rescanning" if self._rescanning else "Scanning"
        self.query_one("#scan-label", Label).update(f"{verb}… {done:,} / {total:,} files")

    def scan_failed(self, exc: MigratorError) -> None:
        if self._rescanning:
            self._rescanning = False
            self.query_one("#scan-progress").display = False
        self.query_one("#scan-label", Label).update(f"Scan failed: {exc.message}")
        self.app.notify(exc.message, title="Scan failed", severity="error", timeout=30)

    def scan_done(self) -> None:
        self.query_one("#scan-progress").display = False
        self.query_one("#main").display = True
        result = self.controller.result
        if result is not None and result.skipped:
            n = len(result.skipped)
            self.app.notify(f"{n} {'file' if n == 1 else 'files'} could not be read and "
                            f"{'was' if n == 1 else 'were'} skipped.", title="Scan", severity="warning")
        dirty = sorted(self.controller.workspace.dirty)
        if dirty:
            names = ", ".join(dirty[:3]) + (f" and {len(dirty) - 3} more" if len(dirty) > 3 else "")
            self.app.notify(f"{names} {'has' if len(dirty) == 1 else 'have'} uncommitted edits (± local "
                            "edits): the review shows and commits them as the base commit holds them.",
                            title="Uncommitted edits", severity="warning", timeout=10)
        rescanned = self._rescanning
        self._rescanning = False
        self.populate(select_first=not rescanned)
        if rescanned:
            self.app.notify(f"Rescanned: {len(self.controller.occurrences)} occurrences.", title="Scan")

    def action_rescan(self) -> None:
        """Scan the repository again (after edits, a commit or a stash), keeping the decisions
        whose code is unchanged."""
        if self._rescanning:
            return
        self._rescanning = True
        self.query_one("#scan-label", Label).update("Rescanning…")
        self.query_one("#scan-progress").display = True
        self.run_scan()

    # --- tree --------------------------------------------------------------------------------

    def _phase_key(self, occ: Occurrence) -> str:
        return str(occ.phase) if occ.phase is not None else UNPLANNED

    @property
    def cluster_view(self) -> bool:
        """The list shows clusters (asked for with `g`, and computed)."""
        return self.by_cluster and self.controller.clusters is not None

    def populate(self, select_first: bool = False) -> None:
        ctl = self.controller
        shown = self.filter.apply(ctl.occurrences, lambda i: ctl.decision(i).status,
                                  lambda o: ctl.cached_proposal(o) or ctl.cached_summary(o))
        if self.by_cluster and ctl.clusters is None:
            self.start_clustering()  # the phases stay meanwhile
        if self.cluster_view:
            self.shown_occs = self._populate_clusters(shown)
        else:
            self.shown_occs = shown
            self._populate_phases()
        self._show_hint()
        self._update_title()
        label = self.query_one("#filter-label", Label)
        label.display = self.filter.active
        if self.filter.active:
            label.update(f"filter: {' '.join(f'{k}:{v}' for k, v in self.filter.terms)} "
                         f"({len(self.shown_occs)} of {len(ctl.occurrences)})")
        if not self.shown_occs:
            self.query_one(ProposalHeader).show_message(
                "No occurrence matches the filter." if self.filter.active
                else "No occurrence found: nothing to migrate."
            )
            self.diff_view.clear()
            self.query_one(WarningsPanel).show(None)
            return
        target = None
        if not select_first and self.current is not None and self.current in {o.id for o in self.shown_occs}:
            target = self.current
        if target is None:
            first = ctl.next_pending(None, among=self.shown_occs) if select_first else None
            target = (first or self.shown_occs[0]).id
        self.select(target)
        self.tree.focus()
        # once laid out, scroll again so the phase and file above the first occurrence show
        self.call_after_refresh(self.tree.reveal, "occurrence", target)
        self.fill_badges()

    def _populate_phases(self) -> None:
        groups: dict[str, dict[str, list[Occurrence]]] = {}
        for occ in self.shown_occs:
            groups.setdefault(self._phase_key(occ), {}).setdefault(occ.path, []).append(occ)
        built = []
        for phase_key, files in groups.items():
            phase_occs = [o for occs in files.values() for o in occs]
            built.append((
                phase_key,
                self._phase_text(phase_key, phase_occs),
                [(path, self._file_text(path, occs), [(o.id, self._occ_text(o)) for o in occs])
                 for path, occs in files.items()],
            ))
        self.shown_checks = {p: self.shown_checks[p] for files in groups.values() for p in files}
        self.tree.populate(built, len(self.shown_occs))

    def _populate_clusters(self, shown: list[Occurrence]) -> list[Occurrence]:
        """Clusters largest first, each with its shown members, then the occurrences in no
        cluster; returns the occurrences in that order (what `n` and `p` follow)."""
        ctl = self.controller
        by_id = {o.id: o for o in shown}
        built: list[tuple[NodeRef, Text, list[tuple[str, Text]]]] = []
        ordered: list[Occurrence] = []
        for cluster in ctl.clusters or ():
            members = [by_id[m] for m in cluster.members if m in by_id]
            if members:
                built.append((NodeRef("cluster", cluster.id), self._cluster_text(cluster),
                              [(o.id, self._occ_text(o)) for o in members]))
                ordered.extend(members)
        singles = [o for o in shown if ctl.cluster_of(o.id) is None]
        if singles:
            built.append((NodeRef("singles", SINGLES), self._singles_text(),
                          [(o.id, self._occ_text(o)) for o in singles]))
            ordered.extend(singles)
        self.tree.populate_clusters(built)
        return ordered

    def _cluster_text(self, cluster: Cluster) -> Text:
        reviewed = sum(1 for m in cluster.members if self.controller.decision(m).status != PENDING)
        return cluster_label(cluster.size, cluster.strategy, cluster.confidence, cluster.codes, reviewed)

    def _singles_text(self) -> Text:
        ctl = self.controller
        singles = [o for o in ctl.occurrences if ctl.cluster_of(o.id) is None]
        return singles_label(len(singles), sum(1 for o in singles if ctl.decision(o.id).status != PENDING))

    def _show_hint(self) -> None:
        hint = self.query_one("#view-hint", Label)
        hint.display = self.cluster_view
        clusters = self.controller.clusters
        if self.cluster_view and clusters is not None:
            hint.update(f"{len(clusters)} clusters · D decides one · g phases")

    # --- clusters ----------------------------------------------------------------------------

    def action_toggle_clusters(self) -> None:
        """Show the list by cluster of alike proposals (computed by a worker at first) / by phase."""
        if self.controller.result is None:
            return
        self.by_cluster = not self.by_cluster
        self.populate()

    def start_clustering(self) -> None:
        if self._clustering:
            return
        self._clustering = True
        label = self.query_one("#cluster-progress", Label)
        label.update("Grouping alike proposals…")
        label.display = True
        self.compute_clusters()

    @work(thread=True, exclusive=True, group="clusters")
    def compute_clusters(self) -> None:
        worker = get_current_worker()
        found = None
        try:
            found = self.controller.compute_clusters(
                progress=lambda done, total: self._later(self._clustering_progress, done, total),
                cancelled=lambda: worker.is_cancelled)
        finally:
            self._later(self._clusters_ready, found is not None)

    def _clustering_progress(self, done: int, total: int) -> None:
        label = self.query_one("#cluster-progress", Label)
        label.update(f"Grouping alike proposals… {done:,} / {total:,} files")

    def _clusters_ready(self, done: bool) -> None:
        self._clustering = False
        self.query_one("#cluster-progress", Label).display = False
        if done and self.by_cluster:
            self.populate()

    def _cursor_cluster(self) -> Cluster | None:
        ref = self.tree.current
        ctl = self.controller
        if ref is not None and ref.kind == "cluster":
            return ctl.cluster(ref.key)
        return ctl.cluster_of(self.current) if self.current is not None else None

    def _cluster_question(self, cluster: Cluster, open_count: int, decided: int, sample: int) -> Text:
        text = Text(end="")
        text.append(f"Cluster of {cluster.size}: ", "bold")
        text.append(f"{cluster.strategy} [{cluster.confidence}]", "bold")
        text.append(f"  warnings: {', '.join(cluster.codes) or 'none'}", "dim")
        text.append(f"\nDecides the {open_count} undecided member{'s' if open_count != 1 else ''}")
        if decided:
            text.append(f"; {decided} already decided {'is' if decided == 1 else 'are'} left as "
                        f"{'it is' if decided == 1 else 'they are'}")
        if sample:
            text.append(f".\nAccept with a sample: {sample} member{'s' if sample != 1 else ''} picked at "
                        "random, each shown to confirm (a) or reject (r), before the rest is accepted.")
        else:
            text.append(".\nThe member on screen is the only one left: reading it is the sample.")
        return text

    @work(exclusive=True, group="dialog")
    async def action_decide_cluster(self) -> None:
        """Decide for the cluster under the cursor: accept all (safe), with a sample, or reject all."""
        from migrator_tui.review import cluster_decision as cd

        ctl = self.controller
        if ctl.clusters is None:
            self.app.notify("The proposals are not grouped yet: g shows the clusters.")
            return
        cluster = self._cursor_cluster()
        if cluster is None:
            self.app.notify("This occurrence is in no cluster (it has no automatic rewrite): "
                            "decide it alone.")
            return
        sc = ctl.cluster_scope(cluster)
        if not sc.open:
            self.app.notify(f"Every member of this cluster of {cluster.size} is already decided "
                            "individually.")
            return
        seen = self.current if self.current in cluster.members else None
        k = cd.sample_size(len(cd.candidates(sc, seen)))
        answer = await self.app.push_screen_wait(ClusterDecisionScreen(
            self._cluster_question(cluster, len(sc.open), len(sc.decided), k), open_count=len(sc.open),
            sample=k, safe=cluster.confidence == "safe"))
        if answer is None:
            return
        sampled: list[str] = []
        try:
            if answer in (ACCEPT_ALL, REJECT_ALL):
                decisions = cd.decide_all(sc, "accepted" if answer == ACCEPT_ALL else "rejected")
            else:
                sampled = cd.pick_sample(sc, seen)
                self.last_sample = list(sampled)
                outcome = await self._confirm_sample(cluster, sampled)
                if outcome is None:
                    self.app.notify("Cluster decision cancelled: nothing was decided.", title="Cluster")
                    return
                decisions = cd.decide_sampled(sc, seen, sampled, outcome)
        except MigratorError as exc:
            self.app.notify(exc.message, title=exc.title, severity="error")
            return
        if not self._guard(ctl.decide_cluster, cluster, decisions):
            return
        self._cluster_decided(cluster, decisions, len(sc.decided), len(sc.open))

    async def _confirm_sample(self, cluster: Cluster, sample: list[str]) -> list[bool] | None:
        """Show each sample member for the reviewer to confirm; the answers up to the first reject,
        None when cancelled (Esc, or a member whose diff cannot be built)."""
        answers: list[bool] = []
        for i, occ_id in enumerate(sample, 1):
            occ = self.controller.occurrence(occ_id)
            view = await _outcome(self._prepare_view(occ))
            if view is None:
                return None
            answer = await self.app.push_screen_wait(SampleScreen(occ, view, i, len(sample), cluster.size))
            if answer is None:
                return None
            answers.append(answer)
            if not answer:
                break
        return answers

    @work(thread=True, group="sample")
    def _prepare_view(self, occ: Occurrence) -> ProposalView | None:
        try:
            return self.prepare(occ)
        except MigratorError as exc:
            self._later(self.app.notify, exc.message, title=exc.title, severity="error")
            return None

    def _cluster_decided(self, cluster: Cluster, decisions: list[GroupDecision], left: int,
                         open_count: int) -> None:
        for d in decisions:
            self._relabel_occ(d.occ_id)
        self.tree.relabel("cluster", cluster.id, self._cluster_text(cluster))
        for path in {self.controller.occurrence(d.occ_id).path for d in decisions}:
            self.refresh_file(path)
        self._update_title()
        accepted = sum(d.decision == "accepted" for d in decisions)
        rejected = len(decisions) - accepted
        confirmed = sum(d.sampled for d in decisions)
        kept = ""
        if left:
            kept = (f" {left} already decided {'was' if left == 1 else 'were'} left as "
                    f"{'it was' if left == 1 else 'they were'}.")
        if decisions and decisions[-1].sampled and decisions[-1].decision == "rejected":
            message = (f"A sample member was rejected: the cluster decision stopped. {accepted} confirmed "
                       f"{'is' if accepted == 1 else 'are'} accepted, 1 rejected, "
                       f"{open_count - len(decisions)} left undecided.{kept}")
            self.app.notify(message, title="Cluster", severity="warning")
            self.select(decisions[-1].occ_id)
            return
        verb = "Accepted" if accepted else "Rejected"
        sample = f" after {confirmed} confirmed one by one" if confirmed else ""
        self.app.notify(f"{verb} {accepted or rejected} member{'s' if len(decisions) != 1 else ''} of the "
                        f"cluster{sample}.{kept} u undoes all of it.", title="Cluster")
        nxt = self.controller.next_pending(cluster.members[-1], among=self.shown_occs)
        if nxt is not None:
            self.select(nxt.id)
        else:
            self._rerender()

    def _phase_text(self, phase_key: str, occs: list[Occurrence]) -> Text:
        reviewed = sum(1 for o in occs if self.controller.decision(o.id).status != PENDING)
        if phase_key == UNPLANNED:
            return phase_label(None, "Unplanned", None, reviewed, len(occs))
        phase = next((p for p in self.controller.recipe.phases if str(p.number) == phase_key), None)
        name = phase.name if phase else f"Phase {phase_key}"
        return phase_label(int(phase_key), name, phase.priority if phase else None, reviewed, len(occs))

    def _file_text(self, path: str, occs: list[Occurrence]) -> Text:
        reviewed = sum(1 for o in occs if self.controller.decision(o.id).status != PENDING)
        try:
            check = self.controller.file_check(path)
        except MigratorError:
            check = None
        badge = check.badge if check is not None else None
        self.shown_checks[path] = badge
        ctl = self.controller
        return file_label(path, len(occs), reviewed, ctl.committed(path), badge,
                          self._palette() if badge else None, uncommitted=ctl.uncommitted(path),
                          dirty=ctl.dirty(path))

    def _palette(self) -> dict[str, str]:
        theme = self.app.current_theme
        return check_palette({"success": theme.success, "error": theme.error, "warning": theme.warning})

    def _occ_text(self, occ: Occurrence) -> Text:
        d = self.controller.decision(occ.id)
        return occurrence_label(occ, d.status, d.edited is not None, self.controller.confidence(occ),
                                bool(d.note) and d.note != APPLY_NOTE, d.stale, with_path=self.cluster_view)

    def refresh_labels(self, occ_id: str) -> None:
        """Relabel an occurrence and its file and phase, or its cluster (after a decision changed)."""
        occ = self.controller.occurrence(occ_id)
        self.tree.relabel("occurrence", occ_id, self._occ_text(occ))
        self.refresh_file(occ.path)
        self._update_title()

    def refresh_file(self, path: str) -> None:
        """Relabel a file and its phase, or in the cluster view the clusters of its occurrences."""
        same_file = [o for o in self.shown_occs if o.path == path]
        if not same_file:
            return
        if self.cluster_view:
            ctl = self.controller
            for cluster in {c.id: c for o in same_file if (c := ctl.cluster_of(o.id)) is not None}.values():
                self.tree.relabel("cluster", cluster.id, self._cluster_text(cluster))
            if any(ctl.cluster_of(o.id) is None for o in same_file):
                self.tree.relabel("singles", SINGLES, self._singles_text())
            return
        self.tree.relabel("file", path, self._file_text(path, same_file))
        key = self._phase_key(same_file[0])
        self.tree.relabel("phase", key, self._phase_text(key, [o for o in self.shown_occs
                                                               if self._phase_key(o) == key]))

    def _update_title(self) -> None:
        ctl = self.controller
        counts = {PENDING: 0, ACCEPTED: 0, REJECTED: 0, ROLLED_BACK: 0}
        for occ in ctl.occurrences:
            counts[ctl.decision(occ.id).status] += 1
        slice_ = []
        if ctl.phase is not None:
            slice_.append(f"phase {ctl.phase}")
        if ctl.path_glob:
            slice_.append(ctl.path_glob)
        where = f" ({', '.join(slice_)})" if slice_ else ""
        if self.narrow:  # the review's marks: ✓ accepted, ✗ rejected, · pending, ↩ rolled back
            self.title = f"{ctl.root.name} · {ctl.recipe.name}{where}"
            back = f" {counts[ROLLED_BACK]}↩" if counts[ROLLED_BACK] else ""
            self.sub_title = (f"{len(ctl.occurrences)}: {counts[ACCEPTED]}✓ {counts[REJECTED]}✗ "
                              f"{counts[PENDING]}·{back}")
            return
        self.title = f"migrator-tui · {ctl.recipe.name} · {ctl.root.name}{where}"
        self.sub_title = (f"{len(ctl.occurrences)} occurrences · {counts[ACCEPTED]} accepted · "
                          f"{counts[REJECTED]} rejected · {counts[PENDING]} pending"
                          + (f" · {counts[ROLLED_BACK]} rolled back" if counts[ROLLED_BACK] else ""))

    def select(self, occ_id: str) -> None:
        path = self.controller.occurrence(occ_id).path
        file_node = self.tree.nodes.get(("file", path))
        was_open = file_node is None or file_node.is_expanded
        self.tree.reveal("occurrence", occ_id)
        self.show_occurrence(occ_id)
        if not was_open:
            self.fill_badges()

    @on(Tree.NodeHighlighted)
    def _highlighted(self, event: Tree.NodeHighlighted[NodeRef]) -> None:
        ref = event.node.data
        if ref is None:
            return
        if ref.kind == "occurrence":
            if ref.key != self.current:
                self.show_occurrence(ref.key)
        elif ref.kind == "file":
            occs = [o for o in self.shown_occs if o.path == ref.key]
            if occs and (self.current is None or self.controller.occurrence(self.current).path != ref.key):
                self.show_occurrence(occs[0].id)
        elif ref.kind == "cluster":  # its representative (the first member shown)
            cluster = self.controller.cluster(ref.key)
            shown = {o.id for o in self.shown_occs}
            first = next((m for m in cluster.members if m in shown), None) if cluster else None
            if first is not None and first != self.current:
                self.show_occurrence(first)

    # --- the proposal ------------------------------------------------------------------------

    def _view_key(self, occ: Occurrence, proposal: Proposal) -> tuple[object, ...]:
        """What a prepared diff depends on: the proposal, the edit, the view and the theme."""
        return (occ.id, self.controller.file_hash(occ.path), proposal.strategy,
                self.controller.decision(occ.id).edited, self.context_level, self.whole_file,
                self.app.current_theme.dark)

    def show_occurrence(self, occ_id: str) -> None:
        """Show a proposal whose view is prepared; otherwise its header now and the rest once a
        worker has prepared it (the UI thread never builds a proposal, a diff or a highlight)."""
        self.current = occ_id
        occ = self.controller.occurrence(occ_id)
        proposal = self.controller.cached_proposal(occ)
        view = self._prepared.get(self._view_key(occ, proposal)) if proposal is not None else None
        if view is None:
            d = self.controller.decision(occ_id)
            self.query_one(ProposalHeader).show(occ, None, d.status, d.edited is not None, d.note, [])
            self.compute_proposal(occ_id)
            return
        self.render_proposal(occ, view)
        self.prefetch(occ_id)

    @work(thread=True, exclusive=True, group="propose")
    def compute_proposal(self, occ_id: str) -> None:
        occ = self.controller.occurrence(occ_id)
        try:
            self.prepare(occ)
        except MigratorError as exc:
            self.app.call_from_thread(self.app.notify, exc.message, title=exc.title, severity="error")
            return
        if not get_current_worker().is_cancelled:
            self._later(self._computed, occ_id)

    def prepare(self, occ: Occurrence) -> ProposalView:
        """From a worker: the proposal, its diff at the current view and both texts highlighted, so
        showing it on the UI thread only swaps them in."""
        ctl = self.controller
        proposal = ctl.proposal(occ)
        key = self._view_key(occ, proposal)
        found = self._prepared.get(key)
        if found is not None:
            return found
        view = ctl.view(occ, self.context_level, self.whole_file)
        if view.hunks is not None:  # the lines the diff shows, lexed here rather than when painted
            dark = self.app.current_theme.dark
            shown = [line for hunk in view.hunks for line in hunk.lines]
            warm(view.source, (x.old for x in shown if x.old is not None and x.kind != "added"), dark)
            warm(view.new_source, (x.new for x in shown if x.new is not None and x.kind != "removed"), dark)
        self._prepared[key] = view
        return view

    def _later(self, fn, *args) -> None:  # type: ignore[no-untyped-def]
        """From a worker thread: run `fn(*args)` on the UI thread, if this screen is still there."""

        def call() -> None:
            if self.is_attached and not self._closing and not self.app._exit:
                fn(*args)

        with contextlib.suppress(RuntimeError):  # the app has already stopped
            self.app.call_from_thread(call)

    def _computed(self, occ_id: str) -> None:
        self.tree.relabel("occurrence", occ_id, self._occ_text(self.controller.occurrence(occ_id)))
        if occ_id == self.current:
            self.show_occurrence(occ_id)

    def _relabel_occ(self, occ_id: str) -> None:
        self.tree.relabel("occurrence", occ_id, self._occ_text(self.controller.occurrence(occ_id)))

    @work(thread=True, exclusive=True, group="prefetch")
    def prefetch(self, occ_id: str) -> None:
        """Compute the next pending proposals ahead, so `n` shows them at once."""
        worker = get_current_worker()
        occ_ids: list[str] = []
        cursor: str | None = occ_id
        for _ in range(PREFETCH):
            nxt = self.controller.next_pending(cursor, among=self.shown_occs)
            if nxt is None or nxt.id in occ_ids:
                break
            occ_ids.append(nxt.id)
            cursor = nxt.id
        for other in occ_ids:
            if worker.is_cancelled:
                return
            occ = self.controller.occurrence(other)
            known = self.controller.cached_proposal(occ) is not None
            try:
                self.prepare(occ)
            except MigratorError:
                continue
            if not known:
                self._later(self._relabel_occ, other)

    @work(thread=True, exclusive=True, group="badges")
    def fill_badges(self) -> None:
        """Put every occurrence's confidence badge in the tree (cheap summaries, no rewrite built)."""
        worker = get_current_worker()
        batch: list[str] = []
        # only files open in the tree: on a large review they open as the reviewer reaches them
        nodes = self.tree.nodes
        wanted = [o for o in self.shown_occs
                  if (node := nodes.get(("file", o.path))) is not None and node.is_expanded]
        for occ in wanted:
            if worker.is_cancelled:
                return
            if self.controller.confidence(occ) is None:
                try:
                    self.controller.summary(occ)
                except MigratorError:
                    continue
                batch.append(occ.id)
            if len(batch) >= BADGE_BATCH:
                self._later(self._relabel_many, batch)
                batch = []
                time.sleep(0.02)  # a background chore: leave the UI thread (and `n`) the CPU
        if batch:
            self._later(self._relabel_many, batch)

    def _relabel_many(self, occ_ids: list[str]) -> None:
        for occ_id in occ_ids:
            self._relabel_occ(occ_id)

    def _view_name(self) -> str:
        if self.whole_file:
            return "whole file"
        level = self.context_level
        names = {0: "changes only", 1: "3 lines of context", 2: "whole function"}
        return names.get(level, f"function ±{(level - 2) * 10} lines")

    def render_proposal(self, occ: Occurrence, view: ProposalView) -> None:
        """Paint a prepared view (values only)."""
        proposal = view.proposal
        d = self.controller.decision(occ.id)
        self.query_one(ProposalHeader).show(occ, proposal, d.status, d.edited is not None, d.note,
                                            list(view.strategies))
        self.query_one(WarningsPanel).show(proposal, hand_edit=d.edited is not None and d.status == ACCEPTED)
        if view.hunks is None:
            if self.whole_file:
                start, end = 1, len(split_lines(view.source))
            else:
                widen = max(0, self.context_level - 2) * 10
                start = (occ.scope_start or occ.line) - widen
                end = (occ.scope_end or occ.line) + widen
            self.diff_view.show_code(view.source, start, end,
                                     note=f"No automatic rewrite: the code as it is ({self._view_name()}).")
        else:
            hunks = list(view.hunks)
            added, removed = stats(hunks)
            edited = "your edit, " if d.edited is not None else ""
            f_hint = "f function" if self.whole_file else "f whole file"
            s_hint = "s unified" if self.diff_view.split else "s split"
            note = f"{edited}+{added} −{removed} · {self._view_name()} · +/- context · {f_hint} · {s_hint}"
            self.diff_view.show_diff(view.source, view.new_source, hunks, note=note,
                                     at_change=self.whole_file or self.narrow,
                                     focus=view.proposal.start_line if view.proposal else 0)
        self.shown_count += 1

    def _current_occ(self) -> Occurrence | None:
        if self.current is None:
            return None
        return self.controller.occurrence(self.current)

    def _rerender(self) -> None:
        if self.current is not None:
            self.show_occurrence(self.current)

    # --- decisions ---------------------------------------------------------------------------

    def _guard(self, fn, *args) -> bool:  # type: ignore[no-untyped-def]
        try:
            fn(*args)
        except MigratorError as exc:
            self.app.notify(exc.message, title=exc.title, severity="error")
            return False
        return True

    def _decided(self, occ_id: str, advance: bool) -> None:
        self.refresh_labels(occ_id)
        if advance:
            ctl = self.controller
            path = ctl.occurrence(occ_id).path
            nxt = ctl.next_pending(occ_id, among=self.shown_occs)
            file_done = ctl.next_pending(occ_id, among=[o for o in self.shown_occs if o.path == path]) is None
            if nxt is not None and not (file_done and nxt.path != path):
                self.select(nxt.id)
                return
            if nxt is not None:  # the file's last one: stay, so that `c` commits this file
                self.app.notify(f"Every occurrence of {path} is decided: c commits it, n goes on to "
                                f"{nxt.path}.", title="File done")
        self._rerender()

    def action_accept(self) -> None:
        occ = self._current_occ()
        if occ is not None and self._guard(self.controller.accept, occ.id):
            self._decided(occ.id, advance=True)

    def action_reject(self) -> None:
        occ = self._current_occ()
        if occ is not None and self._guard(self.controller.reject, occ.id):
            self._decided(occ.id, advance=True)

    def action_undo(self) -> None:
        try:
            result = self.controller.undo()
        except MigratorError as exc:
            self.app.notify(exc.message, title=exc.title, severity="error")
            return
        if result is None:
            self.app.notify("Nothing to undo.")
            return
        if result.group:
            self._undone_group(result)
            return
        occ_id = result.entry.id
        if result.recommitted is not None:
            self.app.notify(f"Re-committed {result.recommitted.path} to {result.recommitted.branch} "
                            f"({result.recommitted.sha[:8]}).", title="Undo")
        elif result.removed_branch is not None:
            path = result.entry.after.path
            self.app.notify(f"Nothing accepted is left in {path}: its branch was removed.", title="Undo")
        if occ_id not in self.controller._by_id:
            return
        self.refresh_labels(occ_id)
        if occ_id in {o.id for o in self.shown_occs}:
            self.select(occ_id)

    def _undone_group(self, result: UndoResult) -> None:
        """After the undo of a cluster decision: relabel all of it and say what the branches did."""
        ctl = self.controller
        ids = [e.id for e in result.entries if e.id in ctl._by_id]
        for occ_id in ids:
            self._relabel_occ(occ_id)
        for path in {ctl.occurrence(i).path for i in ids}:
            self.refresh_file(path)
        self._update_title()
        n = len(result.entries)
        parts = [f"Undid the cluster decision on {n} occurrence{'s' if n != 1 else ''}"]
        if result.commits:
            parts.append(f"re-committed {', '.join(c.path for c in result.commits)}")
        if result.removed:
            parts.append(f"removed the branch of {', '.join(result.removed)} (nothing accepted is left)")
        self.app.notify("; ".join(parts) + ".", title="Undo")
        for path, why in result.failed.items():
            self.app.notify(f"{path} could not be re-committed: {why}", title="Undo", severity="error")
        if result.entry.id in {o.id for o in self.shown_occs}:
            self.select(result.entry.id)

    def action_cycle_strategy(self) -> None:
        occ = self._current_occ()
        if occ is None:
            return
        proposal = self.controller.cached_proposal(occ)
        if proposal is None:
            return
        names = self.controller.strategies(proposal)
        if len(names) < 2:
            self.app.notify("This occurrence has no other strategy.")
            return
        at = names.index(proposal.strategy) if proposal.strategy in names else -1
        self._switch_strategy(occ, names[(at + 1) % len(names)])

    def _switch_strategy(self, occ: Occurrence, name: str) -> None:
        proposal = self.controller.cached_proposal(occ)
        if proposal is not None and proposal.strategy == name:
            return
        before = self.controller.decision(occ.id).status
        if self._guard(self.controller.set_strategy, occ.id, name):
            if before in ("accepted", "rejected"):
                self.app.notify(f"Strategy {name}: the {before} decision was cleared; "
                                "accept or reject the new diff.", title="Strategy")
            self.refresh_labels(occ.id)
            self._rerender()

    @work(exclusive=True, group="dialog")
    async def action_pick_strategy(self) -> None:
        occ = self._current_occ()
        if occ is None:
            return
        proposal = self.controller.cached_proposal(occ)
        if proposal is None:
            return
        names = self.controller.strategies(proposal)
        if not names:
            self.app.notify("This occurrence has no automatic rewrite to choose a strategy for.")
            return
        choices = [(n, self.controller.strategy_description(n)) for n in names]
        picked = await self.app.push_screen_wait(
            StrategyPickScreen(f"Strategy for {occ.path}:{occ.line}", choices, proposal.strategy))
        if picked is not None:
            self._switch_strategy(occ, picked)

    @work(exclusive=True, group="dialog")
    async def action_edit(self) -> None:
        occ = self._current_occ()
        if occ is None:
            return
        proposal = self.controller.cached_proposal(occ)
        if proposal is None:
            return
        ctl = self.controller
        start, end, text = ctl.edit_region(occ, proposal)

        def validate(candidate: str) -> None:
            ctl.apply_edit(occ, proposal, candidate)

        title = f"Edit {occ.path} lines {start}–{end} (Ctrl+S saves and accepts, Esc cancels)"
        result = await self.app.push_screen_wait(EditScreen(title, text, validate, first_line=start))
        if result is None:
            return
        if self._guard(self.controller.edit, occ.id, result):
            self.app.notify(f"Edited version of {occ.path}:{occ.line} accepted.")
            self._decided(occ.id, advance=False)

    @work(exclusive=True, group="dialog")
    async def action_note(self) -> None:
        occ = self._current_occ()
        if occ is None:
            return
        current = self.controller.decision(occ.id).note
        note = await self.app.push_screen_wait(
            TextPromptScreen(f"Note on {occ.path}:{occ.line}", current,
                             placeholder="what to check, who to ask…",
                             help_text="Enter saves it (it goes into the commit message; empty removes it) "
                                       "· Esc cancels")
        )
        if note is not None and self._guard(self.controller.set_note, occ.id, note.strip()):
            self._decided(occ.id, advance=False)

    def _scope(self) -> tuple[str, list[Occurrence]]:
        """The current file, or the current phase when a phase node has the cursor."""
        ref = self.tree.current
        if ref is not None and ref.kind == "phase":
            phases = self.controller.recipe.phases
            name = next((p.name for p in phases if str(p.number) == ref.key), "Unplanned")
            return f"phase {name!r}", [o for o in self.shown_occs if self._phase_key(o) == ref.key]
        occ = self._current_occ()
        if occ is None:
            return "", []
        return occ.path, [o for o in self.shown_occs if o.path == occ.path]

    @work(exclusive=True, group="dialog")
    async def action_accept_all_safe(self) -> None:
        where, occs = self._scope()
        if not occs:
            return
        pending = [o for o in occs if self.controller.decision(o.id).status == PENDING]
        proposals = await self._proposals_for(pending)
        safe = [o for o in pending if (p := proposals.get(o.id)) is not None and p.confidence == "safe"]
        if not safe:
            self.app.notify(f"No pending safe proposal in {where}.")
            return
        question = f"Accept {len(safe)} safe proposal{'s' if len(safe) != 1 else ''} in {where}?"
        if not await self.app.push_screen_wait(ConfirmScreen(question, yes="Accept")):
            return
        for occ in safe:
            if not self._guard(self.controller.accept, occ.id):
                break
            self.tree.relabel("occurrence", occ.id, self._occ_text(occ))
        self.refresh_labels(safe[-1].id)
        self.app.notify(f"Accepted {len(safe)} safe proposals in {where}.")
        self._rerender()

    async def _proposals_for(self, occs: list[Occurrence]) -> dict[str, Proposal]:
        return await _outcome(self._compute_many(occs)) or {}

    @work(thread=True, group="many")
    def _compute_many(self, occs: list[Occurrence]) -> dict[str, Proposal]:
        """Strategy, confidence and warnings of each (no rewrite is built)."""
        out: dict[str, Proposal] = {}
        for occ in occs:
            try:
                out[occ.id] = self.controller.summary(occ)
            except MigratorError:
                continue
        return out

    @work(exclusive=True, group="dialog")
    async def action_commit_file(self) -> None:
        occ = self._current_occ()
        if occ is None:
            return
        path = occ.path
        accepted = [o for o in self.controller.occurrences
                    if o.path == path and self.controller.decision(o.id).status == ACCEPTED]
        if not accepted:
            self.app.notify(f"No accepted proposal in {path} to commit.", severity="warning")
            return
        committed = await _outcome(self._commit(path))
        if committed is not None:
            self.refresh_file(path)
            n = len(accepted)
            self.app.notify(f"Committed {n} accepted proposal{'s' if n != 1 else ''} of {path} to "
                            f"{committed.branch} ({committed.sha[:8]}).", title="Commit")

    @work(thread=True, group="git")
    def _commit(self, path: str) -> Committed | None:
        try:
            return self.controller.commit_file(path)
        except MigratorError as exc:
            self.app.call_from_thread(self.app.notify, exc.message, title=exc.title, severity="error")
            return None

    @work(exclusive=True, group="dialog")
    async def action_filter(self) -> None:
        current = " ".join(f"{k}:{v}" if k != "text" else v for k, v in self.filter.terms)
        text = await self.app.push_screen_wait(
            TextPromptScreen("Filter occurrences", current, placeholder="path:admin/** decision:pending",
                             help_text=FILTER_HELP)
        )
        if text is None:
            return
        try:
            self.filter = parse_filter(text)
        except MigratorError as exc:
            self.app.notify(exc.message, title=exc.title, severity="error")
            return
        if self.filter.needs_proposals:  # summaries come from a worker; populating only reads them
            await self._proposals_for(self.controller.occurrences)
        self.populate()

    # --- view --------------------------------------------------------------------------------

    def action_widen(self) -> None:
        self.whole_file = False
        self.context_level = min(self.context_level + 1, 12)
        self._rerender()

    def action_narrow(self) -> None:
        self.whole_file = False
        self.context_level = max(self.context_level - 1, 0)
        self._rerender()

    def action_whole_file(self) -> None:
        self.whole_file = not self.whole_file
        self._rerender()

    def action_side_by_side(self) -> None:
        """Toggle side by side; the tree hides meanwhile, so that each side gets half the width."""
        split = not self.diff_view.split
        self.diff_view.split = split
        self.query_one("#tree-pane").display = not split
        self._rerender()

    def action_next_pending(self) -> None:
        self._move(1)

    def action_previous_pending(self) -> None:
        self._move(-1)

    def _move(self, step: int) -> None:
        nxt = self.controller.next_pending(self.current, step, among=self.shown_occs)
        if nxt is None:
            self.app.notify("No pending occurrence left." + (" (filtered)" if self.filter.active else ""))
            return
        self.select(nxt.id)

    def action_branches(self) -> None:
        def refreshed(_: None) -> None:
            # a rollback changes decisions (rolled back) as well as branches: relabel everything
            self.populate()

        self.app.push_screen(BranchesScreen(self.controller), refreshed)

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen())

    def action_quit(self) -> None:
        self.app.exit()


T = TypeVar("T")


async def _outcome(worker: Worker[T]) -> T | None:
    """What a worker returned, or None when it was cancelled before it completed (the app is
    closing, or a newer request of its group replaced it): the action waiting on it ends quietly."""
    try:
        return await worker.wait()
    except WorkerCancelled:
        return None
