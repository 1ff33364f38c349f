"""Execute rewrite plans on the concrete syntax tree (libcst).

Statements are located by their first line (the plan was made on `ast`, whose statement line
numbers are the same). Every node outside a rewritten region is reused as is, so the code
regenerates byte for byte; inside a region, the original statement nodes (with their comments)
move into the new `with`, and libcst re-indents them.
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import libcst as cst

from migrator_tui.recipe import Recipe, Strategy
from migrator_tui.rewrite.plan import Plan

FALLBACK_COMMENT = "# Fallback for non-Flask contexts"


@dataclass(frozen=True, slots=True)
class Job:
    """One accepted occurrence: its plan, the strategy, and the reviewer's edited text if any."""

    plan: Plan
    strategy: Strategy
    edited: str | None = None


def _is_expr_call(stmt: cst.BaseStatement, var: str, methods: set[str]) -> bool:
    if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
        return False
    expr = stmt.body[0]
    return (
        isinstance(expr, cst.Expr)
        and isinstance(expr.value, cst.Call)
        and isinstance(expr.value.func, cst.Attribute)
        and isinstance(expr.value.func.value, cst.Name)
        and expr.value.func.value.value == var
        and expr.value.func.attr.value in methods
    )


class _Remover(cst.CSTTransformer):
    """Removes the statements at the given lines; an emptied block gets `pass`."""

    def __init__(self, line_of: dict[int, int], lines: set[int]) -> None:
        super().__init__()
        self.keep: list[cst.CSTNode] = []
        self.line_of = line_of
        self.lines = lines

    def on_leave(self, original_node, updated_node):  # type: ignore[no-untyped-def]
        result = super().on_leave(original_node, updated_node)
        line = self.line_of.get(id(original_node))
        if line is not None and isinstance(result, cst.CSTNode):
            self.line_of[id(result)] = line
            self.keep.append(result)
        return result

    def leave_SimpleStatementLine(self, original, updated):  # type: ignore[no-untyped-def]
        if self.line_of.get(id(original)) in self.lines:
            return cst.RemoveFromParent()
        return updated

    def leave_If(self, original, updated):  # type: ignore[no-untyped-def]
        if self.line_of.get(id(original)) in self.lines:
            return cst.RemoveFromParent()
        return updated

    def leave_Try(self, original, updated):  # type: ignore[no-untyped-def]
        if self.line_of.get(id(original)) in self.lines:
            return cst.RemoveFromParent()
        return updated

    def leave_IndentedBlock(self, original, updated):  # type: ignore[no-untyped-def]
        if not updated.body:
            return updated.with_changes(body=[cst.SimpleStatementLine([cst.Pass()])])
        return updated


def _map_block(body: Sequence[cst.BaseStatement], stmts: list[ast.stmt], lines: dict[int, int],
               ends: dict[int, int]) -> None:
    """Give every libcst statement the first and last line of its `ast` twin.

    The two trees have the same statements in the same order, except that one libcst line
    `a = 1; b = 2` is several `ast` statements; walking them side by side costs far less than
    libcst's position metadata.
    """
    j = 0
    for st in body:
        if isinstance(st, cst.SimpleStatementLine):
            n = len(st.body)
            lines[id(st)] = stmts[j].lineno
            ends[id(st)] = stmts[j + n - 1].end_lineno or stmts[j + n - 1].lineno
            j += n
            continue
        _map_compound(st, stmts[j], lines, ends)
        j += 1
    if j != len(stmts):
        raise ValueError("libcst and ast disagree on the statements of a block")


def _sub(block: cst.BaseSuite, stmts: list[ast.stmt], lines: dict[int, int], ends: dict[int, int]) -> None:
    if isinstance(block, cst.IndentedBlock):
        _map_block(block.body, stmts, lines, ends)


