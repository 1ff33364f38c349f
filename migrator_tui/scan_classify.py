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

_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_TRIES: tuple[type, ...] = (ast.Try, ast.TryStar) if hasattr(ast, "TryStar") else (ast.Try,)
_ROUTE_METHODS = frozenset({"route", "get", "post", "put", "delete", "patch"})
_CONTEXT_MANAGER_DECORATORS = frozenset({"contextmanager", "asynccontextmanager"})
CONTEXT_MANAGER_REASON = "implementation of a context manager (yields the session it acquires)"


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


@dataclass(slots=True)
class FileOutcome:
    """What one file gave: occurrences and exclusions, or the reason it was skipped."""

    path: str
    occurrences: list[Occurrence]
    excluded: list[Excluded]
    skipped: str | None = None


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


def local_nodes(scope: ast.AST) -> list[ast.AST]:
    """Every node of a scope's own body, not descending into nested functions, lambdas or classes."""
    if isinstance(scope, ast.Lambda):
        todo: list[ast.AST] = [scope.body]
    else:
        todo = list(getattr(scope, "body", ()))
    out: list[ast.AST] = []
    while todo:
        node = todo.pop()
        out.append(node)
        if isinstance(node, _SCOPES):
            # its decorators and defaults run here; its body does not
            if not isinstance(node, ast.Lambda):
                todo.extend(node.decorator_list)
            continue
        todo.extend(ast.iter_child_nodes(node))
    return out


def _walk_no_defs(nodes: list[ast.stmt] | list[ast.AST]) -> list[ast.AST]:
    out: list[ast.AST] = []
    todo = list(nodes)
    while todo:
        node = todo.pop()
        out.append(node)
        if not isinstance(node, _SCOPES):
            todo.extend(ast.iter_child_nodes(node))
    return out


def _is_ref(node: ast.AST, var: str) -> bool:
    if isinstance(node, ast.Name):
        return node.id == var
    return isinstance(node, ast.Attribute) and dotted(node) == var


def _calls(nodes: list[ast.stmt] | list[ast.AST], var: str, method: str) -> bool:
    """Is `<var>.<method>(...)` called anywhere in `nodes` (outside nested functions)?"""
    return _calls_flat(_walk_no_defs(nodes), var, method)


def _calls_flat(flat: list[ast.AST], var: str, method: str) -> bool:
    """Like `_calls`, over an already flattened list of nodes."""
    for node in flat:
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == method and _is_ref(node.func.value, var)):
            return True
    return False


def _uses(nodes: list[ast.stmt], var: str) -> bool:
    """Is `var` read anywhere in `nodes`?"""
    for node in _walk_no_defs(nodes):
        if isinstance(node, ast.Name) and node.id == var and isinstance(node.ctx, ast.Load):
            return True
        if isinstance(node, ast.Attribute) and "." in var and dotted(node) == var:
            return True
    return False


def _binds(stmt: ast.stmt, var: str) -> bool:
    """Does `stmt` (re)bind `var` at its own level?"""
    targets: list[ast.AST] = []
    if isinstance(stmt, ast.Assign):
        targets = stmt.targets
    elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign)):
        targets = [stmt.target]
    return any(_is_ref(t, var) for t in targets)


def _has_return(nodes: list[ast.stmt]) -> bool:
    return any(isinstance(n, ast.Return) for n in _walk_no_defs(nodes))


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


def _none_guarded_close(finalbody: list[ast.stmt], var: str, release: str) -> bool:
    """`if <var>:` / `if <var> is not None:` around the close in a `finally`."""
    for node in _walk_no_defs(finalbody):
        if not isinstance(node, ast.If):
            continue
        test = node.test
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.IsNot):
            test = test.left
        if _is_ref(test, var) and _calls(node.body, var, release):
            return True
    return False


def _assigns_none(stmts: list[ast.stmt], var: str) -> bool:
    return any(
        _binds(s, var) and isinstance(getattr(s, "value", None), ast.Constant) and s.value.value is None
        for s in stmts
    )


def _container(parent: ast.AST, child: ast.AST) -> list[ast.stmt] | None:
    """The statement list of `parent` that holds `child`."""
    for name in ("body", "orelse", "finalbody"):
        block = getattr(parent, name, None)
        if isinstance(block, list) and any(s is child for s in block):
            return block
    for handler in getattr(parent, "handlers", ()):
        if handler is child:
            return None
    for case in getattr(parent, "cases", ()):
        if any(s is child for s in case.body):
            return case.body
    return None


def _in_body(node: ast.AST, child: ast.AST) -> bool:
    """Is `child` in the body of scope `node` (rather than its decorators, defaults or bases)?"""
    if isinstance(node, ast.Lambda):
        return node.body is child
    return any(s is child for s in node.body)


