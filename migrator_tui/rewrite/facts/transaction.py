"""What runs after a commit() or rollback() inside the block (the `begin` strategy's hazard).

Inside `with session.begin():`, a commit() or rollback() closes the context's transaction; any
later use of the session in the block, and any read of an attribute that commit() expired, raises
`InvalidRequestError: Can't operate on closed transaction inside context manager` (checked on
SQLAlchemy 2). What may follow is only what cannot touch the session: `return` of a constant or
a name, `pass`, `break`/`continue`, a `raise` or a log call whose arguments are constants.
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from migrator_tui.rewrite.astutil import is_method_stmt, walk_all
from migrator_tui.rewrite.facts.writes import hands_out
from migrator_tui.scan.classify import container

_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_LOG_METHODS = {"debug", "info", "warning", "error", "exception", "critical", "print"}


def _plain(node: ast.AST | None) -> bool:
    """A value that reads nothing from an object: a constant, a name, or a display of them."""
    if node is None or isinstance(node, (ast.Constant, ast.Name)):
        return True
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return all(_plain(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(_plain(k) for k in node.keys if k is not None) and all(_plain(v) for v in node.values)
    if isinstance(node, ast.JoinedStr):
        return all(isinstance(v, ast.Constant) or (isinstance(v, ast.FormattedValue) and _plain(v.value))
                   for v in node.values)
    return False


def _inert(stmt: ast.stmt, var: str = "", release: str = "") -> bool:
    if isinstance(stmt, (ast.Pass, ast.Break, ast.Continue)):
        return True
    if release and is_method_stmt(stmt, var, {release}):
        return True  # the close the rewrite removes
    if isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        return all(isinstance(t, ast.Name) for t in targets) and _plain(stmt.value)
    if isinstance(stmt, ast.Return):
        return _plain(stmt.value)
    if isinstance(stmt, ast.Raise):
        exc = stmt.exc
        if exc is None or _plain(exc):
            return True
        return isinstance(exc, ast.Call) and all(_plain(a) for a in exc.args) and not exc.keywords
    if isinstance(stmt, ast.Expr):
        value = stmt.value
        if isinstance(value, ast.Constant):
            return True
        if isinstance(value, ast.Call):
            func = value.func
            name = (func.attr if isinstance(func, ast.Attribute)
                    else func.id if isinstance(func, ast.Name) else "")
            return name in _LOG_METHODS and all(_plain(a) for a in value.args) and all(
                _plain(k.value) for k in value.keywords)
    return False


def _leaves(stmt: ast.stmt) -> bool:
    return isinstance(stmt, (ast.Return, ast.Raise))


def after_transaction_end(body: list[ast.stmt], var: str, methods: set[str],
                          parent: dict[ast.AST, ast.AST], release: str = "",
                          ends: Callable[[ast.stmt], bool] | None = None) -> list[tuple[int, int]]:
    """(line of what runs next, line of the commit/rollback) for each commit() or rollback()
    statement of the block (or each statement `ends` names) followed, before the block ends, by
    something that may touch the session: a later statement, or another turn of an enclosing
    loop. In the order of the commits."""
    out: list[tuple[int, int]] = []
    top = {id(s) for s in body}

    def follow(stmt: ast.stmt, origin: int) -> None:
        node: ast.AST = stmt
        while True:
            owner = parent.get(node)
            if owner is None:
                return
            seq = container(owner, node)
            if seq is None:
                return
            i = next(k for k, s in enumerate(seq) if s is node)
            for nxt in seq[i + 1:]:
                if not _inert(nxt, var, release):
                    out.append((nxt.lineno, origin))
                    return
                if _leaves(nxt) or isinstance(nxt, (ast.Break, ast.Continue)):
                    if isinstance(nxt, ast.Continue):
                        loop = _loop_of(owner, parent, top)
                        if loop is not None:
                            out.append((loop.lineno, origin))
                    return
            if id(node) in top or seq is body:
                return  # the end of the block: the context's exit, nothing more
            if isinstance(owner, _LOOPS) and seq is owner.body:
                out.append((owner.lineno, origin))  # another turn of the loop may follow
                return
            if isinstance(owner, ast.Try) and (seq is owner.finalbody):
                return
            node = owner

    for stmt in sorted(_statements(body), key=lambda s: (s.lineno, s.col_offset)):
        if is_method_stmt(stmt, var, methods) if ends is None else ends(stmt):
            follow(stmt, stmt.lineno)
    return out


def hands_out_session(stmt: ast.stmt, var: str) -> bool:
    """A simple statement that passes the session to a call (`service = Service(db)`,
    `helper(db)`): the callee may commit or roll back it."""
    if isinstance(stmt, (ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try,
                         ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Match)):
        return False
    return any(isinstance(n, ast.Call) and hands_out(n, var) for n in walk_all([stmt]))


def _loop_of(node: ast.AST, parent: dict[ast.AST, ast.AST], top: set[int]) -> ast.AST | None:
    while node is not None and not isinstance(node, _LOOPS):
        if id(node) in top:
            return None
        node = parent.get(node)  # type: ignore[assignment]
    return node


def _statements(body: list[ast.stmt]) -> list[ast.stmt]:
    """The block's statements, nested ones included, not entering handlers or nested scopes."""
    out: list[ast.stmt] = []
    todo = list(body)
    while todo:
        st = todo.pop()
        out.append(st)
        if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for name in ("body", "orelse", "finalbody"):
            seq = getattr(st, name, None)
            if isinstance(seq, list):
                todo.extend(s for s in seq if isinstance(s, ast.stmt))
        for case in getattr(st, "cases", ()):
            todo.extend(case.body)
    return out
