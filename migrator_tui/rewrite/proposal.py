"""What the rewrite engine returns: a proposal per occurrence, as a value (never an exception).

A proposal either rewrites (confidence `safe` or `review`, with warnings) or is `manual` (a reason,
no rewrite). The rewritten region is a run of whole lines of the original file, `start_line` to
`end_line` inclusive, replaced by `after`; scaffolding (imports, a class property) may change other
lines too, so `new_source` is the whole file with this one proposal applied.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from migrator_tui.model import CONFIDENCE_ORDER, Confidence


@dataclass(frozen=True, slots=True)
class Finding:
    """One warning: a stable code, the line concerned, one sentence why, and what to check."""

    code: str
    line: int
    message: str
    hint: str = ""

    def to_json(self) -> dict[str, object]:
        return {"code": self.code, "line": self.line, "message": self.message, "hint": self.hint}


@dataclass(frozen=True, slots=True)
class Proposal:
    occurrence_id: str
    strategy: str | None
    alternatives: tuple[str, ...]
    confidence: Confidence
    warnings: tuple[Finding, ...] = ()
    manual_reason: str | None = None
    start_line: int = 0
    end_line: int = 0
    before: str = ""
    after: str = ""
    new_source: str | None = None
    codes: tuple[str, ...] = field(default=())

    @property
    def is_manual(self) -> bool:
        return self.confidence == "manual"

    def at_least(self, minimum: Confidence) -> bool:
        """True when this proposal is as confident as `minimum` or more (`safe` > `review`)."""
        return not self.is_manual and CONFIDENCE_ORDER[self.confidence] <= CONFIDENCE_ORDER[minimum]


@dataclass(frozen=True, slots=True)
class Choice:
    """A reviewer's accepted form of one occurrence: the strategy, and edited text if any."""

    strategy: str
    edited: str | None = None