def _map_compound(st: cst.CSTNode, a: ast.AST, lines: dict[int, int], ends: dict[int, int]) -> None:
    lines[id(st)] = a.lineno  # type: ignore[attr-defined]
    ends[id(st)] = a.end_lineno or a.lineno  # type: ignore[attr-defined]
    body = getattr(st, "body", None)
    if isinstance(st, (cst.FunctionDef, cst.ClassDef, cst.With, cst.For, cst.While, cst.If, cst.Try,
                       cst.TryStar)) and isinstance(body, cst.BaseSuite):
        _sub(body, a.body, lines, ends)  # type: ignore[attr-defined]
    if isinstance(st, (cst.Try, cst.TryStar)):
        for h, ah in zip(st.handlers, a.handlers, strict=True):  # type: ignore[attr-defined]
            lines[id(h)] = ah.lineno
            ends[id(h)] = ah.end_lineno or ah.lineno
            _sub(h.body, ah.body, lines, ends)
        if st.orelse is not None:
            _sub(st.orelse.body, a.orelse, lines, ends)  # type: ignore[attr-defined]
        if st.finalbody is not None:
            _sub(st.finalbody.body, a.finalbody, lines, ends)  # type: ignore[attr-defined]
    elif isinstance(st, (cst.For, cst.While)) and st.orelse is not None:
        _sub(st.orelse.body, a.orelse, lines, ends)  # type: ignore[attr-defined]
    elif isinstance(st, cst.If) and st.orelse is not None:
        if isinstance(st.orelse, cst.If):  # elif
            _map_compound(st.orelse, a.orelse[0], lines, ends)  # type: ignore[attr-defined]
        else:
            _sub(st.orelse.body, a.orelse, lines, ends)  # type: ignore[attr-defined]
    elif isinstance(st, cst.Match):
        for case, acase in zip(st.cases, a.cases, strict=True):  # type: ignore[attr-defined]
            _sub(case.body, acase.body, lines, ends)


class Parsed:
    """A module parsed once, with the first line of every statement and handler."""

    def __init__(self, source: str, tree: ast.Module | None = None) -> None:
        self.source = source
        self.module = cst.parse_module(source)
        self.lines: dict[int, int] = {}
        self.ends: dict[int, int] = {}
        _map_block(self.module.body, (tree or ast.parse(source)).body, self.lines, self.ends)
        # Text of each top-level statement, so that a rebuilt module only generates code for the
        # statements that changed (code generation of a whole module costs as much as a parse).
        m = self.module
        self._top = {id(st): m.code_for_node(st) for st in m.body}
        self._head = "".join(m.code_for_node(h) for h in m.header)
        self._foot = "".join(m.code_for_node(f) for f in m.footer)
        self._splice = self._join(m) == source
        self._defines: dict[tuple[int, str], bool] = {}

    def _join(self, new: cst.Module) -> str:
        text = self._head + "".join(
            self._top.get(id(st)) or new.code_for_node(st) for st in new.body
        ) + "".join(new.code_for_node(f) for f in new.footer)
        if not new.has_trailing_newline and text.endswith(new.default_newline):
            text = text[: -len(new.default_newline)]
        return text

    def defines(self, cls: cst.ClassDef) -> Callable[[str], bool]:
        """`name -> bool`: the class defines or assigns `name` (cached per class)."""

        def check(name: str) -> bool:
            key = (id(cls), name)
            if key not in self._defines:
                self._defines[key] = class_defines(cls, name)
            return self._defines[key]

        return check

    def code(self, new: cst.Module) -> str:
        """`new.code`, reusing the text of top-level statements that did not change."""
        if self._splice and new.header is self.module.header:
            return self._join(new)
        return new.code


#: Nodes that can hold statements: the only ones the builder descends into.
_CONTAINERS = (cst.Module, cst.BaseCompoundStatement, cst.IndentedBlock, cst.Else, cst.Finally,
               cst.ExceptHandler, cst.ExceptStarHandler, cst.MatchCase)


