"""Execute rewrite plans on the concrete syntax tree (libcst).

Statements are located by their first line (the plan was made on `ast`, whose statement line
numbers are the same). Every node outside a rewritten region is reused as is, so the code
regenerates byte for byte; inside a region, the original statement nodes (with their comments)
move into the new `with`, and libcst re-indents them.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

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


class Builder(cst.CSTTransformer):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, module: cst.Module, jobs: Sequence[Job]) -> None:
        super().__init__()
        self.module = module
        self.jobs = {j.plan.region_start: j for j in jobs}
        self.line_of: dict[int, int] = {}
        self.keep: list[cst.CSTNode] = []
        self.capture = False
        self.captured: dict[str, list[cst.BaseStatement]] = {}
        self.class_jobs: dict[int, list[Job]] = {}
        for j in jobs:
            if j.strategy.kind in ("service", "service_helper") and j.plan.facts.class_line:
                self.class_jobs.setdefault(j.plan.facts.class_line, []).append(j)

    # --- bookkeeping ----------------------------------------------------------------------

    def on_leave(self, original_node, updated_node):  # type: ignore[no-untyped-def]
        if isinstance(original_node, (cst.BaseStatement, cst.ExceptHandler)):
            line = self.get_metadata(PositionProvider, original_node).start.line
            self.line_of[id(original_node)] = line
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
        return updated.with_changes(body=self._rewrite_body(list(updated.body)))

    def leave_Module(self, original, updated):  # type: ignore[no-untyped-def]
        return updated.with_changes(body=self._rewrite_body(list(updated.body)))

    def leave_ClassDef(self, original, updated):  # type: ignore[no-untyped-def]
        line = self.get_metadata(PositionProvider, original).start.line
        jobs = self.class_jobs.get(line)
        if not jobs:
            return updated
        return add_class_scaffolding(updated, jobs, self.module)

    def _rewrite_body(self, body: list[cst.BaseStatement]) -> list[cst.BaseStatement]:
        if not any(self._line(s) in self.jobs for s in body):
            return body
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
        assert var is not None
        remove = {*plan.handler_remove, *plan.finally_remove, *plan.body_close_remove}
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
        kept = [h for h in try_node.handlers if self._line(h) not in set(plan.handler_drop)]
        orelse_after: list[cst.BaseStatement] = []
        orelse = try_node.orelse
        if plan.orelse_hoist and orelse is not None:
            orelse_after = list(orelse.body.body)
            orelse = None
        final = try_node.finalbody
        if final is not None and all(self._line(x) is None for x in final.body.body):
            final = None  # only the release was there
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


def _make_with(ctx: cst.BaseExpression, var: str, block: cst.IndentedBlock) -> cst.With:
    return cst.With(
        items=[cst.WithItem(item=ctx, asname=cst.AsName(name=cst.Name(var)))],
        body=block,
    )


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


def add_class_scaffolding(cls: cst.ClassDef, jobs: Sequence[Job], module: cst.Module) -> cst.ClassDef:
    """Add, once, the manager property (and the session helper) the class's jobs need."""
    strategy = jobs[0].strategy
    add: list[cst.BaseStatement] = []
    config = module.config_for_parsing
    indent = module.default_indent
    if not class_defines(cls, strategy.manager):
        code = PROPERTY.format(manager=strategy.manager).replace("    ", indent)
        add.append(cst.parse_statement(code, config=config))
    helpers = [j for j in jobs if j.strategy.kind == "service_helper"]
    if helpers and not class_defines(cls, helpers[0].strategy.helper):
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


def build(source: str, jobs: Sequence[Job], recipe: Recipe) -> str:
    """The new text of a module with every job applied (imports added once, where needed)."""
    if not jobs:
        return source
    module = cst.parse_module(source)
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    new = wrapper.visit(Builder(module, jobs))
    new = add_imports(new, needed_imports(jobs, recipe, new))
    return new.code


def needed_imports(jobs: Sequence[Job], recipe: Recipe, module: cst.Module) -> list[str]:
    from migrator_tui.rewrite.imports import bound_names, import_binds

    bound = bound_names(module)
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


def render_region(source: str, job: Job) -> str:
    """The text that replaces the job's region, indented as the region is (for review and edit)."""
    module = cst.parse_module(source)
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    builder = Builder(module, [job])
    builder.capture = True
    wrapper.visit(builder)
    stmts = builder.captured.get(job.plan.occurrence_id, [])
    text = "".join(module.code_for_node(s) for s in stmts)
    lines = source.splitlines(keepends=True)
    first = lines[job.plan.region_start - 1] if lines else ""
    indent = first[: len(first) - len(first.lstrip(" \t"))]
    return "".join(indent + ln if ln.strip() else ln for ln in text.splitlines(keepends=True))
