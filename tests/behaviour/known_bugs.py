"""Families of generated programs on which the rewrite engine is known to be wrong today.

Each entry names the engine bug it stands for; the behaviour test excludes these programs from its
generation (and says how many), the exploration script reports them apart. Delete an entry when
its bug is fixed: the test then covers the family again.
"""

from __future__ import annotations

from collections.abc import Callable

from behaviour.programs import Program

WRITES = ("add", "modify")


def _write_after_last_commit(p: Program) -> bool:
    if "commit" not in p.body:
        return False
    last = max(i for i, s in enumerate(p.body) if s == "commit")
    return any(s in WRITES for s in p.body[last + 1:])


def _early_return_before_close_statement(p: Program) -> bool:
    return p.release == "after" and any(s.startswith("early") for s in p.body)


KNOWN_BUGS: dict[str, Callable[[Program], bool]] = {
    # B1: a write after the block's last commit is committed on exit with no implicit-commit warning
    # (the check is "the block never committed", not "this path left writes uncommitted").
    "B1 write after the last commit": _write_after_last_commit,
    # B2: a return before a closing `close()` statement left the session open; the rewrite closes
    # it on that path with no warning.
    "B2 early return before close()": _early_return_before_close_statement,
}


def known_bug(program: Program) -> str | None:
    """The name of the known engine bug this program exercises, if any."""
    return next((name for name, hit in KNOWN_BUGS.items() if hit(program)), None)