class Builder(cst.CSTTransformer):
    def __init__(self, parsed: Parsed, jobs: Sequence[Job]) -> None:
        super().__init__()
        self.module = parsed.module
        self.parsed = parsed
        self.jobs = {j.plan.region_start: j for j in jobs}
        self.line_of: dict[int, int] = dict(parsed.lines)
        self.ends = parsed.ends
        self.targets = sorted({*self.jobs, *(j.plan.facts.class_line for j in jobs
                                             if j.plan.facts.class_line)})
        self.keep: list[cst.CSTNode] = []
        self.capture = False
        self.captured: dict[str, list[cst.BaseStatement]] = {}
        self.class_jobs: dict[int, list[Job]] = {}
        for j in jobs:
            if j.strategy.kind in ("service", "service_helper") and j.plan.facts.class_line:
                self.class_jobs.setdefault(j.plan.facts.class_line, []).append(j)

    # --- bookkeeping ----------------------------------------------------------------------

    def on_visit(self, node: cst.CSTNode) -> bool:
        """Descend only into statements that hold a region or a class to scaffold."""
        if not isinstance(node, _CONTAINERS):
            return False
        start = self.line_of.get(id(node))
        if start is not None:
            end = self.ends.get(id(node), start)
            if not any(start <= t <= end for t in self.targets):
                return False
        return super().on_visit(node)

    def on_leave(self, original_node, updated_node):  # type: ignore[no-untyped-def]
        line = self.line_of.get(id(original_node))
        if line is not None:
            result = super().on_leave(original_node, updated_node)
            if isinstance(result, cst.CSTNode):
                self.line_of[id(result)] = line
                self.keep.append(result)  # ids stay unique only while the nodes live
            return result
        return super().on_leave(original_node, updated_node)

    def _line(self, node: cst.CSTNode) -> int | None:
        return self.line_of.get(id(node))

    # --- blocks ---------------------------------------------------------------------------

    def leave_IndentedBlock(self, original, updated):  # type: ignore[no-untyped-def]
        body = self._rewrite_body(list(updated.body))
        return updated if body is None else updated.with_changes(body=body)

    def leave_Module(self, original, updated):  # type: ignore[no-untyped-def]
        body = self._rewrite_body(list(updated.body))
        return updated if body is None else updated.with_changes(body=body)

    def leave_ClassDef(self, original, updated):  # type: ignore[no-untyped-def]
        jobs = self.class_jobs.get(self.line_of.get(id(original), -1))
        if not jobs:
            return updated
        return add_class_scaffolding(updated, jobs, self.module, self.parsed.defines(original))

    def _rewrite_body(self, body: list[cst.BaseStatement]) -> list[cst.BaseStatement] | None:
        if not any(self._line(s) in self.jobs for s in body):
            return None
        out: list[cst.BaseStatement] = []
        i = 0
        while i < len(body):
            job = self.jobs.get(self._line(body[i]))  # type: ignore[arg-type]
            if job is None:
                out.append(body[i])
                i += 1
                continue
            end = self._region_end(body, i, job.plan)
            new = self._region(body[i : end + 1], job)
            if self.capture:
                self.captured[job.plan.occurrence_id] = new
            out.extend(new)
            i = end + 1
        return out

    def _region_end(self, body: list[cst.BaseStatement], i: int, plan: Plan) -> int:
        last = {"try": plan.try_line, "close": plan.close_line, "open": plan.end_stmt_line,
                "with": plan.with_line}[plan.pattern]
        for j in range(i, len(body)):
            if self._line(body[j]) == last:
                return j
        raise AssertionError(f"region of {plan.occurrence_id} not found")

    # --- one region -----------------------------------------------------------------------

    def _region(self, stmts: list[cst.BaseStatement], job: Job) -> list[cst.BaseStatement]:
        plan, strategy = job.plan, job.strategy
        if job.edited is not None:
            return self._edited(stmts, job.edited)
        primary, before = self._primary(stmts, job)
        if strategy.kind != "service":
            return [*before, *primary]
        # service: `if self.<manager>:` the rewrite `else:` the original code
        fallback = [s for s in stmts if self._line(s) not in set(plan.pre_outside)]
        lead = _leading(primary[0]) if primary else []
        primary[0] = _with_leading(primary[0], [])
        fallback[0] = _with_leading(fallback[0], [cst.EmptyLine(comment=cst.Comment(FALLBACK_COMMENT))])
        test = cst.parse_expression(f"self.{strategy.manager}")
        node = cst.If(
            test=test, body=cst.IndentedBlock(body=primary),
            orelse=cst.Else(body=cst.IndentedBlock(body=fallback)), leading_lines=lead,
        )
        if before:
            node = node.with_changes(leading_lines=[])
            before[0] = _with_leading(before[0], lead)
        return [*before, node]

    def _edited(self, stmts: list[cst.BaseStatement], text: str) -> list[cst.BaseStatement]:
        parsed = cst.parse_module(textwrap.dedent(text), config=self.module.config_for_parsing)
        new = list(parsed.body)
        if new and stmts:
            new[0] = _with_leading(new[0], [*_leading(stmts[0]), *parsed.header])
        return new

    def _context(self, job: Job) -> cst.BaseExpression:
        s = job.strategy
        if s.kind == "receiver_with":
            return cst.parse_expression(f"{job.plan.facts.receiver}.{s.method}()")
        if s.kind == "bare_with":
            return cst.parse_expression(job.plan.resource or job.plan.facts.receiver)
        if s.kind == "service":
            return cst.parse_expression(f"self.{s.manager}.{s.method}()")
        if s.kind == "service_helper":
            return cst.parse_expression(f"self.{s.helper}()")
        return cst.parse_expression(f"{s.manager}.{s.method}()")

    def _primary(self, stmts: list[cst.BaseStatement], job: Job
                 ) -> tuple[list[cst.BaseStatement], list[cst.BaseStatement]]:
        """The rewritten region, and the statements that stay before it (service form)."""
        plan, strategy = job.plan, job.strategy
        var = plan.var
        keeps_rollback = not strategy.rolls_back
        handler_remove = plan.handler_close if keeps_rollback else plan.handler_remove
        handler_drop = set() if keeps_rollback else set(plan.handler_drop)
        remove = {*handler_remove, *plan.finally_remove, *plan.body_close_remove}
        stmts = [s.visit(_Remover(self.line_of, remove)) if remove else s for s in stmts]  # type: ignore[misc]
        by_line = {self._line(s): s for s in stmts}
        lead = _leading(stmts[0])
        binding = self._binding(job)
        ctx = self._context(job)

        if plan.pattern == "with":
            w = stmts[0]
            assert isinstance(w, cst.With)
            item = w.items[0].with_changes(item=ctx)
            new = w.with_changes(items=[item])
            if binding:
                return [_with_leading(binding, lead), _with_leading(new, [])], []
            return [new], []

        acquire = by_line.get(plan.acquire_line)
        header = _header_from(acquire)
        if plan.pattern in ("close", "open"):
            inner = stmts[1:-1] if plan.pattern == "close" else stmts[1:]
            inner = inner or [cst.SimpleStatementLine([cst.Pass()])]
            block = cst.IndentedBlock(body=inner, header=header or cst.TrailingWhitespace())
            w = _make_with(ctx, var, block)
            return _lead_first([*([binding] if binding else []), w], lead), []

        # pattern "try"
        try_node = by_line[plan.try_line]
        assert isinstance(try_node, cst.Try)
        pre_out = [s for s in stmts if self._line(s) in set(plan.pre_outside)]
        pre_in = [s for s in stmts if self._line(s) in set(plan.pre_inside)]
        body = list(try_node.body.body)
        body_before: list[cst.BaseStatement] = []
        if any(self._line(x) == plan.acquire_line for x in body):
            k = next(i for i, s in enumerate(body) if self._line(s) == plan.acquire_line)
            body_before, body = body[:k], body[k + 1 :]
            header = header or _header_from(try_node.body.body[k])
        inner = [*pre_in, *body] or [cst.SimpleStatementLine([cst.Pass()])]
        if try_node.leading_lines and (pre_out or pre_in):
            inner[0] = _with_leading(inner[0], [*try_node.leading_lines, *_leading(inner[0])])
        elif try_node.leading_lines:
            lead = [*lead, *try_node.leading_lines]
        try_header = try_node.body.header
        block = try_node.body.with_changes(
            body=inner, header=try_header if _has_comment(try_header) or not header else header
        )
        w = _make_with(ctx, var, block)
        kept = [h for h in try_node.handlers if self._line(h) not in handler_drop]
        orelse_after: list[cst.BaseStatement] = []
        orelse = try_node.orelse
        if plan.orelse_hoist and not keeps_rollback and orelse is not None:
            orelse_after = list(orelse.body.body)
            orelse = None
        final = try_node.finalbody
        if final is not None and all(self._line(x) is None for x in final.body.body):
            final = None  # only the release was there
        if keeps_rollback and (kept or final is not None):
            # The context manager neither commits nor rolls back: the handlers (and what is left
            # of the `finally`) stay inside it, where they ran before the release, so they see
            # the same exception with the resource still held.
            inner_try = try_node.with_changes(
                body=try_node.body.with_changes(body=inner), handlers=kept, orelse=orelse if kept else None,
                finalbody=final, leading_lines=[],
            )
            holder = _make_with(ctx, var, cst.IndentedBlock(body=[inner_try], header=header
                                                            or cst.TrailingWhitespace()))
            return _lead_first([*pre_out, *body_before, *([binding] if binding else []), holder], lead), []
        inner_seq = [*body_before, *([binding] if binding else []), w]
        if not kept and final is None:
            out = [*pre_out, *inner_seq, *orelse_after]
            return _lead_first(out, lead), []
        new_try = try_node.with_changes(
            body=try_node.body.with_changes(body=[*inner_seq, *orelse_after], header=try_header),
            handlers=kept, orelse=orelse if kept else None, finalbody=final, leading_lines=[],
        )
        if strategy.kind == "service":
            return _lead_first([new_try], lead), pre_out
        return _lead_first([*pre_out, new_try], lead), []

    def _binding(self, job: Job) -> cst.BaseStatement | None:
        s = job.strategy
        if s.kind != "admin_route":
            return None
        return cst.parse_statement(f"{s.manager} = current_app.{s.manager}\n",
                                   config=self.module.config_for_parsing)


