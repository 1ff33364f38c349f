"""Exception handlers: which types a handler names that a wrapped exception no longer matches,
and which calls in a module sit inside a `try` that catches specific types."""

from __future__ import annotations

import ast
from collections.abc import Iterable

from migrator_tui.rewrite.astutil import last_name, walk_local

BROAD_EXCEPTIONS = {"Exception", "BaseException"}
#: BaseException subclasses a wrapper that catches `Exception` lets through unchanged
NEVER_WRAPPED = {"KeyboardInterrupt", "SystemExit", "GeneratorExit", "CancelledError"}


def handler_types(handler: ast.ExceptHandler) -> list[str]:
    if handler.type is None:
        return []
    items = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return [ast.unparse(t) for t in items]


def specific_types(handler: ast.ExceptHandler, wrapper: str | None) -> list[str]:
    """The exception types a handler names that a wrapped exception would no longer match."""
    out = []
    for t in handler_types(handler):
        short = t.rsplit(".", 1)[-1]
        if short in BROAD_EXCEPTIONS or short in NEVER_WRAPPED or (wrapper and short == wrapper):
            continue
        out.append(t)
    return out



def is_broad(handler: ast.ExceptHandler) -> bool:
    """`except:`, `except Exception`, `except BaseException` (alone or in a tuple)."""
    return handler.type is None or any(t.rsplit(".", 1)[-1] in BROAD_EXCEPTIONS
                                       for t in handler_types(handler))


def reraises(handler: ast.ExceptHandler) -> bool:
    """The handler raises the caught exception again (`raise`, `raise e`)."""
    for n in walk_local(handler.body):
        if isinstance(n, ast.Raise) and (n.exc is None or (
                isinstance(n.exc, ast.Name) and handler.name is not None and n.exc.id == handler.name)):
            return True
    return False


def live_specific(handlers: list[ast.ExceptHandler]) -> tuple[list[tuple[int, str]], bool]:
    """(line, type) of the specific handlers a wrapped exception would reach, in order, and whether
    a broad handler that does not re-raise stops everything (nothing leaves the `try`).

    Handlers after a broad one never run for it: Python takes the first that matches."""
    out: list[tuple[int, str]] = []
    for h in handlers:
        if is_broad(h):
            return out, not reraises(h)
        out.extend((h.lineno, ty) for ty in specific_types(h, None))
    return out, False


def catching_calls(nodes: Iterable[ast.AST]) -> dict[str, list[tuple[int, str]]]:
    """Callee name → (handler line, "Type at line N") for every call made inside a `try` among
    `nodes` (a module's, in `ast.walk`'s order) whose handlers catch specific types."""
    out: dict[str, list[tuple[int, str]]] = {}
    for t in nodes:
        if not isinstance(t, ast.Try) or not t.handlers:
            continue
        types, _ = live_specific(t.handlers)
        if not types:
            continue
        line = types[0][0]
        joined = " / ".join(ty for _, ty in types)
        for n in walk_local(t.body):
            if isinstance(n, ast.Call):
                callee = last_name(n.func)
                if callee:
                    out.setdefault(callee, []).append((line, f"{joined} at line {line}"))
    return out
