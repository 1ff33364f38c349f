"""Execute rewrite plans on the concrete syntax tree (libcst), then splice the text.

Statements are located by their first line (the plan was made on `ast`, whose statement line
numbers are the same). Inside a region, the original statement nodes (with their comments) move
into the new `with`, and libcst re-indents them; the region's new code is then spliced into the
original text in place of its lines, so every line outside a region is the original line.
"""

from __future__ import annotations

import ast
import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import libcst as cst
from libcst._nodes.internal import CodegenState

from migrator_tui.errors import RewriteError
from migrator_tui.recipe import Recipe, Strategy
from migrator_tui.rewrite.imports import import_binds, import_edits, is_docstring
from migrator_tui.rewrite.plan import Plan
from migrator_tui.rewrite.prune import prune
from migrator_tui.scan import trees
from migrator_tui.sourcefile import outermost, split_lines

FALLBACK_COMMENT = "# Fallback for non-Flask contexts"
#: The line endings libcst recognises; its default newline is the module's first.
_NEWLINE = re.compile(r"\r\n|\n|\r")


@lru_cache(maxsize=256)
def _expression(code: str) -> cst.BaseExpression:
    """Parsed once: libcst nodes are immutable, so a parsed template can be reused anywhere."""
    return cst.parse_expression(code)


@lru_cache(maxsize=256)
def _statement(code: str, indent: str, newline: str) -> cst.BaseStatement:
    config = cst.PartialParserConfig(default_indent=indent, default_newline=newline)
    return cst.parse_statement(code, config=config)


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

    def __init__(self, line_of: dict[int, int], lines: set[int], keep: list[cst.CSTNode]) -> None:
        super().__init__()
        self.keep = keep  # the builder's: every node with a recorded id must outlive the build
        self.line_of = line_of
        self.lines = lines

    def on_visit(self, node: cst.CSTNode) -> bool:
        return isinstance(node, (*_CONTAINERS, cst.BaseStatement)) and super().on_visit(node)

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
    """A module parsed once, with the first line of every statement and handler.

    Given the `lines` of the occurrences a build may rewrite, libcst parses only the part of
    the module a build of those reads (`prune`): the output is the same, spliced into the whole
    text."""

    def __init__(self, source: str, tree: ast.Module | None = None, lines: Iterable[int] = ()) -> None:
        self.source = source
        self.text_lines = split_lines(source, keepends=True)
        tree = tree or trees.parse(source)
        part = prune(source, tree, lines, self.text_lines)
        if part is None:
            self.module = cst.parse_module(source)
            mapped = tree
        else:
            text, mapped, indent = part
            newline = _NEWLINE.search(source)
            config = cst.PartialParserConfig(default_indent=indent,
                                             default_newline=newline.group(0) if newline else "\n")
            self.module = cst.parse_module(text, config=config)
        self.lines: dict[int, int] = {}
        self.ends: dict[int, int] = {}
        _map_block(self.module.body, mapped.body, self.lines, self.ends)
        self._tree = tree
        self._class_names: dict[int, set[str]] | None = None

    def class_names(self, line: int) -> set[str]:
        """The names the class at `line` defines in its body or assigns on `self` (the classes
        are read on the first question: only a helper method or property added asks)."""
        if self._class_names is None:
            self._class_names = {}
            for node in ast.walk(self._tree):
                if isinstance(node, ast.ClassDef):
                    names = {b.name for b in node.body
                             if isinstance(b, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
                    direct = _direct_targets(node)
                    for n in ast.walk(node):
                        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store) and n in direct:
                            names.add(n.id)
                        elif (isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Store)
                              and isinstance(n.value, ast.Name) and n.value.id == "self"):
                            names.add(n.attr)
                    self._class_names[node.lineno] = names
        return self._class_names.get(line, set())

    def indent_of(self, line: int) -> str:
        text = self.text_lines[line - 1] if 0 < line <= len(self.text_lines) else ""
        return text[: len(text) - len(text.lstrip(" \t"))]

    def render(self, stmts: Sequence[cst.CSTNode], indent: str) -> str:
        """The code of `stmts` at the indentation `indent` (multi-line strings kept verbatim)."""
        state = CodegenState(default_indent=self.module.default_indent,
                             default_newline=self.module.default_newline)
        if indent:
            state.increase_indent(indent)
        for st in stmts:
            st._codegen(state)
        return "".join(state.tokens)


