"""Per-file branches: branch, sha, state, tests; view a branch's diff, roll one back, integrate them all.

The tests column is the last `migrator-tui verify` of each branch (status, seconds, log, and with
`--coverage` how many rewritten blocks no test executes); the selected row's run shows under the
table (a line per rewritten block when it was measured, then the tail of its output), and the
header line has the base and integration checks.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from migrator_tui.errors import MigratorError
from migrator_tui.review.diff import build_diff
from migrator_tui.tui.controller import BranchView, CheckView, ReviewController
from migrator_tui.tui.diff_view import DiffView
from migrator_tui.tui.keys import BRANCH_KEYS
from migrator_tui.tui.labels import check_palette, check_text
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
            yield Static("", id="branch-check")
            yield DiffView(id="branch-diff")
        yield Footer()

    #: The table's columns; the log's path is in the panel under the table, with the run's output.
    COLUMNS: ClassVar[tuple[str, ...]] = ("file", "tests", "state", "decisions", "sha", "branch")

    def on_mount(self) -> None:
        self.title = "Branches"
        self.refresh_rows()
        self.query_one(DataTable).focus()

    def refresh_rows(self) -> None:
        table = self.query_one(DataTable)
        cursor = table.cursor_row
        try:
            self.rows = self.controller.branches()
        except MigratorError as exc:
            self.rows = []
            self.app.notify(exc.message, title=exc.title, severity="error")
        palette = self._palette()
        cells: list[tuple[Text | str, ...]] = []
        for row in self.rows:
            check = row.check
            tests: Text | str = "—"
            if check is not None:
                extra = f" · {check.unverified} unverified" if check.unverified else ""
                tests = check_text(check.badge, palette, f" {check.seconds:.1f}s{extra}")
            cells.append((row.path, tests, row.state, row.decisions, row.sha[:10] or "—",
                          row.branch if row.has_branch else "—"))
        # explicit widths, from the header and every cell: a table refilled after a rollback or an
        # integrate (from a worker, behind a dialog) otherwise kept only the headers' widths
        table.clear(columns=True)
        widths = [max([len(name), *(len(c[i].plain if isinstance(c[i], Text) else c[i]) for c in cells)])
                  for i, name in enumerate(self.COLUMNS)]
        # too wide for the screen: the branch names give way, cut at the start, where they are
        # all alike (the selected row's whole name heads its diff below)
        over = sum(w + 2 for w in widths) + 2 - self.app.size.width
        if over > 0 and widths[-1] - over >= 12:
            widths[-1] -= over
            cells = [(*c[:-1], elide_start(str(c[-1]), widths[-1])) for c in cells]
        for name, width in zip(self.COLUMNS, widths, strict=True):
            table.add_column(name, width=width)
        for row, values in zip(self.rows, cells, strict=True):
            table.add_row(*values, key=row.path)
        if self.rows:
            table.move_cursor(row=min(max(cursor, 0), len(self.rows) - 1))
        summary = self.query_one("#branches-summary", Static)
        if self.rows:
            n = sum(1 for r in self.rows if r.has_branch)
            text = Text(f"{n} per-file branch{'es' if n != 1 else ''} from base "
                        f"{self.controller.base_label()}. ↑↓ the branch and its diff · x roll back · "
                        "i integrate · Esc back")
        else:
            text = Text("No per-file branch yet: commit a file with c on the review screen.")
        text.append_text(self._checks_line(palette))
        summary.update(text)
        self.follow_cursor()

    def follow_cursor(self) -> None:
        """The panels under the table show the selected row: its check, and its branch's diff."""
        row = self._selected()
        self.show_check(row)
        if row is None:
            self.query_one(DiffView).clear("No branch selected.")
        elif not row.has_branch:
            self.query_one(DiffView).clear(f"{row.path} has no branch: nothing committed.")
        else:
            self.load_diff(row)

    @work(thread=True, exclusive=True, group="branch-diff")
    def load_diff(self, row: BranchView) -> None:
        """From a worker: the branch's diff against the base (git reads and the diff stay off the
        UI thread)."""
        try:
            old, new = self.controller.branch_diff(row.path)
            hunks = build_diff(old, new, context=3)
        except MigratorError as exc:
            self.app.call_from_thread(self.query_one(DiffView).clear, exc.message)
            return

        def show() -> None:
            if self._selected() == row:
                self.query_one(DiffView).show_diff(old, new, hunks, note=f"{row.branch}: {row.path}")

        self.app.call_from_thread(show)

    def _palette(self) -> dict[str, str]:
        theme = self.app.current_theme
        return check_palette({"success": theme.success, "error": theme.error, "warning": theme.warning})

    def _checks_line(self, palette: dict[str, str]) -> Text:
        """A second line `base: ✓ tests 2.1s · integration: ~ outdated`; empty when neither ran."""
        try:
            checks = self.controller.checks()
        except MigratorError:
            return Text()
        if not checks:
            return Text()
        line = Text("\n")
        for i, (name, check) in enumerate(checks.items()):
            if i:
                line.append(" · ")
            line.append(f"{name}: ", "bold")
            line.append_text(check_text(check.badge, palette, f" {check.seconds:.1f}s"))
        return line

    def show_check(self, row: BranchView | None) -> None:
        """The selected row's verification: status, command, log and the tail of its output."""
        panel = self.query_one("#branch-check", Static)
        check: CheckView | None = row.check if row is not None else None
        panel.display = check is not None
        if row is None or check is None:
            panel.update("")
            return
        text = Text()
        text.append_text(check_text(check.badge, self._palette()))
        when = f" on {check.sha[:10]}" + (" (the branch moved since)" if check.badge == "outdated" else "")
        text.append(f"  {row.path}: {check.status} in {check.seconds:.1f}s{when} · {check.command}", "bold")
        if check.log:
            text.append(f"\nlog: {check.log}", "dim")
        if check.coverage:
            text.append(f"\ncoverage: {check.coverage}", "bold")
            for line in check.blocks:
                text.append("\n  " + line, "bold" if "no test executes" in line else "")
        if check.output:
            text.append("\n" + check.output)
        panel.update(text)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.follow_cursor()

    def _selected(self) -> BranchView | None:
        table = self.query_one(DataTable)
        if not self.rows or table.cursor_row < 0 or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row]

    def action_view_diff(self) -> None:
        """Put the focus on the selected branch's diff (it follows the cursor already)."""
        self.follow_cursor()
        self.query_one(DiffView).focus()

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
        if result.in_head:
            extra += (f". Its change is also on your branch (one commit for every file): to revert this file "
                      f"only, run git restore --source={result.base[:12]} --staged --worktree -- "
                      f"{result.path} and commit")
        self.app.notify(f"Rolled back {row.path}: deleted {result.branch} (was {result.sha[:8]}){extra}.",
                        title="Rollback")
        self.refresh_rows()

    @work(exclusive=True, group="branches")
    async def action_integrate(self) -> None:
        n = sum(1 for r in self.rows if r.has_branch)
        if not n:
            self.app.notify("No per-file branch to integrate yet.")
            return
        target = self.controller.workspace.flow.integration_branch
        question = f"Integrate {n} per-file branch{'es' if n != 1 else ''} into {target}?"
        failed = self.controller.failed_checks()
        if failed:
            listed = ", ".join(f"{p} ({status})" for p, status in failed.items())
            question += (f"\n{len(failed)} of them failed verify: {listed}. "
                         "They are included if you go on.")
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
            n = len(result.files)
            self.app.notify(f"Integrated {n} file{'s' if n != 1 else ''} into {result.branch} "
                            f"({(result.sha or '')[:8]}).", title="Integrate")
        self.refresh_rows()

    def action_close(self) -> None:
        self.dismiss(None)


def elide_start(text: str, width: int) -> str:
    """`text` in `width` characters: `…` and its end, where branch names differ (whole when it
    fits)."""
    if len(text) <= width:
        return text
    return "…" + text[len(text) - (width - 1):]
