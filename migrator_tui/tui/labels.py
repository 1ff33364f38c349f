"""Labels of the tree and the header, as rich `Text`: marks that read without colour."""

from __future__ import annotations

from rich.text import Text

from migrator_tui.model import Occurrence

#: Decision marks (pending, accepted, accepted with an edit, rejected, stale: code changed since).
MARKS: dict[str, str] = {"pending": "·", "accepted": "✓", "edited": "✎", "rejected": "✗", "stale": "!"}
BADGES: dict[str, str] = {"safe": "safe", "review": "review", "manual": "manual", "": "…"}
BADGE_STYLES: dict[str, str] = {"safe": "green", "review": "yellow", "manual": "red", "": "dim"}


def phase_label(number: int | None, name: str, priority: str | None, reviewed: int, total: int) -> Text:
    text = Text(no_wrap=True, end="")
    text.append(f"{number}. " if number is not None else "— ", "bold")
    text.append(name, "bold")
    if priority:
        text.append(f" ({priority})", "dim")
    text.append(f"  {reviewed}/{total}", "bold" if reviewed == total else "")
    return text


def file_label(path: str, count: int, reviewed: int, committed: bool) -> Text:
    text = Text(no_wrap=True, end="")
    text.append(path)
    text.append(f"  {reviewed}/{count}", "dim")
    if committed:
        text.append("  ⎇ committed", "green")
    return text


def decision_key(status: str, edited: bool) -> str:
    return "edited" if status == "accepted" and edited else status


def occurrence_label(
    occ: Occurrence, status: str, edited: bool, confidence: str | None, note: bool, stale: bool = False
) -> Text:
    key = "stale" if stale else decision_key(status, edited)
    text = Text(no_wrap=True, end="")
    text.append(f"{MARKS[key]} ", "bold")
    text.append(f"L{occ.line:<5}", "dim")
    text.append(occ.function or "<module>")
    badge = confidence or ""
    text.append(f" [{BADGES[badge]}]", BADGE_STYLES[badge])
    if note:
        text.append(" ✉", "dim")
    return text
