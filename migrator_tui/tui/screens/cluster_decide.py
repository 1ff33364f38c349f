"""The cluster decision dialogs: what to decide for a cluster, then each sample member to confirm."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Label, Static

from migrator_tui.errors import printable
from migrator_tui.model import Occurrence
from migrator_tui.tui.controller import ProposalView
from migrator_tui.tui.diff_view import DiffView
from migrator_tui.tui.labels import BADGE_STYLES
from migrator_tui.tui.warnings_panel import WarningsPanel

#: What `ClusterDecisionScreen` dismisses with.
ACCEPT_ALL, ACCEPT_SAMPLE, REJECT_ALL = "accept", "sample", "reject"


class ClusterDecisionScreen(ModalScreen[str | None]):
    """Accept all (a `safe` cluster only), accept with a sample, reject all, or cancel (Esc)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer('accept')", "Accept all", id="cluster.accept"),
        Binding("s", "answer('sample')", "Accept with a sample", id="cluster.sample"),
        Binding("x", "answer('reject')", "Reject all", id="cluster.reject"),
        Binding("escape,n", "answer(None)", "Cancel", id="cluster.cancel"),
    ]

    def __init__(self, question: Text, *, open_count: int, sample: int, safe: bool) -> None:
        super().__init__()
        self.question = question
        self.open_count = open_count
        self.sample = sample
        self.safe = safe

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.question, classes="dialog-question")
            if not self.safe:
                yield Label("A review cluster is accepted only after its sample: no review proposal is "
                            "accepted unseen.", classes="dialog-help")
            with Vertical(classes="dialog-choices"):  # one line each: fits 80 columns
                if self.safe:
                    yield Button(f"Accept all {self.open_count} (y)", variant="success", id="accept")
                sampled = (f"Accept after confirming a sample of {self.sample} (s)" if self.sample
                           else f"Accept the {self.open_count} you read (s)")
                yield Button(sampled, variant="primary", id="sample")
                yield Button(f"Reject all {self.open_count} (x)", variant="error", id="reject")
                yield Button("Cancel (Esc)", id="cancel")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_answer(None if event.button.id == "cancel" else event.button.id)

    def action_answer(self, answer: str | None) -> None:
        if answer == ACCEPT_ALL and not self.safe:
            self.app.notify("Not for a review cluster: accept it with a sample (s).", severity="warning")
            return
        self.dismiss(answer)


class SampleScreen(ModalScreen[bool | None]):
    """One sample member's diff and warnings: `a` confirms, `r` rejects (and stops), Esc cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "answer(True)", "Confirm", id="sample.accept"),
        Binding("r", "answer(False)", "Reject and stop", id="sample.reject"),
        Binding("escape", "cancel", "Cancel the cluster decision", id="sample.cancel"),
    ]

    def __init__(self, occ: Occurrence, view: ProposalView, index: int, total: int,
                 cluster_size: int) -> None:
        super().__init__()
        self.occ = occ
        self.view = view
        self.index = index
        self.total = total
        self.cluster_size = cluster_size

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog sample-dialog"):
            yield Static(self._title(), classes="dialog-question", id="sample-title")
            yield DiffView(id="sample-diff")
            yield WarningsPanel(id="sample-warnings")
            yield Label("a confirms it · r rejects it: the cluster decision stops there, the rest stays "
                        "undecided · Esc cancels: nothing is decided", classes="dialog-help")
        yield Footer()

    def _title(self) -> Text:
        occ, p = self.occ, self.view.proposal
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        text.append(f"Sample {self.index} of {self.total}", "bold")
        text.append(f" (cluster of {self.cluster_size})  ", "dim")
        text.append(f"{printable(occ.path)}:{occ.line}", "bold")
        text.append(f"  [{p.confidence}]", f"bold {BADGE_STYLES.get(p.confidence, '')}")
        text.append(f"  {occ.function or '<module>'}()  {p.strategy or ''}")
        return text

    def on_mount(self) -> None:
        view = self.view
        diff = self.query_one(DiffView)
        if view.hunks is None:
            occ = self.occ
            diff.show_code(view.source, occ.scope_start or occ.line, occ.scope_end or occ.line)
        else:
            diff.show_diff(view.source, view.new_source, list(view.hunks), at_change=True,
                           focus=view.proposal.start_line)
        self.query_one(WarningsPanel).show(view.proposal)
        diff.focus()

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)

    def action_cancel(self) -> None:
        self.dismiss(None)
