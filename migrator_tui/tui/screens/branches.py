"""Per-file branches: branch, sha, state; view a branch's diff, roll one back, integrate them all."""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from migrator_tui.diff import build_diff
from migrator_tui.errors import MigratorError
from migrator_tui.tui.controller import BranchView, ReviewController
from migrator_tui.tui.diff_view import DiffView
from migrator_tui.tui.keys import BRANCH_KEYS
from migrator_tui.tui.screens.confirm import ConfirmScreen


class BranchesScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [binding for _, binding in BRANCH_KEYS]
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-narrow"), (100, "-wide")]

    def __init__(self, controller: ReviewController) -> None:
        super().__init__()
        self.controller = controller
        self.rows: list[BranchView] = []

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="branches-body"):
            yield Static("", id="branches-summary")
            yield DataTable(id="branches-table", cursor_type="row", zebra_stripes=True)
            yield DiffView(id="branch-diff")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "Branches"
        table = self.query_one(DataTable)
        table.add_columns("file", "branch", "sha", "state")
        self.refresh_rows()
        table.focus()

    def refresh_rows(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        try:
            self.rows = self.controller.branches()
        except MigratorError as exc:
            self.rows = []
            self.app.notify(exc.message, title=exc.title, severity="error")
        for row in self.rows:
            table.add_row(row.path, row.branch, row.sha[:10], row.state, key=row.path)
        summary = self.query_one("#branches-summary", Static)
        if self.rows:
            summary.update(f"{len(self.rows)} per-file branches from base {self.controller.base_label()}. "
                           "Enter: diff · x: roll back · i: integrate · Esc: back")
        else:
            summary.update("No per-file branch yet: commit a file with c on the review screen.")
        self.query_one(DiffView).clear()

    def _selected(self) -> BranchView | None:
        table = self.query_one(DataTable)
        if not self.rows or table.cursor_row < 0 or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row]

    def action_view_diff(self) -> None:
        row = self._selected()
        if row is None:
            return
        try:
            old, new = self.controller.branch_diff(row.path)
        except MigratorError as exc:
            self.app.notify(exc.message, title=exc.title, severity="error")
            return
        self.query_one(DiffView).show_diff(old, new, build_diff(old, new, context=3),
                                           note=f"{row.branch}: {row.path}")

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_view_diff()

    @work(exclusive=True, group="branches")
    async def action_rollback(self) -> None:
        row = self._selected()
        if row is None:
            return
        question = f"Roll back {row.path}? This deletes branch {row.branch}" + (
            " (it was integrated: a revert commit is made instead)." if row.state == "integrated" else "."
        )
        if not await self.app.push_screen_wait(ConfirmScreen(question, yes="Roll back")):
            return
        try:
            self.controller.rollback(row.path)
        except MigratorError as exc:
            self.app.notify(exc.message, title=exc.title, severity="error")
            return
        self.app.notify(f"Rolled back {row.path}.", title="Rollback")
        self.refresh_rows()

    @work(exclusive=True, group="branches")
    async def action_integrate(self) -> None:
        if not self.rows:
            return
        question = f"Integrate {len(self.rows)} per-file branches into one branch?"
        if not await self.app.push_screen_wait(ConfirmScreen(question, yes="Integrate")):
            return
        try:
            branch = self.controller.integrate()
        except MigratorError as exc:
            self.app.notify(exc.message, title=exc.title, severity="error")
            return
        self.app.notify(f"Integrated into {branch}.", title="Integrate")
        self.refresh_rows()

    def action_close(self) -> None:
        self.dismiss(None)
