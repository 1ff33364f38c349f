"""Whether a function the acquire calls can return None.

`get_db_session(section)` that returns None when the configuration lacks the section: the old
code bound None, ran the statements before the first use and failed there (AttributeError), or
skipped the close behind an `if s:`; `with get_db_session(section) as s:` raises TypeError before
the block runs (and `closing(None)` fails at the exit). Evidence is read from the function's own
body: a bare `return`, `return None`, or an end that can be reached. A `return value` that might be
None at run time is not evidence (nothing here says so).
"""

from __future__ import annotations

import ast

from migrator_tui.rewrite.astutil import walk_local

Function = ast.FunctionDef | ast.AsyncFunctionDef


def none_exit(func: Function) -> int | None:
    """The line where `func` returns None (a `return`, `return None`, or the end of its body when
    that can be reached), or None when every path returns a value or raises. Generators (their
    call returns a generator, never None) and empty stubs (`...`, `pass`, a docstring: an
    interface, not the code that runs) are never evidence."""
    nodes = list(walk_local(func.body))
    if any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in nodes) or _is_stub(func.body):
        return None
    for n in nodes:
        if isinstance(n, ast.Return) and (n.value is None or (
                isinstance(n.value, ast.Constant) and n.value.value is None)):
            return n.lineno
    if not always_exits(func.body):
        return func.body[-1].end_lineno or func.body[-1].lineno
    return None


def always_exits(stmts: list[ast.stmt]) -> bool:
    """Every path through `stmts` ends in a `return` or a `raise` (as far as the syntax shows)."""
    for st in stmts:
        if isinstance(st, (ast.Return, ast.Raise)):
            return True
        if isinstance(st, ast.If) and st.orelse and always_exits(st.body) and always_exits(st.orelse):
            return True
        if isinstance(st, (ast.With, ast.AsyncWith)) and always_exits(st.body):
            return True
        if isinstance(st, ast.Try | ast.TryStar):
            if st.finalbody and always_exits(st.finalbody):
                return True
            main = always_exits(st.orelse) if st.orelse else always_exits(st.body)
            if main and all(always_exits(h.body) for h in st.handlers):
                return True
        if isinstance(st, ast.While) and isinstance(st.test, ast.Constant) and st.test.value and not any(
                isinstance(n, ast.Break) for n in walk_local(st.body)):
            return True
        if isinstance(st, ast.Match) and st.cases and all(always_exits(c.body) for c in st.cases) and any(
                isinstance(c.pattern, ast.MatchAs) and c.pattern.pattern is None and c.guard is None
                for c in st.cases):
            return True
    return False


def _is_stub(body: list[ast.stmt]) -> bool:
    rest = body[1:] if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
        and isinstance(body[0].value.value, str) else body
    return all(isinstance(s, ast.Pass) or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)
                                           and s.value.value is Ellipsis) for s in rest)
