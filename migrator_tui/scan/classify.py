"""Find the acquire calls in one file's syntax tree (stdlib `ast`) and name their shapes.

`scan_source` is the whole job for one file: parse, find, classify. It runs in worker processes,
so its inputs and outputs are plain picklable values. The shape tags are those of
`model.SHAPES`; `docs/shapes.md` says how each one is recognised.
"""

from __future__ import annotations

import ast
from bisect import bisect_left
from dataclasses import dataclass
from typing import NamedTuple

from migrator_tui.model import Excluded, Occurrence
from migrator_tui.scan import trees
from migrator_tui.scan.acquire import AcquireSpec, Matcher, dotted, parsed_as
from migrator_tui.sourcefile import split_lines

_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_TRIES: tuple[type, ...] = (ast.Try, ast.TryStar) if hasattr(ast, "TryStar") else (ast.Try,)
_ROUTE_METHODS = frozenset({"route", "get", "post", "put", "delete", "patch"})
_CONTEXT_MANAGER_DECORATORS = frozenset({"contextmanager", "asynccontextmanager"})
CONTEXT_MANAGER_REASON = "implementation of a context manager (yields the session it acquires)"
NEVER_CLOSED_REASON = ("never released in its scope (returned, stored or left open): "
                       "not a hand-managed lifetime")
FALLBACK_REASON = "non-Flask fallback of a migrated service method (`else:` of `if self.<manager>:`)"


class ScanSpec(NamedTuple):
    """What to look for: the recipe's acquire call and the names some shapes and rules need."""

    method: str
    receivers: frozenset[str]
    arguments: int
    release: str
    rollback: str
    commit: str
    watched: tuple[str, ...]
    managers: tuple[str, ...]
    exclude_context_managers: bool
    any_receiver: bool = False
    binds: bool = True
    with_is_migrated: bool = False
    #: callees whose calls are acquires too (`SessionLocal`, `sqlite3.connect`): `scan.acquire`
    calls: tuple[str, ...] = ()
    factories: tuple[str, ...] = ()
    closed_only: bool = False

    def acquire(self) -> AcquireSpec:
        return AcquireSpec(self.method, self.receivers, self.any_receiver, self.arguments, self.calls,
                           self.factories)


@dataclass(slots=True)
class FileOutcome:
    """What one file gave: occurrences and exclusions, or the reason it was skipped."""

    path: str
    occurrences: list[Occurrence]
    excluded: list[Excluded]
    skipped: str | None = None


def _receiver(func: ast.expr) -> str:
    """What a call is made on: `db_manager` for `db_manager.get_session()`, `self` for
    `self.Session()`, "" for a plain name's call (`SessionLocal()`)."""
    if not isinstance(func, ast.Attribute):
        return ""
    return dotted(func.value) or ast.unparse(func.value)


# Fields that never hold a node worth visiting (names, flags, contexts, operators, constants).
_LEAF_FIELDS = frozenset({"ctx", "op", "ops", "id", "attr", "name", "names", "arg", "module", "asname",
                          "kind", "type_comment", "type_ignores", "level", "conversion", "is_async",
                          "kwd_attrs", "rest", "simple", "tag"})
_FIELDS: dict[type, tuple[str, ...]] = {ast.Constant: (), ast.MatchSingleton: ()}
#: In a scope's own walk, a nested scope contributes only what runs where it is defined.
_LOCAL_FIELDS: dict[type, tuple[str, ...]] = {
    ast.FunctionDef: ("decorator_list",), ast.AsyncFunctionDef: ("decorator_list",),
    ast.ClassDef: ("decorator_list", "bases", "keywords"), ast.Lambda: (),
}


def _fields(cls: type) -> tuple[str, ...]:
    found = _FIELDS.get(cls)
    if found is None:
        found = _FIELDS[cls] = tuple(f for f in cls._fields if f not in _LEAF_FIELDS)  # type: ignore[attr-defined]
    return found


