"""`migrator-tui integrate [PATH] [--into BRANCH]`: every per-file change in one commit.

By default the integration branch `<prefix>/all` is created or moved to a new commit: the base
plus every per-file change (the files are disjoint, so the tree is built directly, without a
merge), its message keeping each file's commit message. The working tree is not touched.

`--into BRANCH` brings the changes into the current branch instead, and only when BRANCH is the
checked-out branch and the working tree has no uncommitted changes to tracked files: a commit on
top of HEAD, then `git merge --ff-only` updates the branch, the index and the working tree.
"""

from __future__ import annotations

import argparse

from migrator_tui.commands.branches import add_common
from migrator_tui.errors import printable


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "integrate", help="put every per-file change in one commit",
        description="Create or update the integration branch (<prefix>/all) with every per-file change, "
                    "or with --into, commit them on the current branch when the working tree is clean.",
    )
    parser.add_argument("path", nargs="?", default=".", metavar="PATH", help="the repository (default: .)")
    parser.add_argument("--into", metavar="BRANCH", default=None,
                        help="the current branch, to commit the changes on (working tree must be clean)")
    parser.add_argument("--only-verified", action="store_true",
                        help="only the files whose branch passed `verify` at its current tip")
    parser.add_argument("--include-failed", action="store_true",
                        help="integrate branches whose `verify` failed (or timed out, or errored) too")
    add_common(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import sys

    from migrator_tui.recipe import load_recipe
    from migrator_tui.review.workspace import Workspace

    recipe = load_recipe(args.recipe)
    with Workspace.open(args.path, recipe, check_head=False) as ws:
        paths = None
        if args.only_verified:
            from migrator_tui.checks.verify import badge

            paths = []
            for path, tip in sorted(ws.flow.tips().items()):
                record = ws.state.files.get(path)
                state = badge(record.verification if record else None, tip)
                if state == "passed":
                    paths.append(path)
                else:
                    why = "not verified" if state is None else state
                    print(f"skipped {printable(path)}: {why} at {tip[:12]}")
        failed = ws.failed_checks(paths)
        if failed and not args.include_failed:
            for path, status in failed.items():
                branch = ws.flow.branch_for(path)
                print(f"migrator-tui: verify {status} on {printable(path)} ({branch})", file=sys.stderr)
            n = len(failed)
            print(f"migrator-tui: {n} branch{'es' if n != 1 else ''} failed verify; nothing was integrated. "
                  "Fix or roll back, or integrate them anyway with --include-failed "
                  "(or only the passing ones with --only-verified).", file=sys.stderr)
            return 2
        result = ws.integrate(args.into, paths)
    for path, why in sorted(result.skipped.items()):
        print(f"skipped {printable(path)}: {printable(why)}")
    n = len(result.files)
    noun = "file" if n == 1 else "files"
    if result.sha is None:
        print("No per-file branches to integrate.")
    elif not result.changed:
        print(f"{result.branch} is up to date at {result.sha[:12]} ({n} {noun}).")
    else:
        print(f"{result.branch} now at {result.sha[:12]}: {n} {noun}")
        for path in result.files:
            print(f"  {printable(path)}" + (f"  (verify {failed[path]}, included with --include-failed)"
                                 if path in failed else ""))
    return 0
