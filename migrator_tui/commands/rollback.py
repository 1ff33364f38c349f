"""`migrator-tui rollback [PATH] FILE|BRANCH...`: undo one file's migration.

A branch not yet integrated is deleted, and the sha that restores it is printed. A file whose
change is in the integration branch is also reverted there, by a new commit restoring its base
content (the working tree is never touched).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from migrator_tui.commands.branches import add_common
from migrator_tui.errors import printable


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "rollback", help="undo one file's migration (delete or revert its branch)",
        description="Undo files' migrations: delete their branches, reverting them on the integration "
                    "branch when they were integrated. PATH (a directory) may come first.",
    )
    parser.add_argument("items", nargs="+", metavar="[PATH] FILE|BRANCH",
                        help="an optional repository directory, then files or branch names")
    add_common(parser)
    parser.set_defaults(run=run)


def split_items(items: list[str]) -> tuple[str, list[str]]:
    """(repository path, targets): a first item that is a directory is the repository."""
    if items and Path(items[0]).is_dir():
        return items[0], items[1:]
    return ".", items


def repo_relative(target: str, root: Path) -> str:
    """A target given as a path that exists from here becomes repository-relative; else as is."""
    p = Path(target)
    if p.exists() and not p.is_dir():
        try:
            return Path(os.path.relpath(p.resolve(), root.resolve())).as_posix()
        except ValueError:
            return target
    return target


def run(args: argparse.Namespace) -> int:
    from migrator_tui.errors import MigratorError
    from migrator_tui.recipe import load_recipe
    from migrator_tui.review.workspace import Workspace

    path, targets = split_items(args.items)
    if not targets:
        raise MigratorError("Name at least one file or branch to roll back.")
    recipe = load_recipe(args.recipe)
    failed = 0
    with Workspace.open(path, recipe, check_head=False) as ws:
        for target in targets:
            try:
                rel = target if target.startswith(ws.state.prefix + "/") else repo_relative(target, ws.root)
                r = ws.rollback(rel)
            except MigratorError as exc:
                print(f"migrator-tui: {printable(exc.message)}", file=sys.stderr)
                failed += 1
                continue
            if r.revert:
                print(f"{printable(r.path)}: reverted on {ws.flow.integration_branch} ({r.revert[:12]}) "
                      f"and deleted {r.branch}")
            else:
                print(f"{printable(r.path)}: deleted {r.branch}")
            print(f"  restore it with: git branch {r.branch} {r.sha}")
            if r.in_head:
                import shlex

                quoted = shlex.quote(r.path)
                print("  its change is also in the current HEAD (integrated with --into, in one commit with "
                      "every other file: `git revert` of that commit would undo them all).\n"
                      "  To revert this file only, on your branch:\n"
                      f"    git restore --source={r.base[:12]} --staged --worktree -- {quoted}\n"
                      f"    git commit -m {shlex.quote(f'Roll back the migration of {r.path}')}")
    return 2 if failed else 0