def walk(roots: list[ast.AST] | list[ast.stmt], local: bool = True) -> list[ast.AST]:
    """Every node under `roots` (included); with `local`, not entering nested function, lambda
    or class bodies. Faster than `ast.walk`: it skips the fields that hold no nodes."""
    out: list[ast.AST] = []
    todo: list = list(roots)  # type: ignore[type-arg]
    fields = _FIELDS
    local_fields = _LOCAL_FIELDS if local else {}
    while todo:
        node = todo.pop()
        if node is None:
            continue
        out.append(node)
        cls = node.__class__
        names = local_fields.get(cls)
        if names is None:
            names = fields.get(cls)
            if names is None:
                names = _fields(cls)
        for name in names:
            value = getattr(node, name, None)
            if value.__class__ is list:
                todo.extend(value)
            elif value is not None:
                todo.append(value)
    return out


def _roots(scope: ast.AST) -> list[ast.AST]:
    return [scope.body] if isinstance(scope, ast.Lambda) else list(scope.body)  # type: ignore[attr-defined]


def local_nodes(scope: ast.AST) -> list[ast.AST]:
    """Every node of a scope's own body, not descending into nested functions, lambdas or classes."""
    return walk(_roots(scope))


Pos = tuple[int, int]


class _Index:
    """One walk of a scope, kept for the questions every occurrence in it asks."""

    __slots__ = ("calls", "globals", "loads", "returns", "stores", "yields")

    def __init__(self, scope: ast.AST, methods: frozenset[str]) -> None:
        self.calls: dict[tuple[str | None, str], list[Pos]] = {}
        self.loads: dict[str, list[Pos]] = {}
        self.returns: list[ast.Return] = []
        self.yields: list[ast.Yield | ast.YieldFrom] = []
        self.globals: set[str] = set()
        self.stores: list[ast.Assign] = []
        calls, loads = self.calls, self.loads
        Call, Name, Attribute, Load = ast.Call, ast.Name, ast.Attribute, ast.Load
        fields, local_fields = _FIELDS, _LOCAL_FIELDS
        todo: list = _roots(scope)  # type: ignore[type-arg]
        while todo:  # `walk`, inlined: this loop is the scan's hottest
            node = todo.pop()
            if node is None:
                continue
            cls = node.__class__
            names = local_fields.get(cls)
            if names is None:
                names = fields.get(cls)
                if names is None:
                    names = _fields(cls)
            for name in names:
                value = getattr(node, name, None)
                if value.__class__ is list:
                    todo.extend(value)
                elif value is not None:
                    todo.append(value)
            if cls is Name:
                if node.ctx.__class__ is Load:  # type: ignore[attr-defined]
                    loads.setdefault(node.id, []).append((node.lineno, node.col_offset))  # type: ignore[attr-defined]
            elif cls is Call:
                func = node.func  # type: ignore[attr-defined]
                if func.__class__ is Attribute and func.attr in methods:
                    key = (dotted(func.value), func.attr)
                    calls.setdefault(key, []).append((node.lineno, node.col_offset))  # type: ignore[attr-defined]
            elif cls is ast.Return:
                self.returns.append(node)  # type: ignore[arg-type]
            elif cls is ast.Yield or cls is ast.YieldFrom:
                self.yields.append(node)  # type: ignore[arg-type]
            elif cls is ast.Global:
                self.globals.update(node.names)  # type: ignore[attr-defined]
            elif cls is ast.Assign:
                self.stores.append(node)  # type: ignore[arg-type]

    def calls_in(self, var: str, method: str, block: list[ast.stmt] | None = None) -> bool:
        """Is `<var>.<method>(...)` called in `block` (a run of statements), or anywhere?"""
        found = self.calls.get((var, method))
        if not found:
            return False
        return block is None or any(_inside(p, block) for p in found)

    def uses_in(self, var: str, block: list[ast.stmt]) -> bool:
        """Is `var` read in `block`?"""
        if "." in var:
            return any(isinstance(n, ast.Attribute) and dotted(n) == var for n in walk(block))
        return any(_inside(p, block) for p in self.loads.get(var, ()))

    def returns_in(self, block: list[ast.stmt]) -> bool:
        return any(_inside((r.lineno, r.col_offset), block) for r in self.returns)


