"""The header above the diff: where, what shape, which strategy (and the others), the decision."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from migrator_tui.errors import printable
from migrator_tui.model import Occurrence
from migrator_tui.rewrite.proposal import Proposal
from migrator_tui.tui.labels import BADGE_STYLES, MARKS, decision_key


class ProposalHeader(Static):
    """Summary of the selected occurrence and its proposal."""

    DEFAULT_CSS = """
    ProposalHeader { height: auto; padding: 0 1; background: $boost; }
    """

    def show(
        self,
        occ: Occurrence,
        proposal: Proposal | None,
        status: str,
        edited: bool,
        note: str,
        strategies: list[str],
    ) -> None:
        # one line each (cut with … when narrow): the diff below needs the rows more
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        text.append(f"{printable(occ.path)}:{occ.line}", "bold")
        if proposal is not None:
            text.append(f"  [{proposal.confidence}]", f"bold {BADGE_STYLES[proposal.confidence]}")
        else:
            text.append("  [computing…]", "dim")
        key = decision_key(status, edited)
        text.append(f"  {MARKS[key]} {key}", "bold")
        text.append(f"\n{occ.function}()" if occ.function and occ.function != "<module>" else "\n<module>")
        text.append("  shapes: ", "dim")
        text.append(", ".join(occ.shapes) or "—")
        text.append("\nstrategy: ", "dim")
        if proposal is None:
            text.append("…")
        elif proposal.is_manual and edited:
            text.append("your hand edit")
        elif proposal.strategy is None or (proposal.is_manual and len(strategies) < 2):
            text.append("none: no automatic rewrite (e writes one by hand)")
        else:
            if proposal.is_manual:
                text.append("manual under ", "dim")
            for name in strategies:
                if name == proposal.strategy:
                    text.append(f"[{name}]", "bold reverse")
                else:
                    text.append(name, "dim")
                text.append(" ")
            if len(strategies) > 1:
                text.append(" t: next · T: pick", "dim italic")
        if note:
            text.append("\nnote: ", "dim")
            text.append(note, "italic")
        self.update(text)

    def show_message(self, message: str) -> None:
        self.update(Text(message, style="dim"))