# --- node helpers -------------------------------------------------------------------------


def _leading(stmt: cst.BaseStatement) -> list[cst.EmptyLine]:
    return list(getattr(stmt, "leading_lines", []))


def _with_leading(stmt: cst.BaseStatement, lines: Sequence[cst.EmptyLine]) -> cst.BaseStatement:
    if hasattr(stmt, "leading_lines"):
        return stmt.with_changes(leading_lines=list(lines))
    return stmt


def _lead_first(stmts: list[cst.BaseStatement], lead: list[cst.EmptyLine]) -> list[cst.BaseStatement]:
    if stmts:
        stmts[0] = _with_leading(stmts[0], lead)
    return stmts


def _header_from(stmt: cst.BaseStatement | None) -> cst.TrailingWhitespace | None:
    if isinstance(stmt, cst.SimpleStatementLine) and stmt.trailing_whitespace.comment is not None:
        return stmt.trailing_whitespace
    return None


def _has_comment(tw: cst.TrailingWhitespace) -> bool:
    return tw.comment is not None


def _only_pass(stmts: Sequence[cst.BaseStatement]) -> bool:
    return all(
        isinstance(s, cst.SimpleStatementLine) and all(isinstance(x, cst.Pass) for x in s.body)
        for s in stmts
    )


def _make_with(ctx: cst.BaseExpression, var: str | None, block: cst.IndentedBlock) -> cst.With:
    asname = cst.AsName(name=cst.Name(var)) if var else None
    return cst.With(items=[cst.WithItem(item=ctx, asname=asname)], body=block)


