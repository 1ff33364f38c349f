"""The `/` filter: `key:value` terms (path, function, shape, code, decision, confidence) and bare words.

No Textual here. Terms are ANDed; a bare word matches the path or the function name. `path:` takes a
glob when it holds `*` or `?`, else a substring. Terms on `code` and `confidence` need the proposal,
which the caller passes (or `None` when it is not computed: such terms then do not match).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from migrator_tui.errors import MigratorError
from migrator_tui.model import Occurrence
from migrator_tui.recipe import compile_glob
from migrator_tui.rewrite.proposal import Proposal

KEYS: dict[str, str] = {
    "path": "path", "file": "path",
    "function": "function", "fn": "function", "func": "function",
    "shape": "shape",
    "code": "code", "warning": "code",
    "decision": "decision", "status": "decision",
    "confidence": "confidence", "conf": "confidence",
}

FILTER_HELP = ("e.g. `admin/** decision:pending confidence:review code:orm-escape shape:raw-with "
               "fn:dashboard` — terms are ANDed; empty clears the filter.")


class FilterError(MigratorError):
    """A filter term this syntax does not know."""


@dataclass(frozen=True, slots=True)
class Filter:
    terms: tuple[tuple[str, str], ...] = ()

    @property
    def active(self) -> bool:
        return bool(self.terms)

    @property
    def needs_proposals(self) -> bool:
        return any(key in ("code", "confidence") for key, _ in self.terms)

    def matches(self, occ: Occurrence, decision: str, proposal: Proposal | None) -> bool:
        return all(_term(key, value, occ, decision, proposal) for key, value in self.terms)

    def apply(
        self,
        occs: list[Occurrence],
        decision: Callable[[str], str],
        proposal: Callable[[Occurrence], Proposal | None],
    ) -> list[Occurrence]:
        if not self.terms:
            return occs
        need = self.needs_proposals
        return [o for o in occs if self.matches(o, decision(o.id), proposal(o) if need else None)]


def parse_filter(text: str) -> Filter:
    terms: list[tuple[str, str]] = []
    for word in text.split():
        key, sep, value = word.partition(":")
        if not sep:
            terms.append(("text", word))
            continue
        canonical = KEYS.get(key.lower())
        if canonical is None:
            raise FilterError(f"Unknown filter key {key!r}: use one of path, function, shape, code, "
                              "decision, confidence.")
        if canonical == "path" and any(c in value for c in "*?["):
            try:
                compile_glob(value)
            except ValueError as exc:
                raise FilterError(f"Bad path glob {value!r}: {exc}.") from None
        terms.append((canonical, value))
    return Filter(tuple(terms))


def _term(key: str, value: str, occ: Occurrence, decision: str, proposal: Proposal | None) -> bool:
    low = value.lower()
    if key == "text":
        return low in occ.path.lower() or low in (occ.function or "").lower()
    if key == "path":
        if any(c in value for c in "*?["):
            return bool(compile_glob(value).match(occ.path))
        return low in occ.path.lower()
    if key == "function":
        return low in (occ.function or "").lower()
    if key == "shape":
        return any(low == s or low in s for s in occ.shapes)
    if key == "decision":
        return decision.startswith(low)
    if proposal is None:
        return False
    if key == "confidence":
        return proposal.confidence.startswith(low)
    if key == "code":
        return any(low in f.code for f in proposal.warnings)
    return False
