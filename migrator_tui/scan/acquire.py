"""Which calls are a recipe's acquire: `<receiver>.<method>(...)` and calls of a name.

A recipe's `[acquire]` names a method (`get_session` on the receivers it lists, or on any
receiver), callees (`calls`), or both:

- a callee without a dot (`SessionLocal`) matches by its last part: `SessionLocal()`,
  `db.SessionLocal()`, `self.SessionLocal()`;
- a dotted callee (`sqlite3.connect`, `sqlalchemy.orm.Session`) matches through the file's
  imports only: `import sqlite3` then `sqlite3.connect(...)`, `import sqlite3 as lite` then
  `lite.connect(...)`, `from sqlite3 import connect` then `connect(...)`. A local `class Session`
  is not `sqlalchemy.orm.Session`, and neither is a `Session` imported from somewhere else.

`arguments` is an exact count, or "any". The byte prefilter (`may_hold`) keeps the scan fast:
a file is parsed only when its text can hold a matching call — the method's or a callee's last
name where a call can follow it (the next thing past spaces, line continuations, comments and
closing brackets is `(`: `SessionLocal()`, `db.get_session ()`, `(SessionLocal)()`), or a dotted
callee's last name imported under another name (`from sqlalchemy.orm import Session as S`, then
`S()`). A `Session` that only annotates (`db: Session = Depends(get_db)`) is not read. Names are
searched as the parser reads them: in a file whose text is not in NFKC form, in that form too
(`ｇet_session()` is `get_session()` to the parser).
"""

from __future__ import annotations

import ast
import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from typing import NamedTuple

from migrator_tui.recipe.model import ANY_ARGUMENTS, Acquire


class AcquireSpec(NamedTuple):
    method: str
    receivers: frozenset[str]
    any_receiver: bool
    arguments: int
    calls: tuple[str, ...] = ()
    factories: tuple[str, ...] = ()


def spec_of(acquire: Acquire) -> AcquireSpec:
    return AcquireSpec(acquire.method, frozenset(acquire.receivers), acquire.any_receiver,
                       acquire.arguments, acquire.calls, acquire.factories)


def _last_name(node: ast.AST) -> str | None:
    """The receiver's last name: `db_manager` for `x.db_manager` or `cfg["db_manager"]`."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
        value = node.slice.value
        return value if isinstance(value, str) else None
    return None


def dotted(node: ast.AST) -> str | None:
    """`a.b.c` for a chain of names and attributes, else None."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _callee_last(func: ast.expr) -> str | None:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else None


#: What may stand between a callee's last name and the `(` of its call: spaces and line breaks,
#: a line continuation, a comment (inside brackets), a closing bracket (`(SessionLocal)()`).
_GAP = rb"(?:[\s)\\]|#[^\r\n]*)*"
#: ... and between an imported name and the `as` that renames it.
_AS_GAP = rb"(?:[\s\\]|#[^\r\n]*)+"


@lru_cache(maxsize=16)
def prefilter(spec: AcquireSpec) -> re.Pattern[bytes]:
    """The text a file must hold to have an acquire call: the method's or a callee's last name
    (a factory's too: the names bound to its result are found where it is called) followed by a
    call, or a dotted callee's last name renamed by an import."""
    called = {c.rsplit(".", 1)[-1] for c in spec.calls} | set(spec.factories)
    if spec.method:
        called.add(spec.method)
    renamed = {c.rsplit(".", 1)[-1] for c in spec.calls if "." in c}

    def one_of(names: set[str]) -> bytes:
        return rb"\b(?:" + b"|".join(re.escape(n.encode()) for n in sorted(names)) + rb")"

    parts = []
    if called:
        parts.append(one_of(called) + _GAP + rb"\(")
    if renamed:
        parts.append(one_of(renamed) + _AS_GAP + rb"as\b")
    return re.compile(b"|".join(parts) if parts else rb"(?!)")


def parsed_as(data: bytes, text: str | None = None) -> bytes:
    """`data` as the parser reads its names: the NFKC form of its text (Python reads every
    identifier so, `ｆ` as `f`) where that differs, else `data` itself. `text`: `data` decoded,
    when known; a file that cannot be decoded is `data` (the parser cannot read it either)."""
    if data.isascii():
        return data
    if text is None:
        from migrator_tui.sourcefile import UndecodableSource, decode

        try:
            text = decode(data)[0]
        except UndecodableSource:
            return data
    if unicodedata.is_normalized("NFKC", text):
        return data
    return unicodedata.normalize("NFKC", text).encode("utf-8", "surrogatepass")


def may_hold(data: bytes, spec: AcquireSpec) -> bool:
    """Whether a file of these bytes can hold an acquire call (see `prefilter`)."""
    pattern = prefilter(spec)
    if pattern.search(data) is not None:
        return True
    names = parsed_as(data)
    return names is not data and pattern.search(names) is not None


