"""Decorators defined in the repository whose wrapper catches specific exception types.

A view under such a decorator (say `handle_db_errors`, whose wrapper has `except IntegrityError`)
gets `exception-wrapped` once its session block wraps exceptions. Decorators are resolved through
the module's own definitions and its imports (`from app.errors import handle_db_errors`, relative
imports too), read with the standard library `ast` and cached per file.
"""

from __future__ import annotations

import ast
from pathlib import Path

from migrator_tui.rewrite.astutil import last_name


class DecoratorIndex:
    """Resolves decorator names to their definitions inside one repository."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self._trees: dict[Path, ast.Module | None] = {}

    def _tree(self, path: Path) -> ast.Module | None:
        if path not in self._trees:
            try:
                self._trees[path] = ast.parse(path.read_bytes())
            except (OSError, SyntaxError, ValueError):
                self._trees[path] = None
        return self._trees[path]

    def _module_file(self, module: str, level: int, here: str) -> Path | None:
        if self.root is None:
            return None
        base = Path(here).parent
        for _ in range(max(level - 1, 0)):
            base = base.parent
        parts = module.split(".") if module else []
        anchor = self.root / base if level else self.root
        for candidate in (anchor.joinpath(*parts).with_suffix(".py"), anchor.joinpath(*parts, "__init__.py")):
            if parts and candidate.is_file():
                return candidate
        return None

    def checker(self, tree: ast.Module, path: str):  # type: ignore[no-untyped-def]
        """A function: decorator expression → [(line, "Type (in decorator name)")]."""

        def check(decorator: ast.expr) -> list[tuple[int, str]]:
            name = last_name(decorator)
            if name is None:
                return []
            found = self._find(tree, path, name, depth=0)
            if found is None:
                return []
            func, _where = found
            return catches(func, name)

        return check

    def _find(self, tree: ast.Module, path: str, name: str, depth: int
              ) -> tuple[ast.FunctionDef, str] | None:
        if depth > 3:
            return None
        for stmt in tree.body:
            if isinstance(stmt, ast.FunctionDef) and stmt.name == name:
                return stmt, path
        for stmt in tree.body:
            if isinstance(stmt, ast.ImportFrom):
                for alias in stmt.names:
                    if (alias.asname or alias.name) != name:
                        continue
                    file = self._module_file(stmt.module or "", stmt.level, path)
                    if file is None:
                        return None
                    other = self._tree(file)
                    if other is None:
                        return None
                    rel = str(file.relative_to(self.root)) if self.root else str(file)
                    return self._find(other, rel, alias.name, depth + 1)
        return None


def catches(func: ast.FunctionDef, name: str) -> list[tuple[int, str]]:
    """Specific exception types caught anywhere inside a decorator's definition."""
    from migrator_tui.rewrite.analyze import specific_types

    out: list[tuple[int, str]] = []
    for node in ast.walk(func):
        if isinstance(node, ast.ExceptHandler):
            out.extend((node.lineno, f"{t} (in decorator {name})") for t in specific_types(node, None))
    return out
