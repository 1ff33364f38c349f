"""Small helpers over the standard library `ast`: names used, calls made, parents, bindings."""

from __future__ import annotations

import ast
import io
import tokenize
from collections.abc import Iterable, Iterator

from migrator_tui.scan.acquire import dotted, statements

FUNCTION_NODES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
SCOPE_NODES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


def parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    """Map every node to its parent (in `ast.walk`'s order, without its generators: a third of
    the time; the contexts and operators the parser shares get the last parent, as there)."""
    from collections import deque

    out: dict[ast.AST, ast.AST] = {}
    todo = deque([tree])
    take, add, node_type = todo.popleft, todo.append, ast.AST
    while todo:
        node = take()
        for name in node._fields:
            value = getattr(node, name, None)
            if value.__class__ is list:
                for item in value:
                    if isinstance(item, node_type):
                        out[item] = node
                        add(item)
            elif isinstance(value, node_type):
                out[value] = node
                add(value)
    return out


def children(node: ast.AST) -> list[ast.AST]:
    """`list(ast.iter_child_nodes(node))`, without its generator (the walks' inner loop)."""
    out: list[ast.AST] = []
    for name in node._fields:
        value = getattr(node, name, None)
        if value.__class__ is list:
            for item in value:
                if isinstance(item, ast.AST):
                    out.append(item)
        elif isinstance(value, ast.AST):
            out.append(value)
    return out


def walk_local(nodes: Iterable[ast.AST]) -> Iterator[ast.AST]:
    """Walk `nodes` and their descendants without entering nested functions or classes, in
    source order (each statement's walk is kept on it: the analysis asks for the same blocks
    many times, and never changes a tree)."""
    for node in nodes:
        if isinstance(node, ast.stmt):
            yield from _local_nodes(node)
        else:
            yield from _walk_expr(node)


#: The attribute a statement keeps its local walk in.
_WALK = "_migrator_walk"


def _local_nodes(stmt: ast.stmt) -> list[ast.AST]:
    """`stmt` and its descendants outside nested scopes, in source order, computed once."""
    found = stmt.__dict__.get(_WALK)
    if found is None:
        found = [stmt]
        if not isinstance(stmt, SCOPE_NODES):
            for child in children(stmt):
                if isinstance(child, ast.stmt):
                    found.extend(_local_nodes(child))
                else:
                    found.extend(_walk_expr(child))
        stmt.__dict__[_WALK] = found
    return found


def _walk_expr(node: ast.AST) -> Iterator[ast.AST]:
    stack = [node]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.stmt):  # a statement below an expression-level node (a handler)
            yield from _local_nodes(node)
            continue
        yield node
        if isinstance(node, SCOPE_NODES):
            continue
        stack.extend(reversed(children(node)))


def walk_all(nodes: Iterable[ast.AST]) -> Iterator[ast.AST]:
    """Walk `nodes` and every descendant, nested functions included, in source order: the
    local walk (kept on each statement), with each nested scope's own walk where it starts."""
    for node in nodes:
        for n in _local_nodes(node) if isinstance(node, ast.stmt) else _walk_expr(node):
            yield n
            if isinstance(n, SCOPE_NODES):
                yield from walk_all(children(n))


def name_loads(nodes: Iterable[ast.AST], name: str, *, nested: bool = True) -> list[ast.Name]:
    """Every `Name` node reading or writing `name` within `nodes` (nested scopes too by default)."""
    walker = walk_all if nested else walk_local
    return [n for n in walker(nodes) if isinstance(n, ast.Name) and n.id == name]


def uses(nodes: Iterable[ast.AST], name: str) -> bool:
    return bool(name_loads(nodes, name))


