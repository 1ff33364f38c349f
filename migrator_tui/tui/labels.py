"""Labels of the tree and the header, as rich `Text`: marks that read without colour."""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text

from migrator_tui.errors import printable
from migrator_tui.model import Occurrence

#: Decision marks (pending, accepted, accepted with an edit, rejected, rolled back: accepted, then its
#: file's migration was rolled back, stale: code changed since).
MARKS: dict[str, str] = {"pending": "·", "accepted": "✓", "edited": "✎", "rejected": "✗",
                         "rolled back": "↩", "stale": "!"}
BADGES: dict[str, str] = {"safe": "safe", "review": "review", "manual": "manual", "": "…"}
BADGE_STYLES: dict[str, str] = {"safe": "green", "review": "yellow", "manual": "red", "": "dim"}
#: `migrator-tui verify` results of a file's branch (`verify.badge`): a mark and a word, so they
#: read without colour.
CHECK_MARKS: dict[str, str] = {
    "passed": "✓ tests", "failed": "✗ tests", "timeout": "⏱ timeout", "error": "! error",
    "outdated": "~ outdated",
}
#: Which theme colour each result takes (`check_palette` resolves them).
CHECK_COLOURS: dict[str, str] = {
    "passed": "success", "failed": "error", "timeout": "warning", "error": "error", "outdated": "",
}
_FALLBACK = {"success": "green", "error": "red", "warning": "yellow"}


def check_palette(theme_colours: Mapping[str, str | None]) -> dict[str, str]:
    """badge -> rich style, from the theme's colours (`success`, `error`, `warning`)."""
    out = {}
    for badge, name in CHECK_COLOURS.items():
        out[badge] = (theme_colours.get(name) or _FALLBACK[name]) if name else "dim"
    return out


def check_text(badge: str, palette: Mapping[str, str] | None = None, detail: str = "") -> Text:
    """A verification badge (`✓ tests`, `✗ tests`, `⏱ timeout`, `! error`, `~ outdated`)."""
    style = (palette or check_palette({})).get(badge, "")
    text = Text(CHECK_MARKS.get(badge, badge), style=style, no_wrap=True, end="")
    if detail:
        text.append(detail, "dim")
    return text


def phase_label(number: int | None, name: str, priority: str | None, reviewed: int, total: int) -> Text:
    text = Text(no_wrap=True, end="")
    text.append(f"{number}. " if number is not None else "— ", "bold")
    text.append(name, "bold")
    if priority:
        text.append(f" ({priority})", "dim")
    text.append(f"  {reviewed}/{total}", "bold" if reviewed == total else "")
    return text


def file_label(
    path: str, count: int, reviewed: int, committed: bool, check: str | None = None,
    palette: Mapping[str, str] | None = None, *, uncommitted: bool = False, dirty: bool = False,
) -> Text:
    """A file's tree label. `uncommitted`: its branch does not hold its current decisions;
    `dirty`: the working tree has edits to it (the review shows the base commit's content)."""
    text = Text(no_wrap=True, end="")
    text.append(printable(path))
    text.append(f"  {reviewed}/{count}", "dim")
    if committed and uncommitted:
        text.append("  ⎇ uncommitted decisions", "yellow")
    elif committed:
        text.append("  ⎇ committed", "green")
    if dirty:
        text.append("  ± local edits", "yellow")
    if check is not None:
        text.append("  ")
        text.append_text(check_text(check, palette))
    return text


def decision_key(status: str, edited: bool) -> str:
    return "edited" if status == "accepted" and edited else status


def cluster_label(size: int, strategy: str, confidence: str, codes: tuple[str, ...], reviewed: int) -> Text:
    """A cluster's tree label: size, strategy, confidence, warning codes, reviewed/size."""
    text = Text(no_wrap=True, end="")
    text.append(f"{size:>3}× ", "bold")
    text.append(f"{'[' + BADGES[confidence] + ']':<9}", BADGE_STYLES[confidence])
    text.append(strategy, "bold")
    text.append(f"  {reviewed}/{size}", "bold" if reviewed == size else "dim")
    if codes:
        text.append("  " + ", ".join(codes), "yellow")
    return text


def singles_label(count: int, reviewed: int) -> Text:
    """The group of occurrences in no cluster (no automatic rewrite): decided one by one."""
    text = Text(no_wrap=True, end="")
    text.append(f"{count:>3}  ", "bold")
    text.append("one by one (no cluster)", "bold")
    text.append(f"  {reviewed}/{count}", "bold" if reviewed == count else "dim")
    return text


def occurrence_label(
    occ: Occurrence, status: str, edited: bool, confidence: str | None, note: bool, stale: bool = False,
    *, with_path: bool = False,
) -> Text:
    """Mark, line, confidence badge, note mark, then the function (after its file's name,
    `with_path`, in the cluster view, where members come from many files): what matters first, so a
    narrow tree cuts the function's name rather than the badge."""
    key = "stale" if stale else decision_key(status, edited)
    text = Text(no_wrap=True, end="")
    text.append(f"{MARKS[key]} ", "bold")
    text.append(f"L{occ.line:<5} " if occ.line >= 10000 else f"L{occ.line:<5}", "dim")
    badge = confidence or ""
    text.append(f"{'[' + BADGES[badge] + ']':<9}", BADGE_STYLES[badge])
    text.append("✉ " if note else "  ", "dim")
    if with_path:  # the file's name (the header shows its whole path), then the function
        text.append(printable(occ.path.rsplit("/", 1)[-1]) + " ", "dim")
    text.append(occ.function or "<module>")
    return text
