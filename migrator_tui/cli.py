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


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole parser, or (`only`) one whose sole sub-command is `only`: a run of one command
    imports that command's module alone (its help, usage and errors are the same)."""
    parser = argparse.ArgumentParser(
        prog="migrator-tui",
        description="Review and apply the migration of hand-closed sessions to context managers.",
    )
    parser.add_argument("--version", action="version", version=f"migrator-tui {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in (only,) if only in COMMANDS else COMMANDS:
        module = importlib.import_module(f"migrator_tui.commands.{name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if DEFAULT_COMMAND in COMMANDS and (
        not args_list or (args_list[0] not in COMMANDS and args_list[0] not in ("-h", "--help", "--version"))
    ):
        args_list.insert(0, DEFAULT_COMMAND)
    parser = build_parser(args_list[0])
    args = parser.parse_args(args_list)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.run(args) or 0)
    except MigratorError as exc:
        print(f"migrator-tui: {printable(exc.message)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM / SIGHUP where a command handles them
        signum = getattr(exc, "signum", 2)
        print("migrator-tui: interrupted." if signum == 2 else "migrator-tui: terminated.", file=sys.stderr)
        return 128 + signum
    except BrokenPipeError:
        return _closed_pipe()
    except OSError as exc:  # disk full, read-only repository, quota, permissions, ...
        print(f"migrator-tui: {printable(os_error_sentence(exc))}", file=sys.stderr)
        return 2


#: The exit code of a command whose reader went away (like git's: 128 + SIGPIPE).
CLOSED_PIPE_EXIT = 141


def _closed_pipe() -> int:
    """`migrator-tui ... | head`: the reader closed the pipe. End quietly, as `git log | head` does
    (no traceback, and no second error when Python flushes stdout at exit)."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return CLOSED_PIPE_EXIT


def os_error_sentence(exc: OSError) -> str:
    """One sentence for a failed file operation; what was written before stays consistent (every
    state file and ref is replaced atomically), so the command can simply be run again."""
    import errno

    hints = {errno.ENOSPC: "the disk is full", errno.EROFS: "the file system is read-only",
             errno.EDQUOT: "the disk quota is exceeded", errno.EACCES: "permission was denied",
             errno.EPERM: "the operation is not permitted", errno.EFBIG: "the file is too large"}
    why = hints.get(exc.errno or 0) or (exc.strerror or exc.__class__.__name__).lower()
    where = f"{exc.filename}" if exc.filename else "a file"
    return (f"Could not write or read {where}: {why}; nothing was half-written (make room or make it "
            "writable, then run the command again).")
