"""Families of generated programs on which the rewrite engine is known to be wrong today.

Each entry names the engine bug it stands for; the behaviour test excludes these programs from its
generation (and says how many), the exploration script reports them apart. Delete an entry when
its bug is fixed: the test then covers the family again.
"""

from __future__ import annotations

from collections.abc import Callable

from behaviour.programs import Program

WRITES = ("add", "modify", "delete")


def _read_only_early_return_before_commit(p: Program) -> bool:
    for i, step in enumerate(p.body):
        if step.startswith("early"):
            before = p.body[:i]
            return "commit" not in before and not set(before) & set(WRITES) and "commit" in p.body[i:]
    return False


KNOWN_BUGS: dict[str, Callable[[Program], bool]] = {
    # B4: an early return before the block's commit, with no write before it, now commits on exit
    # without the `implicit-commit` warning DESIGN.md asks for ("also on early return").
    "B4 read-only early return before the commit": _read_only_early_return_before_commit,
}


def known_bug(program: Program) -> str | None:
    """The name of the known engine bug this program exercises, if any."""
    return next((name for name, hit in KNOWN_BUGS.items() if hit(program)), None)