# --- scaffolding --------------------------------------------------------------------------

PROPERTY = '''\
@property
def {manager}(self):
    """The application's {manager}; None outside a Flask application context."""
    try:
        from flask import current_app

        return getattr(current_app, "{manager}", None)
    except RuntimeError:  # working outside of an application context
        return None
'''

HELPER = '''\
@contextmanager
def {helper}(self):
    """A session from the {manager}, or a plain one outside Flask."""
    manager = self.{manager}
    if manager is not None:
        with manager.{method}() as session:
            yield session
    else:
        session = {receiver}.get_session()
        try:
            yield session
        finally:
            session.close()
'''


def class_defines(cls: cst.ClassDef, name: str) -> bool:
    """The class defines `name` in its body or assigns `self.<name>` in a method."""
    for stmt in cls.body.body:
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)) and stmt.name.value == name:
            return True
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                targets = []
                if isinstance(small, cst.Assign):
                    targets = [t.target for t in small.targets]
                elif isinstance(small, cst.AnnAssign):
                    targets = [small.target]
                if any(isinstance(t, cst.Name) and t.value == name for t in targets):
                    return True
    finder = _SelfAttrStore(name)
    cls.visit(finder)
    return finder.found


class _SelfAttrStore(cst.CSTVisitor):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.found = False

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        t = node.target
        if (isinstance(t, cst.Attribute) and isinstance(t.value, cst.Name) and t.value.value == "self"
                and t.attr.value == self.name):
            self.found = True