def _inside(pos: Pos, block: list[ast.stmt]) -> bool:
    """Is the position in the source span of the statements `block`?"""
    if not block:
        return False
    first, last = block[0], block[-1]
    return (first.lineno, first.col_offset) <= pos <= (last.end_lineno or 0, last.end_col_offset or 0)


def _is_ref(node: ast.AST, var: str) -> bool:
    if isinstance(node, ast.Name):
        return node.id == var
    return isinstance(node, ast.Attribute) and dotted(node) == var


def _binds(stmt: ast.stmt, var: str) -> bool:
    """Does `stmt` (re)bind `var` at its own level?"""
    targets: list[ast.AST] = []
    if isinstance(stmt, ast.Assign):
        targets = stmt.targets
    elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign)):
        targets = [stmt.target]
    return any(_is_ref(t, var) for t in targets)


def _contains_ref(node: ast.AST | None, var: str) -> bool:
    """`var` itself, or directly an element of a tuple/list/set/dict display."""
    if node is None:
        return False
    if _is_ref(node, var):
        return True
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return any(_is_ref(e, var) for e in node.elts)
    if isinstance(node, ast.Dict):
        return any(v is not None and _is_ref(v, var) for v in node.values)
    return False


def _none_guarded_close(finalbody: list[ast.stmt], var: str, index: _Index, release: str) -> bool:
    """`if <var>:` / `if <var> is not None:` around the close in a `finally`."""
    for node in walk(finalbody):
        if not isinstance(node, ast.If):
            continue
        test = node.test
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.IsNot):
            test = test.left
        if _is_ref(test, var) and index.calls_in(var, release, node.body):
            return True
    return False


def _assigns_none(stmts: list[ast.stmt], var: str) -> bool:
    return any(
        _binds(s, var) and isinstance(getattr(s, "value", None), ast.Constant) and s.value.value is None
        for s in stmts
    )


def container(parent: ast.AST, child: ast.AST) -> list[ast.stmt] | None:
    """The statement list of `parent` that holds `child`."""
    for name in ("body", "orelse", "finalbody"):
        block = getattr(parent, name, None)
        if isinstance(block, list) and any(s is child for s in block):
            return block
    for case in getattr(parent, "cases", ()):
        if any(s is child for s in case.body):
            return case.body
    return None


def _in_body(node: ast.AST, child: ast.AST) -> bool:
    """Is `child` in the body of scope `node` (rather than its decorators, defaults or bases)?"""
    if isinstance(node, ast.Lambda):
        return node.body is child
    return any(s is child for s in node.body)  # type: ignore[attr-defined]


class _Finder:
    """Collects acquire calls, pruning every subtree whose lines hold no `<method>` bytes."""

    def __init__(self, matcher: Matcher, lines: list[int]) -> None:
        self.matcher = matcher
        self.lines = lines
        self.found: list[tuple[ast.Call, list[ast.AST]]] = []

    def is_acquire(self, node: ast.Call) -> bool:
        return self.matcher.matches(node)

    def visit(self, node: ast.AST, stack: list[ast.AST]) -> None:
        stack.append(node)
        cls = node.__class__
        if cls is ast.Call and self.is_acquire(node):  # type: ignore[arg-type]
            self.found.append((node, list(stack)))  # type: ignore[arg-type]
        names = _FIELDS.get(cls)
        if names is None:
            names = _fields(cls)
        lines = self.lines
        for name in names:
            value = getattr(node, name, None)
            for child in (value if value.__class__ is list else (value,)):
                if child is None:
                    continue
                start = getattr(child, "lineno", None)
                if start is not None:
                    i = bisect_left(lines, start)
                    if i == len(lines) or lines[i] > child.end_lineno:
                        continue
                self.visit(child, stack)
        stack.pop()


