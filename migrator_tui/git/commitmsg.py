"""Commit messages of per-file migrations and the trailers that mark a commit as ours.

Subject: `Migrate <path>: <n> of <m> occurrences (phase <p>)`; body: one line per applied
occurrence (line, function, strategy, acknowledged warning codes, reviewer note); trailers:
`Migrator-Recipe`, `Migrator-Base`, `Reviewed-by`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from migrator_tui.errors import printable

TRAILER_RECIPE = "Migrator-Recipe"
TRAILER_BASE = "Migrator-Base"
TRAILER_REVIEWED = "Reviewed-by"
TRAILER_KIND = "Migrator-Kind"


@dataclass(frozen=True, slots=True)
class Entry:
    """One applied occurrence, as the commit body lists it."""

    line: int
    function: str
    strategy: str | None
    warnings: Sequence[str] = ()
    note: str = ""
    edited: bool = False


def _one_line(text: str) -> str:
    return " ".join(text.split())


def file_message(
    path: str,
    entries: Sequence[Entry],
    total: int,
    phase: int | None,
    *,
    recipe: str,
    base: str,
    reviewers: Sequence[str],
) -> str:
    phase_txt = "unplanned" if phase is None else str(phase)
    noun = "occurrence" if total == 1 else "occurrences"
    lines = [f"Migrate {printable(path)}: {len(entries)} of {total} {noun} (phase {phase_txt})", ""]
    for e in sorted(entries, key=lambda e: e.line):
        parts = [f"- line {e.line}, {e.function or '<module>'}: {e.strategy or 'default'}"]
        if e.edited:
            parts.append("edited by the reviewer")
        if e.warnings:
            parts.append("warnings acknowledged: " + ", ".join(e.warnings))
        if e.note:
            parts.append(f"note: {printable(_one_line(e.note))}")
        lines.append("; ".join(parts))
    lines.append("")
    lines += trailers(recipe=recipe, base=base, reviewers=reviewers)
    return "\n".join(lines) + "\n"


def trailers(*, recipe: str, base: str, reviewers: Sequence[str] = (), kind: str | None = None) -> list[str]:
    out = [f"{TRAILER_RECIPE}: {recipe}", f"{TRAILER_BASE}: {base}"]
    if kind:
        out.append(f"{TRAILER_KIND}: {kind}")
    out += [f"{TRAILER_REVIEWED}: {_one_line(r)}" for r in dict.fromkeys(reviewers) if r]
    return out


def parse_trailers(message: str) -> dict[str, list[str]]:
    """The trailers of a message's last paragraph (`Key: value` lines)."""
    paragraphs = [p for p in message.strip("\n").split("\n\n") if p.strip()]
    if len(paragraphs) < 2:
        return {}
    out: dict[str, list[str]] = {}
    for line in paragraphs[-1].split("\n"):  # git's lines: a U+2028 in a note is no line break
        key, sep, value = line.partition(": ")
        if not sep or not key or " " in key:
            return {}
        out.setdefault(key, []).append(value.strip())
    return out


def strip_trailers(message: str) -> str:
    """The message without its trailer paragraph."""
    paragraphs = message.strip("\n").split("\n\n")
    if len(paragraphs) >= 2 and parse_trailers(message):
        paragraphs = paragraphs[:-1]
    return "\n\n".join(paragraphs).rstrip("\n")
