"""Writes and exits: which lines change the database, and what is pending on each way out of
a block (the facts behind `implicit-commit`)."""

from __future__ import annotations

import ast

from migrator_tui.rewrite.astutil import is_method_stmt, last_name, method_call_on, walk_local
from migrator_tui.rewrite.facts.orm import may_be_orm

WRITE_METHODS = {"add", "add_all", "delete", "merge", "execute", "flush", "bulk_save_objects",
                 "bulk_insert_mappings", "bulk_update_mappings"}


def loaded_names(body: list[ast.stmt], var: str) -> set[str]:
    """Names bound (anywhere in the block) to what may be ORM objects loaded from the session."""
    loaded: set[str] = set()
    for n in walk_local(body):
        if isinstance(n, (ast.Assign, ast.AnnAssign)) and n.value is not None:
            if may_be_orm(n.value, var, loaded):
                targets = n.targets if isinstance(n, ast.Assign) else [n.target]
                loaded.update(x.id for t in targets for x in ast.walk(t) if isinstance(x, ast.Name))
        elif isinstance(n, (ast.For, ast.AsyncFor)) and may_be_orm(n.iter, var, loaded):
            loaded.update(x.id for x in ast.walk(n.target) if isinstance(x, ast.Name))
    loaded.discard(var)
    return loaded


def hands_out(call: ast.Call, var: str) -> bool:
    """`helper(session)` / `Service(db=session)`: the callee may change the session (unknown)."""
    values = [*call.args, *(k.value for k in call.keywords)]
    return any(isinstance(v, ast.Name) and v.id == var for v in values)


def write_lines(nodes: list[ast.AST] | list[ast.stmt], var: str, loaded: set[str]) -> list[int]:
    """Lines in `nodes` that change the database through the session or loaded objects."""
    out: list[int] = []
    for n in walk_local(nodes):
        if isinstance(n, (ast.Assign, ast.AugAssign)):
            targets = n.targets if isinstance(n, ast.Assign) else [n.target]
            for t in targets:
                if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id in loaded:
                    out.append(n.lineno)
        elif isinstance(n, ast.Call):
            chained = last_name(n.func) in {"delete", "update"} and var in {
                x.id for x in ast.walk(n.func) if isinstance(x, ast.Name)
            }
            if chained or (method_call_on(n, var, WRITE_METHODS) and not reads_only(n)) or hands_out(n, var):
                out.append(n.lineno)
    return sorted(set(out))


def writes(body: list[ast.stmt], var: str) -> list[int]:
    """Lines that change the database through the session (or objects loaded from it)."""
    return write_lines(body, var, loaded_names(body, var))


State = tuple[int | None, bool]  # (line of the first uncommitted change, committed on this path)


def dirty_exits(body: list[ast.stmt], var: str, commit: str, release: str
                 ) -> tuple[list[tuple[int, int]], list[int]]:
    """The ways out of the block, as the context manager's commit on exit sees them.

    Returns (exit line, write line) for every exit that leaves a change uncommitted, and the exit
    lines reached without any commit on their path and with nothing pending. Follows the
    statements path by path: a write makes the session dirty, `commit()` clean and committed;
    branches merge (dirty if any is, committed if all are), loops may run zero times, a `raise`
    leaves (a rollback follows). An exit is a `return` line, or 0 for the end of the block.
    """
    loaded = loaded_names(body, var)
    dirty_exits: list[tuple[int, int]] = []
    clean_exits: list[int] = []

    def simple(stmt: ast.stmt, state: State) -> State:
        dirty, committed = state
        if is_method_stmt(stmt, var, {release}):
            return state  # the rewrite removes this close(): pending changes reach the exit
        if any(method_call_on(n, var, {commit}) for n in walk_local([stmt])):
            return None, True
        writes = write_lines([stmt], var, loaded)
        return (writes[0] if writes and dirty is None else dirty), committed

    def leave(line: int, state: State) -> None:
        dirty, committed = state
        if dirty is not None:
            dirty_exits.append((line, dirty))
        elif not committed:
            clean_exits.append(line)

    def merge(states: list[State]) -> State | None:
        if not states:
            return None
        dirty = next((d for d, _ in states if d is not None), None)
        return dirty, all(c for _, c in states)

    def run(stmts: list[ast.stmt], state: State) -> State | None:
        """The state after `stmts`, or None when every path left (return/raise)."""
        current: State | None = state
        for st in stmts:
            if current is None:
                return None
            if isinstance(st, ast.Return):
                leave(st.lineno, simple(st, current))
                return None
            if isinstance(st, ast.Raise):
                return None
            if isinstance(st, ast.If):
                current = merge([x for x in (run(st.body, current), run(st.orelse, current)) if x])
            elif isinstance(st, (ast.For, ast.AsyncFor, ast.While)):
                after_body = run(st.body, current)
                current = merge([x for x in (current, after_body) if x])
                if st.orelse and current is not None:
                    current = run(st.orelse, current)
            elif isinstance(st, (ast.With, ast.AsyncWith)):
                current = run(st.body, current)
            elif isinstance(st, ast.Try):
                after = run(st.body, current)
                outs = [run(st.orelse, after) if st.orelse and after else after]
                for h in st.handlers:
                    outs.append(run(h.body, merge([x for x in (current, after) if x]) or current))
                current = merge([x for x in outs if x])
                if st.finalbody:
                    current = run(st.finalbody, current) if current is not None else None
            elif isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            else:
                current = simple(st, current)
        return current

    end = run(body, (None, False))
    if end is not None:
        leave(0, end)
    return dirty_exits, clean_exits


def reads_only(call: ast.Call) -> bool:
    """`session.execute(text("SELECT ..."))` or `session.execute(select(...))`: a read."""
    if last_name(call.func) != "execute" or not call.args:
        return False
    arg = call.args[0]
    if isinstance(arg, ast.Call) and last_name(arg.func) == "select":
        return True
    if isinstance(arg, ast.Call) and last_name(arg.func) == "text" and arg.args:
        sql = arg.args[0]
        return (isinstance(sql, ast.Constant) and isinstance(sql.value, str)
                and sql.value.lstrip().upper().startswith(("SELECT", "PRAGMA", "EXPLAIN", "SHOW", "WITH")))
    return False