class _Source:
    """One parsed file and the per-file facts several occurrences share."""

    def __init__(self, path: str, data: bytes, text: str, tree: ast.Module, spec: ScanSpec) -> None:
        self.path = path
        self.data = data
        self.text = text
        self.tree = tree
        self.spec = spec
        self._lines: list[str] | None = None
        self._index: dict[int, _Index] = {}
        self._methods = frozenset((spec.release, spec.rollback, spec.commit))
        self._bound: tuple[str, ...] | None = None

    def index(self, scope: ast.AST) -> _Index:
        found = self._index.get(id(scope))
        if found is None:
            found = self._index[id(scope)] = _Index(scope, self._methods)
        return found

    def column(self, line: int, byte_col: int) -> int:
        """ast columns count UTF-8 bytes; report characters."""
        if self.data.isascii():
            return byte_col
        if self._lines is None:
            self._lines = split_lines(self.text)
        if line - 1 >= len(self._lines):
            return byte_col
        return len(self._lines[line - 1].encode("utf-8")[:byte_col].decode("utf-8", "replace"))

    @property
    def last_line(self) -> int:
        return max(1, len(split_lines(self.text)))

    def bound(self) -> tuple[str, ...]:
        """Of the strategy managers, the names bound at module level in this file."""
        if self._bound is None:
            wanted = [m for m in self.spec.managers if m.encode() in self.data]
            names: set[str] = set()
            if wanted:
                _module_bindings(self.tree.body, names)
                if b"global" in self.data:
                    for node in walk(self.tree.body, local=False):
                        if isinstance(node, ast.Global):
                            names.update(node.names)
            self._bound = tuple(m for m in wanted if m in names)
        return self._bound


