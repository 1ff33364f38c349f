"""Module-level names and idempotent import insertion on the concrete syntax tree."""

from __future__ import annotations

import ast
from collections.abc import Sequence

import libcst as cst


def import_binds(statement: str) -> list[str]:
    """The names an import statement binds: `from a import b as c` → [c]."""
    node = ast.parse(statement).body[0]
    assert isinstance(node, (ast.Import, ast.ImportFrom))
    return [(a.asname or a.name).split(".")[0] for a in node.names]


def _is_import(stmt: cst.BaseStatement) -> bool:
    return isinstance(stmt, cst.SimpleStatementLine) and all(
        isinstance(s, (cst.Import, cst.ImportFrom)) for s in stmt.body
    )


def is_docstring(stmt: cst.BaseStatement) -> bool:
    """A string literal on its own line (a module's or a class's docstring)."""
    return (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1
            and isinstance(stmt.body[0], cst.Expr)
            and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString)))


def _module_name(node: cst.ImportFrom) -> str | None:
    if node.relative or node.module is None:
        return None
    return cst.Module([]).code_for_node(node.module)


def import_edits(parsed, imports: Sequence[str]) -> list[tuple[int, int, str]]:  # type: ignore[no-untyped-def]
    """Text edits that add `imports` once each: merged into an existing one-line
    `from X import ...` of the same module, or as new lines after the module's leading imports."""
    module: cst.Module = parsed.module
    body = list(module.body)
    merged: dict[int, cst.SimpleStatementLine] = {}  # body index -> statement with added names
    new_lines: list[cst.SimpleStatementLine] = []
    for statement in imports:
        new = cst.parse_statement(statement + "\n", config=module.config_for_parsing)
        assert isinstance(new, cst.SimpleStatementLine)
        target = new.body[0]
        index = _mergeable(body, merged, target)
        if index is None:
            new_lines.append(new)
            continue
        stmt = merged.get(index, body[index])
        imp = stmt.body[0]
        assert isinstance(imp, cst.ImportFrom) and not isinstance(imp.names, cst.ImportStar)
        names = list(imp.names)
        names[-1] = names[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        assert isinstance(target, cst.ImportFrom) and not isinstance(target.names, cst.ImportStar)
        names.extend(a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in target.names)
        merged[index] = stmt.with_changes(body=[imp.with_changes(names=names)])
    edits: list[tuple[int, int, str]] = []
    for index, stmt in merged.items():
        text = parsed.render([stmt.with_changes(leading_lines=[])], "")
        edits.append((parsed.lines[id(body[index])], parsed.ends[id(body[index])], text))
    if new_lines:
        at = 0  # index of the statement after which the imports go (0: none, at the top)
        for i, stmt in enumerate(body):
            if _is_import(stmt) or (i == 0 and is_docstring(stmt)):
                at = i + 1
            elif at or not is_docstring(stmt):
                break
        text = parsed.render(new_lines, "")
        if at:
            after = parsed.ends[id(body[at - 1])]
            edits.append((after + 1, after, text))
        elif body:
            first = parsed.lines[id(body[0])] - len(body[0].leading_lines)
            # PEP 8: two blank lines before a top-level def or class, one before anything else
            gap = 2 if isinstance(body[0], (cst.FunctionDef, cst.ClassDef)) else 1
            edits.append((first, first - 1, text + module.default_newline * gap))
        else:
            edits.append((len(parsed.text_lines) + 1, len(parsed.text_lines), text))
    return edits


def _mergeable(body: list[cst.BaseStatement], merged: dict[int, cst.SimpleStatementLine],
               target: cst.BaseSmallStatement) -> int | None:
    if not isinstance(target, cst.ImportFrom) or isinstance(target.names, cst.ImportStar):
        return None
    wanted = _module_name(target)
    for i, stmt in enumerate(body):
        if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1):
            continue
        imp = stmt.body[0]
        if (isinstance(imp, cst.ImportFrom) and _module_name(imp) == wanted and imp.lpar is None
                and not isinstance(imp.names, cst.ImportStar)):
            return i
    return None
