"""What single statements and statement lists do with a resource, read from the standard
library `ast`: bind it, release it, read it later, may raise, only set an option on it. The
questions the planner (`analyze`) asks about the statements around an acquire."""

from __future__ import annotations

import ast
from collections.abc import Sequence

from migrator_tui.rewrite.astutil import (
    dotted,
    is_guard_test,
    is_method_stmt,
    last_name,
    name_loads,
    walk_local,
)

#: Calls known to make an object that `with` can take and whose `__enter__` is `acquire()`.
LOCK_FACTORIES = {"Lock", "RLock", "Semaphore", "BoundedSemaphore", "Condition", "allocate_lock"}


def stmt_list(parent: ast.AST, stmt: ast.stmt) -> list[ast.stmt] | None:
    for fieldname in ("body", "orelse", "finalbody", "handlers"):
        seq = getattr(parent, fieldname, None)
        if isinstance(seq, list) and any(s is stmt for s in seq):
            return seq
    return None


def index(seq: Sequence[ast.AST], node: ast.AST) -> int:
    return next(i for i, s in enumerate(seq) if s is node)


def assigns(stmt: ast.stmt, var: str) -> bool:
    targets: list[ast.expr] = []
    if isinstance(stmt, ast.Assign):
        targets = stmt.targets
    elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign)):
        targets = [stmt.target]
    return any(isinstance(t, ast.Name) and t.id == var for t in targets)


def is_none_assign(stmt: ast.stmt, var: str) -> bool:
    value = stmt.value if isinstance(stmt, (ast.Assign, ast.AnnAssign)) else None
    return assigns(stmt, var) and isinstance(value, ast.Constant) and value.value is None


def releases(stmt: ast.stmt, var: str, methods: set[str]) -> bool:
    """A statement that only releases: `var.close()`, `if var: var.close()`, a try around it."""
    if is_method_stmt(stmt, var, methods):
        return True
    if isinstance(stmt, ast.If) and is_guard_test(stmt.test, var) and not stmt.orelse:
        return all(releases(s, var, methods) for s in stmt.body)
    if isinstance(stmt, ast.Try) and not stmt.orelse and not stmt.finalbody:
        body_ok = all(releases(s, var, methods) for s in stmt.body)
        handlers_trivial = all(
            all(isinstance(s, ast.Pass) or is_log_call(s) for s in h.body) for h in stmt.handlers
        )
        return body_ok and handlers_trivial
    return False


def is_log_call(stmt: ast.stmt) -> bool:
    return (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)
            and isinstance(stmt.value.func, ast.Attribute)
            and stmt.value.func.attr in {"debug", "info", "warning", "error", "exception"})


def closes_in_finally(try_node: ast.Try, var: str, release: str) -> bool:
    return any(releases(s, var, {release}) for s in try_node.finalbody)


def inside(node: ast.AST, seq: list[ast.stmt], parent: dict[ast.AST, ast.AST]) -> bool:
    ids = {id(s) for s in seq}
    while node in parent:
        if id(node) in ids:
            return True
        node = parent[node]
    return id(node) in ids


def makes_lock(value: ast.expr) -> bool:
    if not isinstance(value, ast.Call):
        return False
    name = last_name(value.func) or ""
    return name in LOCK_FACTORIES or name.lower().endswith("lock")


def releases_resource(finalbody: list[ast.stmt], resource: str, release: str) -> bool:
    return any(is_method_stmt(s, resource, {release}) for s in finalbody)


def rooted_at_self(node: ast.AST) -> bool:
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return isinstance(node, ast.Name) and node.id == "self"


def quote_statement(stmt: ast.stmt) -> str:
    """A statement's first line, for a message (whole, or cut at a token boundary with …)."""
    text = ast.unparse(stmt).split("\n", 1)[0]
    if text.endswith(":"):  # a compound statement: its header and an ellipsis for its body
        text += " …"
    if len(text) <= 50:
        return text
    cut = max(text.rfind(c, 0, 48) for c in " ,(.")
    return text[: cut if cut > 10 else 48] + "…"


def rebinding(body: list[ast.stmt], var: str) -> int | None:
    """The first line that binds `var` again inside the block (a second resource), or None."""
    for n in walk_local(body):
        if isinstance(n, ast.Name) and n.id == var and isinstance(n.ctx, ast.Store):
            return n.lineno
    return None