def method_call_on(node: ast.AST, var: str, methods: Iterable[str]) -> bool:
    """True when `node` is the call `<var>.<method>()` for one of `methods`."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in set(methods)):
        return False
    receiver = node.func.value
    if isinstance(receiver, ast.Name):
        return receiver.id == var
    return "." in var and dotted(receiver) == var


def is_method_stmt(stmt: ast.stmt, var: str, methods: Iterable[str]) -> bool:
    """`<var>.<method>()` as a statement of its own."""
    return isinstance(stmt, ast.Expr) and method_call_on(stmt.value, var, methods)


def is_guard_test(test: ast.expr, var: str) -> bool:
    """`if var:` or `if var is not None:`."""
    if isinstance(test, ast.Name) and test.id == var:
        return True
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == var
        and len(test.ops) == 1
        and isinstance(test.ops[0], ast.IsNot)
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value is None
    )


def last_name(node: ast.AST) -> str | None:
    """The last name of a decorator or callee: `app.route('/x')` → `route`, `login_required` → itself."""
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return None


def module_bindings(tree: ast.Module) -> set[str]:
    """Names bound at module level (assignments, imports, defs, classes, `global` writes)."""
    names: set[str] = set()
    for stmt in tree.body:
        for node in walk_local([stmt]):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                for alias in node.names:
                    names.add((alias.asname or alias.name).split(".")[0])
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
    for node in statements(tree):  # `global` is a statement: no expression needs a visit
        if isinstance(node, ast.Global):
            names.update(node.names)
    return names


def function_locals(func: ast.AST) -> set[str]:
    """Names local to a function: parameters and names it stores (not its nested scopes).
    Computed once per function (kept on it, as `walk_local` keeps its walks); a new set each call."""
    found = func.__dict__.get(_LOCALS)
    if found is None:
        found = func.__dict__[_LOCALS] = frozenset(_function_locals(func))
    return set(found)


#: The attribute a function keeps its local names in.
_LOCALS = "_migrator_locals"
_DEFS = frozenset({ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef})
_IMPORTS = frozenset({ast.Import, ast.ImportFrom})
_SCOPED = frozenset({ast.Global, ast.Nonlocal})


def _function_locals(func: ast.AST) -> set[str]:
    names: set[str] = set()
    if isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        a = func.args
        for arg in [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg]:
            if arg is not None:
                names.add(arg.arg)
        body = func.body if isinstance(func.body, list) else [func.body]
        declared_global: set[str] = set()
        # (by exact type: the parser makes no subclasses, and this loop sees every node of
        # every analysed function)
        name, store, defs, imports, scoped = ast.Name, ast.Store, _DEFS, _IMPORTS, _SCOPED
        for node in walk_local(body):
            kind = type(node)
            if kind is name:
                if type(node.ctx) is store:  # type: ignore[attr-defined]
                    names.add(node.id)  # type: ignore[attr-defined]
            elif kind in defs:
                names.add(node.name)  # type: ignore[attr-defined]
            elif kind in imports:
                for alias in node.names:  # type: ignore[attr-defined]
                    names.add((alias.asname or alias.name).split(".")[0])
            elif kind in scoped:
                declared_global.update(node.names)  # type: ignore[attr-defined]
        names -= declared_global
    return names


def quote(node: ast.AST, limit: int = 50) -> str:
    """`node` as code for a message: whole when short, else cut after the last whole token that
    fits in `limit` characters and marked with `…` (never inside a string or a name)."""
    return elide(ast.unparse(node), limit)


def elide(code: str, limit: int) -> str:
    """`code` (one line of Python) cut at a token boundary to about `limit` characters, with `…`."""
    if len(code) <= limit:
        return code
    end = 0
    try:
        for tok in tokenize.generate_tokens(io.StringIO(code).readline):
            if tok.type in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER, tokenize.DEDENT):
                continue
            if tok.end[0] > 1 or (tok.end[1] > limit and end):
                break
            end = tok.end[1]
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass
    if end == 0:  # not tokenizable: cut at the last space instead
        cut = code.rfind(" ", 0, limit)
        end = cut if cut > 0 else len(code)
    return code if end >= len(code) else code[:end].rstrip() + "…"


def statements_with_class(body: list[ast.stmt]) -> list[tuple[ast.stmt, str | None]]:
    """Every statement with the name of the class whose method holds it (or None)."""
    out: list[tuple[ast.stmt, str | None]] = []
    stack: list[tuple[ast.stmt, str | None]] = [(s, None) for s in reversed(body)]
    while stack:
        st, owner = stack.pop()
        out.append((st, owner))
        inner = st.name if isinstance(st, ast.ClassDef) else owner
        subs: list[ast.stmt] = []
        for field in ("body", "orelse", "finalbody"):
            sub = getattr(st, field, None)
            if isinstance(sub, list):
                subs.extend(x for x in sub if isinstance(x, ast.stmt))
        for h in getattr(st, "handlers", None) or []:
            subs.extend(h.body)
        for case in getattr(st, "cases", None) or []:
            subs.extend(case.body)
        stack.extend((x, inner) for x in reversed(subs))
    return out
