"""Facts about the rest of the repository that decide `exception-wrapped`.

- Decorators defined in the repository whose wrapper catches specific exception types: a view
  under such a decorator (say `json_errors`, whose wrapper has `except ValueError`) sees the
  wrapped exception instead. Decorators are resolved through the module's own definitions and
  its imports (relative imports too).
- Callers anywhere in the repository (tests included) that call a function by name inside a `try`
  with a specific handler, or inside `pytest.raises(SpecificError)` / `assertRaises(...)`.
Files are read with the standard library `ast`, once, and cached.
"""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

from migrator_tui.rewrite.astutil import last_name

_CALLED = re.compile(rb"\b([A-Za-z_][A-Za-z0-9_]*)\s*\(")


class RepoIndex:
    """Resolves decorators and catching callers inside one repository."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self._trees: dict[Path, ast.Module | None] = {}
        self._catching: dict[str, list[tuple[str, int, str]]] | None = None
        self._primed: set[str] = set()
        #: outside git: the names each catching file calls, read once
        self._catchers: dict[str, set[bytes]] | None = None

    def catching_callers(self, name: str) -> list[tuple[str, int, str]]:
        """(path, line, type) of every place that calls `name(...)` where a specific exception
        type raised by the call would be caught."""
        self.prime({name})
        assert self._catching is not None
        return self._catching.get(name, [])

    def prime(self, names: set[str]) -> None:
        """Index the callers of `names`: only files that mention `name(` are parsed."""
        if self._catching is None:
            self._catching = {}
        todo = {n for n in names if n not in self._primed}
        if not todo or self.root is None:
            return
        self._primed |= todo
        for rel in self._files_calling(todo):
            path = self.root / rel
            tree = self._trees.get(path) or _parse(path)
            if tree is None:
                continue
            for node in _statements(tree.body):
                for body, types in _catching_blocks(node):
                    for inner in ast.walk(ast.Module(body=body, type_ignores=[])):
                        if isinstance(inner, ast.Call):
                            callee = last_name(inner.func)
                            if callee in todo:
                                self._catching.setdefault(callee, []).extend(
                                    (rel, line, t) for line, t in types)

    def _files_calling(self, names: set[str]) -> list[str]:
        """Python files that contain `name(` for one of `names` and some `except`/`raises`."""
        assert self.root is not None
        pattern = r"\b(" + "|".join(sorted(re.escape(n) for n in names)) + r")\s*\("
        words = [arg for n in sorted(names) for arg in ("-e", n)]
        try:  # fixed words are far faster for git than one alternation; `name(` is checked below
            proc = subprocess.run(
                ["git", "grep", "-l", "-z", "-I", "-w", "-F", "--untracked", *words, "--", "*.py"],
                cwd=self.root, capture_output=True, stdin=subprocess.DEVNULL, check=False,
            )
        except OSError:
            proc = None
        if proc is not None and proc.returncode in (0, 1):
            hits = [p for p in proc.stdout.decode("utf-8", "surrogateescape").split("\0") if p]
        else:  # not a git work tree: search the files once, keep the ones that catch something
            if self._catchers is None:
                from migrator_tui.scan.files import walk_python_files

                self._catchers = {}
                for rel in walk_python_files(self.root):
                    try:
                        data = (self.root / rel).read_bytes()
                    except OSError:
                        continue
                    if b"except" in data or b"aises" in data:
                        self._catchers[rel] = set(_CALLED.findall(data))
            wanted = {n.encode() for n in names}
            hits = [rel for rel, called in self._catchers.items() if called & wanted]
        called = re.compile(pattern.encode())
        out = []
        for rel in hits:
            try:
                data = (self.root / rel).read_bytes()
            except OSError:
                continue
            if (b"except" in data or b"aises" in data) and called.search(data):
                out.append(rel)
        return out

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


def _statements(body: list[ast.stmt]) -> list[ast.stmt]:
    """Every statement, nested ones included, without walking expressions."""
    out: list[ast.stmt] = []
    stack = list(reversed(body))
    while stack:
        st = stack.pop()
        out.append(st)
        for field in ("body", "orelse", "finalbody"):
            sub = getattr(st, field, None)
            if isinstance(sub, list):
                stack.extend(reversed([x for x in sub if isinstance(x, ast.stmt)]))
        for h in getattr(st, "handlers", None) or []:
            stack.extend(reversed(h.body))
        for case in getattr(st, "cases", None) or []:
            stack.extend(reversed(case.body))
    return out


def _parse(path: Path) -> ast.Module | None:
    try:
        return ast.parse(path.read_bytes())
    except (OSError, SyntaxError, ValueError, RecursionError):
        return None


def _catching_blocks(node: ast.AST) -> list[tuple[list[ast.stmt], list[tuple[int, str]]]]:
    """Statement lists whose exceptions of specific types are caught: try bodies with specific
    handlers, `with pytest.raises(T):` and `with self.assertRaises(T):` bodies."""
    from migrator_tui.rewrite.facts.handlers import specific_types

    if isinstance(node, ast.Try):
        types = [(h.lineno, t) for h in node.handlers for t in specific_types(h, None)]
        return [(node.body, types)] if types else []
    if isinstance(node, (ast.With, ast.AsyncWith)):
        types: list[tuple[int, str]] = []
        for item in node.items:
            expr = item.context_expr
            asserting = isinstance(expr, ast.Call) and last_name(expr.func) in {"raises", "assertRaises"}
            if asserting and expr.args:  # type: ignore[union-attr]
                exc = expr.args[0]
                items = exc.elts if isinstance(exc, ast.Tuple) else [exc]
                for e in items:
                    t = ast.unparse(e)
                    if t.rsplit(".", 1)[-1] not in {"Exception", "BaseException"}:
                        types.append((node.lineno, t))
        return [(node.body, types)] if types else []
    return []


def catches(func: ast.FunctionDef, name: str) -> list[tuple[int, str]]:
    """Specific exception types caught anywhere inside a decorator's definition."""
    from migrator_tui.rewrite.facts.handlers import specific_types

    out: list[tuple[int, str]] = []
    for node in ast.walk(func):
        if isinstance(node, ast.ExceptHandler):
            out.extend((node.lineno, f"{t} (in decorator {name})") for t in specific_types(node, None))
    return out


_INDEXES: dict[Path | None, RepoIndex] = {}


def repo_index(root: Path | None) -> RepoIndex:
    """The (cached) index of a repository; call `forget_index` after the tree changes."""
    if root not in _INDEXES:
        _INDEXES[root] = RepoIndex(root)
    return _INDEXES[root]


def forget_index(root: Path | None) -> None:
    _INDEXES.pop(root, None)
