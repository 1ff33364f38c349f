"""Where an exception leaving a function goes next: the calls that let it out of their own
function, and the application's error handlers.

`escaping_calls` finds, in one module (its statements as `statements_with_class` walks them),
every call of some names that an exception raised by the call leaves the calling function
through: no broad handler that swallows it (`except Exception:` without `raise`) sits around the
call inside that function. Each comes with the calling function
(its name, its class, its decorators, whether it is a web route), so the repository index can
follow an exception from a service method up to the view that calls it, and to the view's
decorators. Specific handlers around the call do not stop it (another type passes them); the
repository index names those separately (`RepoIndex.catching_callers`).

`error_handlers` finds the handlers an application registers for exception types escaping its
views: Flask's `@app.errorhandler(T)` / `app.register_error_handler(T, f)` (blueprints' `app_`
forms too) and FastAPI/Starlette's `@app.exception_handler(T)` / `app.add_exception_handler(T, f)`.
Pure functions of a parsed module.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from migrator_tui.rewrite.astutil import SCOPE_NODES, children, last_name
from migrator_tui.rewrite.facts.handlers import BROAD_EXCEPTIONS, NEVER_WRAPPED, is_broad, reraises

#: decorator methods that make a function a web route (Flask, FastAPI, Starlette, Quart, Sanic…)
ROUTE_METHODS = {"route", "get", "post", "put", "patch", "delete", "head", "options", "websocket",
                 "api_route", "api_view"}
_DECORATOR_HANDLERS = {"errorhandler", "app_errorhandler", "exception_handler"}
_CALL_HANDLERS = {"register_error_handler", "add_exception_handler"}


@dataclass(frozen=True, slots=True)
class EscapingCall:
    """A call of `callee` that an exception leaves the calling function through."""

    callee: str
    line: int
    call: ast.Call
    #: the calling function and the class it is a method of (None: a plain function)
    function: str
    owner: str | None
    decorators: tuple[ast.expr, ...]
    is_route: bool


def escaping_calls(walked: list[tuple[ast.stmt, str | None]], names: set[str] | None,
                   written: Callable[[int, int], bool] | None = None) -> Iterator[EscapingCall]:
    """Every call of one of `names` (by its last name; None: of any name) inside a function whose
    exceptions leave that function; `walked` is a module's `statements_with_class`. `written`
    says whether a name is written on some lines at all: a function body where none is, is not
    walked."""
    for func, owner in walked:
        if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if written is not None and not written(func.body[0].lineno, func.end_lineno or func.lineno):
            continue
        route = any(is_route(d) for d in func.decorator_list)
        for call in _escaping(func.body, names):
            callee = last_name(call.func)
            assert callee is not None
            yield EscapingCall(callee, call.lineno, call, func.name, owner, tuple(func.decorator_list), route)


def is_route(decorator: ast.expr) -> bool:
    """`@app.route(...)`, `@bp.get(...)`, `@router.post(...)`: a method call on some object."""
    return (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)
            and decorator.func.attr in ROUTE_METHODS)


def error_handlers(tree: ast.Module) -> list[tuple[int, str]]:
    """(line, type) of each specific exception type an application handles for its views."""
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for d in node.decorator_list:
                if isinstance(d, ast.Call) and _method(d) in _DECORATOR_HANDLERS and d.args:
                    out.extend((d.lineno, t) for t in _types(d.args[0]))
        elif isinstance(node, ast.Call) and _method(node) in _CALL_HANDLERS and node.args:
            out.extend((node.lineno, t) for t in _types(node.args[0]))
    return out


def _method(call: ast.Call) -> str | None:
    return call.func.attr if isinstance(call.func, ast.Attribute) else None


def _types(expr: ast.expr) -> list[str]:
    """Exception type names in a handler's registration (HTTP status codes are not types)."""
    items = expr.elts if isinstance(expr, ast.Tuple) else [expr]
    out = []
    for e in items:
        if isinstance(e, (ast.Name, ast.Attribute)):
            t = ast.unparse(e)
            short = t.rsplit(".", 1)[-1]
            if short not in BROAD_EXCEPTIONS and short not in NEVER_WRAPPED:
                out.append(t)
    return out


def _escaping(body: list[ast.stmt], names: set[str] | None) -> Iterator[ast.Call]:
    """Calls of `names` in a function body, not in nested functions, that no broad swallowing
    handler of the function surrounds."""
    for st in body:
        if isinstance(st, SCOPE_NODES):
            continue
        if isinstance(st, ast.Try | ast.TryStar):
            swallowed = any(is_broad(h) and not reraises(h) for h in st.handlers)
            if not swallowed:
                yield from _escaping(st.body, names)
            for h in st.handlers:
                yield from _escaping(h.body, names)
            yield from _escaping(st.orelse, names)
            yield from _escaping(st.finalbody, names)
            continue
        for expr in _own_expressions(st):
            for n in _walk_expr(expr):
                if isinstance(n, ast.Call):
                    callee = last_name(n.func)
                    if callee is not None and (names is None or callee in names):
                        yield n
        for field in ("body", "orelse"):
            sub = getattr(st, field, None)
            if isinstance(sub, list):
                yield from _escaping([x for x in sub if isinstance(x, ast.stmt)], names)
        for case in getattr(st, "cases", None) or []:
            yield from _escaping(case.body, names)


def _own_expressions(st: ast.stmt) -> Iterator[ast.expr]:
    """The expressions of a statement itself, not of the statements nested in it."""
    for _field, value in ast.iter_fields(st):
        items = value if isinstance(value, list) else [value]
        for v in items:
            if isinstance(v, ast.expr):
                yield v
            elif isinstance(v, ast.withitem):
                yield v.context_expr


def _walk_expr(expr: ast.expr) -> Iterator[ast.AST]:
    """An expression's nodes, without entering lambdas (their body runs later, elsewhere)."""
    stack: list[ast.AST] = [expr]
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, ast.Lambda):
            stack.extend(children(node))
