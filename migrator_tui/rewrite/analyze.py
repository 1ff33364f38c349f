"""Find each occurrence's rewrite plan on the standard library `ast` (fast; no libcst here).

For a bound acquire (`var = <receiver>.get_session()`), the lifetime is recognised as one of:
- "try":   the acquire (before the `try`, or inside it) and a `try` whose `finally` closes `var`;
- "close": no `try`, a later `var.close()` statement in the same block;
- "open":  never closed: the region runs to the last statement of the block that uses `var`;
- "with":  `with <receiver>.get_session() as var:` (only the context expression changes).
Anything else is "manual", with the reason.
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from migrator_tui.model import Occurrence
from migrator_tui.recipe import Recipe
from migrator_tui.rewrite.astutil import (
    FUNCTION_NODES,
    SCOPE_NODES,
    dotted,
    function_locals,
    is_guard_test,
    is_method_stmt,
    last_name,
    method_call_on,
    module_bindings,
    name_loads,
    parents,
    quote,
    uses,
    walk_all,
    walk_local,
)
from migrator_tui.rewrite.callers import is_route
from migrator_tui.rewrite.facts.handlers import catching_calls, is_broad, live_specific
from migrator_tui.rewrite.facts.io import io_call
from migrator_tui.rewrite.facts.orm import orm_escapes, plain_annotation
from migrator_tui.rewrite.facts.returns import Function, none_exit
from migrator_tui.rewrite.facts.statements import (
    assigns,
    closes_in_finally,
    index,
    inside,
    is_none_assign,
    lookup_only,
    makes_lock,
    may_raise,
    old_use,
    quote_statement,
    rebinding,
    releases,
    releases_resource,
    rooted_at_self,
    session_yields,
    stmt_list,
)
from migrator_tui.rewrite.facts.transaction import after_transaction_end, hands_out_session
from migrator_tui.rewrite.facts.writes import dirty_exits, writes
from migrator_tui.rewrite.plan import Facts, Plan
from migrator_tui.rewrite.repo_index import relationship_names
from migrator_tui.scan.acquire import Matcher, acquire_calls, spec_of
from migrator_tui.sourcefile import split_lines

DEFS = (ast.FunctionDef, ast.AsyncFunctionDef)
VIEW_DECORATORS = {"route", "get", "post", "put", "delete", "patch"}

#: `decorator_catches(decorator_node, tree) -> [(line, "ExcType (in decorator x)")]`
DecoratorCheck = Callable[[ast.expr], list[tuple[int, str]]]


def find_call(calls: dict[int, list[ast.Call]], occ: Occurrence, source_lines: list[str]) -> ast.Call | None:
    """The acquire call of `occ` (its column counts characters; `ast` counts UTF-8 bytes)."""
    candidates = calls.get(occ.line, [])
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    line = source_lines[occ.line - 1] if occ.line <= len(source_lines) else ""
    for call in candidates:
        if len(line.encode("utf-8")[: call.col_offset].decode("utf-8", "replace")) == occ.column:
            return call
    return None



class Analyzer:
    """Analyses every occurrence of one parsed file."""

    def __init__(self, tree: ast.Module, recipe: Recipe, decorator_check: DecoratorCheck | None = None,
                 catching_callers: Callable[[str, str | None], list[tuple[str, int, str]]] | None = None,
                 source: str | None = None, path: str = ""):
        self.tree = tree
        #: The file's repository-relative path (its callers are found here and by the repo search).
        self.path = path
        self.catching_callers = catching_callers
        self._calls: dict[int, list[ast.Call]] | None = None
        self.source_lines: list[str] = split_lines(source) if source is not None else []
        self.recipe = recipe
        self.parent = parents(tree)
        self.bound = frozenset(module_bindings(tree))
        self.decorator_check = decorator_check
        #: a `begin` strategy is offered: the facts its warnings need are collected
        self.begins = any(s.kind == "begin" for s in recipe.strategies.values())
        #: attribute names the repository's models declare `relationship()` (set by the engine)
        self.relations: frozenset[str] = frozenset(relationship_names(tree))
        self._callers: dict[str, list[tuple[int, str]]] | None = None
        self._none_returns: dict[tuple[ast.ClassDef | None, str], tuple[int, str] | None] = {}
        self._defs: dict[ast.ClassDef | None, dict[str, Function]] = {}
        self._reads: dict[int, frozenset[str]] = {}
        #: a function of the repository by the name this module calls it (set by the engine)
        self.find_function: Callable[[str], tuple[Function, str] | None] | None = None
        #: `RepoIndex.upstream_handlers` (set by the engine when a strategy wraps exceptions)
        self.upstream: Callable[[str, str | None, bool], list[tuple[tuple[str, ...], str, str]]] | None = None

    # --- surroundings ---------------------------------------------------------------------

    def enclosing(self, node: ast.AST) -> list[ast.AST]:
        """Ancestors of `node`, innermost first."""
        out = []
        while node in self.parent:
            node = self.parent[node]
            out.append(node)
        return out

    def facts(self, call: ast.Call, occ: Occurrence) -> Facts:
        chain = self.enclosing(call)
        funcs = [n for n in chain if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        func = funcs[0] if funcs else None
        class_name = class_line = None
        for f in funcs:
            owner = self.parent.get(f)
            if isinstance(owner, ast.ClassDef):
                class_name, class_line = owner.name, owner.lineno
                break
        decorators = tuple(ast.unparse(d) for d in func.decorator_list) if func else ()
        is_view = bool(func) and any(
            isinstance(d, ast.Call) and last_name(d) in VIEW_DECORATORS for d in func.decorator_list
        )
        reads = self._watched_reads(func)
        return Facts(
            function=occ.function, in_function=func is not None, is_view=is_view,
            class_name=class_name, class_line=class_line,
            receiver=ast.unparse(call.func.value) if isinstance(call.func, ast.Attribute) else "",
            receiver_self=isinstance(call.func, ast.Attribute) and rooted_at_self(call.func.value),
            acquire=self._source_of(call), acquire_column=occ.column,
            decorators=decorators, reads=reads, bound=self.bound,
            locals=frozenset(function_locals(func)) if func else frozenset(),
        )

    def _watched_reads(self, func: ast.FunctionDef | ast.AsyncFunctionDef | None) -> frozenset[str]:
        """The recipe's watched names a function's body reads (nested scopes included), once
        per function."""
        key = id(func)
        found = self._reads.get(key)
        if found is None:
            watched = set(self.recipe.watched_names)
            if func is not None and watched and self.source_lines:  # (a name not written is not read)
                text = "\n".join(self.source_lines[func.body[0].lineno - 1 : func.end_lineno or func.lineno])
                if text.isascii() and not any(w in text for w in watched):
                    watched = set()
            found = self._reads[key] = frozenset(
                n.id for n in walk_all(func.body if func and watched else [])
                if isinstance(n, ast.Name) and n.id in watched)
        return found

    def _source_of(self, node: ast.expr) -> str:
        """The node's own text (the acquire call as written), or its unparsed form."""
        if self.source_lines and node.end_lineno is not None and node.end_col_offset is not None:
            lines = self.source_lines[node.lineno - 1 : node.end_lineno]
            if len(lines) == node.end_lineno - node.lineno + 1:
                raw = [ln.encode("utf-8") for ln in lines]
                raw[-1] = raw[-1][: node.end_col_offset]
                raw[0] = raw[0][node.col_offset :]
                return b"\n".join(raw).decode("utf-8", "replace")
        return ast.unparse(node)

    # --- the plan -------------------------------------------------------------------------

    def plan(self, occ: Occurrence) -> Plan:
        if self._calls is None:
            self._calls = acquire_calls(self.tree, Matcher(spec_of(self.recipe.acquire), self.tree),
                                        self.parent)  # the parent map holds every node but the root
        call = find_call(self._calls, occ, self.source_lines)
        if call is None:
            return Plan(occ.id, None, Facts(function=occ.function), manual_reason=(
                f"the acquire at line {occ.line} is no longer there (the file changed since the scan)"),
                manual_code="stale")
        facts = self.facts(call, occ)
        parent = self.parent[call]
        if not self.recipe.acquire.binds:
            if isinstance(parent, ast.Expr):
                return self._plan_statement(occ, call, parent, facts)
            return self._manual(occ, facts, None, "session-escapes",
                                "the acquire's result is used; only a statement of its own is rewritten")
        if isinstance(parent, ast.withitem):
            return self._plan_with(occ, call, parent, facts)
        if isinstance(parent, (ast.Assign, ast.AnnAssign)) and parent.value is call:
            targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
            if len(targets) == 1 and isinstance(targets[0], ast.Name):
                bound = self._plan_bound(occ, call, parent, targets[0].id, facts)
                if not bound.is_manual:
                    bound.none_return = self._none_return(call)
                return bound
            where = ast.unparse(targets[0]) if len(targets) == 1 else "several targets"
            return self._manual(occ, facts, None, "session-escapes",
                                f"the session is stored in {where}, beyond any block")
        if isinstance(parent, ast.Attribute):
            return self._manual(occ, facts, None, "inline-acquire",
                                f"`{ast.unparse(parent)}...` uses the session inline: nothing binds "
                                "it, so nothing can close it; bind it to a name first")
        if isinstance(parent, (ast.Return, ast.Yield, ast.YieldFrom)):
            return self._manual(occ, facts, None, "session-escapes",
                                "the session itself is returned or yielded to the caller")
        return self._manual(occ, facts, None, "session-escapes",
                            f"the session is passed on without a name (`{quote(parent, 60)}`)")

    def _raising_while_held(self, body: list[ast.stmt], var: str) -> list[int]:
        """`_may_raise` lines where an exception leaves something open: for a lazy acquire (see
        `AcquireSpec.lazy`) only from the first statement that uses the object on."""
        if self.recipe.acquire.lazy:
            first = next((i for i, s in enumerate(body) if uses([s], var)), len(body))
            body = body[first:]
        return may_raise(body, var)

    def _none_return(self, call: ast.Call) -> tuple[int, str] | None:
        """(line, what) when the acquire calls a function of this repository that can return
        None: `name()` defined in this module or imported from another of the repository, or
        `self.name()` defined in the enclosing class."""
        func = call.func
        owner: ast.ClassDef | None = None  # the module's functions, or the enclosing class's
        if isinstance(func, ast.Name):
            name = func.id
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self":
            owner = next((a for a in self.enclosing(call) if isinstance(a, ast.ClassDef)), None)
            if owner is None:
                return None
            name = func.attr
        else:
            return None
        if (owner, name) not in self._none_returns:  # one answer per function, however many calls
            self._none_returns[(owner, name)] = self._find_none_return(owner, name, func)
        return self._none_returns[(owner, name)]

    def _find_none_return(self, owner: ast.ClassDef | None, name: str, func: ast.expr
                          ) -> tuple[int, str] | None:
        if owner not in self._defs:
            body = self.tree.body if owner is None else owner.body
            self._defs[owner] = {st.name: st for st in body if isinstance(st, DEFS)}
        found: tuple[Function, str] | None = None
        if name in self._defs[owner]:
            found = self._defs[owner][name], self.path
        elif owner is None and self.find_function is not None:
            found = self.find_function(name)
        if found is None:
            return None
        definition, path = found
        at = none_exit(definition)
        if at is None:
            return None
        where = f"line {at}" if path == self.path else f"{path}:{at}"
        return at, f"`{ast.unparse(func)}()` can return None ({where})"

    def _manual(self, occ: Occurrence, facts: Facts, var: str | None, code: str, reason: str) -> Plan:
        return Plan(occ.id, var, facts, pattern="manual", manual_code=code, manual_reason=reason,
                    acquire_line=occ.line)

    def _plan_with(self, occ: Occurrence, call: ast.Call, item: ast.withitem, facts: Facts) -> Plan:
        with_node = self.parent[item]
        if not isinstance(with_node, ast.With) or len(with_node.items) != 1:
            return self._manual(occ, facts, None, "session-escapes",
                                "the raw session shares its `with` with other context managers")
        if not isinstance(item.optional_vars, ast.Name):
            return self._manual(occ, facts, None, "session-escapes",
                                "the raw session's `with` binds no simple name")
        var = item.optional_vars.id
        plan = Plan(occ.id, var, facts, pattern="with", acquire_line=with_node.lineno,
                    region_start=with_node.lineno, region_end=with_node.end_lineno or with_node.lineno,
                    with_line=with_node.lineno)
        body = with_node.body
        reason = self._escape_reason(body, var)
        if reason:
            return self._manual(occ, facts, var, "session-escapes", reason)
        after = self._after(with_node, var)
        if after is not None:
            return self._manual(occ, facts, var, "used-after-close",
                                f"the session is used at line {after} after its `with` closed it")
        self._collect(plan, body, with_node, var)
        return plan

    def _plan_bound(self, occ: Occurrence, call: ast.Call, assign: ast.stmt, var: str,
                    facts: Facts) -> Plan:
        a = self.recipe.acquire
        owner = self.parent[assign]
        seq = stmt_list(owner, assign)
        if seq is None or (isinstance(owner, ast.ExceptHandler) and seq is not owner.body):
            return self._manual(occ, facts, var, "session-escapes", "the acquire is in an unusual place")
        k = index(seq, assign)
        plan = Plan(occ.id, var, facts, acquire_line=assign.lineno)
        if k > 0 and (seq[k - 1].end_lineno or 0) + 1 == assign.lineno:  # adjacent: nothing between
            plan.receiver_binding = self._receiver_binding(call, seq[k - 1])

        # "try", acquire inside: `try: [stmts] var = acquire() ... finally: var.close()`
        if isinstance(owner, ast.Try) and seq is owner.body and closes_in_finally(owner, var, a.release):
            outer = self.parent[owner]
            outer_seq = stmt_list(outer, owner)
            assert outer_seq is not None
            t = index(outer_seq, owner)
            plan.pattern = "try"
            plan.try_line = owner.lineno
            plan.body_before = [s.lineno for s in seq[:k]]
            start = owner
            for g in range(t - 1, -1, -1):
                if is_none_assign(outer_seq[g], var):
                    if not uses(outer_seq[g + 1 : t], var):
                        plan.guard_line = outer_seq[g].lineno
                        start = outer_seq[g]
                        # statements between `var = None` and the `try` stay, before the `with`
                        plan.pre_outside = [st.lineno for st in outer_seq[g + 1 : t]]
                    break
                if uses([outer_seq[g]], var):
                    break
            if plan.guard_line is None and not self._finally_guarded(owner, var):
                plan.unguarded = True
            return self._finish_try(plan, occ, owner, seq[k + 1 :], [], start, outer_seq)

        # "try", acquire before: `var = acquire()` [pre...] `try: ... finally: var.close()`
        for j in range(k + 1, len(seq)):
            stmt = seq[j]
            if isinstance(stmt, ast.Try) and closes_in_finally(stmt, var, a.release):
                pre = seq[k + 1 : j]
                if any(assigns(s, var) for s in pre):
                    break
                plan.pattern = "try"
                plan.try_line = stmt.lineno
                # from the first statement using the session (or acquiring another one, which keeps
                # its place after this acquire) on, the statements move into the block
                first_use = next((i for i, s in enumerate(pre) if uses([s], var) or self._acquires(s)),
                                 len(pre))
                plan.pre_outside = [s.lineno for s in pre[:first_use]]
                plan.pre_inside = [s.lineno for s in pre[first_use:]]
                return self._finish_try(plan, occ, stmt, list(stmt.body), pre[first_use:], assign, seq)
            if assigns(stmt, var) or (any(
                method_call_on(n, var, {a.release}) for n in walk_all([stmt])
            ) and not is_method_stmt(stmt, var, {a.release}) and not self._closes_then_leaves(stmt, var)):
                break
            if is_method_stmt(stmt, var, {a.release}):
                plan.pattern = "close"
                plan.close_line = stmt.lineno
                body = seq[k + 1 : j]
                closed = self._closed_exits(body, var)
                plan.leaky_exits = [n.lineno for n in walk_local(body)
                                    if isinstance(n, (ast.Return, ast.Raise)) and n.lineno not in closed]
                return self._finish_linear(plan, occ, body, assign, stmt, seq)

        # "open": never closed in this block
        if isinstance(owner, (ast.Module, ast.ClassDef)):
            where = "a module global" if isinstance(owner, ast.Module) else "a class attribute"
            return self._manual(occ, facts, var, "session-escapes",
                                f"the session is never closed and `{var}` is {where} that other "
                                "code may use")
        if any(method_call_on(n, var, {a.release}) for n in walk_all(self._function_body(assign))):
            return self._manual(occ, facts, var, "release-elsewhere",
                                "the session is closed in a way this tool does not follow "
                                "(not in a `finally` nor by a statement of the same block)")
        last = k
        for j in range(k + 1, len(seq)):
            if assigns(seq[j], var):
                break
            if uses([seq[j]], var):
                last = j
        plan.pattern = "open"
        body = seq[k + 1 : last + 1]
        plan.end_stmt_line = seq[last].lineno
        return self._finish_linear(plan, occ, body, assign, seq[last], seq)

    def _plan_statement(self, occ: Occurrence, call: ast.Call, stmt: ast.Expr, facts: Facts) -> Plan:
        """`<resource>.acquire()` as a statement, released by `<resource>.release()` in a finally."""
        a = self.recipe.acquire
        resource = ast.unparse(call.func.value)  # type: ignore[attr-defined]
        owner = self.parent[stmt]
        seq = stmt_list(owner, stmt)
        plan = Plan(occ.id, None, facts, acquire_line=stmt.lineno, resource=resource)
        if seq is None:
            return self._manual(occ, facts, None, "session-escapes", "the acquire is in an unusual place")
        k = index(seq, stmt)
        if isinstance(owner, ast.Try) and seq is owner.body and releases_resource(owner.finalbody, resource,
                                                                                    a.release):
            outer = self.parent[owner]
            outer_seq = stmt_list(outer, owner)
            assert outer_seq is not None
            plan.pattern, plan.try_line = "try", owner.lineno
            plan.body_before = [s.lineno for s in seq[:k]]
            plan.unguarded = True
            return self._finish_resource(occ, plan, owner, stmt)
        for j in range(k + 1, len(seq)):
            node = seq[j]
            if isinstance(node, ast.Try) and releases_resource(node.finalbody, resource, a.release):
                plan.pattern, plan.try_line = "try", node.lineno
                plan.pre_inside = [s.lineno for s in seq[k + 1 : j]]
                return self._finish_resource(occ, plan, node, stmt)
            if any(method_call_on(n, resource, {a.release}) for n in walk_all([node])):
                break
        if isinstance(owner, ast.If) and len(seq) == 1:
            return self._manual(occ, facts, None, "release-elsewhere",
                                f"`{resource}` is acquired only under `if {quote(owner.test, 40)}:`, "
                                "so a `with` would have to be conditional too")
        return self._manual(occ, facts, None, "release-elsewhere",
                            f"`{resource}` is not released in the `finally` of a `try` that follows "
                            "the acquire, so a `with` would change when it is released")

    def _finish_resource(self, occ: Occurrence, plan: Plan, try_node: ast.Try, acquire: ast.stmt) -> Plan:
        a = self.recipe.acquire
        resource = plan.resource or ""
        plan.region_start = min(acquire.lineno, try_node.lineno)
        plan.region_end = try_node.end_lineno or try_node.lineno
        plan.finally_remove = [s.lineno for s in try_node.finalbody
                               if is_method_stmt(s, resource, {a.release})]
        if len(plan.finally_remove) != 1:
            return self._manual(occ, plan.facts, None, "release-elsewhere",
                                f"`{resource}` is released more than once in the `finally`")
        inner = [s for s in try_node.body if s is not acquire]
        releases = [n.lineno for n in walk_all(inner) if method_call_on(n, resource, {a.release})]
        if releases:
            return self._manual(occ, plan.facts, None, "release-elsewhere",
                                f"`{resource}` is also released at line {releases[0]}, inside the block")
        plan.io_calls = [(n.lineno, io) for n in walk_local(inner) if isinstance(n, ast.Call)
                         and (io := io_call(n))]
        kind = self._resource_kind(acquire, resource)
        if kind == "not-a-context-manager":
            return self._manual(occ, plan.facts, None, "not-a-context-manager",
                                f"`{resource}` has acquire()/release() methods but no __enter__ in its "
                                "class, so `with` cannot take it")
        plan.resource_known = kind == "known"
        return plan

    def _resource_kind(self, node: ast.AST, resource: str) -> str:
        """"known" (made by threading.Lock() & co, or its class defines __enter__), "unknown", or
        "not-a-context-manager" (`self` of a class that defines acquire but no __enter__)."""
        classes = [c for c in self.enclosing(node) if isinstance(c, ast.ClassDef)]
        lineage = self._lineage(classes[0]) if classes else []
        if resource == "self" and lineage:
            methods = {n.name for c in lineage for n in c.body
                       if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
            if "__enter__" in methods:
                return "known"
            return "not-a-context-manager" if "acquire" in methods else "unknown"
        scopes: list[ast.AST] = list(lineage) if resource.startswith("self.") else [self.tree]
        for scope in scopes:
            for n in ast.walk(scope):
                if isinstance(n, (ast.Assign, ast.AnnAssign)) and n.value is not None:
                    targets = n.targets if isinstance(n, ast.Assign) else [n.target]
                    if any(dotted(t) == resource for t in targets) and makes_lock(n.value):
                        return "known"
        return "unknown"

    def _lineage(self, cls: ast.ClassDef) -> list[ast.ClassDef]:
        """The class and its ancestors defined in the same module (by name)."""
        by_name = {c.name: c for c in self.parent if isinstance(c, ast.ClassDef)}
        out, todo = [], [cls]
        while todo:
            c = todo.pop()
            if c in out:
                continue
            out.append(c)
            todo.extend(by_name[b.id] for b in c.bases if isinstance(b, ast.Name) and b.id in by_name)
        return out

    def _only_plain_return_after(self, stmt: ast.stmt) -> bool:
        """Only `return` / `return <constant>` follows `stmt` on its path, or the `finally`."""
        owner = self.parent.get(stmt)
        seq = stmt_list(owner, stmt) if owner is not None else None
        if seq is None:
            return False
        rest = seq[index(seq, stmt) + 1 :]
        if not rest:  # the last statement of the `try` body: what follows is the finally's close
            return isinstance(owner, ast.Try) and seq is owner.body
        return len(rest) == 1 and isinstance(rest[0], ast.Return) and (
            rest[0].value is None or isinstance(rest[0].value, ast.Constant))

    def _closes_then_leaves(self, stmt: ast.stmt, var: str) -> bool:
        """Every release inside `stmt` is a statement followed at once by a `return` (an early
        exit that closes first: `if not rows: s.close(); return ...`)."""
        release = self.recipe.acquire.release
        calls = [n for n in walk_all([stmt]) if method_call_on(n, var, {release})]
        return bool(calls) and all(self._followed_by_return(self.parent.get(c)) for c in calls)

    def _followed_by_return(self, expr: ast.AST | None) -> bool:
        if not isinstance(expr, ast.Expr):
            return False
        owner = self.parent.get(expr)
        seq = stmt_list(owner, expr) if owner is not None else None
        if seq is None:
            return False
        i = index(seq, expr)
        return i + 1 < len(seq) and isinstance(seq[i + 1], ast.Return)

    def _closed_exits(self, body: list[ast.stmt], var: str) -> set[int]:
        """Lines of the returns right after a release statement in `body`."""
        release = self.recipe.acquire.release
        out = set()
        for n in walk_local(body):
            if isinstance(n, ast.stmt) and is_method_stmt(n, var, {release}) and self._followed_by_return(n):
                seq = stmt_list(self.parent[n], n)
                assert seq is not None
                out.add(seq[index(seq, n) + 1].lineno)
        return out

    def _finally_guarded(self, try_node: ast.Try, var: str) -> bool:
        return any(isinstance(s, ast.If) and is_guard_test(s.test, var) for s in try_node.finalbody)

    def _receiver_binding(self, call: ast.Call, stmt: ast.stmt) -> tuple[int, int] | None:
        """`db_manager = current_app.config["db_manager"]` right before `db_manager.get_session()`,
        when nothing else in the function reads `db_manager` and the value only looks names up
        (no call): a strategy whose `with` does not use the receiver leaves it unused."""
        func = call.func
        if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)):
            return None
        name = func.value.id
        target = stmt.targets[0] if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 else None
        if not (isinstance(target, ast.Name) and target.id == name and lookup_only(stmt.value)):  # type: ignore[attr-defined]
            return None
        scope = next((a for a in self.enclosing(stmt) if isinstance(a, FUNCTION_NODES)), None)
        if scope is None or not isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return None
        reads = [n for n in walk_all(scope.body) if isinstance(n, ast.Name) and n.id == name
                 and not isinstance(n.ctx, ast.Store)]
        declared = any(isinstance(n, (ast.Global, ast.Nonlocal)) and name in n.names
                       for n in walk_all(scope.body))
        if len(reads) != 1 or reads[0] is not func.value or declared:
            return None
        return stmt.lineno, stmt.end_lineno or stmt.lineno

    def _acquired_before(self, name: str, try_node: ast.Try, after: int = 0) -> bool:
        """`name = <acquire>` is a statement of the same block before the `try` (a second resource
        the `finally` closes too), after line `after`."""
        seq = stmt_list(self.parent[try_node], try_node) or []
        return any(self._acquires(s) and assigns(s, name) and s.lineno > after
                   for s in seq[: index(seq, try_node)])

    def _acquires(self, stmt: ast.stmt) -> bool:
        """`x = <another acquire of the recipe>`."""
        value = getattr(stmt, "value", None)
        return isinstance(stmt, (ast.Assign, ast.AnnAssign)) and isinstance(value, ast.Call) and any(
            c is value for c in (self._calls or {}).get(value.lineno, ()))

    def _function_body(self, node: ast.AST) -> list[ast.stmt]:
        for anc in self.enclosing(node):
            if isinstance(anc, (ast.FunctionDef, ast.AsyncFunctionDef)):
                return anc.body
            if isinstance(anc, ast.ClassDef):
                return anc.body
        return self.tree.body

    # --- pattern details ------------------------------------------------------------------

    def _finish_try(self, plan: Plan, occ: Occurrence, try_node: ast.Try, body: list[ast.stmt],
                    pre_inside: list[ast.stmt], start: ast.stmt, seq: list[ast.stmt]) -> Plan:
        var = plan.var
        assert var is not None
        a = self.recipe.acquire
        facts = plan.facts
        plan.region_start = min(start.lineno, plan.acquire_line)
        plan.region_end = try_node.end_lineno or try_node.lineno
        inner = [*pre_inside, *body]
        plan.pre_inside_raising = self._raising_while_held(pre_inside, var)

        # finally: drop the release, keep the rest
        released = False
        for s in try_node.finalbody:
            if releases(s, var, {a.release, a.rollback}) or is_none_assign(s, var):
                plan.finally_remove.append(s.lineno)  # `session = None` after the close goes too
                if isinstance(s, ast.Try) and releases(s, var, {a.release}):
                    plan.swallowed_close = s.lineno
                released = released or releases(s, var, {a.release})
            else:
                if uses([s], var) and not released:  # fine while the `finally` stays inside the `with`
                    plan.finally_uses.append((s.lineno, f"the `finally` uses the session at line "
                                              f"{s.lineno} for more than closing it"))
                kept = (s.lineno, quote_statement(s))
                (plan.finally_after if released else plan.finally_before).append(kept)
        plan.shared_finally = [s.lineno for s in try_node.finalbody if isinstance(s, ast.Expr)
                               and isinstance(s.value, ast.Call) and isinstance(s.value.func, ast.Attribute)
                               and s.value.func.attr == a.release and isinstance(s.value.func.value, ast.Name)
                               and s.value.func.value.id != var
                               and self._acquired_before(s.value.func.value.id, try_node)]
        # of those, the resources acquired after this one: their `with` nests inside this one's
        plan.shared_inner = [s.lineno for s in try_node.finalbody if s.lineno in plan.shared_finally
                             and self._acquired_before(s.value.func.value.id, try_node,  # type: ignore[attr-defined]
                                                       after=plan.acquire_line)]
        plan.acquire_in_try = plan.acquire_line > try_node.lineno and any(
            s.lineno == plan.acquire_line for s in try_node.body)
        # handlers: drop rollback/close; drop trailing handlers left with a bare `raise`
        keep_types: list[tuple[int, ast.ExceptHandler]] = []
        trailing_droppable = True
        for h in reversed(try_node.handlers):
            rest = [s for s in h.body if not releases(s, var, {a.rollback, a.release})]
            removed = [s.lineno for s in h.body if releases(s, var, {a.rollback, a.release})]
            if uses(rest, var):
                line = next(n.lineno for n in name_loads(rest, var))
                plan.handler_uses.append((line, f"the handler at line {h.lineno} uses the session at "
                                                f"line {line} for more than rollback()/close()"))
            plan.handler_remove.extend(removed)
            plan.handler_close.extend(s.lineno for s in h.body if releases(s, var, {a.release}))
            bare_raise = len(rest) == 1 and isinstance(rest[0], ast.Raise) and rest[0].exc is None
            if not bare_raise:
                plan.handler_effective.append(h.lineno)
            if any(isinstance(n, ast.Raise) and n.exc is None for n in walk_local(rest)):
                plan.reraises.append(h.lineno)
            if trailing_droppable and bare_raise:
                plan.handler_drop.append(h.lineno)
                continue
            trailing_droppable = False
            if not rest:
                plan.handler_pass.append(h.lineno)
            keep_types.append((h.lineno, h))
        plan.specific_handlers, plan.contained = live_specific([h for _, h in reversed(keep_types)])
        if try_node.orelse:
            if uses(try_node.orelse, var):
                line = try_node.orelse[0].lineno
                plan.handler_uses.append((line, f"the `else` block at line {line} uses the session"))
            if len(plan.handler_drop) == len(try_node.handlers):
                plan.orelse_hoist = True
        # close() inside the body (closed twice today): removed when nothing reads anything after
        # it on its path (it then only repeats the release); kept otherwise, so what is read
        # after it behaves as before
        for n in walk_local(inner):
            if (isinstance(n, ast.stmt) and is_method_stmt(n, var, {a.release})
                    and self._only_plain_return_after(n)):
                plan.body_close_remove.append(n.lineno)
        rebound = rebinding(inner, var)
        if rebound is not None:
            return self._manual(occ, facts, var, "session-rebound",
                                f"`{var}` is bound again at line {rebound}, inside the block: a `with` "
                                "would close only the first session")
        plan.yields_session = session_yields(inner, var)
        # Under a strategy whose `with` only closes the same object where the `finally` did, the
        # session leaving the block or being used after it behaves as before: `evaluate` decides.
        reason = self._escape_reason(inner, var, allow_yield=True)
        after = self._after(try_node, var)
        if reason:
            plan.escape = ("session-escapes", reason)
        elif after is not None:
            plan.escape = ("used-after-close", f"the session is used at line {after}, after its "
                                               "`finally` closed it")
        self._collect(plan, inner, try_node, var)
        return plan

    def _finish_linear(self, plan: Plan, occ: Occurrence, body: list[ast.stmt], start: ast.stmt,
                       end: ast.stmt, seq: list[ast.stmt]) -> Plan:
        var = plan.var
        assert var is not None
        plan.region_start = start.lineno
        plan.region_end = end.end_lineno or end.lineno
        rebound = rebinding(body, var)
        if rebound is not None:
            return self._manual(occ, plan.facts, var, "session-rebound",
                                f"`{var}` is bound again at line {rebound}, inside the block: a `with` "
                                "would close only the first session")
        reason = self._escape_reason(body, var)
        if plan.pattern == "close":
            plan.raising_before_close = self._raising_while_held(body, var)
        after = self._after(end, var)
        if plan.pattern == "close" and (reason or after is not None):
            # closed by a statement: a close-only `with` closes the same object at the same point
            plan.escape = ("session-escapes", reason) if reason else (
                "used-after-close", f"the session is used at line {after}, after its close()")
            self._collect(plan, body, end, var)
            return plan
        if reason:
            return self._manual(occ, plan.facts, var, "session-escapes", reason)
        if after is not None:
            code = "used-after-close" if plan.pattern == "close" else "session-escapes"
            what = "after its close()" if plan.pattern == "close" else "outside the block that uses it"
            return self._manual(occ, plan.facts, var, code,
                                f"the session is used at line {after}, {what}")
        self._collect(plan, body, end, var)
        return plan

    def _after(self, last: ast.stmt, var: str) -> int | None:
        """First line using `var` after statement `last` in its function, before a reassignment."""
        node: ast.AST = last
        while True:
            owner = self.parent.get(node)
            if owner is None:
                return None
            seq = stmt_list(owner, node) if isinstance(node, ast.stmt) else None
            if seq is not None:
                line, killed = old_use(seq[index(seq, node) + 1 :], var)
                if line is not None:
                    return line
                if killed:
                    return None
            if isinstance(owner, SCOPE_NODES):
                return None
            node = owner

    def _escape_reason(self, body: list[ast.stmt], var: str, allow_yield: bool = False) -> str | None:
        for n in walk_all(body):
            if isinstance(n, (*FUNCTION_NODES,)) and uses(
                n.body if isinstance(n.body, list) else [n.body], var
            ):
                return f"a nested function or lambda at line {n.lineno} captures the session"
            if not (isinstance(n, ast.Name) and n.id == var):
                continue
            p = self.parent.get(n)
            if isinstance(n.ctx, ast.Store):
                continue
            if allow_yield and isinstance(p, ast.Yield) and isinstance(self.parent.get(p), ast.Expr):
                continue  # `yield session` as a statement: the generator hands it out while open
            if isinstance(p, (ast.Return, ast.Yield, ast.YieldFrom)):
                return f"the session is returned or yielded at line {n.lineno}"
            if isinstance(p, (ast.Assign, ast.AnnAssign, ast.NamedExpr)) and p.value is n:
                return f"the session is stored in another name at line {n.lineno}"
            if isinstance(p, (ast.Tuple, ast.List, ast.Set, ast.Dict)):
                return f"the session is put in a container at line {n.lineno}"
            if isinstance(p, (ast.Global, ast.Nonlocal)):
                return f"the session is shared through a global at line {n.lineno}"
        return None

    # --- facts for warnings ---------------------------------------------------------------

    def _collect(self, plan: Plan, body: list[ast.stmt], last: ast.stmt, var: str) -> None:
        a = self.recipe.acquire
        # one walk of the block for the facts read node by node, each list in walk order
        commits: list[ast.AST] = []
        handouts: list[ast.stmt] = []
        loops: list[int] = []
        rolls_back = False
        for n in walk_local(body):
            if isinstance(n, ast.Call):
                if method_call_on(n, var, (a.commit,)):
                    commits.append(n)
                rolls_back = rolls_back or method_call_on(n, var, (a.rollback,))
                if last_name(n.func) == "abort":
                    plan.raises.append((n.lineno, f"{quote(n, 50)}"))
                io = io_call(n)
                if io:
                    plan.io_calls.append((n.lineno, io))
            elif isinstance(n, ast.stmt):
                if hands_out_session(n, var):
                    handouts.append(n)
                if isinstance(n, (ast.For, ast.AsyncFor, ast.While)):
                    loops.append(n.lineno)
                elif isinstance(n, ast.Raise) and n.exc is not None:
                    plan.raises.append((n.lineno, f"raise {quote(n.exc, 50)}"))
        plan.has_commit = bool(commits)
        plan.commit_lines = [n.lineno for n in commits]
        plan.handouts = [s.lineno for s in handouts]
        if self.begins:  # what only the `begin` strategy's warnings need
            plan.after_end = after_transaction_end(body, var, {a.commit, a.rollback}, self.parent, a.release)
            handed = {id(s) for s in handouts}
            plan.after_handout = after_transaction_end(body, var, set(), self.parent, a.release,
                                                       ends=lambda s: id(s) in handed)
            plan.loop_lines = loops
        plan.expires = plan.has_commit or rolls_back
        plan.dirty_exits, plan.uncommitted_exits = dirty_exits(body, var, a.commit, a.release)
        func = next((f for f in self.enclosing(last)
                     if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))), None)
        plan.orm_escapes = orm_escapes(body, last, var, self._after, self._locals_of, self.relations,
                                       returns_plain=func is not None and plain_annotation(func.returns))
        plan.writes = writes(body, var)
        # enclosing handlers in the same function, innermost first, until one catches everything
        # (an `except Exception` that does not re-raise: nothing from the block goes further)
        for anc in self.enclosing(last):
            if plan.contained or isinstance(anc, SCOPE_NODES):
                break
            if isinstance(anc, ast.Try) and inside(last, anc.body, self.parent):
                types, plan.contained = live_specific(anc.handlers)
                if plan.contained:  # does the handler that stops it look at the exception?
                    stopper = next(h for h in anc.handlers if is_broad(h))
                    plan.contained_blind = stopper.name is None or not uses(stopper.body, stopper.name)
                if types:
                    plan.outer_handlers.append((types[0][0], "` / `except ".join(ty for _, ty in types)))
        if plan.contained:
            return
        plan.caller_handlers = self._callers_catching(last)
        func = next((f for f in self.enclosing(last)
                     if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))), None)
        if func is not None and self.decorator_check is not None:
            for d in func.decorator_list:
                plan.decorator_handlers.extend(self.decorator_check(d))
        if func is not None and self.upstream is not None:
            owner = self.parent.get(func)
            cls = owner.name if isinstance(owner, ast.ClassDef) else None
            route = any(is_route(d) for d in func.decorator_list)
            plan.upstream_handlers = self.upstream(func.name, cls, route)

    def _callers_catching(self, node: ast.AST) -> list[tuple[int, str]]:
        """Callers that call the enclosing function inside a `try` with specific handlers: the
        repository's (resolved by class, see `RepoIndex.catching_callers`, this file included),
        or this file's when there is no repository."""
        func = next((f for f in self.enclosing(node)
                     if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))), None)
        if func is None:
            return []
        if self.catching_callers is not None:
            owner = self.parent.get(func)
            cls = owner.name if isinstance(owner, ast.ClassDef) else None
            callers = self.catching_callers(func.name, cls)
            # a caller in this very file is worded by its line alone
            return sorted({(line, f"{t} at line {line}" if path == self.path else f"{t} at {path}:{line}")
                           for path, line, t in callers})
        if self._callers is None:
            self._callers = catching_calls(self.parent)  # (every node but the module, in walk order)
        return sorted(set(self._callers.get(func.name, [])))

    def _locals_of(self, node: ast.AST) -> set[str]:
        func = next((f for f in self.enclosing(node)
                     if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))), None)
        return function_locals(func) if func is not None else set()


