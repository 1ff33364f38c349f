"""What one file's analysis asks of the rest of the repository, and the answers it got.

A file's verdicts depend on its own text and on these answers alone: the callers of its
functions and the handlers around them, further up too; the decorators it uses and the functions
it imports, as other modules define them; the models' relationships; whether flask and the
strategies' modules are there; the requirement pins. Kept with the file's summaries, the list
says whether they still hold: ask the same questions of the repository as it is now and compare
the answers (`RepoQuestions.unchanged`), instead of analysing the file again.
"""

from __future__ import annotations

import ast
import hashlib
import json
from collections.abc import Callable, Iterable
from pathlib import Path

from migrator_tui.recipe import Recipe
from migrator_tui.rewrite.astutil import last_name
from migrator_tui.rewrite.kept_calls import reads, reads_json
from migrator_tui.rewrite.repo_index import repo_index
from migrator_tui.scan.acquire import statements

#: A question as kept: its kind, its arguments, the digest of its answer.
Asked = list[object]
KINDS = ("decorator", "callers", "upstream", "function", "relationships", "facts", "unmet")
#: The questions answered from the file's own imports and the modules they name: kept with what
#: the answer read beyond the file, so that a rescan need not parse the file to ask them again.
_READ_ELSEWHERE = ("decorator", "function")


class RepoQuestions:
    """The repository as one file's analysis sees it; every answer is recorded in `asked`."""

    def __init__(self, root: Path, recipe: Recipe, tree: ast.Module, path: str) -> None:
        self.root, self.recipe, self.tree, self.path = root, recipe, tree, path
        self.index = repo_index(root)
        self.asked: list[Asked] = []

    # -- the questions, as the analysis asks them ------------------------------------------------

    def decorator(self, decorator: ast.expr) -> list[tuple[int, str]]:
        name = last_name(decorator)
        return [] if name is None else self._ask("decorator", name)  # type: ignore[return-value]

    def callers(self, name: str, owner: str | None) -> list[tuple[str, int, str]]:
        return self._ask("callers", name, owner)  # type: ignore[return-value]

    def upstream(self, name: str, owner: str | None, is_route: bool
                 ) -> list[tuple[tuple[str, ...], str, str]]:
        return self._ask("upstream", name, owner, is_route)  # type: ignore[return-value]

    def function(self, name: str) -> tuple[ast.FunctionDef, str] | None:
        return self._ask("function", name)  # type: ignore[return-value]

    def relationships(self) -> frozenset[str]:
        return self._ask("relationships")  # type: ignore[return-value]

    def facts(self) -> tuple[bool, frozenset[str]]:
        """(flask is imported here or anywhere in the repository, the strategy-imported modules
        nobody has), for `choose`."""
        return self._ask("facts")  # type: ignore[return-value]

    def unmet(self) -> dict[str, str]:
        """Of the strategies' `requires`, those the repository's pins rule out, with the pin."""
        return self._ask("unmet")  # type: ignore[return-value]

    # -- answers, records, replays ----------------------------------------------------------------

    def _ask(self, kind: str, *args: object) -> object:
        if kind not in _READ_ELSEWHERE:
            answer = self._answer(kind, args)
            self.asked.append([kind, list(args), _digest(kind, answer)])
            return answer
        found = self.index.reading()
        try:
            answer = self._answer(kind, args)
        finally:
            self.index.done_reading(found)
        self.asked.append([kind, list(args), _digest(kind, answer), reads_json(*found.frozen())])
        return answer

    def _answer(self, kind: str, args: tuple[object, ...] | list[object]) -> object:
        index = self.index
        if kind == "decorator":
            return index.decorator_catches(self.tree, self.path, str(args[0]))
        if kind == "callers":
            return index.catching_callers(str(args[0]), _optional(args[1]), self.path)
        if kind == "upstream":
            return index.upstream_handlers(str(args[0]), _optional(args[1]), bool(args[2]), path=self.path)
        if kind == "function":
            return index.find_function(self.tree, self.path, str(args[0]))
        if kind == "relationships":
            return index.relationships()
        if kind == "facts":
            modules = {m for s in self.recipe.strategies.values() for m in s.imported_modules()} - {"flask"}
            missing = frozenset(m for m in modules if not index.provides(m))
            # the file itself first: a line-based search can miss it (lines ending in CR alone,
            # a file the repository ignores)
            return _imports_flask(self.tree) or index.imports_flask(), missing
        if kind == "unmet":
            out = {}
            for s in self.recipe.strategies.values():
                if s.requires and s.requires not in out:
                    package, _, version = s.requires.partition(">=")
                    why = index.pinned_below(package, tuple(int(p) for p in version.split(".")))
                    if why:
                        out[s.requires] = why
            return out
        raise ValueError(f"unknown question {kind!r}")

    @classmethod
    def unchanged(cls, root: Path, recipe: Recipe, tree: Callable[[], ast.Module | None], path: str,
                  asked: Iterable[object]) -> bool:
        """Whether every question of `asked` (as kept: untrusted) gets the same answer now, for a
        file whose text is what it was when they were asked. `tree` parses the file (None: it
        cannot be): only a question reading its imports needs it, and only when what its answer
        read elsewhere changed."""
        questions = cls(root, recipe, ast.Module(body=[], type_ignores=[]), path)
        parsed = False
        try:
            for item in asked:
                if not (isinstance(item, list) and len(item) in (3, 4) and item[0] in KINDS
                        and isinstance(item[1], list) and isinstance(item[2], str)):
                    return False
                kind, args, digest = item[:3]
                if not all(a is None or isinstance(a, (str, bool)) for a in args):
                    return False
                if kind in _READ_ELSEWHERE:
                    if len(item) == 4 and questions._reads_still(item[3]):
                        continue  # (the file's text and everything the answer read: the same)
                    if not parsed:
                        parsed, own = True, tree()
                        if own is None:
                            return False
                        questions.tree = own
                if _digest(kind, questions._answer(kind, args)) != digest:
                    return False
        except (ValueError, IndexError, TypeError, RecursionError):
            return False
        return True

    def _reads_still(self, kept: object) -> bool:
        """Whether what a kept answer read (as kept: untrusted) is as it was."""
        try:
            files, modules = reads(kept)
        except (ValueError, KeyError):
            return False
        return self.index.reads_still(files, modules)


def _optional(value: object) -> str | None:
    return None if value is None else str(value)


def _digest(kind: str, answer: object) -> str:
    """A stable digest of an answer (a function found: its file and its whole code, positions
    included; sets in order)."""
    if kind == "function":
        answer = None if answer is None else [answer[1], ast.dump(answer[0], include_attributes=True)]  # type: ignore[index]
    elif kind == "relationships":
        answer = sorted(answer)  # type: ignore[call-overload]
    elif kind == "facts":
        answer = [answer[0], sorted(answer[1])]  # type: ignore[index]
    text = json.dumps(answer, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha1(text.encode()).hexdigest()


def _imports_flask(tree: ast.Module) -> bool:
    def is_flask(name: str) -> bool:
        top = name.split(".")[0]
        return top == "flask" or top.startswith("flask_")

    return any((isinstance(n, ast.ImportFrom) and is_flask(n.module or ""))
               or (isinstance(n, ast.Import) and any(is_flask(a.name) for a in n.names))
               for n in statements(tree) if isinstance(n, (ast.Import, ast.ImportFrom)))
