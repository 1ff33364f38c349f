"""Families of generated programs on which the rewrite engine is known to be wrong today.

Each entry names the engine bug it stands for; the behaviour test excludes these programs from its
generation (and says how many), the exploration script reports them apart. Delete an entry when
its bug is fixed: the test then covers the family again.
"""

from __future__ import annotations

from collections.abc import Callable

from behaviour.programs import Program

#: Empty: every family the harness found wrong is fixed. Add an entry (name -> predicate on the
#: generated program) only together with an entry in the engine's bug list, and remove it with the fix.
KNOWN_BUGS: dict[str, Callable[[Program], bool]] = {}


def known_bug(program: Program) -> str | None:
    """The name of the known engine bug this program exercises, if any."""
    return next((name for name, hit in KNOWN_BUGS.items() if hit(program)), None)
