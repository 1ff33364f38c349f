"""The review app: `make_app(...)` builds it (tests and snapshots reuse it), `run_review(...)` runs it."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

from textual.app import App, SystemCommand
from textual.screen import Screen

from migrator_tui.tui.controller import ReviewController
from migrator_tui.tui.keys import REVIEW_KEYS
from migrator_tui.tui.screens.review import ReviewScreen


class MigratorApp(App[int]):
    """Review a repository's occurrences, decide each, commit each file to its branch."""

    CSS_PATH = "app.tcss"
    TITLE = "migrator-tui"
    ENABLE_COMMAND_PALETTE = True

    def __init__(self, controller: ReviewController) -> None:
        super().__init__()
        self.controller = controller

    def on_mount(self) -> None:
        self.push_screen(ReviewScreen(self.controller))

    def on_unmount(self) -> None:
        self.controller.close()

    @property
    def review_screen(self) -> ReviewScreen:
        return next(s for s in self.screen_stack if isinstance(s, ReviewScreen))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if not isinstance(screen, ReviewScreen):
            return
        for _, binding in REVIEW_KEYS:
            if binding.action == "quit":
                continue
            key = binding.key_display or binding.key.split(",")[0]
            action = getattr(screen, f"action_{binding.action}")
            yield SystemCommand(f"{binding.description} ({key})", binding.tooltip or "", action)


def make_app(
    path: Path,
    recipe_name: str | None = None,
    phase: int | None = None,
    path_glob: str | None = None,
    rescan: bool = False,
) -> MigratorApp:
    """An app on the git repository at `path` (raises `MigratorError` for a bad recipe or phase)."""
    from migrator_tui.recipe import DEFAULT_RECIPE, load_recipe

    recipe = load_recipe(recipe_name or DEFAULT_RECIPE)
    if phase is not None and phase not in {p.number for p in recipe.phases}:
        from migrator_tui.errors import RecipeError

        known = ", ".join(str(p.number) for p in recipe.phases)
        raise RecipeError(f"Recipe {recipe.name} has no phase {phase} (phases: {known}).")
    controller = ReviewController(Path(path).resolve(), recipe, phase=phase, path_glob=path_glob,
                                  rescan=rescan)
    controller.open()
    _start_resource_tracker()
    return MigratorApp(controller)


def _start_resource_tracker() -> None:
    """Start multiprocessing's resource tracker while stderr is still the real one.

    On a large repository the scan spreads over a pool of spawned processes; spawning starts the
    tracker with `sys.stderr.fileno()`, which fails once Textual has captured stderr.
    """
    if sys.platform == "win32":
        return
    from multiprocessing import resource_tracker

    try:
        sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        return  # no real stderr here: the tracker cannot be started from this process either
    resource_tracker.ensure_running()


def run_review(
    path: Path,
    recipe_name: str | None = None,
    phase: int | None = None,
    path_glob: str | None = None,
    rescan: bool = False,
) -> int:
    """Run the review TUI on `path` until the user quits; the exit code (0).

    Raises `MigratorError` (before the screen opens) for a bad recipe, phase or repository.
    """
    app = make_app(path, recipe_name, phase=phase, path_glob=path_glob, rescan=rescan)
    try:
        app.run()
    finally:
        app.controller.close()
    return app.return_code or 0
