"""`migrator-tui report [PATH] [-o FILE] [--json] [--recipe NAME|FILE]`: a Markdown report of the migration
(or its figures as JSON).

Built only from facts in the review state and the repository (see `migrator_tui.checks.report`); printed
to stdout, or written to FILE (atomically). Never changes the review or the repository.
"""

from __future__ import annotations

import argparse
import sys

from migrator_tui.commands.branches import add_common


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "report", help="write a Markdown report of the migration",
        description="A Markdown report from the review state and the repository: counts, decisions, "
                    "branches and their verification, what validate still finds, and the spec's success "
                    "criteria, each ticked only when a fact proves it.",
    )
    parser.add_argument("path", nargs="?", default=".", metavar="PATH", help="the repository (default: .)")
    parser.add_argument("-o", "--output", metavar="FILE", default=None,
                        help="write the report to FILE instead of stdout")
    parser.add_argument("--json", action="store_true",
                        help="print the report's figures as one JSON object instead (occurrences by status, "
                             "decisions per cluster and single, the success criteria)")
    add_common(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from migrator_tui.checks.report import gather, render, report_json
    from migrator_tui.errors import MigratorError
    from migrator_tui.recipe import load_recipe
    from migrator_tui.review.state import atomic_write

    recipe = load_recipe(args.recipe)
    facts = gather(args.path, recipe)
    if args.json:
        import json

        text = json.dumps(report_json(facts), indent=1) + "\n"
    else:
        text = render(facts)
    if args.output is None or args.output == "-":
        sys.stdout.write(text)
        return 0
    try:
        atomic_write(Path(args.output), text.encode("utf-8"))
    except OSError as exc:
        raise MigratorError(f"The report cannot be written to {args.output} ({exc.strerror}).") from None
    print(f"report written to {args.output}", file=sys.stderr)
    return 0