class _Finder:
    """Collects acquire calls, pruning every subtree whose lines hold no `<method>` bytes."""

    def __init__(self, spec: ScanSpec, lines: list[int]) -> None:
        self.spec = spec
        self.lines = lines
        self.found: list[tuple[ast.Call, list[ast.AST]]] = []

    def _hit(self, node: ast.AST) -> bool:
        start = getattr(node, "lineno", None)
        if start is None:
            return True
        i = bisect_left(self.lines, start)
        return i < len(self.lines) and self.lines[i] <= (node.end_lineno or start)

    def is_acquire(self, node: ast.Call) -> bool:
        func = node.func
        return (
            isinstance(func, ast.Attribute)
            and func.attr == self.spec.method
            and len(node.args) + len(node.keywords) == self.spec.arguments
            and _last_name(func.value) in self.spec.receivers
        )

    def visit(self, node: ast.AST, stack: list[ast.AST]) -> None:
        stack.append(node)
        if isinstance(node, ast.Call) and self.is_acquire(node):
            self.found.append((node, list(stack)))
        for child in ast.iter_child_nodes(node):
            if self._hit(child):
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
        self._local: dict[int, list[ast.AST]] = {}
        self._bound: tuple[str, ...] | None = None

    def local(self, scope: ast.AST) -> list[ast.AST]:
        key = id(scope)
        if key not in self._local:
            self._local[key] = local_nodes(scope)
        return self._local[key]

    def column(self, line: int, byte_col: int) -> int:
        """ast columns count UTF-8 bytes; report characters."""
        if self.data.isascii():
            return byte_col
        if self._lines is None:
            self._lines = self.text.splitlines()
        if line - 1 >= len(self._lines):
            return byte_col
        return len(self._lines[line - 1].encode("utf-8")[:byte_col].decode("utf-8", "replace"))

    @property
    def last_line(self) -> int:
        return max(1, self.text.count("\n") + (0 if self.text.endswith("\n") else 1))

    def bound(self) -> tuple[str, ...]:
        """Of the strategy managers, the names bound at module level in this file."""
        if self._bound is None:
            wanted = [m for m in self.spec.managers if m.encode() in self.data]
            names: set[str] = set()
            if wanted:
                _module_bindings(self.tree.body, names)
                if b"global" in self.data:
                    for node in ast.walk(self.tree):
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
    return any(
        isinstance(n, (ast.Yield, ast.YieldFrom)) and n.value is not None and _is_ref(n.value, site.variable)
        for n in src.local(scope)
    )


def _shapes(src: _Source, site: _Site, reused: bool) -> list[str]:
    spec = src.spec
    var = site.variable
    stack = site.stack
    scope = site.scope
    local = src.local(scope)
    tags: set[str] = set()

    if isinstance(scope, ast.Module):
        tags.add("module-level")
    elif isinstance(scope, ast.ClassDef):
        tags.add("class-body")
    if any(isinstance(n, (*_DEFS, ast.Lambda)) and n is not scope for n in stack[:-1]):
        tags.add("nested-function")
    if isinstance(scope, ast.AsyncFunctionDef):
        tags.add("async")
    if isinstance(scope, (*_DEFS, ast.Lambda)) and any(
            isinstance(n, (ast.Yield, ast.YieldFrom)) for n in local):
        tags.add("generator")
    receiver = dotted(site.call.func.value)  # type: ignore[attr-defined]
    if receiver is not None and receiver.startswith("self."):
        tags.add("method")
    if reused:
        tags.add("reused-variable")

    # the statement holding the acquire, and where it sits
    k = max(i for i, n in enumerate(stack) if isinstance(n, ast.stmt))
    stmt = stack[k]
    scope_i = next(i for i, n in enumerate(stack) if n is scope)
    parent = stack[k - 1]
    body = _container(parent, stmt) or []
    index = next((i for i, s in enumerate(body) if s is stmt), -1)

    closing: ast.Try | None = None
    after: list[ast.stmt] = []  # statements that run after the session is released
    raw_with = isinstance(stack[-2], ast.withitem)
    if raw_with:
        tags.add("raw-with")
        with_node = stack[-3]
        block: list[ast.stmt] = with_node.body  # type: ignore[attr-defined]
        if _has_return(block):
            tags.add("early-return")
        outer_body = _container(stack[-4], with_node) if len(stack) > 3 else None
        if outer_body is not None:
            pos = next(i for i, s in enumerate(outer_body) if s is with_node)
            after = outer_body[pos + 1:]
    elif var is None:
        tags.add("inline")
        tags.add("no-close")
        if isinstance(stack[-2], (ast.Return, ast.Yield, ast.YieldFrom)):
            tags.add("session-escapes")

    if var is not None and not raw_with:
        if isinstance(parent, _TRIES) and body is parent.body and _calls(parent.finalbody, var, spec.release):
            closing = parent
            tags.update(("try-finally", "acquire-in-try"))
            grand = _container(stack[k - 2], parent) if k >= 2 else None
            if grand is not None:
                pos = next(i for i, s in enumerate(grand) if s is parent)
                after = grand[pos + 1:]
                if _assigns_none(grand[:pos], var) and _none_guarded_close(
                        parent.finalbody, var, spec.release):
                    tags.add("none-guard")
        else:
            for j in range(index + 1, len(body)):
                st = body[j]
                if isinstance(st, _TRIES) and _calls(st.finalbody, var, spec.release):
                    closing = st
                    tags.add("try-finally")
                    if j > index + 1:
                        tags.add("statements-before-try")
                    if _assigns_none(body[:index], var) and _none_guarded_close(st.finalbody, var,
                                                                                   spec.release):
                        tags.add("none-guard")
                    after = body[j + 1:]
                    break
                if _binds(st, var):
                    break
                if _calls([st], var, spec.release):
                    after = body[j + 1:]
                    break
        if closing is not None:
            if closing.handlers:
                tags.add("try-except-finally")
                if any(_calls(h.body, var, spec.rollback) for h in closing.handlers):
                    tags.add("rollback-in-handler")
            if _calls(closing.body, var, spec.release):
                tags.add("close-in-try")
            if _has_return(closing.body):
                tags.add("early-return")
        if not _calls_flat(local, var, spec.release):
            tags.add("no-close")

    if var is not None:
        if _calls_flat(local, var, spec.commit):
            tags.add("explicit-commit")
        for st in after:
            if _binds(st, var):
                break
            if _uses([st], var):
                tags.add("used-after-close")
                break
        if _escapes(local, var, scope):
            tags.add("session-escapes")

    # an enclosing try with handlers, between the scope and the acquire (not the one that closes it)
    for i in range(scope_i + 1, k):
        node = stack[i]
        if isinstance(node, _TRIES) and node is not closing and node.handlers and any(
                s is stack[i + 1] for s in node.body):
            tags.add("outer-handler")
            break
    return sorted(tags, key=_SHAPE_ORDER.__getitem__)


