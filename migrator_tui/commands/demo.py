"""`migrator-tui demo [DIR] [--no-tui]`: write the demo repository, then open the review on it."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="write the bundled demo repository (a fresh git repo) and review it",
        description=(
            "Write the bundled demo application, a Flask app with hand-closed database sessions, "
            "to DIR as a fresh git repository with one commit, then open the review on it."
        ),
    )
    parser.add_argument(
        "dir",
        nargs="?",
        metavar="DIR",
        help="new or empty directory to write to (default: a new temporary directory)",
    )
    parser.add_argument(
        "--no-tui",
        action="store_true",
        help="only write the repository and print how to scan it",
    )
    parser.set_defaults(run=run)


def _review_available() -> bool:
    from migrator_tui import cli

    return "review" in cli.COMMANDS


def run(args: argparse.Namespace) -> int:
    from migrator_tui.demo import build_demo

    if args.dir is None:
        target = Path(tempfile.mkdtemp(prefix="migrator-demo-"))
    else:
        target = Path(args.dir).expanduser()
    sha = build_demo(target)
    print(f"Wrote the demo repository to {target} (commit {sha[:12]} on main).")
    review = _review_available()
    if args.no_tui or not review:
        print("Scan it with:")
        print(f"  migrator-tui scan {target}")
        if review:
            print("Review it with:")
            print(f"  migrator-tui review {target}")
        return 0
    from migrator_tui import cli

    code = cli.main(["review", str(target)])
    print(f"The demo repository is at {target} (its own tests: cd {target} && python -m pytest).")
    return code
