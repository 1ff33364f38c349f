"""Command-line entry point: `migrator-tui <command> ...`.

Each sub-command lives in `migrator_tui/commands/<name>.py` with `register(subparsers)` and
`run(args) -> int`. Command modules import only light things at top level; heavy imports
(libcst, GitPython, Textual) happen inside `run`, so `scan` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from migrator_tui import __version__
from migrator_tui.errors import MigratorError, printable

#: Sub-commands in help order. `review` is the default when none is named.
COMMANDS: tuple[str, ...] = (
    "review",
    "demo",
    "scan",
    "apply",
    "branches",
    "rollback",
    "integrate",
    "validate",
    "verify",
    "report",
)
DEFAULT_COMMAND = "review"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="migrator-tui",
        description="Review and apply the migration of hand-closed sessions to context managers.",
    )
    parser.add_argument("--version", action="version", version=f"migrator-tui {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"migrator_tui.commands.{name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if DEFAULT_COMMAND in COMMANDS and (
        not args_list or (args_list[0] not in COMMANDS and args_list[0] not in ("-h", "--help", "--version"))
    ):
        args_list.insert(0, DEFAULT_COMMAND)
    parser = build_parser()
    args = parser.parse_args(args_list)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.run(args) or 0)
    except MigratorError as exc:
        print(f"migrator-tui: {printable(exc.message)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("migrator-tui: interrupted.", file=sys.stderr)
        return 130
