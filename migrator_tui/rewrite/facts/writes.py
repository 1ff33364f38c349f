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


#: Paths followed apart in `dirty_exits` before they are merged into one.
MAX_PATHS = 16
#: (line of the first uncommitted change, committed on this path, what the path's `if` tests
#: showed: (name or "name is None", its truth) for plain names not bound again since)
State = tuple[int | None, bool, frozenset[tuple[str, bool]]]


def _condition(test: ast.expr) -> tuple[str, str, bool] | None:
    """`x`, `not x`, `x is None`, `x is not None` on a plain name: (fact, name, truth), else None."""
    if isinstance(test, ast.Name):
        return test.id, test.id, True
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = _condition(test.operand)
        return (inner[0], inner[1], not inner[2]) if inner else None
    if (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and len(test.ops) == 1
            and isinstance(test.ops[0], (ast.Is, ast.IsNot)) and isinstance(test.comparators[0], ast.Constant)
            and test.comparators[0].value is None):
        return f"{test.left.id} is None", test.left.id, isinstance(test.ops[0], ast.Is)
    return None


def _bound(nodes: list[ast.stmt]) -> set[str]:
    return {n.id for n in walk_local(nodes) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def _forget(facts: frozenset[tuple[str, bool]], names: set[str]) -> frozenset[tuple[str, bool]]:
    if not names or not facts:
        return facts
    return frozenset(f for f in facts if f[0].split(" ", 1)[0] not in names)


def dirty_exits(body: list[ast.stmt], var: str, commit: str, release: str
                 ) -> tuple[list[tuple[int, int]], list[int]]:
    """The ways out of the block, as the context manager's commit on exit sees them.

    Returns (exit line, write line) for every exit that leaves a change uncommitted, and the exit
    lines reached without any commit on their path and with nothing pending. Follows the
    statements path by path: a write makes the session dirty, `commit()` clean and committed;
    branches merge (dirty if any is, committed if all are), loops may run zero times, a `raise`
    leaves (a rollback follows). An exit is a `return` line, or 0 for the end of the block. A
    branch that the path's earlier tests rule out (`if item: item.n += 1` then `if not item:
    return`, with `item` not bound again in between) is not followed.
    """
    loaded = loaded_names(body, var)
    dirty_exits: list[tuple[int, int]] = []
    clean_exits: list[int] = []

    def simple(stmt: ast.stmt, state: State) -> State:
        dirty, committed, facts = state
        facts = _forget(facts, _bound([stmt]))
        if is_method_stmt(stmt, var, {release}):
            return dirty, committed, facts  # the rewrite removes this close(): pending changes stay
        if any(method_call_on(n, var, {commit}) for n in walk_local([stmt])):
            return None, True, facts
        writes = write_lines([stmt], var, loaded)
        return (writes[0] if writes and dirty is None else dirty), committed, facts

    def leave(line: int, state: State) -> None:
        dirty, committed, _ = state
        if dirty is not None:
            dirty_exits.append((line, dirty))
        elif not committed:
            clean_exits.append(line)

    def merge(states: list[State]) -> State | None:
        if not states:
            return None
        dirty = next((d for d, _, _ in states if d is not None), None)
        facts = states[0][2]
        for _, _, f in states[1:]:
            facts &= f
        return dirty, all(c for _, c, _ in states), facts

    def bounded(states: list[State]) -> list[State]:
        """The distinct states; merged into one past `MAX_PATHS` (then facts are only the common)."""
        unique = list(dict.fromkeys(states))
        if len(unique) <= MAX_PATHS:
            return unique
        merged = merge(unique)
        return [merged] if merged is not None else []

    def branch(test: ast.expr, state: State) -> tuple[State | None, State | None]:
        """The states entering an `if`'s body and its `else`, None where the path rules it out."""
        cond = _condition(test)
        if cond is None:
            return state, state
        fact, _, truth = cond
        dirty, committed, facts = state
        body = None if (fact, not truth) in facts else (dirty, committed, facts | {(fact, truth)})
        orelse = None if (fact, truth) in facts else (dirty, committed, facts | {(fact, not truth)})
        return body, orelse

    def forget(states: list[State], names: set[str]) -> list[State]:
        return [(d, c, _forget(f, names)) for d, c, f in states]

    def run(stmts: list[ast.stmt], states: list[State]) -> list[State]:
        """The states after `stmts` (one per distinct path still running; none when all left)."""
        current = states
        for st in stmts:
            if not current:
                return []
            if isinstance(st, ast.Return):
                for state in current:
                    leave(st.lineno, simple(st, state))
                return []
            if isinstance(st, ast.Raise):
                return []
            if isinstance(st, ast.If):
                walrus = {n.id for n in ast.walk(st.test)
                          if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
                into_body, into_else = [], []
                for state in forget(current, walrus):
                    b, e = branch(st.test, state)
                    into_body += [b] if b else []
                    into_else += [e] if e else []
                current = bounded([*(run(st.body, into_body) if into_body else []),
                                   *(run(st.orelse, into_else) if into_else else [])])
            elif isinstance(st, (ast.For, ast.AsyncFor, ast.While)):
                current = forget(current, _bound([st]))  # a later turn may see other values
                current = bounded([*current, *run(st.body, current)])
                if st.orelse and current:
                    current = run(st.orelse, current)
            elif isinstance(st, (ast.With, ast.AsyncWith)):
                current = run(st.body, forget(current, _bound([st]) - _bound(st.body)))
            elif isinstance(st, ast.Try):
                after = run(st.body, current)
                outs = run(st.orelse, after) if st.orelse and after else after
                entry = forget(current, _bound(st.body))
                for h in st.handlers:
                    outs = [*outs, *run(h.body, bounded([*entry, *after]))]
                current = bounded(outs)
                if st.finalbody and current:
                    current = run(st.finalbody, current)
            elif isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            else:
                current = [simple(st, state) for state in current]
        return current

    for state in run(body, [(None, False, frozenset())]):
        leave(0, state)
    return sorted(set(dirty_exits)), sorted(set(clean_exits))


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
