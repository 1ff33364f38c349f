"""The help screen: every key of the review and branches screens, what it does, and the marks."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from migrator_tui.tui.keys import BRANCH_KEYS, REVIEW_KEYS
from migrator_tui.tui.labels import CHECK_MARKS, MARKS

INTRO = (
    "Ctrl+P opens the command palette: every action, searchable. "
    "Each line on the left is one place the code acquires a {noun} by hand. Read the diff on the "
    "right, then accept (a) or reject (r) it; n jumps to the next one still pending. When a file is "
    "done, c commits its accepted proposals to the file's own branch (your working tree is not "
    "touched); b lists those branches, where one can be rolled back. Decisions are saved as you make "
    "them: quit any time and reopen to resume."
)


def _key_name(binding: Binding) -> str:
    if binding.key_display:
        return binding.key_display
    return binding.key.split(",")[0]


def help_table() -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(no_wrap=True)
    table.add_column(style="dim")
    section = None
    for name, binding in REVIEW_KEYS + BRANCH_KEYS:
        if name != section:
            table.add_row(Text(name, style="underline"), "", "")
            section = name
        table.add_row(_key_name(binding), binding.description, binding.tooltip)
    return table


def marks_text() -> Text:
    text = Text("Marks: ", style="bold")
    for key, mark in MARKS.items():
        text.append(f"{mark} {key}   ", style="")
    text.append("\nBadges: [safe] same behaviour   [review] read the warnings   "
                "[manual] no automatic rewrite   ✉ has a note")
    text.append("\nFiles: ⎇ committed to its branch   ⎇ uncommitted decisions (c commits them)   "
                "± local edits (shown as the base commit holds it)")
    text.append("\nTests (verify): ")
    for badge, mark in CHECK_MARKS.items():
        text.append(f"{mark} {badge if badge != mark.split()[-1] else ''}".rstrip() + "   ")
    return text


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "close", "Close", id="help.close"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog help-dialog"):
            yield Static(Text("migrator-tui — review keys", style="bold"), classes="dialog-question")
            yield Static(INTRO.format(noun=self._noun()), classes="dialog-help")
            yield Static(help_table())
            yield Static(marks_text())
            yield Static("Ctrl+P opens the command palette with every action.  Esc closes this help.",
                         classes="dialog-help")
        yield Footer()

    def _noun(self) -> str:
        controller = getattr(self.app, "controller", None)
        recipe = getattr(controller, "recipe", None)
        return getattr(recipe, "noun", "session")

    def action_close(self) -> None:
        self.dismiss(None)
