"""`migrator-tui validate [PATH] [--ref REF] [--json | --format github]`.

Exit 0 when no direct usage remains, 1 when some does (each is listed), 2 on an input error.
"""

from __future__ import annotations

import argparse
import json
import sys

from migrator_tui.errors import printable


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "validate", help="list what still uses the old pattern (exit 1 if anything does)",
        description="List every remaining direct acquire; exit 1 when there is any, 0 when none.",
    )
    parser.add_argument("path", nargs="?", default=".", metavar="PATH",
                        help="the repository to check (default: .)")
    parser.add_argument("--ref", metavar="REF", default=None,
                        help="check this commit or branch instead of the working tree (no checkout)")
    fmt = parser.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_const", const="json", dest="format",
                     help="print one JSON object: {\"remaining\": [...], ...}")
    fmt.add_argument("--format", choices=("text", "json", "github"), default="text",
                     help="text (default), json, or github (workflow error annotations)")
    parser.add_argument("--recipe", metavar="NAME|FILE", default=None,
                        help="a built-in recipe name or a TOML file (default: db-session)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from migrator_tui.checks.validate import validate
    from migrator_tui.recipe import load_recipe

    recipe = load_recipe(args.recipe)
    result = validate(Path(args.path), recipe, args.ref)
    where = f"at {args.ref}" if args.ref else "in the working tree"
    if args.format == "json":
        sys.stdout.write(json.dumps(result.to_json(), indent=2) + "\n")
    elif args.format == "github":
        for o in result.remaining:
            message = f"direct {o.callee}() in {o.function}: migrate it " \
                      f"to a context manager ({', '.join(o.shapes) or 'plain'})"
            sys.stdout.write(f"::error file={_gh(o.path)},line={o.line},col={o.column + 1},"
                             f"title=migrator-tui {recipe.name}::{message}\n")
        if result.remaining:
            sys.stdout.write(f"::notice title=migrator-tui::{len(result.remaining)} direct "
                             f"usage(s) remain {where}\n")
    else:
        if not result.remaining:
            sys.stdout.write(f"No direct {recipe.acquire.label} usage remains {where} "
                             f"({result.files_scanned} files checked).\n")
        else:
            n = len(result.remaining)
            sys.stdout.write(f"{n} direct {recipe.acquire.label} usage{'s' if n != 1 else ''} "
                             f"remain{'s' if n == 1 else ''} {where}:\n")
            for o in result.remaining:
                shapes = f"  [{', '.join(o.shapes)}]" if o.shapes else ""
                sys.stdout.write(f"  {printable(o.path)}:{o.line}: {o.function}{shapes}\n")
        for s in result.skipped:
            sys.stdout.write(f"  skipped {printable(s.path)}: {printable(s.reason)}\n")
    return 1 if result.remaining else 0


def _gh(value: str) -> str:
    """A workflow-command property value as GitHub reads it (`%`, CR, LF, `:` and `,` escaped)."""
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return printable(value.replace(":", "%3A").replace(",", "%2C"))