def add_class_scaffolding(cls: cst.ClassDef, jobs: Sequence[Job], module: cst.Module,
                          defines: Callable[[str], bool]) -> cst.ClassDef:
    """Add, once, the manager property (and the session helper) the class's jobs need.

    `defines(name)` tells whether the original class already defines or assigns `name`."""
    strategy = jobs[0].strategy
    add: list[cst.BaseStatement] = []
    config = module.config_for_parsing
    indent = module.default_indent
    if not defines(strategy.manager):
        code = PROPERTY.format(manager=strategy.manager).replace("    ", indent)
        add.append(cst.parse_statement(code, config=config))
    helpers = [j for j in jobs if j.strategy.kind == "service_helper"]
    if helpers and not defines(helpers[0].strategy.helper):
        s = helpers[0].strategy
        code = HELPER.format(helper=s.helper, manager=s.manager, method=s.method,
                             receiver=helpers[0].plan.facts.receiver).replace("    ", indent)
        add.append(cst.parse_statement(code, config=config))
    if not add:
        return cls
    add = [_with_leading(s, [cst.EmptyLine(indent=False)]) for s in add]
    body = list(cls.body.body)
    at = next((i + 1 for i, s in enumerate(body)
               if isinstance(s, cst.FunctionDef) and s.name.value == "__init__"), None)
    if at is None:
        at = 1 if body and _is_docstring(body[0]) else 0
        if at == 0 and body:
            add[0] = _with_leading(add[0], [])
            body[0] = _with_leading(body[0], [cst.EmptyLine(indent=False), *_leading(body[0])])
    return cls.with_changes(body=cls.body.with_changes(body=[*body[:at], *add, *body[at:]]))


def _is_docstring(stmt: cst.BaseStatement) -> bool:
    return (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1
            and isinstance(stmt.body[0], cst.Expr)
            and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString)))


def build(parsed: Parsed, jobs: Sequence[Job], recipe: Recipe, bound: frozenset[str] | set[str]
          ) -> tuple[str, dict[str, str]]:
    """The new text of a module with every job applied (imports added once, where needed), and
    each job's replacement text, indented as its region is (for review and edit).

    `bound` = the names bound at module level in the original source."""
    if not jobs:
        return parsed.source, {}
    builder = Builder(parsed, jobs)
    builder.capture = True
    new = parsed.module.visit(builder)
    new = add_imports(new, needed_imports(jobs, recipe, bound))
    code = parsed.code(new)
    lines = parsed.source.splitlines(keepends=True)
    regions: dict[str, str] = {}
    for job in jobs:
        stmts = builder.captured.get(job.plan.occurrence_id, [])
        text = "".join(parsed.module.code_for_node(st) for st in stmts)
        first = lines[job.plan.region_start - 1] if lines else ""
        indent = first[: len(first) - len(first.lstrip(" \t"))]
        regions[job.plan.occurrence_id] = "".join(
            indent + ln if ln.strip() else ln for ln in text.splitlines(keepends=True))
    return code, regions


def needed_imports(jobs: Sequence[Job], recipe: Recipe, bound: frozenset[str] | set[str]) -> list[str]:
    from migrator_tui.rewrite.imports import import_binds

    out: list[str] = []
    for job in jobs:
        s = job.strategy
        wanted: list[str] = []
        if job.edited is not None:
            continue
        if s.kind == "with" and s.manager not in bound:
            wanted = list(s.imports)
        elif s.kind == "admin_route":
            wanted = [imp for imp in s.imports if not set(import_binds(imp)) <= bound]
        elif s.kind == "service_helper" and "contextmanager" not in bound:
            wanted = ["from contextlib import contextmanager"]
        for imp in wanted:
            if imp not in out and not set(import_binds(imp)) <= bound:
                out.append(imp)
    return out


def add_imports(module: cst.Module, imports: Sequence[str]) -> cst.Module:
    from migrator_tui.rewrite.imports import insert_import

    for imp in imports:
        module = insert_import(module, imp)
    return module

