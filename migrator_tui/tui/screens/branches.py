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
        table.add_columns("file", "branch", "sha", "state", "decisions")
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
            table.add_row(row.path, row.branch if row.has_branch else "—", row.sha[:10] or "—", row.state,
                          row.decisions, key=row.path)
        summary = self.query_one("#branches-summary", Static)
        if self.rows:
            n = sum(1 for r in self.rows if r.has_branch)
            summary.update(f"{n} per-file branch{'es' if n != 1 else ''} from base "
                           f"{self.controller.base_label()}. Enter: diff · x: roll back · i: integrate · "
                           "Esc: back")
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
        if row is None or not row.has_branch:
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
        if not row.has_branch:
            self.app.notify(f"{row.path} has no branch to roll back.")
            return
        question = f"Roll back {row.path}? This deletes branch {row.branch}" + (
            " (it was integrated: a revert commit is made instead)." if row.state == "integrated" else "."
        )
        if not await self.app.push_screen_wait(ConfirmScreen(question, yes="Roll back")):
            return
        try:
            result = self.controller.rollback(row.path)
        except MigratorError as exc:
            self.app.notify(exc.message, title=exc.title, severity="error")
            return
        extra = f"; reverted on the integration branch ({result.revert[:8]})" if result.revert else ""
        self.app.notify(f"Rolled back {row.path}: deleted {result.branch} (was {result.sha[:8]}){extra}.",
                        title="Rollback")
        self.refresh_rows()

    @work(exclusive=True, group="branches")
    async def action_integrate(self) -> None:
        n = sum(1 for r in self.rows if r.has_branch)
        if not n:
            self.app.notify("No per-file branch to integrate yet.")
            return
        question = f"Integrate {n} per-file branch{'es' if n != 1 else ''} into one branch?"
        if not await self.app.push_screen_wait(ConfirmScreen(question, yes="Integrate")):
            return
        try:
            result = self.controller.integrate()
        except MigratorError as exc:
            self.app.notify(exc.message, title=exc.title, severity="error")
            return
        if not result.changed:
            self.app.notify(f"{result.branch} is already up to date.", title="Integrate")
        else:
            self.app.notify(f"Integrated {len(result.files)} file(s) into {result.branch} "
                            f"({(result.sha or '')[:8]}).", title="Integrate")
        self.refresh_rows()

    def action_close(self) -> None:
        self.dismiss(None)
