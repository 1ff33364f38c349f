"""Clusters of alike proposals: decided once for all their members.

Two proposals are alike when they have the same strategy, the same confidence, the same shape
tags, the same warning codes, and the same *normalised diff*: the lines the rewrite removes and
adds, stripped of their indentation (a body that only moves into the `with` is not a change),
with every identifier, string and number abstracted, consistently within the diff (`session` and
`db` both become `n1` where they play the same part). So a `review` proposal whose warnings differ
from another's is never in its cluster, and neither is a rewrite of another form.

A cluster's representative is its first member in path and line order; members are listed in
that order, clusters largest first. Manual proposals are not clustered (there is no rewrite to
decide on). Pure values in, values out: nothing here reads files or knows about the review state.
"""

from __future__ import annotations

import difflib
import hashlib
import io
import keyword
import math
import tokenize
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from migrator_tui.sourcefile import split_lines


@dataclass(frozen=True, slots=True)
class Member:
    """What clustering needs of one proposal."""

    id: str
    path: str
    line: int
    strategy: str
    confidence: str
    codes: tuple[str, ...]
    shapes: tuple[str, ...]
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class Cluster:
    id: str
    strategy: str
    confidence: str
    codes: tuple[str, ...]
    shapes: tuple[str, ...]
    #: the normalised diff every member shares
    diff: str
    members: tuple[str, ...]

    @property
    def representative(self) -> str:
        return self.members[0]

    @property
    def size(self) -> int:
        return len(self.members)

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "size": self.size, "strategy": self.strategy, "confidence": self.confidence,
                "codes": list(self.codes), "shapes": list(self.shapes), "representative": self.representative,
                "members": list(self.members)}


def _abstract(lines: Sequence[str]) -> list[str]:
    """The lines with identifiers, strings and numbers replaced by placeholders numbered in order
    of first appearance (keywords, operators and the structure kept)."""
    names: dict[str, str] = {}
    out = []
    for line in lines:
        try:
            tokens = list(tokenize.generate_tokens(io.StringIO(line).readline))
        except (tokenize.TokenError, IndentationError, SyntaxError):
            out.append(" ".join(line.split()))  # a line of a multi-line construct: as it is
            continue
        parts = []
        for tok in tokens:
            if tok.type == tokenize.NAME and not keyword.iskeyword(tok.string):
                parts.append(names.setdefault(tok.string, f"n{len(names) + 1}"))
            elif tok.type == tokenize.STRING or tok.type == getattr(tokenize, "FSTRING_START", -1):
                parts.append("s")
            elif tok.type == tokenize.NUMBER:
                parts.append("0")
            elif tok.type in (tokenize.OP, tokenize.NAME):
                parts.append(tok.string)
        out.append(" ".join(parts))
    return out


def normalised_diff(before: str, after: str) -> str:
    """The removed (`-`) and added (`+`) lines of the rewrite, indentation stripped, abstracted."""
    old = [ln.strip() for ln in split_lines(before)]
    new = [ln.strip() for ln in split_lines(after)]
    removed, added = [], []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag in ("replace", "delete"):
            removed.extend(old[i1:i2])
        if tag in ("replace", "insert"):
            added.extend(new[j1:j2])
    abstract = _abstract([*removed, *added])  # one numbering for both sides
    minus = ["- " + x for x in abstract[: len(removed)]]
    plus = ["+ " + x for x in abstract[len(removed):]]
    return "\n".join([*minus, *plus])


def clusters(members: Iterable[Member]) -> list[Cluster]:
    """The clusters of `members` (manual ones left out), largest first, then by first member."""
    groups: dict[tuple[str, str, tuple[str, ...], tuple[str, ...], str], list[Member]] = {}
    for m in members:
        if m.confidence == "manual":
            continue
        key = (m.strategy, m.confidence, tuple(sorted(set(m.codes))), tuple(sorted(m.shapes)),
               normalised_diff(m.before, m.after))
        groups.setdefault(key, []).append(m)
    out = []
    for (strategy, confidence, codes, shapes, diff), found in groups.items():
        found.sort(key=lambda m: (m.path, m.line, m.id))
        digest = hashlib.sha1("\0".join([strategy, confidence, *codes, *shapes, diff]).encode()).hexdigest()
        out.append(Cluster(f"c{digest[:10]}", strategy, confidence, codes, shapes, diff,
                           tuple(m.id for m in found)))
    out.sort(key=lambda c: (-c.size, c.members[0]))
    return out


#: A sample is this many members, or `SAMPLE_SHARE` of them when that is more.
SAMPLE_MIN = 3
SAMPLE_SHARE = 0.10


def sample_size(candidates: int) -> int:
    """How many members a sample takes among `candidates`: 3, or 10% when that is more, never
    more than the candidates."""
    return min(candidates, max(SAMPLE_MIN, math.ceil(candidates * SAMPLE_SHARE)))


def review_effort(found: Sequence[Cluster], manual: int, safe_scopes: int = 0) -> dict[str, int]:
    """What deciding by cluster asks of a reviewer: one decision per cluster and per manual
    occurrence (each is rejected or rewritten by hand), and, for every `review` cluster accepted
    with a sample, its sample's members to confirm one by one (drawn from the members other than
    the representative, which is read first). `decisions_accepting_safe`: the same review when the
    `safe` proposals are accepted at once in each of the `safe_scopes` phases that hold some (the
    TUI's `A`, as ruff applies its safe fixes), and only `review` clusters decided by cluster."""
    return {
        "clusters": len(found),
        "decisions": len(found) + manual,
        "decisions_accepting_safe": safe_scopes + sum(1 for c in found if c.confidence == "review") + manual,
        "confirmations": sum(sample_size(c.size - 1) for c in found if c.confidence == "review"),
        "largest": max((c.size for c in found), default=0),
    }
