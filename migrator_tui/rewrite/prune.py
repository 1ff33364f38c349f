"""The part of a module that a build reads, so that libcst parses that part alone.

A build (`build.build`) changes regions inside functions, adds scaffolding to the classes that
hold them and adds imports after the module's leading ones; its output is the original text
with those spans replaced. libcst's parse of a whole module is the costliest step of a dry run,
and most of a large module is functions no occurrence is in. `prune` keeps, of the module, what a
build can read:

- the module's head — its first statements up to the first that is neither an import nor an
  expression statement (where `imports.import_edits` places new imports), and every top-level
  import (an import of the same module may be merged into);
- every function that holds an occurrence, whole;
- every class on the way to one, with its first statement and its `__init__` (where
  scaffolding goes, `build.scaffold_edit`) and, of its other statements, only those on the way.

Every other top-level or class-level statement becomes blank lines (each keeping its own line
ending), so every kept line has its number, its text and its indentation, and libcst and `ast`
see the same statements. The indentation libcst would detect in the whole module (that of the
first indented block) is computed from the whole module and given to the parse.

None when pruning cannot be told safe: an occurrence outside any function (its region may span
top-level statements), an occurrence in a one-line class, or nothing to drop.
"""

from __future__ import annotations

import ast
import bisect
import copy
from collections.abc import Iterable

from migrator_tui.sourcefile import split_lines


def prune(source: str, tree: ast.Module, lines: Iterable[int], text_lines: list[str] | None = None
          ) -> tuple[str, ast.Module, str] | None:
    """(pruned text, its `ast` twin, the whole module's first indentation), or None.
    `text_lines`: `source` split with its line endings, when the caller has it."""
    wanted = sorted(set(lines))
    if not wanted:
        return None
    dropped: list[tuple[int, int]] = []
    body = _prune_block(tree.body, wanted, dropped, module=True)
    if body is None or not dropped:
        return None
    whole = text_lines if text_lines is not None else split_lines(source, keepends=True)
    text = list(whole)
    for first, last in dropped:
        for i in range(first - 1, min(last, len(text))):
            line = text[i]
            text[i] = line[len(line.rstrip("\r\n")):]
    return "".join(text), ast.Module(body=body, type_ignores=[]), first_indent(source, tree, whole)


def first_indent(source: str, tree: ast.Module, text_lines: list[str] | None = None) -> str:
    """The indentation of the module's first indented block, as libcst detects it (the first
    INDENT token's), or libcst's fallback of four spaces when there is none."""
    text = text_lines if text_lines is not None else split_lines(source, keepends=True)
    # the first compound top-level statement with a body on its own lines holds it: a one-line
    # body holds no compound statement, so no INDENT comes earlier
    for st in tree.body:
        inner = _first_body(st)
        if inner is None or _start(inner) <= st.lineno:
            continue
        line = text[_start(inner) - 1]
        first = min([inner, *getattr(inner, "decorator_list", [])], key=lambda n: (n.lineno, n.col_offset))
        before = line[: first.col_offset].strip()  # (a decorator's column is after its `@`)
        if before in ("", "@"):  # the body starts its own line (not `def f(a,\n b): return a`)
            return line[: len(line) - len(line.lstrip(" \t\f"))].replace("\f", "")
    return "    "


def _first_body(st: ast.stmt) -> ast.stmt | None:
    body = getattr(st, "body", None)
    if isinstance(st, ast.Match):
        return st.cases[0].body[0] if st.cases else None
    return body[0] if isinstance(body, list) and body and isinstance(body[0], ast.stmt) else None


def _start(st: ast.stmt) -> int:
    decorators = getattr(st, "decorator_list", None) or []
    return min([st.lineno, *(d.lineno for d in decorators)])


def _end(st: ast.stmt) -> int:
    return st.end_lineno or st.lineno


def _shares_line(a: ast.stmt, b: ast.stmt) -> bool:
    return _start(a) <= _end(b) and _start(b) <= _end(a)


def _prune_block(stmts: list[ast.stmt], wanted: list[int], dropped: list[tuple[int, int]], *,
                 module: bool = False) -> list[ast.stmt] | None:
    """The statements of a block to keep (classes on the way pruned in turn); the spans of the
    others go to `dropped`. None when pruning this block cannot be told safe."""
    keep: dict[int, ast.stmt] = {}
    if module:
        for i, st in enumerate(stmts):
            keep[i] = st
            if not isinstance(st, (ast.Import, ast.ImportFrom, ast.Expr)):
                break
        keep.update((i, st) for i, st in enumerate(stmts) if isinstance(st, (ast.Import, ast.ImportFrom)))
    else:
        keep[0] = stmts[0]
        keep.update((i, st) for i, st in enumerate(stmts)
                    if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef)) and st.name == "__init__")
    inside: dict[int, list[int]] = {}
    starts = [_start(st) for st in stmts]  # (in order: a block's statements follow each other)
    for line in wanted:
        i = bisect.bisect_right(starts, line) - 1
        if i < 0 or line > _end(stmts[i]):
            return None
        inside.setdefault(i, []).append(line)
    for i, here in inside.items():
        st = stmts[i]
        if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef)):
            keep[i] = st
        elif isinstance(st, ast.ClassDef):
            if not st.body or st.body[0].lineno <= st.lineno:  # a one-line class
                return None
            body = _prune_block(st.body, here, dropped)
            if body is None:
                return None
            twin = copy.copy(st)
            twin.body = body
            keep[i] = twin
        elif module:  # an occurrence outside any function: its region may span statements
            return None
        else:  # (a statement of a class body that holds a function: kept whole)
            keep[i] = st
    # statements sharing a line with a kept one (`a = 1; b = 2`) are kept with it: only its
    # neighbours can
    for i in sorted(keep):
        for j in (i - 1, i + 1):
            k = j
            while 0 <= k < len(stmts) and k not in keep and _shares_line(stmts[k], keep[i]):
                keep[k] = stmts[k]
                k += j - i
    dropped.extend((_start(st), _end(st)) for i, st in enumerate(stmts) if i not in keep)
    return [keep[i] for i in sorted(keep)]