def statements(tree: ast.Module) -> list[ast.stmt]:
    """Every statement of the module, nested ones included (no expression is visited: imports and
    assignments are all a matcher looks for, and this is far cheaper than `ast.walk`)."""
    out: list[ast.stmt] = []
    todo: list[ast.stmt] = list(tree.body)
    while todo:
        st = todo.pop()
        out.append(st)
        for name in ("body", "orelse", "finalbody"):
            block = getattr(st, name, None)
            if block.__class__ is list:
                todo.extend(block)  # type: ignore[arg-type]
        for handler in getattr(st, "handlers", ()):
            todo.extend(handler.body)
        for case in getattr(st, "cases", ()):
            todo.extend(case.body)
    return out


def made_by(tree: ast.Module, factories: frozenset[str], stmts: list[ast.stmt] | None = None
            ) -> frozenset[str]:
    """Names the file binds to what a factory call returns: `SessionLocal = sessionmaker(...)`,
    `self.Session = sessionmaker(bind=e)`, `Session = scoped_session(sessionmaker())`."""
    out: set[str] = set()
    for node in statements(tree) if stmts is None else stmts:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Call) \
                and _callee_last(node.value.func) in factories:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                if isinstance(t, ast.Name):
                    out.add(t.id)
                elif isinstance(t, ast.Attribute):
                    out.add(t.attr)
    return frozenset(out)


def imported_names(tree: ast.Module, stmts: list[ast.stmt] | None = None) -> dict[str, str]:
    """What each name bound by an import statement of the file stands for, qualified:
    `import a.b` binds `a` → `a`; `import a.b as c` → `a.b`; `from a import b as c` → `a.b`."""
    out: dict[str, str] = {}
    for node in statements(tree) if stmts is None else stmts:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    out[alias.asname] = alias.name
                else:
                    root = alias.name.split(".", 1)[0]
                    out[root] = root
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                if alias.name != "*":
                    out[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return out


class Matcher:
    """The acquire test for the calls of one parsed file."""

    def __init__(self, spec: AcquireSpec, tree: ast.Module | None = None,
                 data: bytes | None = None) -> None:
        self.spec = spec
        wanted = spec.factories or any("." in c for c in spec.calls)
        stmts = statements(tree) if tree is not None and wanted \
            else []
        factories = frozenset(f for f in spec.factories if data is None or f.encode() in data)
        self.bare = frozenset(c for c in spec.calls if "." not in c) | (
            made_by(tree, factories, stmts) if factories and tree is not None else frozenset())
        self.qualified = frozenset(c for c in spec.calls if "." in c)
        self.imports: dict[str, str] = {}
        #: local names that may stand for a qualified callee (its module or itself)
        self.aliases: frozenset[str] = frozenset()
        if self.qualified and tree is not None:
            self.imports = imported_names(tree, stmts)
            self.aliases = frozenset(
                local for local, full in self.imports.items()
                if any(q == full or q.startswith(full + ".") for q in self.qualified))

    def line_words(self) -> tuple[bytes, ...]:
        """Bytes whose lines may hold an acquire call (the prefilter of the walk)."""
        return tuple(sorted(n.encode() for n in self.callee_names()))

    def matches(self, node: ast.Call) -> bool:
        spec = self.spec
        if spec.arguments != ANY_ARGUMENTS and len(node.args) + len(node.keywords) != spec.arguments:
            return False
        func = node.func
        if (spec.method and isinstance(func, ast.Attribute) and func.attr == spec.method
                and (spec.any_receiver or _last_name(func.value) in spec.receivers)):
            return True
        if not self.bare and not self.qualified:
            return False
        last = _callee_last(func)
        if last is None:
            return False
        if last in self.bare:
            return True
        if self.qualified:
            chain = dotted(func)
            parts = chain.split(".") if chain else None
            if parts and parts[0] in self.imports:
                full = ".".join([self.imports[parts[0]], *parts[1:]])
                return full in self.qualified
        return False

    def callee_names(self) -> frozenset[str]:
        """Last names a matching call's callee can have (attribute or name)."""
        names = set(self.bare) | {q.rsplit(".", 1)[-1] for q in self.qualified} | set(self.aliases)
        if self.spec.method:
            names.add(self.spec.method)
        return frozenset(names)


def acquire_calls(tree: ast.AST, matcher: Matcher, nodes: Iterable[ast.AST] | None = None
                  ) -> dict[int, list[ast.Call]]:
    """Every acquire call of the tree (or of `nodes`, all of its nodes when known), by first line."""
    names = matcher.callee_names()
    out: dict[int, list[ast.Call]] = {}
    for node in ast.walk(tree) if nodes is None else nodes:
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        last = _callee_last(func)
        if last in names and matcher.matches(node):
            out.setdefault(node.lineno, []).append(node)
    return out
