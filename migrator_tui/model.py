"""Plain data shared by every stage: occurrences, scan results, the shape vocabulary.

Nothing here imports anything heavier than the standard library, so the scan path stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Confidence = Literal["safe", "review", "manual"]
CONFIDENCE_ORDER: dict[str, int] = {"safe": 0, "review": 1, "manual": 2}

#: The shape vocabulary: how an occurrence's lifetime is written. One list, shared by the scanner,
#: the rewrite engine, the filters and `docs/shapes.md`.
SHAPES: dict[str, str] = {
    "try-finally": "closed in the `finally` of a `try` that follows the acquire",
    "try-except-finally": "that `try` also has `except` handlers",
    "rollback-in-handler": "a handler calls `<var>.rollback()`",
    "none-guard": "`<var> = None` before the `try`, closed under `if <var>:`",
    "acquire-in-try": "the acquire is the first statement inside the `try` that closes it",
    "statements-before-try": "statements sit between the acquire and the `try`",
    "reused-variable": "the function acquires into the same name more than once",
    "nested-function": "inside a nested function (a closure or decorator wrapper)",
    "method": "acquired from an attribute of `self` (a service method)",
    "raw-with": "the raw session is used as its own context manager: `with ...get_session() as s:`",
    "early-return": "returns from inside the block",
    "explicit-commit": "calls `<var>.commit()` itself",
    "no-close": "the session is never closed",
    "inline": "a chained call such as `get_session().query(...)`: nothing binds the session",
    "used-after-close": "the session is used after its `close()`",
    "session-escapes": "the session itself is returned, yielded, stored or passed out",
    "outer-handler": "the block sits inside an enclosing `try` that has handlers",
    "module-level": "at module level",
    "class-body": "directly in a class body",
    "generator": "the enclosing function is a generator",
    "async": "the enclosing function is `async def`",
    "close-in-try": "`<var>.close()` is also called inside the `try` (closed twice)",
}


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One acquire call site."""

    id: str
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    function: str
    decorators: tuple[str, ...]
    variable: str | None
    receiver: str
    shapes: tuple[str, ...]
    phase: int | None
    #: First and last line of the enclosing function (the whole file for module level).
    scope_start: int = 0
    scope_end: int = 0
    #: The class holding the enclosing method, if any.
    class_name: str | None = None
    #: The enclosing function is a route (decorated with `<x>.route(...)`, `.get(...)`, ...).
    is_view: bool = False
    #: Of the recipe's watched names (rule `reads`), those the enclosing function reads.
    reads: tuple[str, ...] = ()
    #: Of the recipe's strategy manager names, those bound at module level in this file.
    bound: tuple[str, ...] = ()
    #: The called name, dotted: `db_manager.get_session`, `SessionLocal`, `sqlite3.connect`.
    callee: str = ""

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "line": self.line,
            "column": self.column,
            "function": self.function,
            "decorators": list(self.decorators),
            "variable": self.variable,
            "receiver": self.receiver,
            "callee": self.callee,
            "shapes": list(self.shapes),
        }

    @property
    def receiver_self(self) -> bool:
        return self.receiver == "self" or self.receiver.startswith("self.")


@dataclass(frozen=True, slots=True)
class SkippedFile:
    """A file the scan could not read, with the reason in a few words."""

    path: str
    reason: str


@dataclass(frozen=True, slots=True)
class Excluded:
    """An acquire that is deliberately not an occurrence (e.g. a context manager's own body)."""

    path: str
    line: int
    function: str
    reason: str


@dataclass(slots=True)
class ScanResult:
    """Everything a scan found in one repository."""

    root: str
    recipe: str
    base: str | None
    occurrences: list[Occurrence] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    excluded: list[Excluded] = field(default_factory=list)
    files_scanned: int = 0
    #: sha1 of each scanned file's bytes (hex), for files holding an occurrence.
    file_hashes: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return len(self.occurrences)

    def by_path(self) -> dict[str, list[Occurrence]]:
        out: dict[str, list[Occurrence]] = {}
        for occ in self.occurrences:
            out.setdefault(occ.path, []).append(occ)
        return out