def _direct_targets(cls: ast.ClassDef) -> set[ast.AST]:
    """Names assigned directly in a class body (class attributes)."""
    out: set[ast.AST] = set()
    for b in cls.body:
        if isinstance(b, ast.Assign):
            out.update(t for t in b.targets if isinstance(t, ast.Name))
        elif isinstance(b, ast.AnnAssign) and isinstance(b.target, ast.Name):
            out.add(b.target)
    return out


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
        self.captured: dict[str, list[cst.BaseStatement]] = {}
        #: jobs whose region is being (or was) rewritten
        self.started: set[str] = set()
        #: (original class node, its jobs): scaffolding to add, spliced in by `build`
        self.scaffold: list[tuple[cst.ClassDef, list[Job]]] = []
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
            i = bisect.bisect_left(self.targets, start)  # (the targets are sorted)
            if i == len(self.targets) or self.targets[i] > end:
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
        if jobs:
            self.scaffold.append((original, jobs))
        return updated

    def _rewrite_body(self, body: list[cst.BaseStatement]) -> list[cst.BaseStatement] | None:
        if not any(self._line(s) in self.jobs and self.jobs[self._line(s)].plan.occurrence_id  # type: ignore[index]
                   not in self.started for s in body):
            return None
        out: list[cst.BaseStatement] = []
        i = 0
        while i < len(body):
            job = self.jobs.get(self._line(body[i]))  # type: ignore[arg-type]
            if job is None or job.plan.occurrence_id in self.started:
                out.append(body[i])
                i += 1
                continue
            end = self._region_end(body, i, job.plan)
            self.started.add(job.plan.occurrence_id)
            new = self._nested(self._region(body[i : end + 1], job))
            self.captured[job.plan.occurrence_id] = new
            out.extend(new)
            i = end + 1
        return out

    def _nested(self, stmts: list[cst.BaseStatement]) -> list[cst.BaseStatement]:
        """Regions of other jobs that sit inside a new `with` (a second resource acquired between
        this acquire and the `try` that closes both): rewritten there, so the `with` blocks nest."""
        out = []
        for st in stmts:
            if isinstance(st, cst.With) and isinstance(st.body, cst.IndentedBlock):
                inner = self._rewrite_body(list(st.body.body))
                if inner is not None:
                    st = st.with_changes(body=st.body.with_changes(body=inner))
            out.append(st)
        return out

    def _region_end(self, body: list[cst.BaseStatement], i: int, plan: Plan) -> int:
        last = {"try": plan.try_line, "close": plan.close_line, "open": plan.end_stmt_line,
                "with": plan.with_line}[plan.pattern]
        for j in range(i, len(body)):
            if self._line(body[j]) == last:
                return j
        raise RewriteError(f"The rewrite of {plan.occurrence_id} could not be placed: its region overlaps "
                           "another's.")

    # --- one region -----------------------------------------------------------------------

    def _region(self, stmts: list[cst.BaseStatement], job: Job) -> list[cst.BaseStatement]:
        plan, strategy = job.plan, job.strategy
        if plan.drops_binding and len(stmts) > 1:
            stmts = stmts[1:]  # `db_manager = current_app.config[...]`: nothing reads it any more
        # the comment lines above the region's first statement stay where they are in the file
        first = _with_leading(stmts[0], [])
        if first is not stmts[0]:
            self.line_of[id(first)] = self.line_of[id(stmts[0])]
            self.keep.append(first)
        stmts = [first, *stmts[1:]]
        primary, before = self._primary(stmts, job)
        if strategy.kind != "service":
            return [*before, *primary]
        # service: `if self.<manager>:` the rewrite `else:` the original code
        fallback = [s for s in stmts if self._line(s) not in set(plan.pre_outside)]
        lead = _leading(primary[0]) if primary else []
        primary[0] = _with_leading(primary[0], [])
        fallback[0] = _with_leading(fallback[0], [cst.EmptyLine(comment=cst.Comment(FALLBACK_COMMENT))])
        test = _expression(f"self.{strategy.manager}")
        node = cst.If(
            test=test, body=cst.IndentedBlock(body=primary),
            orelse=cst.Else(body=cst.IndentedBlock(body=fallback)), leading_lines=lead,
        )
        if before:
            node = node.with_changes(leading_lines=[])
            before[0] = _with_leading(before[0], lead)
        return [*before, node]

    def _acquire(self, job: Job) -> str:
        """The acquire call as written, in the module's newlines; continuation lines keep their
        place relative to the call's first character, which moves into the `with` header."""
        facts = job.plan.facts
        text = facts.acquire or f"{facts.receiver}.{job.strategy.method}()"
        if "\n" not in text:
            return text
        lines = text.split("\n")
        wrapper = job.strategy.wrapper
        column = len(self.parsed.indent_of(job.plan.region_start)) + len("with ") + (
            len(wrapper) + 1 if wrapper else 0)
        delta = column - facts.acquire_column
        if delta and '"""' not in text and "'''" not in text:
            moved = [lines[0]]
            for ln in lines[1:]:
                lead = len(ln) - len(ln.lstrip(" "))
                moved.append(" " * delta + ln if delta > 0 else ln[min(lead, -delta):])
            lines = moved
        return self.module.default_newline.join(lines)

    def _context(self, job: Job) -> cst.BaseExpression:
        s = job.strategy
        if s.kind in ("receiver_with", "begin"):
            call = self._acquire(job)
            return _expression(f"{s.wrapper}({call})" if s.wrapper else call)
        if s.kind == "bare_with":
            return _expression(job.plan.resource or job.plan.facts.receiver)
        if s.kind == "service":
            return _expression(f"self.{s.manager}.{s.method}()")
        if s.kind == "service_helper":
            return _expression(f"self.{s.helper}()")
        return _expression(f"{s.manager}.{s.method}()")

    def _primary(self, stmts: list[cst.BaseStatement], job: Job
                 ) -> tuple[list[cst.BaseStatement], list[cst.BaseStatement]]:
        """The rewritten region, and the statements that stay before it (service form)."""
        plan, strategy = job.plan, job.strategy
        var = plan.var
        keeps_rollback = not strategy.rolls_back
        handler_remove = plan.handler_close if keeps_rollback else plan.handler_remove
        handler_drop = set() if keeps_rollback else set(plan.handler_drop)
        remove = {*handler_remove, *plan.finally_remove, *plan.body_close_remove}
        stmts = [s.visit(_Remover(self.line_of, remove, self.keep)) if remove else s for s in stmts]  # type: ignore[misc]
        by_line = {self._line(s): s for s in stmts}
        lead = _leading(stmts[0])
        binding = self._binding(job)
        ctx = self._context(job)
        extra = _begin_item(var) if strategy.kind == "begin" else None

        def _make_with(ctx: cst.BaseExpression, var: str | None, block: cst.IndentedBlock) -> cst.With:
            return _with_node(ctx, var, self._no_blank_first(block), extra)

        if plan.pattern == "with":
            w = stmts[0]
            assert isinstance(w, cst.With)
            item = w.items[0].with_changes(item=ctx)
            new = w.with_changes(items=[item] if extra is None else [
                item.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))), extra])
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
        after_release: list[cst.BaseStatement] = []
        if keeps_rollback and final is not None and plan.finally_after:
            # what ran after the release in the `finally` runs after the `with`, on every path:
            # `try: with ...: ... finally: <those statements>` (another resource's release stays:
            # the `with` blocks of the two nest)
            later = {line for line, _ in plan.finally_after} - set(plan.shared_finally)
            after_release = [x for x in final.body.body if self._line(x) in later]
            rest = [x for x in final.body.body if self._line(x) not in later]
            final = final.with_changes(body=final.body.with_changes(body=rest)) if rest else None
        if keeps_rollback and (kept or final is not None or after_release):
            # The context manager neither commits nor rolls back: the handlers (and what is left
            # of the `finally`) stay inside it, where they ran before the release, so they see
            # the same exception with the resource still held.
            # Statements between the acquire and the `try` stay before it, inside the `with`:
            # the handlers and the `finally` cover what they covered before.
            try_body = body or [cst.SimpleStatementLine([cst.Pass()])]
            held: list[cst.BaseStatement] = [*pre_in, *try_body]
            if kept or final is not None:
                inner_try = try_node.with_changes(
                    body=try_node.body.with_changes(body=try_body), handlers=kept,
                    orelse=orelse if kept else None, finalbody=final,
                    leading_lines=try_node.leading_lines if pre_in else [],
                )
                self.line_of[id(inner_try)] = plan.try_line  # a nested job's region ends here
                self.keep.append(inner_try)
                held = [*pre_in, inner_try]
            holder = _make_with(ctx, var, cst.IndentedBlock(body=held, header=header
                                                            or cst.TrailingWhitespace()))
            if pre_out and not pre_in and try_node.leading_lines:
                holder = holder.with_changes(leading_lines=try_node.leading_lines)
            if after_release:
                outer = cst.Try(body=cst.IndentedBlock(body=[holder.with_changes(leading_lines=[])]),
                                finalbody=cst.Finally(body=final_block(try_node, after_release)),
                                leading_lines=holder.leading_lines)
                holder = outer  # type: ignore[assignment]
            return _lead_first([*pre_out, *body_before, *([binding] if binding else []), holder], lead), []
        inner_seq = [*body_before, *([binding] if binding else []), w]
        if not kept and final is None:
            if strategy.kind == "service":  # the statements before stay before the `if`
                return _lead_first([*inner_seq, *orelse_after], lead), pre_out
            out = [*pre_out, *inner_seq, *orelse_after]
            return _lead_first(out, lead), []
        new_try = try_node.with_changes(
            body=try_node.body.with_changes(body=[*inner_seq, *orelse_after], header=try_header),
            handlers=kept, orelse=orelse if kept else None, finalbody=final, leading_lines=[],
        )
        if strategy.kind == "service":
            return _lead_first([new_try], lead), pre_out
        return _lead_first([*pre_out, new_try], lead), []

    def _no_blank_first(self, block: cst.IndentedBlock) -> cst.IndentedBlock:
        """A new block opens on code (or a comment), never on a blank line."""
        if not block.body:
            return block
        first = block.body[0]
        lead = list(getattr(first, "leading_lines", []))
        kept = lead
        while kept and kept[0].comment is None:
            kept = kept[1:]
        if len(kept) == len(lead):
            return block
        new = first.with_changes(leading_lines=kept)
        line = self.line_of.get(id(first))
        if line is not None:  # a nested job may start at this statement
            self.line_of[id(new)] = line
            self.keep.append(new)
        return block.with_changes(body=[new, *block.body[1:]])

    def _binding(self, job: Job) -> cst.BaseStatement | None:
        s = job.strategy
        if s.kind != "admin_route":
            return None
        m = self.module
        return _statement(f"{s.manager} = current_app.{s.manager}\n", m.default_indent, m.default_newline)


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


