"""Edit the proposed code in a Python `TextArea`; saving re-validates it and refuses what does not parse."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, Static, TextArea

from migrator_tui.errors import MigratorError


class EditScreen(ModalScreen[str | None]):
    """Dismisses with the saved text, or None when cancelled. `validate` raises to refuse."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save (validate)", id="edit.save", priority=True),
        # priority: the code editor would otherwise take Esc (to move the focus on)
        Binding("escape", "cancel", "Cancel", id="edit.cancel", priority=True),
    ]

    def __init__(self, title: str, text: str, validate: Callable[[str], None], first_line: int = 1) -> None:
        super().__init__()
        self.title_text = title
        self.text = text
        self.validate = validate
        self.first_line = first_line

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog edit-dialog"):
            yield Label(self.title_text, classes="dialog-question")
            yield TextArea.code_editor(
                self.text, language="python", id="editor", line_number_start=self.first_line
            )
            yield Static("", id="edit-error", classes="dialog-error")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#edit-error", Static).display = False
        self.query_one(TextArea).focus()

    @property
    def editor(self) -> TextArea:
        return self.query_one("#editor", TextArea)

    def action_save(self) -> None:
        text = self.editor.text
        try:
            self.validate(text)
        except MigratorError as exc:
            error = self.query_one("#edit-error", Static)
            error.update(exc.message)
            error.display = True
            line = getattr(exc, "line", None)
            rows = self.editor.document.line_count
            if line is not None and self.first_line <= line < self.first_line + rows:
                row = line - self.first_line
                column = min(getattr(exc, "column", 0), len(self.editor.document.get_line(row)))
                self.editor.move_cursor((row, column))
                self.editor.focus()
            return
        self.dismiss(text)

    def action_cancel(self) -> None:
        self.dismiss(None)
