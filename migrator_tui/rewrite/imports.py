"""Module-level names and idempotent import insertion on the concrete syntax tree."""

from __future__ import annotations

import ast

import libcst as cst


def import_binds(statement: str) -> list[str]:
    """The names an import statement binds: `from a import b as c` → [c]."""
    node = ast.parse(statement).body[0]
    assert isinstance(node, (ast.Import, ast.ImportFrom))
    return [(a.asname or a.name).split(".")[0] for a in node.names]


def bound_names(module: cst.Module) -> set[str]:
    """Names bound at module level (including inside top-level if/try blocks)."""
    from migrator_tui.rewrite.astutil import module_bindings

    return module_bindings(ast.parse(module.code))


def _is_import(stmt: cst.BaseStatement) -> bool:
    return isinstance(stmt, cst.SimpleStatementLine) and all(
        isinstance(s, (cst.Import, cst.ImportFrom)) for s in stmt.body
    )


def _is_docstring(stmt: cst.BaseStatement) -> bool:
    return (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1
            and isinstance(stmt.body[0], cst.Expr)
            and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString)))


def _module_name(node: cst.ImportFrom) -> str | None:
    if node.relative or node.module is None:
        return None
    return cst.Module([]).code_for_node(node.module)


def insert_import(module: cst.Module, statement: str) -> cst.Module:
    """Add `statement` once: merged into an existing one-line `from X import ...` of the same
    module, or as a new line after the module's leading imports."""
    new = cst.parse_statement(statement + "\n", config=module.config_for_parsing)
    assert isinstance(new, cst.SimpleStatementLine)
    target = new.body[0]
    body = list(module.body)
    if isinstance(target, cst.ImportFrom) and not isinstance(target.names, cst.ImportStar):
        wanted = _module_name(target)
        for i, stmt in enumerate(body):
            if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1):
                continue
            imp = stmt.body[0]
            if (isinstance(imp, cst.ImportFrom) and _module_name(imp) == wanted and imp.lpar is None
                    and not isinstance(imp.names, cst.ImportStar)):
                names = list(imp.names)
                names[-1] = names[-1].with_changes(
                    comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
                names.extend(a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in target.names)
                body[i] = stmt.with_changes(body=[imp.with_changes(names=names)])
                return module.with_changes(body=body)
    at = 0
    for i, stmt in enumerate(body):
        if _is_import(stmt) or (i == 0 and _is_docstring(stmt)):
            at = i + 1
        elif at or not _is_docstring(stmt):
            break
    if at == 0 and body:
        # No imports: keep the header comments first, then the new import and a blank line.
        body[0] = body[0].with_changes(leading_lines=[cst.EmptyLine(indent=False), *body[0].leading_lines]) \
            if hasattr(body[0], "leading_lines") else body[0]
    body.insert(at, new)
    return module.with_changes(body=body)
