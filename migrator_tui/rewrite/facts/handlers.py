"""Exception handlers: which types a handler names that a wrapped exception no longer matches,
and which calls in a module sit inside a `try` that catches specific types."""

from __future__ import annotations

import ast

BROAD_EXCEPTIONS = {"Exception", "BaseException"}


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
        if short in BROAD_EXCEPTIONS or (wrapper and short == wrapper):
            continue
        out.append(t)
    return out



def catching_calls(tree: ast.Module) -> dict[str, list[tuple[int, str]]]:
    """Callee name → (handler line, "Type at line N") for every call made inside a `try` of
    `tree` whose handlers catch specific types."""
    from migrator_tui.rewrite.astutil import last_name, walk_local

    out: dict[str, list[tuple[int, str]]] = {}
    for t in ast.walk(tree):
        if not isinstance(t, ast.Try) or not t.handlers:
            continue
        types = [(h.lineno, ty) for h in t.handlers for ty in specific_types(h, None)]
        if not types:
            continue
        for n in walk_local(t.body):
            if isinstance(n, ast.Call):
                callee = last_name(n.func)
                if callee:
                    out.setdefault(callee, []).extend((line, f"{ty} at line {line}") for line, ty in types)
    return out
