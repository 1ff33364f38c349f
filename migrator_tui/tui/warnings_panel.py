"""The warnings under the diff: code, the line, one sentence why, and what to check."""

from __future__ import annotations

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from migrator_tui.rewrite.proposal import Proposal


class WarningsPanel(VerticalScroll):
    """Lists a proposal's warnings, or the reason a `manual` occurrence has no rewrite."""

    DEFAULT_CSS = """
    WarningsPanel { height: auto; max-height: 40%; padding: 0 1; border-top: solid $primary 50%; }
    WarningsPanel > Static { height: auto; }
    """

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static(id="warnings-body")

    def show(self, proposal: Proposal | None, hand_edit: bool = False) -> None:
        """Show `proposal`'s warnings; `hand_edit`: the reviewer's own version of it is accepted."""
        body = self.query_one("#warnings-body", Static)
        text = Text(end="")
        if proposal is None:
            body.update(text)
            self.display = False
            return
        warnings = proposal.warnings
        if proposal.is_manual:
            # the finding that only restates the manual reason is not a second fact: its code and
            # hint go on the reason's line instead
            reason = proposal.manual_reason or ""
            same = [w for w in warnings if reason and w.message == f"Line {w.line}: {reason}."]
            warnings = [w for w in warnings if w not in same]
            code = f" ({same[0].code}, L{same[0].line})" if same else ""
        if proposal.is_manual and hand_edit:
            text.append("✎ your hand edit is accepted", "bold green")
            text.append(f" (no automatic rewrite{code}: {proposal.manual_reason or 'manual'}).", "dim")
            text.append("\n  e edits it again, u undoes the decision.", "dim")
        elif proposal.is_manual:
            text.append(f"✗ manual{code}: ", "bold red")
            text.append(proposal.manual_reason or "no automatic rewrite for this shape.")
            if same and same[0].hint:
                text.append("\n    → ", "dim")
                text.append(same[0].hint, "italic")
            text.append("\n  Rewrite it by hand (e to edit a version), or r to reject and leave it.", "dim")
        for finding in warnings:
            if text.plain:
                text.append("\n")
            text.append("⚠ ", "bold yellow")
            text.append(finding.code, "bold")
            text.append(f"  L{finding.line}  ", "dim")
            text.append(finding.message)
            if finding.hint:
                text.append("\n    → ", "dim")
                text.append(finding.hint, "italic")
        self.display = bool(text.plain)
        body.update(text)