def _with_node(ctx: cst.BaseExpression, var: str | None, block: cst.IndentedBlock,
               extra: cst.WithItem | None = None) -> cst.With:
    asname = cst.AsName(name=cst.Name(var)) if var else None
    if extra is None:
        return cst.With(items=[cst.WithItem(item=ctx, asname=asname)], body=block)
    first = cst.WithItem(item=ctx, asname=asname, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    return cst.With(items=[first, extra], body=block)


def _begin_item(var: str | None) -> cst.WithItem:
    """`<var>.begin()`: the second item of a `begin` strategy's `with`."""
    return cst.WithItem(item=_expression(f"{var}.begin()"))


# --- scaffolding --------------------------------------------------------------------------

PROPERTY = '''\
@property
def {manager}(self):
    """Flask's {manager}, or None outside an application context."""
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
        session = {acquire}
        try:
            yield session
        finally:
            session.close()
'''


def scaffold_edit(parsed: Parsed, cls: cst.ClassDef, jobs: Sequence[Job]) -> tuple[int, int, str] | None:
    """The text to insert into a class for its jobs: the manager property (and the session
    helper), once, unless the class already defines or assigns those names."""
    strategy = jobs[0].strategy
    defined = parsed.class_names(parsed.lines.get(id(cls), -1))
    add: list[cst.BaseStatement] = []
    indent = parsed.module.default_indent
    if strategy.manager not in defined:
        code = PROPERTY.format(manager=strategy.manager).replace("    ", indent)
        add.append(_statement(code, indent, parsed.module.default_newline))
    helpers = [j for j in jobs if j.strategy.kind == "service_helper"]
    if helpers and helpers[0].strategy.helper not in defined:
        s = helpers[0].strategy
        code = HELPER.format(helper=s.helper, manager=s.manager, method=s.method,
                             acquire=helpers[0].plan.facts.acquire
                             or f"{helpers[0].plan.facts.receiver}.get_session()").replace("    ", indent)
        add.append(_statement(code, indent, parsed.module.default_newline))
    body = list(cls.body.body) if isinstance(cls.body, cst.IndentedBlock) else []
    if not add or not body:
        return None
    blank = cst.EmptyLine(indent=False)
    body_indent = parsed.indent_of(parsed.lines[id(body[0])])
    init = next((st for st in body if isinstance(st, cst.FunctionDef) and st.name.value == "__init__"), None)
    if init is not None or is_docstring(body[0]):
        after = parsed.ends[id(init if init is not None else body[0])]
        text = parsed.render([_with_leading(st, [blank]) for st in add], body_indent)
        return after + 1, after, text
    first = parsed.lines[id(body[0])] - len(body[0].leading_lines)
    text = parsed.render([_with_leading(st, [blank] if i else []) for i, st in enumerate(add)], body_indent)
    return first, first - 1, text + parsed.module.default_newline


def final_block(try_node: cst.Try, stmts: list[cst.BaseStatement]) -> cst.IndentedBlock:
    """The `finally:` block of `try_node`, holding `stmts` (its header and comments kept)."""
    final = try_node.finalbody
    assert final is not None
    return final.body.with_changes(body=stmts)


def build(parsed: Parsed, jobs: Sequence[Job], recipe: Recipe, bound: frozenset[str] | set[str]
          ) -> tuple[str, dict[str, str]]:
    """The new text of a module with every job applied, and each job's replacement text.

    The jobs are built on the syntax tree, then spliced into the original text: every line outside
    a rewritten region is the original line, byte for byte. Imports and class scaffolding are added
    once, where an accepted job needs them and only if the name is not already bound. An edited
    job's text replaces its region as the reviewer wrote it. `bound` = the names bound at module
    level in the original source.
    """
    if not jobs:
        return parsed.source, {}
    normal = [j for j in jobs if j.edited is None]
    builder = Builder(parsed, normal)
    if normal:
        parsed.module.visit(builder)
    newline = parsed.module.default_newline
    regions: dict[str, str] = {}
    for job in normal:
        if job.plan.occurrence_id not in builder.captured:
                raise RewriteError(f"The rewrite of {job.plan.occurrence_id} could not be placed: its region "
                               "overlaps another's.")
        regions[job.plan.occurrence_id] = parsed.render(
            builder.captured[job.plan.occurrence_id], parsed.indent_of(job.plan.region_start))
    for job in jobs:
        if job.edited is not None:
            text = newline.join(split_lines(job.edited))
            regions[job.plan.occurrence_id] = text + newline if text else ""
    spans = [(j.plan.region_start, j.plan.region_end, j.plan.occurrence_id) for j in jobs]
    outer = outermost((start, end) for start, end, _ in spans)
    edits: list[tuple[int, int, str]] = [(start, end, regions[oid]) for start, end, oid in spans
                                         if (start, end) in outer]
    for cls, cjobs in builder.scaffold:
        edit = scaffold_edit(parsed, cls, cjobs)
        if edit is not None:
            edits.append(edit)
    edits.extend(import_edits(parsed, needed_imports(jobs, recipe, bound)))
    return splice(parsed.text_lines, edits), regions


def splice(lines: list[str], edits: Sequence[tuple[int, int, str]]) -> str:
    """Apply (first line, last line, new text) replacements to 1-based lines; `last = first - 1`
    inserts before `first`. Insertions at one place keep their order."""
    out = list(lines)
    order = sorted(range(len(edits)), key=lambda i: (edits[i][0], i), reverse=True)
    for i in order:
        first, last, text = edits[i]
        out[first - 1 : last] = [text]
    text = "".join(out)
    if lines and not lines[-1].endswith(("\n", "\r")) and text.endswith(("\n", "\r")):
        text = text.rstrip("\r\n")  # the file had no final newline: keep it that way
    return text


def needed_imports(jobs: Sequence[Job], recipe: Recipe, bound: frozenset[str] | set[str]) -> list[str]:
    out: list[str] = []
    for job in jobs:
        s = job.strategy
        wanted: list[str] = []
        if job.edited is not None:
            continue
        if (s.kind == "with" and s.manager not in bound) or s.kind in ("receiver_with", "begin"):
            wanted = list(s.imports)
        elif s.kind == "admin_route":
            wanted = [imp for imp in s.imports if not set(import_binds(imp)) <= bound]
        elif s.kind == "service_helper" and "contextmanager" not in bound:
            wanted = ["from contextlib import contextmanager"]
        for imp in wanted:
            if imp not in out and not set(import_binds(imp)) <= bound:
                out.append(imp)
    return out
