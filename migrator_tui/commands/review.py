"""`migrator-tui [review] [PATH] [--recipe R] [--phase N] [--path GLOB] [--rescan]`: the review TUI."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "review",
        help="open the review TUI on a git repository (the default command)",
        description=(
            "Scan the git repository at PATH and review every occurrence: a highlighted diff for each, "
            "one key to decide, one to commit each file to its own branch. Decisions are saved as they "
            "are made; reopening resumes at the first pending occurrence."
        ),
    )
    parser.add_argument("path", nargs="?", default=".", metavar="PATH", help="the repository (default: .)")
    parser.add_argument("--recipe", metavar="NAME|FILE", default=None,
                        help="built-in recipe name or TOML file (default: db-session)")
    parser.add_argument("--phase", type=int, metavar="N", default=None,
                        help="review only the occurrences of phase N")
    parser.add_argument("--path", dest="path_glob", metavar="GLOB", default=None,
                        help="review only files matching GLOB (e.g. 'admin/**')")
    parser.add_argument("--rescan", action="store_true",
                        help="HEAD moved since the review began: re-scan from it, keep unchanged decisions")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from migrator_tui.tui.app import run_review

    code = run_review(Path(args.path), args.recipe, phase=args.phase, path_glob=args.path_glob,
                      rescan=args.rescan)
    print(reopen_hint(args))
    return code


def reopen_hint(args: argparse.Namespace) -> str:
    """What to type to come back to this review (its decisions are saved as they are made)."""
    import shlex

    words = ["migrator-tui", "review", str(Path(args.path).resolve())]
    if args.recipe:
        words += ["--recipe", args.recipe]
    if args.phase is not None:
        words += ["--phase", str(args.phase)]
    if args.path_glob:
        words += ["--path", args.path_glob]
    return ("Every decision is saved. Reopen the review with:\n  " + " ".join(shlex.quote(w) for w in words))