def _escapes(local: list[ast.AST], var: str, scope: ast.AST) -> bool:
    """The session object itself leaves the scope: returned, yielded, stored on an attribute,
    an item or a global."""
    if "." in var:
        return True  # acquired straight onto an attribute: `self.session = ...get_session()`
    globals_: set[str] = set()
    for node in local:
        if isinstance(node, ast.Global):
            globals_.update(node.names)
    if var in globals_:
        return True
    for node in local:
        if isinstance(node, (ast.Return, ast.Yield, ast.YieldFrom)) and _contains_ref(node.value, var):
            return True
        if isinstance(node, ast.Assign) and _contains_ref(node.value, var) and any(
                isinstance(t, (ast.Attribute, ast.Subscript))
                or (isinstance(t, ast.Name) and t.id in globals_) for t in node.targets):
            return True
    return False


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
        line += data.count(b"\n", counted, pos)
        counted = pos
        if not out or out[-1] != line:
            out.append(line)
        pos = data.find(method, pos + len(method))
    return out


def scan_source(path: str, data: bytes, text: str, spec: ScanSpec, phase: int | None) -> FileOutcome:
    """Parse one file and return its occurrences and exclusions (or why it was skipped)."""
    try:
        tree = ast.parse(text, filename=path)
    except SyntaxError as exc:
        if exc.lineno:
            return FileOutcome(path, [], [], f"syntax error at line {exc.lineno}")
        return FileOutcome(path, [], [], f"cannot be parsed ({exc.msg})")
    except ValueError as exc:  # null bytes, on older Pythons
        return FileOutcome(path, [], [], f"cannot be parsed ({exc})")
    finder = _Finder(spec, target_lines(data, spec.method.encode()))
    finder.visit(tree, [])
    if not finder.found:
        return FileOutcome(path, [], [])
    src = _Source(path, data, text, tree, spec)
    sites = sorted((_site(call, stack) for call, stack in finder.found),
                   key=lambda s: (s.call.lineno, s.call.col_offset))
    kept: list[_Site] = []
    excluded: list[Excluded] = []
    for site in sites:
        if spec.exclude_context_managers and _is_context_manager_impl(src, site):
            excluded.append(Excluded(path, site.call.lineno, site.qualname, CONTEXT_MANAGER_REASON))
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
        ordinal = ordinals.get(site.qualname, 0)
        ordinals[site.qualname] = ordinal + 1
        reused = site.variable is not None and binds[(id(scope), site.variable)] > 1
        if isinstance(scope, ast.Module):
            start, end = 1, src.last_line
        else:
            decos = getattr(scope, "decorator_list", [])
            start = min([scope.lineno, *(d.lineno for d in decos)])  # type: ignore[attr-defined]
            end = scope.end_lineno or scope.lineno  # type: ignore[attr-defined]
        class_name = next((n.name for n in reversed(site.stack[:-1]) if isinstance(n, ast.ClassDef)), None)
        reads: tuple[str, ...] = ()
        if spec.watched and not isinstance(scope, ast.Module):
            names = {n.id for n in src.local(scope)
                     if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
            reads = tuple(w for w in spec.watched if w in names)
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
            receiver=ast.unparse(call.func.value),  # type: ignore[attr-defined]
            shapes=tuple(_shapes(src, site, reused)),
            phase=phase,
            scope_start=start,
            scope_end=end,
            class_name=class_name,
            is_view=_is_view(scope),
            reads=reads,
            bound=src.bound(),
        ))
    return FileOutcome(path, occurrences, excluded)