def _module_bindings(stmts: list[ast.stmt], names: set[str]) -> None:
    for st in stmts:
        if isinstance(st, (*_DEFS, ast.ClassDef)):
            names.add(st.name)
        elif isinstance(st, (ast.Import, ast.ImportFrom)):
            for alias in st.names:
                names.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(st, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = st.targets if isinstance(st, ast.Assign) else [st.target]
            for t in targets:
                for n in ast.walk(t):
                    if isinstance(n, ast.Name):
                        names.add(n.id)
        else:
            for block in ("body", "orelse", "finalbody"):
                _module_bindings(getattr(st, block, []) or [], names)
            for handler in getattr(st, "handlers", ()):
                _module_bindings(handler.body, names)


class _Site(NamedTuple):
    call: ast.Call
    stack: list[ast.AST]
    scope: ast.AST
    qualname: str
    variable: str | None


def _site(call: ast.Call, stack: list[ast.AST]) -> _Site:
    names: list[str] = []
    scope: ast.AST = stack[0]
    for i, node in enumerate(stack[:-1]):
        if isinstance(node, _SCOPES) and _in_body(node, stack[i + 1]):
            names.append("<lambda>" if isinstance(node, ast.Lambda) else node.name)
            scope = node
    parent = stack[-2]
    variable: str | None = None
    target: ast.AST | None = None
    if isinstance(parent, ast.Assign) and parent.value is call:
        target = parent.targets[0]
    elif isinstance(parent, (ast.AnnAssign, ast.NamedExpr)) and parent.value is call:
        target = parent.target
    elif isinstance(parent, ast.withitem) and parent.context_expr is call:
        target = parent.optional_vars
    if target is not None:
        variable = dotted(target)
    return _Site(call, stack, scope, ".".join(names) or "<module>", variable)


def _decorators(scope: ast.AST) -> tuple[str, ...]:
    if isinstance(scope, _DEFS):
        return tuple(ast.unparse(d) for d in scope.decorator_list)
    return ()


def _is_view(scope: ast.AST) -> bool:
    if not isinstance(scope, _DEFS):
        return False
    return any(
        isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.func.attr in _ROUTE_METHODS
        for d in scope.decorator_list
    )


def _is_context_manager_impl(src: _Source, site: _Site) -> bool:
    scope = site.scope
    if not isinstance(scope, _DEFS) or site.variable is None:
        return False
    names = {(dotted(d.func if isinstance(d, ast.Call) else d) or "").rsplit(".", 1)[-1]
             for d in scope.decorator_list}
    if not names & _CONTEXT_MANAGER_DECORATORS:
        return False
    return any(n.value is not None and _is_ref(n.value, site.variable) for n in src.index(scope).yields)


def _handed_to_with(site: _Site) -> bool:
    """The acquire is an argument of the call a `with` enters (`with closing(connect()) as c:`)."""
    stack = site.stack
    return (len(stack) >= 3 and isinstance(stack[-2], ast.Call) and site.call in stack[-2].args
            and isinstance(stack[-3], ast.withitem) and stack[-3].context_expr is stack[-2])


def _is_service_fallback(spec: ScanSpec, site: _Site) -> bool:
    """The acquire sits in the `else:` of `if self.<manager>:` whose body enters
    `self.<manager>.<method>()` — the fallback the `service` strategy writes."""
    stack = site.stack
    for i in range(len(stack) - 2, -1, -1):
        node = stack[i]
        if isinstance(node, (*_DEFS, ast.ClassDef, ast.Lambda)):
            return False
        if not isinstance(node, ast.If) or not any(c is stack[i + 1] for c in node.orelse):
            continue
        test = node.test
        if not (isinstance(test, ast.Attribute) and isinstance(test.value, ast.Name)
                and test.value.id == "self" and test.attr in spec.managers):
            continue
        for inner in ast.walk(ast.Module(body=node.body, type_ignores=[])):
            if isinstance(inner, ast.withitem) and isinstance(inner.context_expr, ast.Call):
                func = inner.context_expr.func
                if isinstance(func, ast.Attribute) and dotted(func.value) == f"self.{test.attr}":
                    return True
    return False


def _shapes(src: _Source, site: _Site, reused: bool) -> list[str]:
    spec = src.spec
    var = site.variable
    stack = site.stack
    scope = site.scope
    idx = src.index(scope)
    tags: set[str] = set()

    if isinstance(scope, ast.Module):
        tags.add("module-level")
    elif isinstance(scope, ast.ClassDef):
        tags.add("class-body")
    if any(isinstance(n, (*_DEFS, ast.Lambda)) and n is not scope for n in stack[:-1]):
        tags.add("nested-function")
    if isinstance(scope, ast.AsyncFunctionDef):
        tags.add("async")
    if isinstance(scope, (*_DEFS, ast.Lambda)) and idx.yields:
        tags.add("generator")
    receiver = _receiver(site.call.func)
    if receiver == "self" or receiver.startswith("self."):
        tags.add("method")
    if reused:
        tags.add("reused-variable")

    # the statement holding the acquire, and where it sits
    k = max(i for i, n in enumerate(stack) if isinstance(n, ast.stmt))
    stmt = stack[k]
    scope_i = next(i for i, n in enumerate(stack) if n is scope)
    parent = stack[k - 1]
    body = container(parent, stmt) or []
    index = next((i for i, s in enumerate(body) if s is stmt), -1)

    closing: ast.Try | None = None
    after: list[ast.stmt] = []  # statements that run after the session is released
    raw_with = isinstance(stack[-2], ast.withitem)
    if raw_with:
        tags.add("raw-with")
        with_node = stack[-3]
        block: list[ast.stmt] = with_node.body  # type: ignore[attr-defined]
        if idx.returns_in(block):
            tags.add("early-return")
        outer_body = container(stack[-4], with_node) if len(stack) > 3 else None
        if outer_body is not None:
            pos = next(i for i, s in enumerate(outer_body) if s is with_node)
            after = outer_body[pos + 1:]
    elif var is None:
        tags.add("inline")
        tags.add("no-close")
        if isinstance(stack[-2], (ast.Return, ast.Yield, ast.YieldFrom)):
            tags.add("session-escapes")

    if var is not None and not raw_with:
        if isinstance(parent, _TRIES) and body is parent.body and idx.calls_in(
                var, spec.release, parent.finalbody):
            closing = parent
            tags.update(("try-finally", "acquire-in-try"))
            grand = container(stack[k - 2], parent) if k >= 2 else None
            if grand is not None:
                pos = next(i for i, s in enumerate(grand) if s is parent)
                after = grand[pos + 1:]
                if _assigns_none(grand[:pos], var) and _none_guarded_close(
                        parent.finalbody, var, idx, spec.release):
                    tags.add("none-guard")
        else:
            for j in range(index + 1, len(body)):
                st = body[j]
                if isinstance(st, _TRIES) and idx.calls_in(var, spec.release, st.finalbody):
                    closing = st
                    tags.add("try-finally")
                    if j > index + 1:
                        tags.add("statements-before-try")
                    if _assigns_none(body[:index], var) and _none_guarded_close(
                            st.finalbody, var, idx, spec.release):
                        tags.add("none-guard")
                    after = body[j + 1:]
                    break
                if _binds(st, var):
                    break
                if idx.calls_in(var, spec.release, [st]):
                    after = body[j + 1:]
                    break
        if closing is not None:
            if closing.handlers:
                tags.add("try-except-finally")
                if any(idx.calls_in(var, spec.rollback, h.body) for h in closing.handlers):
                    tags.add("rollback-in-handler")
            if idx.calls_in(var, spec.release, closing.body):
                tags.add("close-in-try")
            if idx.returns_in(closing.body):
                tags.add("early-return")
        if not idx.calls_in(var, spec.release):
            tags.add("no-close")

    if var is not None:
        if idx.calls_in(var, spec.commit):
            tags.add("explicit-commit")
        for st in after:
            if _binds(st, var):
                break
            if idx.uses_in(var, [st]):
                tags.add("used-after-close")
                break
        if _escapes(idx, var):
            tags.add("session-escapes")

    # an enclosing try with handlers, between the scope and the acquire (not the one that closes it)
    for i in range(scope_i + 1, k):
        node = stack[i]
        if isinstance(node, _TRIES) and node is not closing and node.handlers and any(
                s is stack[i + 1] for s in node.body):
            tags.add("outer-handler")
            break
    return sorted(tags, key=_SHAPE_ORDER.__getitem__)


def _escapes(idx: _Index, var: str) -> bool:
    """The session object itself leaves the scope: returned, yielded, stored on an attribute,
    an item or a global."""
    if "." in var or var in idx.globals:
        return True  # acquired straight onto an attribute or a global
    if any(_contains_ref(n.value, var) for n in idx.returns) or any(
            _contains_ref(n.value, var) for n in idx.yields):
        return True
    return any(
        _contains_ref(n.value, var) and any(
            isinstance(t, (ast.Attribute, ast.Subscript)) or (isinstance(t, ast.Name) and t.id in idx.globals)
            for t in n.targets)
        for n in idx.stores)


def _order() -> dict[str, int]:
    from migrator_tui.model import SHAPES

    return {name: i for i, name in enumerate(SHAPES)}


_SHAPE_ORDER = _order()


def target_lines(data: bytes, method: bytes) -> list[int]:
    """Sorted 1-based numbers of the lines where `method` appears in `data`."""
    out: list[int] = []
    pos = data.find(method)
    line, counted = 1, 0
    while pos != -1:
        # line breaks as Python counts them: \n, \r\n and a lone \r (a CR-only file parses too)
        line += data.count(b"\n", counted, pos) + data.count(b"\r", counted, pos) \
            - data.count(b"\r\n", counted, pos)
        counted = pos
        if not out or out[-1] != line:
            out.append(line)
        pos = data.find(method, pos + len(method))
    return out


#: Why a file whose syntax tree is too deep for the interpreter's recursion limit is skipped.
TOO_DEEP_REASON = "nested too deeply to be analysed (a recursion limit was reached)"


def scan_source(path: str, data: bytes, text: str, spec: ScanSpec, phase: int | None) -> FileOutcome:
    """Parse one file and return its occurrences and exclusions (or why it was skipped)."""
    try:
        return _scan_source(path, data, text, spec, phase)
    except RecursionError:  # valid code, e.g. a very long chain of `+` or deeply nested brackets
        return FileOutcome(path, [], [], TOO_DEEP_REASON)


def _scan_source(path: str, data: bytes, text: str, spec: ScanSpec, phase: int | None) -> FileOutcome:
    try:
        tree = trees.parse(text, filename=path)
    except SyntaxError as exc:
        if exc.lineno:
            return FileOutcome(path, [], [], f"syntax error at line {exc.lineno}")
        return FileOutcome(path, [], [], f"cannot be parsed ({exc.msg})")
    except ValueError as exc:  # null bytes, on older Pythons
        return FileOutcome(path, [], [], f"cannot be parsed ({exc})")
    names = parsed_as(data, text)  # (the bytes where the names are as the parser read them)
    matcher = Matcher(spec.acquire(), tree, names)
    words = matcher.line_words()
    lines = target_lines(names, words[0]) if len(words) == 1 else sorted(
        {n for w in words for n in target_lines(names, w)})
    finder = _Finder(matcher, lines)
    finder.visit(tree, [])
    if not finder.found:
        return FileOutcome(path, [], [])
    src = _Source(path, data, text, tree, spec)
    sites = sorted((_site(call, stack) for call, stack in finder.found),
                   key=lambda s: (s.call.lineno, s.call.col_offset))
    if spec.with_is_migrated:  # `with x.get_session() as s:` is the target form here
        sites = [st for st in sites if not (isinstance(st.stack[-2], ast.withitem)
                                           and st.stack[-2].context_expr is st.call)]
    # `with closing(connect()) as c:`: the acquire already belongs to a context manager
    sites = [st for st in sites if not _handed_to_with(st)]
    if not spec.binds:  # `lock.acquire()` as a statement of its own
        sites = [st for st in sites if isinstance(st.stack[-2], ast.Expr)]
    kept: list[_Site] = []
    excluded: list[Excluded] = []
    for site in sites:
        if spec.exclude_context_managers and _is_context_manager_impl(src, site):
            excluded.append(Excluded(path, site.call.lineno, site.qualname, CONTEXT_MANAGER_REASON))
        elif _is_service_fallback(spec, site):
            excluded.append(Excluded(path, site.call.lineno, site.qualname, FALLBACK_REASON))
        else:
            kept.append(site)
    binds: dict[tuple[int, str], int] = {}
    for site in kept:
        if site.variable is not None:
            key = (id(site.scope), site.variable)
            binds[key] = binds.get(key, 0) + 1
    ordinals: dict[str, int] = {}
    occurrences: list[Occurrence] = []
    for site in kept:
        call, scope = site.call, site.scope
        reused = site.variable is not None and binds[(id(scope), site.variable)] > 1
        shapes = tuple(_shapes(src, site, reused))
        if spec.closed_only and "no-close" in shapes:
            excluded.append(Excluded(path, call.lineno, site.qualname, NEVER_CLOSED_REASON))
            continue
        ordinal = ordinals.get(site.qualname, 0)
        ordinals[site.qualname] = ordinal + 1
        if isinstance(scope, ast.Module):
            start, end = 1, src.last_line
        else:
            decos = getattr(scope, "decorator_list", [])
            start = min([scope.lineno, *(d.lineno for d in decos)])  # type: ignore[attr-defined]
            end = scope.end_lineno or scope.lineno  # type: ignore[attr-defined]
        class_name = next((n.name for n in reversed(site.stack[:-1]) if isinstance(n, ast.ClassDef)), None)
        reads: tuple[str, ...] = ()
        if spec.watched and not isinstance(scope, ast.Module):
            loads = src.index(scope).loads
            reads = tuple(w for w in spec.watched if w in loads)
        occurrences.append(Occurrence(
            id=f"{path}::{site.qualname}::{ordinal}",
            path=path,
            line=call.lineno,
            column=src.column(call.lineno, call.col_offset),
            end_line=call.end_lineno or call.lineno,
            end_column=src.column(call.end_lineno or call.lineno, call.end_col_offset or 0),
            function=site.qualname,
            decorators=_decorators(scope),
            variable=site.variable,
            receiver=_receiver(call.func),
            callee=dotted(call.func) or ast.unparse(call.func),
            shapes=shapes,
            phase=phase,
            scope_start=start,
            scope_end=end,
            class_name=class_name,
            is_view=_is_view(scope),
            reads=reads,
            bound=src.bound(),
        ))
    return FileOutcome(path, occurrences, excluded)
