"""Path globs of recipes and `--file`: `**` spans directories, `*` and `?` stay inside one name.

Globs come from recipes and command lines, so from anyone: matching must stay fast whatever the
glob. A regular expression with several unbounded repetitions (`**/` a dozen times, or `*a*a*a`)
backtracks exponentially on a path that almost matches, so such a glob is matched by simulating
its automaton instead (every state at once, one pass over the path: time proportional to the
path's length times the glob's). A glob with at most one wildcard that repeats is still compiled
to a regular expression, which cannot blow up with a single repetition and is faster.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# Token kinds of a compiled glob.
_LIT, _ONE, _SET, _STAR, _DEEP, _DIRS = range(6)
#: More repeating wildcards than this (the any-depth prefix included) and the automaton is used.
_REGEX_MAX_REPEATS = 2


@dataclass(frozen=True, slots=True)
class _Token:
    kind: int
    text: str = ""  # the literal character, or the set's characters (ranges expanded lazily)
    ranges: tuple[tuple[str, str], ...] = ()
    negated: bool = False

    def takes(self, c: str) -> bool:
        """For one-character tokens: whether `c` is matched."""
        if self.kind == _LIT:
            return c == self.text
        if c == "/":
            return False
        if self.kind == _ONE:
            return True
        inside = c in self.text or any(lo <= c <= hi for lo, hi in self.ranges)
        return inside != self.negated


class Glob:
    """A compiled glob: `match(path)` is truthy when the whole repository-relative path matches."""

    __slots__ = ("_regex", "_tokens", "glob")

    def __init__(self, glob: str, tokens: tuple[_Token, ...], regex: re.Pattern[str] | None) -> None:
        self.glob = glob
        self._tokens = tokens
        self._regex = regex

    def __repr__(self) -> str:
        return f"Glob({self.glob!r})"

    def match(self, path: str) -> bool:
        if self._regex is not None:
            return self._regex.match(path) is not None
        return _simulate(self._tokens, path)


def _bad(glob: str, why: str) -> ValueError:
    return ValueError(f"bad glob {glob!r}: {why}")


def _parse_set(glob: str, i: int) -> tuple[_Token, int]:
    """The set starting at `glob[i] == "["`; returns it and the index after its `]`."""
    j = i + 1
    negated = glob[j : j + 1] == "!"
    if negated:
        j += 1
    end = glob.find("]", j)
    if end == -1:
        raise _bad(glob, "unclosed '[' (write [[] for a literal '[')")
    body = glob[j:end]
    if not body:
        raise _bad(glob, "empty set '[]' (a set cannot hold ']')")
    if "/" in body:
        raise _bad(glob, "a set cannot hold '/'")
    chars: list[str] = []
    ranges: list[tuple[str, str]] = []
    k = 0
    while k < len(body):
        if k + 2 < len(body) and body[k + 1] == "-":
            lo, hi = body[k], body[k + 2]
            if lo > hi:
                raise _bad(glob, f"range {lo}-{hi} is reversed")
            ranges.append((lo, hi))
            k += 3
        else:
            chars.append(body[k])
            k += 1
    return _Token(_SET, "".join(chars), tuple(ranges), negated), end + 1


def _tokens(glob: str) -> tuple[_Token, ...]:
    out: list[_Token] = []
    i = 0
    while i < len(glob):
        c = glob[i]
        if glob.startswith("**/", i):
            out.append(_Token(_DIRS))
            i += 3
        elif glob.startswith("**", i):
            out.append(_Token(_DEEP))
            i += 2
        elif c == "*":
            out.append(_Token(_STAR))
            i += 1
        elif c == "?":
            out.append(_Token(_ONE))
            i += 1
        elif c == "[":
            tok, i = _parse_set(glob, i)
            out.append(tok)
        else:
            out.append(_Token(_LIT, c))
            i += 1
    if "/" not in glob.rstrip("/"):  # a bare name matches at any depth, like .gitignore
        out.insert(0, _Token(_DIRS))
    # Adjacent repeats add nothing but states: `*` next to `*` is one `*`.
    merged: list[_Token] = []
    for tok in out:
        if merged and tok.kind == merged[-1].kind and tok.kind in (_STAR, _DEEP, _DIRS):
            continue
        merged.append(tok)
    return tuple(merged)


def _regex(tokens: tuple[_Token, ...]) -> re.Pattern[str]:
    parts: list[str] = []
    for tok in tokens:
        if tok.kind == _LIT:
            parts.append(re.escape(tok.text))
        elif tok.kind == _ONE:
            parts.append("[^/]")
        elif tok.kind == _STAR:
            parts.append("[^/]*")
        elif tok.kind == _DEEP:
            parts.append(".*")
        elif tok.kind == _DIRS:
            parts.append("(?:[^/]+/)*")
        else:
            body = "".join(re.escape(c) for c in tok.text)
            body += "".join(f"{re.escape(lo)}-{re.escape(hi)}" for lo, hi in tok.ranges)
            parts.append(f"[^/{body}]" if tok.negated else f"[{body}]")
    return re.compile("".join(parts) + r"\Z", re.DOTALL)


def _simulate(tokens: tuple[_Token, ...], path: str) -> bool:
    """Run the glob's automaton over `path`, keeping every live state at once (no backtracking).

    A state is (token index, inside): before token `k`, or — for a `**/` token — inside one of the
    folder names it is consuming.
    """
    n = len(tokens)

    def closure(states: set[tuple[int, bool]]) -> set[tuple[int, bool]]:
        todo = list(states)
        while todo:
            k, inside = todo.pop()
            skippable = not inside and k < n and tokens[k].kind in (_STAR, _DEEP, _DIRS)
            if skippable and (k + 1, False) not in states:
                states.add((k + 1, False))
                todo.append((k + 1, False))
        return states

    current = closure({(0, False)})
    for c in path:
        nxt: set[tuple[int, bool]] = set()
        for k, inside in current:
            if inside:  # within a folder name of `**/`
                nxt.add((k, c != "/"))
                continue
            if k == n:
                continue
            kind = tokens[k].kind
            if kind == _STAR:
                if c != "/":
                    nxt.add((k, False))
            elif kind == _DEEP:
                nxt.add((k, False))
            elif kind == _DIRS:
                if c != "/":
                    nxt.add((k, True))
            elif tokens[k].takes(c):
                nxt.add((k + 1, False))
        if not nxt:
            return False
        current = closure(nxt)
    return (n, False) in current


@lru_cache(maxsize=512)
def compile_glob(glob: str) -> Glob:
    """Compile a path glob. `**/` spans whole folders, `**` anything; `*`, `?` and `[...]` stay
    inside one name. A glob without `/` matches the file name at any depth (like `.gitignore`);
    one with `/` is anchored at the repository root. `[[]` is a literal `[`. Raises ValueError
    (`bad glob ...: why`) for an empty glob, a leading `/`, `\\`, `//`, an unclosed `[`, an empty
    set `[]`, a reversed range `[z-a]` or a `/` inside a set.
    """
    if not glob:
        raise _bad(glob, "it is empty")
    if glob.startswith("/"):
        raise _bad(glob, "it starts with '/' (globs are relative to the repository root)")
    if "\\" in glob:
        raise _bad(glob, "it contains '\\' (paths use '/'; write [[] for a literal '[')")
    if "//" in glob:
        raise _bad(glob, "it contains '//'")
    tokens = _tokens(glob)
    repeats = sum(1 for t in tokens if t.kind in (_STAR, _DEEP, _DIRS))
    return Glob(glob, tokens, _regex(tokens) if repeats <= _REGEX_MAX_REPEATS else None)