def session_yields(body: list[ast.stmt], var: str) -> list[int]:
    return [n.lineno for n in walk_local(body) if isinstance(n, ast.Expr) and isinstance(n.value, ast.Yield)
            and isinstance(n.value.value, ast.Name) and n.value.value.id == var]


def lookup_only(node: ast.expr) -> bool:
    """`current_app.config["db_manager"]`, `app.db_manager`: attribute and constant-key lookups."""
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        if isinstance(node, ast.Subscript) and not isinstance(node.slice, ast.Constant):
            return False
        node = node.value
    return isinstance(node, ast.Name)


def plain_setting(stmt: ast.stmt, var: str) -> bool:
    """`var.attr = <constant, name or dotted name>` (`conn.row_factory = sqlite3.Row`): setting an
    option on the object just acquired, which does not raise."""
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1):
        return False
    target, value = stmt.targets[0], stmt.value
    return (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
            and target.value.id == var and (isinstance(value, ast.Constant) or dotted(value) is not None))


def plain_registration(stmt: ast.stmt) -> bool:
    """`<dotted name>[<name or constant>] = <name or constant>`: a function or value registered in
    a mapping (`app.dependency_overrides[get_db] = override_get_db`), which does not raise."""
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1):
        return False
    target, value = stmt.targets[0], stmt.value
    plain = (ast.Name, ast.Constant)
    return (isinstance(target, ast.Subscript) and dotted(target.value) is not None
            and isinstance(target.slice, plain) and isinstance(value, plain))


def may_raise(body: list[ast.stmt], var: str) -> list[int]:
    """Lines of statements that can raise: any call, attribute read, subscript, operator, raise
    (not an option set on the object just acquired: `conn.row_factory = sqlite3.Row`, nor a name
    registered in a mapping: `app.dependency_overrides[get_db] = override_get_db`; a function
    defined without decorators or defaults never raises)."""
    risky = (ast.Call, ast.Attribute, ast.Subscript, ast.BinOp, ast.Raise, ast.Assert, ast.Await)
    return sorted({s.lineno for s in body if not plain_setting(s, var) and not plain_registration(s)
                   and not plain_def(s) for n in ast.walk(s) if isinstance(n, risky)})


def plain_def(stmt: ast.stmt) -> bool:
    """`def f(...):` with no decorators, defaults or annotations: binding it runs nothing."""
    if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    args = stmt.args
    annotated = stmt.returns is not None or any(
        a is not None and a.annotation is not None
        for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg])
    return not (stmt.decorator_list or args.defaults or any(args.kw_defaults) or annotated)


def old_use(stmts: list[ast.stmt], var: str) -> tuple[int | None, bool]:
    """(first line reading the old `var`, whether every path then binds it anew).

    A read that follows a new binding on its own path (`if x: s = acquire(); s.query()`) reads the
    new value, not the closed one.
    """
    for s in stmts:
        if isinstance(s, (ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try,
                          ast.Match)):
            heads: list[ast.AST] = []
            if isinstance(s, (ast.If, ast.While)):
                heads = [s.test]
            elif isinstance(s, (ast.For, ast.AsyncFor)):
                heads = [s.iter]
            elif isinstance(s, (ast.With, ast.AsyncWith)):
                heads = [i.context_expr for i in s.items]
            elif isinstance(s, ast.Match):
                heads = [s.subject]
            hit = reads_of(heads, var)
            if hit:
                return hit[0].lineno, False
            blocks: list[list[ast.stmt]] = [s.body, getattr(s, "orelse", []), getattr(s, "finalbody", [])]
            blocks += [h.body for h in getattr(s, "handlers", [])] + [c.body for c in getattr(s, "cases", [])]
            results = [old_use(b, var) for b in blocks if b]
            line = min((r[0] for r in results if r[0] is not None), default=None)
            if line is not None:
                return line, False
            if isinstance(s, ast.If) and s.orelse and all(k for _, k in results):
                return None, True
            continue
        hit = reads_of([s], var)
        if hit:
            return hit[0].lineno, False
        if assigns(s, var):
            return None, True
    return None, False


def reads_of(nodes: list[ast.AST] | list[ast.stmt], var: str) -> list[ast.Name]:
    return [n for n in name_loads(nodes, var) if not isinstance(n.ctx, ast.Store)]
