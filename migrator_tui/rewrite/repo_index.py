"""Facts about the rest of the repository that decide `exception-wrapped`.

- Decorators defined in the repository whose wrapper catches specific exception types: a view
  under such a decorator (say `json_errors`, whose wrapper has `except ValueError`) sees the
  wrapped exception instead. Decorators are resolved through the module's own definitions and
  its imports (relative imports too).
- Callers anywhere in the repository (tests included) that call a function by name inside a `try`
  with a specific handler, or inside `pytest.raises(SpecificError)` / `assertRaises(...)`.
- Upstream handlers (`upstream_handlers`): an exception that leaves a function's callers goes on
  to *their* decorators and callers, and, out of a web route, to the application's error handlers;
  followed two calls up, through callers whose receiver resolves to the class.
Files are read with the standard library `ast`, once, and cached.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from migrator_tui.model import Occurrence
from migrator_tui.rewrite.astutil import last_name, statements_with_class
from migrator_tui.rewrite.callers import error_handlers, escaping_calls
from migrator_tui.rewrite.facts.handlers import live_specific
from migrator_tui.scan import trees
from migrator_tui.scan.acquire import statements
from migrator_tui.sourcefile import UndecodableSource, decode

#: name -> which functions of that name are meant: (class or None, file or None)
Origins = Mapping[str, Iterable[tuple[str | None, str | None]]]

_CALLED = re.compile(rb"\b([A-Za-z_][A-Za-z0-9_]*)\s*\(")
#: `import flask` / `from flask... import` (flask_login and the other flask_* extensions import
#: flask too)
_FLASK_IMPORT = re.compile(rb"^[ \t]*(?:from|import)[ \t]+flask(?![A-Za-z0-9])", re.M)


def relationship_names(tree: ast.Module) -> set[str]:
    """Names assigned `relationship(...)` (or `db.relationship(...)`) in class bodies."""
    out = set()
    for node in statements(tree):
        if isinstance(node, ast.ClassDef):
            for st in node.body:
                value = st.value if isinstance(st, (ast.Assign, ast.AnnAssign)) else None
                if isinstance(value, ast.Call) and last_name(value.func) == "relationship":
                    targets = st.targets if isinstance(st, ast.Assign) else [st.target]  # type: ignore[union-attr]
                    out.update(t.id for t in targets if isinstance(t, ast.Name))
    return out


class RepoIndex:
    """Resolves decorators and catching callers inside one repository."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self._trees: dict[Path, ast.Module | None] = {}
        self._catching: dict[str, _Calls[tuple[str, int, str, tuple[str, str | None]]]] | None = None
        #: name -> the module names whose files were read for its calls (None: every file)
        self._primed: dict[str, set[bytes] | None] = {}
        #: name -> the files of the plain functions it was primed as
        self._near: dict[str, set[str]] = {}
        #: (name, file) pairs whose calls are indexed
        self._indexed: set[tuple[str, str]] = set()
        #: outside git: the names each file calls, read once
        self._catchers: dict[str, set[bytes]] | None = None
        self._flask: bool | None = None
        self._modules: set[str] | None = None
        self._provides: dict[str, bool] = {}
        self._relations: frozenset[str] | None = None
        self._pins: dict[tuple[str, tuple[int, ...]], str | None] = {}
        #: callee → calls its exceptions leave the calling function through (see `callers`)
        self._escapes: dict[str, _Calls[Escape]] = {}
        #: files whose calls were computed once, for some names; and every call of those asked again
        self._asked: set[str] = set()
        self._calls: dict[str, FileCalls] = {}
        #: a decorator's catches (see `_decorator_catches`), and what finding them read
        self._decorators: dict[tuple[str, str], tuple[tuple[str, ...], _Reads]] = {}
        self._upstream: dict[tuple[str, str | None, bool, int, str | None],
                             list[tuple[tuple[str, ...], str, str]]] = {}
        self._module_files: dict[tuple[str, int, str], Path | None] = {}
        self._error_handlers: list[tuple[str, int, str]] | None = None
        #: the sha1 of the bytes each tree of `_trees` was parsed from
        self._digests: dict[Path, str | None] = {}
        #: per thread, what the reads in progress depend on beyond their own file
        self._threads = threading.local()
        #: per file, the calls kept from an earlier run (`keep_calls`), each for some names,
        #: used while the file and everything its read depended on are as they were
        self._kept: dict[str, list[tuple[frozenset[str] | None, FileCalls]]] = {}
        self._kept_valid: dict[str, list[tuple[frozenset[str] | None, FileCalls]]] = {}
        #: per file, the calls indexed in this run, by the names they are of (`kept_calls`)
        self._read: dict[str, dict[frozenset[str], FileCalls]] = {}

    def imports_flask(self) -> bool:
        """Whether any Python file of the repository imports flask."""
        if self._flask is None:
            self._flask = self.root is None or self._any_file_matches(["flask"], _FLASK_IMPORT)
        return self._flask

    def has_module(self, name: str) -> bool:
        """Whether the repository holds a top-level-importable module or package `name`."""
        if self.root is None:
            return True
        if self._modules is None:
            from migrator_tui.scan.files import walk_python_files

            self._modules = set()
            for rel in walk_python_files(self.root):
                parts = rel[: -len(".py")].split("/")
                if parts[-1] == "__init__":
                    parts.pop()
                if parts:
                    self._modules.add(parts[-1])
        return name in self._modules

    def pinned_below(self, package: str, version: tuple[int, ...]) -> str | None:
        """`setup.py pins sqlalchemy==1.3.13` when a requirements file of the repository (at its
        root or one folder down: setup.py, setup.cfg, pyproject.toml, requirements*.txt, Pipfile)
        only allows versions of `package` below `version`; None otherwise. Read once per
        repository and requirement."""
        if self.root is None:
            return None
        key = (package.lower(), version)
        if key not in self._pins:
            self._pins[key] = self._pinned_below(package, version)
        return self._pins[key]

    def _pinned_below(self, package: str, version: tuple[int, ...]) -> str | None:
        assert self.root is not None
        names = ("setup.py", "setup.cfg", "pyproject.toml", "Pipfile", "requirements*.txt",
                 "requirements/*.txt")
        pin = re.compile(rf"(?<![A-Za-z0-9_.-]){re.escape(package)}(?:\[[^\]]*\])?\s*(==|~=|<=|<)\s*"
                         r"([0-9]+(?:\.[0-9]+)*)", re.IGNORECASE)
        try:
            folders = [self.root, *sorted(p for p in self.root.iterdir() if not p.name.startswith(".")
                                          and p.is_dir() and not p.is_symlink())[:64]]
        except OSError:
            folders = [self.root]
        for pattern in names:
            for where in folders:
                try:
                    found = sorted(where.glob(pattern))[:16]
                except OSError:  # an unreadable folder: nothing pinned there
                    continue
                for path in found:
                    try:
                        if path.is_symlink() or not path.is_file() or path.stat().st_size > 1 << 20:
                            continue
                        text = path.read_text(encoding="utf-8", errors="replace")
                    except OSError:
                        continue
                    for m in pin.finditer(text):
                        op, found = m.group(1), tuple(int(p) for p in m.group(2).split("."))
                        if op == "~=":  # ~=1.3.13 is >=1.3.13, <1.4
                            upper = (*found[:-2], found[-2] + 1) if len(found) > 1 else (found[0] + 1,)
                            below = upper <= version
                        else:
                            below = found <= version if op == "<" else found < version
                        if below:
                            rel = path.relative_to(self.root).as_posix()
                            return f"{rel} pins {m.group(0).strip()}"
        return None

    def relationships(self) -> frozenset[str]:
        """Attribute names the repository's models bind to `relationship(...)` (SQLAlchemy,
        Flask-SQLAlchemy's `db.relationship`): reading one on a loaded object gives ORM objects."""
        if self._relations is None:
            found: set[str] = set()
            if self.root is not None:
                pattern = re.compile(rb"relationship\s*\(")
                for rel in self._files_matching(["relationship"], pattern):
                    tree = self._tree(self.root / rel)
                    if tree is not None:
                        found |= relationship_names(tree)
            self._relations = frozenset(found)
        return self._relations

    def _files_matching(self, words: list[str], pattern: re.Pattern[bytes], *, first: bool = False
                        ) -> list[str]:
        """The repository's Python files whose text matches `pattern`: those `git grep` finds
        holding one of the fixed `words` (far faster for git than a regular expression), read
        and matched here, or outside git every file. With `first`, stop at the first."""
        assert self.root is not None
        candidates: list[str] | None = None
        try:
            proc = subprocess.run(
                ["git", "grep", "-l", "-z", "-I", "-F", "--untracked", *(a for w in words for a in ("-e", w)),
                 "--", "*.py"], cwd=self.root, capture_output=True, stdin=subprocess.DEVNULL, check=False)
            if proc.returncode in (0, 1):
                candidates = [p.decode("utf-8", "surrogateescape") for p in proc.stdout.split(b"\0") if p]
        except OSError:
            pass
        if candidates is None:
            from migrator_tui.scan.files import walk_python_files

            candidates = list(walk_python_files(self.root))
        out = []
        for rel in candidates:
            try:
                if pattern.search((self.root / rel).read_bytes()):
                    out.append(rel)
                    if first:
                        break
            except OSError:
                continue
        return out

    def provides(self, module: str) -> bool:
        """Whether `import module` can work: the repository has it, or this interpreter does."""
        if module not in self._provides:
            import importlib.util

            self._provides[module] = self.has_module(module) or importlib.util.find_spec(module) is not None
        return self._provides[module]

    def _any_file_matches(self, words: list[str], pattern: re.Pattern[bytes]) -> bool:
        return bool(self._files_matching(words, pattern, first=True))

    def catching_callers(self, name: str, owner: str | None = None, path: str | None = None
                         ) -> list[tuple[str, int, str]]:
        """(path, line, "types") of every place that calls `name(...)` where a specific exception
        type raised by the call would be caught.

        `owner` is the class `name` is a method of (None: a plain function). A call is counted
        when its receiver resolves to that class (`self.` inside it, `Owner()`, `Owner.`, a name
        bound to `Owner(...)`), or, for a plain function (defined in `path`), when it is a bare
        or module-qualified call of that function (see `_resolves`). A receiver whose class the
        code does not show is counted for a method, and the text says so; one that resolves to
        another class is not a caller."""
        self.prime({name}, {name: [(owner, path)]})
        assert self._catching is not None
        out = []
        calls = self._catching.get(name)
        found = calls.of(owner, path, unknown=True) if calls is not None else []
        for rel, line, types, (kind, what) in found:
            if owner is None:
                if _resolves((kind, what), None, path):
                    out.append((rel, line, types))
            elif kind in ("self", "class") and what in (owner, None):
                out.append((rel, line, types))
            elif kind == "unknown":
                out.append((rel, line, f"{types} (around `{what}.{name}()`, whose class the code does "
                                       "not show)"))
        return out

    def upstream_handlers(self, name: str, owner: str | None, is_route: bool,
                          depth: int = 2, path: str | None = None) -> list[tuple[tuple[str, ...], str, str]]:
        """(types, catcher, path) of the handlers further up that an exception leaving function
        `name` (a method of `owner`) reaches: the decorators of the functions that call it, and
        of their callers (`depth` calls up), the handlers around the calls of those callers, and
        the application's error handlers once it leaves a web route. `path` says how it gets
        there, nearest call first (`` `weekly()` at helpers.py:5 and `weekly_view()` at
        views.py:7 ``). A caller is followed when its receiver resolves to `owner` (see
        `catching_callers`); the direct callers' own handlers are `catching_callers`'s, not
        repeated here. A broad handler that swallows the exception in a caller stops the walk
        there."""
        key = (name, owner, is_route, depth, path)
        if key not in self._upstream:  # the same for every block of one function
            self._upstream[key] = self._upstream_handlers(name, owner, is_route, depth, path)
        return self._upstream[key]

    def prime_upstream(self, frontier: Iterable[tuple[str, str | None, str | None]], depth: int = 2,
                       workers: int = 1) -> None:
        """Index, one search per level, the callers `upstream_handlers` walks to from each function
        of `frontier` (name, class or None, file), `depth` calls up: what it would index one
        function at a time with a search of its own each. Only speed changes: what is indexed
        is looked up only for the names asked (a name primed again reads nothing new)."""
        seen = set(frontier)
        level_names = sorted(seen, key=lambda f: (f[0], f[1] or "", f[2] or ""))
        for level in range(depth):
            self._prime_functions(level_names, workers)
            if level == depth - 1:
                break
            nxt = []
            for callee, cls, where in level_names:
                for esc in self._escapes_to(callee, cls, where):
                    key = (esc.function, esc.owner, esc.path)
                    if key not in seen:
                        seen.add(key)
                        nxt.append(key)
            level_names = nxt
            if not level_names:
                break

    def _prime_functions(self, functions: Iterable[tuple[str, str | None, str | None]], workers: int = 1
                         ) -> None:
        """`prime` the callers of `functions` (name, class or None, file), one search for all."""
        origins: dict[str, list[tuple[str | None, str | None]]] = {}
        for n, cls, where in functions:
            origins.setdefault(n, []).append((cls, where))
        self.prime(set(origins), origins, workers=workers)

    def _escapes_to(self, callee: str, cls: str | None, where: str | None) -> list[Escape]:
        """The indexed calls that let the exceptions of `callee` (a method of `cls`, or a
        function of file `where`) out, each resolved to it."""
        escapes = self._escapes.get(callee)
        if escapes is None:
            return []
        return [esc for esc in escapes.of(cls, where) if _resolves(esc.receiver, cls, where)]

    def _upstream_handlers(self, name: str, owner: str | None, is_route: bool, depth: int,
                           path: str | None) -> list[tuple[tuple[str, ...], str, str]]:
        found: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
        seen = {(name, owner, path)}
        frontier: list[tuple[str, str | None, str | None, tuple[str, ...]]] = [(name, owner, path, ())]
        routes: list[tuple[str, ...]] = [()] if is_route else []
        for level in range(depth):
            self._prime_functions((n, cls, where) for n, cls, where, _ in frontier)
            nxt = []
            for callee, cls, where, via in frontier:
                if level:
                    for rel, line, types in self.catching_callers(callee, cls, where):
                        if "whose class" not in types:
                            catcher = f"`except {types}` at {rel}:{line}"
                            found.setdefault(catcher, (tuple(types.split(" / ")), via))
                for esc in self._escapes_to(callee, cls, where):
                    chain = (*via, f"`{esc.function}()` at {esc.path}:{esc.line}")
                    for decorator, types in esc.decorator_catches:
                        if types:
                            handlers = " / ".join(f"`except {t}`" for t in types)
                            found.setdefault(f"{handlers} in decorator {decorator} of `{esc.function}()`",
                                             (types, chain))
                    if esc.is_route:
                        routes.append(chain)
                    if (esc.function, esc.owner, esc.path) not in seen:
                        seen.add((esc.function, esc.owner, esc.path))
                        nxt.append((esc.function, esc.owner, esc.path, chain))
            frontier = nxt[:32]
            if not frontier:
                break
        if routes:
            for rel, line, t in self.error_handlers():
                catcher = f"the application's error handler for {t} at {rel}:{line}"
                found.setdefault(catcher, ((t,), routes[0]))
        return [(types, catcher, "through " + " and ".join(chain) if chain else "out of this view")
                for catcher, (types, chain) in found.items()]

    def error_handlers(self) -> list[tuple[str, int, str]]:
        """(path, line, type) of the error handlers the application registers for its views."""
        if self._error_handlers is None:
            self._error_handlers = []
            if self.root is not None:
                # the registrations `callers.error_handlers` reads: `@app.errorhandler(T)`,
                # `app.register_error_handler(T, f)`, FastAPI's `exception_handler` and
                # `add_exception_handler` (not asyncio's `loop.set_exception_handler(f)`)
                words = ["errorhandler", "register_error_handler", "exception_handler"]
                pattern = re.compile(
                    rb"\.(app_)?(errorhandler|register_error_handler|(add_)?exception_handler)\s*\(")
                for rel in self._files_matching(words, pattern):
                    tree = self._tree(self.root / rel)
                    if tree is not None:
                        self._error_handlers += [(rel, line, t) for line, t in error_handlers(tree)]
        return self._error_handlers

    def _decorator_catches(self, tree: ast.Module, path: str, decorator: ast.expr
                           ) -> tuple[str, tuple[str, ...]]:
        """A decorator's name and the specific types its wrapper catches around the function."""
        name = last_name(decorator) or ""
        key = (path, name)
        if key not in self._decorators:
            reads = self.reading()
            try:
                found = self._find(tree, path, name, depth=0) if name else None
            finally:
                self.done_reading(reads)
            self._decorators[key] = (tuple(t for _, t in wrapped_catches(found[0])) if found else (), reads)
        types, reads = self._decorators[key]
        for active in self._reading:  # (what finding it read, for every read it is part of)
            active.merge(reads)
        return name, types

    def _file_calls(self, rel: str, names: set[str]) -> FileCalls:
        """What one file's calls of `names` tell the index, as plain values: each call made inside
        a block that catches specific types, and each call whose exceptions leave its function.

        The first time a file is asked, only the calls of `names` are computed (most files are
        asked once, for the names of one search); the second time, every call of the file is, and
        kept, so that no file is parsed more than twice (the walk up the callers asks new names)."""
        kept = self._kept_calls(rel, names)
        if kept is not None:
            return kept
        full = self._calls.get(rel)
        if full is None and rel in self._asked:
            full = self._calls[rel] = self._read_calls(rel, None)
        if full is not None:
            return full.only(names)
        self._asked.add(rel)
        return self._read_calls(rel, names)

    def _kept_calls(self, rel: str, names: set[str]) -> FileCalls | None:
        """The calls of `names` kept for `rel` from an earlier run, when one kept read covers
        them and the file and everything that read depended on are as they were then."""
        if rel not in self._kept:
            return None
        if rel not in self._kept_valid:
            self._kept_valid[rel] = [(n, c) for n, c in self._kept[rel] if self._still(rel, c)]
        for covered, calls in self._kept_valid[rel]:
            if covered is None or names <= covered:
                return calls.only(names)
        return None

    def _still(self, rel: str, calls: FileCalls) -> bool:
        """Whether a kept read of `rel` would read the same now: the same bytes of the file and of
        every file it parsed, every module it looked up found in the same file."""
        assert self.root is not None
        return (self._digest_of(self.root / rel) == calls.digest
                and self.reads_still(calls.files, calls.modules))

    def reads_still(self, files: Iterable[tuple[str, str | None]],
                    modules: Iterable[tuple[str, int, str, str | None]]) -> bool:
        """Whether the files are as they were (by the sha1 of their bytes) and each module looked
        up is found in the same file: what a read that depended on them would read now."""
        if self.root is None:
            return False
        if any(self._digest_of(self.root / dep) != digest for dep, digest in files):
            return False
        return all(self._file_rel(self._module_file(module, level, here)) == found
                   for module, level, here, found in modules)

    @property
    def _reading(self) -> list[_Reads]:
        """This thread's reads in progress, innermost last (a review analyses in threads)."""
        stack: list[_Reads] | None = getattr(self._threads, "stack", None)
        if stack is None:
            stack = self._threads.stack = []
        return stack

    def reading(self) -> _Reads:
        """Start recording what the index reads (until `done_reading`): a caller's own dependencies."""
        reads = _Reads()
        self._reading.append(reads)
        return reads

    def done_reading(self, reads: _Reads) -> None:
        self._reading.remove(reads)

    def _digest_of(self, path: Path) -> str | None:
        """The sha1 of a file's bytes now (None: not a readable file), once per run."""
        if path not in self._digests:
            try:  # (no link, nothing larger than a source file may be: a read never used them)
                plain = path.is_file() and not path.is_symlink() and path.stat().st_size <= MAX_SOURCE_BYTES
                self._digests[path] = _sha1(path.read_bytes()) if plain else None
            except OSError:
                self._digests[path] = None
        return self._digests[path]

    def keep_calls(self, kept: Mapping[str, list[tuple[frozenset[str] | None, FileCalls]]]) -> None:
        """Calls read by an earlier run (`kept_calls` then), to use where still valid."""
        self._kept = dict(kept)
        self._kept_valid = {}

    def kept_calls(self) -> dict[str, list[tuple[frozenset[str] | None, FileCalls]]]:
        """The calls indexed in this run, per file, each with the names it holds: what a later
        run may use again (`keep_calls`)."""
        return {rel: [(names, calls) for names, calls in found.items()] for rel, found in self._read.items()}

    def _read_calls(self, rel: str, names: set[str] | None) -> FileCalls:
        """`_file_calls` of `names` (None: of every name), read from the file."""
        assert self.root is not None
        path = self.root / rel
        tree = self._trees.get(path)
        written = None
        if tree is None:
            tree, data = _parse(path)
            self._digests.setdefault(path, _sha1(data) if data is not None else None)
            if tree is not None and names is not None:
                written = _names_written(data, names)
        catching: list[tuple[str, int, str, tuple[str, str | None]]] = []
        escapes: list[Escape] = []
        reads = self.reading()
        try:
            if tree is not None:
                self._walk_calls(rel, tree, names, written, catching, escapes)
        finally:
            self.done_reading(reads)
        reads.files.pop(rel, None)  # (the file itself: its own digest)
        return FileCalls(catching, escapes, self._digests.get(path), *reads.frozen())

    def _walk_calls(self, rel: str, tree: ast.Module, names: set[str] | None,
                    written: Callable[[int, int], bool] | None,
                    catching: list[tuple[str, int, str, tuple[str, str | None]]], escapes: list[Escape]
                    ) -> None:
        """The calls of `names` in one file's `tree` (see `_file_calls`), into the two lists."""
        receivers = _Receivers(tree)
        walked = statements_with_class(tree.body)
        for node, owner in walked:
            for body, types in _catching_blocks(node):
                if not types or (written is not None and not written(body[0].lineno, _last_line(body))):
                    continue
                joined = " / ".join(t for _, t in types)
                for inner in ast.walk(ast.Module(body=body, type_ignores=[])):
                    callee = last_name(inner.func) if isinstance(inner, ast.Call) else None
                    if callee and (names is None or callee in names):
                        catching.append((callee, types[0][0], joined,  # type: ignore[arg-type]
                                         self._kind(rel, receivers, inner, owner)))  # type: ignore[arg-type]
        for call in escaping_calls(walked, names, written):
            catches = tuple(self._decorator_catches(tree, rel, d) for d in call.decorators)
            escapes.append(Escape(rel, call.line, call.callee, call.function, call.owner,
                                   self._kind(rel, receivers, call.call, call.owner), catches,
                                   call.is_route))

    def _kind(self, rel: str, receivers: _Receivers, call: ast.Call, owner: str | None
              ) -> tuple[str, str | None]:
        """`_Receivers.kind`, with a name imported from another module of the repository looked
        up there: a module (`from app.services import users` → `users.create()`), or a
        module-level instance (`from services import reports`, where `reports = ReportService()`).

        For a plain call (`f()`, `module.f()`) the second part says where `f` comes from as far
        as this module shows: the repository file of its import (`from app.services import f`,
        `import app.services as m`) or this file (a `def f` of its own); "?" and the dotted name
        of an import the repository does not resolve; the star-imported modules' origins joined
        by "|"; "" when `f` is nothing this module binds (see `_resolves`)."""
        kind, what = receivers.kind(call, owner)
        if kind == "name":
            return kind, self._origin(rel, receivers, last_name(call.func) or "")
        if kind == "module":
            module = receivers.module_of.get(what or "", what or "")
            return kind, self._import_origin(module, 0, rel)
        if kind != "unknown" or what not in receivers.imported:
            return kind, what
        module, level, name = receivers.imported[what]
        found = self._module_file(f"{module}.{name}" if module else name, level, rel)
        if found is not None:
            return "module", self._file_rel(found)
        file = self._module_file(module, level, rel)
        other = self._tree(file) if file is not None else None
        if other is not None:
            for st in other.body:
                if isinstance(st, ast.Assign) and isinstance(st.value, ast.Call) and any(
                        isinstance(t, ast.Name) and t.id == name for t in st.targets):
                    cls = last_name(st.value.func)
                    if cls and cls[:1].isupper():
                        return "class", cls
        return kind, what

    def _origin(self, rel: str, receivers: _Receivers, name: str) -> str | None:
        """The file defining the function a bare call of `name` in `rel` calls (see `_kind`)."""
        if name in receivers.imported:
            module, level, _ = receivers.imported[name]
            return self._import_origin(module, level, rel)
        if name in receivers.defined:
            return rel
        # a star import may bring it: any of those modules ("|" between them)
        return "|".join(self._import_origin(m, level, rel) for m, level in receivers.star)

    def _import_origin(self, module: str, level: int, rel: str) -> str:
        """The repository file `module` (imported from `rel`) is, or, when it does not resolve,
        "?" and the module's dotted name (any file whose path ends so may be it), "" for a
        relative import that names no file."""
        found = self._file_rel(self._module_file(module, level, rel))
        if found is not None:
            return found
        return f"?{module}" if module and not level else ""

    def _file_rel(self, file: Path | None) -> str | None:
        if file is None or self.root is None:
            return None
        try:
            return file.relative_to(self.root).as_posix()
        except ValueError:
            return None

    def prime(self, names: set[str], origins: Origins | None = None, workers: int = 1) -> None:
        """Index the calls of `names`, one search for many: the callers that catch around them
        (`catching_callers`) and those that let their exceptions out (`upstream_handlers`). Only
        files that mention `name(` are read.

        `origins` says, for some names, which functions they are: (class or None, file). A plain
        function of a known file is only called from that file or from files that import it, so
        only files that name its module are read for it (a file whose call is resolved to another
        module is not its caller either way, see `_resolves`).

        With `workers` > 1 and many files to read, they are read by that many forked processes
        (the caller must be free to fork: no other thread running)."""
        if self._catching is None:
            self._catching = {}
        if self.root is None:
            return
        wanted: dict[str, set[bytes] | None] = {}  # name -> the module names still to read, None: all
        for n in names:
            done = self._primed.get(n, set())
            if done is None:
                continue
            where = list((origins or {}).get(n, [(None, None), ("?", None)]))
            if all(owner is None and path for owner, path in where):
                stems = {_stem(path) for _, path in where if path} - done  # type: ignore[arg-type]
                if stems:
                    wanted[n] = stems
                for _, path in where:
                    self._near.setdefault(n, set()).add(path)  # type: ignore[arg-type]
            else:
                wanted[n] = None
        if not wanted:
            return
        for n, stems in wanted.items():
            self._primed[n] = None if stems is None else self._primed.get(n, set()) | stems  # type: ignore[operator]
        root = self.root
        packages = {Path(f).parent for n in wanted for f in self._near.get(n, ())
                    if (root / Path(f).parent / "__init__.py").is_file()}
        jobs: list[tuple[str, set[str]]] = []
        for rel, data, called in self._files_calling(set(wanted)):
            todo = {n for n in called if (n, rel) not in self._indexed
                    and _may_call(rel, data, wanted[n], self._near.get(n, ()), packages)}
            if todo:
                self._indexed.update((n, rel) for n in todo)
                jobs.append((rel, todo))
        for (rel, todo), found in zip(jobs, self._calls_of(jobs, workers), strict=True):
            self._read.setdefault(rel, {})[frozenset(todo)] = found
            for callee, line, joined, kind in found.catching:
                self._catching.setdefault(callee, _Calls()).add((rel, line, joined, kind), kind)
            for esc in found.escapes:
                self._escapes.setdefault(esc.callee, _Calls()).add(esc, esc.receiver)

    def _calls_of(self, jobs: list[tuple[str, set[str]]], workers: int) -> Iterator[FileCalls]:
        """`_file_calls(rel, names)` of each job, in order; in `workers` forked processes when
        there are many."""
        global _PRIMING
        if workers > 1 and len(jobs) >= PARALLEL_FILES and hasattr(os, "fork"):
            import multiprocessing

            _PRIMING = self
            try:
                with multiprocessing.get_context("fork").Pool(workers) as pool:
                    yield from pool.imap(_file_calls_job, jobs, chunksize=max(1, len(jobs) // (workers * 8)))
            finally:
                _PRIMING = None
            self._asked.update(rel for rel, _ in jobs)  # (asked in the workers, for this process)
        else:
            for rel, names in jobs:
                yield self._file_calls(rel, names)

    def _files_calling(self, names: set[str]) -> Iterator[tuple[str, bytes, set[str]]]:
        """Python files that contain `name(` (not `def name(`) for one of `names`, with their
        bytes and which of `names` they call so."""
        assert self.root is not None
        # `name(` not right after `def `: a file that only defines a function of that name does not
        # call it (every service module defining `list_items` would be read otherwise)
        pattern = r"(?<!def )\b(" + "|".join(sorted(re.escape(n) for n in names)) + r")\s*\("
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
        else:  # not a git work tree: read the files once, keep the names each calls
            if self._catchers is None:
                from migrator_tui.scan.files import walk_python_files

                self._catchers = {}
                for rel in walk_python_files(self.root):
                    try:
                        self._catchers[rel] = set(_CALLED.findall((self.root / rel).read_bytes()))
                    except OSError:
                        continue
            wanted = {n.encode() for n in names}
            hits = [rel for rel, called in self._catchers.items() if called & wanted]
        called = re.compile(pattern.encode())
        for rel in hits:
            try:
                data = (self.root / rel).read_bytes()
            except OSError:
                continue
            found = {m.decode("utf-8", "surrogateescape") for m in called.findall(data)}
            if found:
                yield rel, data, found

    def _tree(self, path: Path) -> ast.Module | None:
        if path not in self._trees:
            tree, data = _parse(path)
            self._trees[path] = tree
            self._digests.setdefault(path, _sha1(data) if data is not None else None)
        if self._reading:
            rel = self._file_rel(path)
            if rel is not None:
                for active in self._reading:
                    active.files[rel] = self._digests.get(path)
        return self._trees[path]

    def _module_file(self, module: str, level: int, here: str) -> Path | None:
        """`_find_module_file`, once per module, level and importing folder."""
        key = (module, level, str(Path(here).parent))
        if key not in self._module_files:
            self._module_files[key] = self._find_module_file(module, level, here)
        found = self._module_files[key]
        for active in self._reading:
            active.modules[(module, level, here)] = self._file_rel(found)
        return found

    def _find_module_file(self, module: str, level: int, here: str) -> Path | None:
        if self.root is None:
            return None
        """The repository's file for `module` imported from `here` (relative imports from
        `here`'s package; absolute ones from the root or a folder above `here`, as a project
        under `backend/` or `src/` runs with that folder on its path, or without their first part
        when the repository is that package). Links are not followed."""
        base = Path(here).parent
        for _ in range(max(level - 1, 0)):
            base = base.parent
        parts = module.split(".") if module else []
        if not parts:
            return None
        anchors = [(self.root / base, parts)] if level else [
            (self.root, parts), *((self.root / a, parts) for a in Path(here).parents if a != Path("."))]
        if not level and len(parts) > 1 and not (self.root / parts[0]).exists():
            # the repository is the package itself (`from myproject.tests.conftest import x`)
            anchors.append((self.root, parts[1:]))
        inside = self.root.resolve()
        for anchor, names in anchors:
            for candidate in (anchor.joinpath(*names).with_suffix(".py"),
                              anchor.joinpath(*names, "__init__.py")):
                if (candidate.is_file() and not candidate.is_symlink()
                        and candidate.resolve().is_relative_to(inside)):
                    return candidate
        return None

    def checker(self, tree: ast.Module, path: str):  # type: ignore[no-untyped-def]
        """A function: decorator expression → [(line, "Type (in decorator name)")]."""

        def check(decorator: ast.expr) -> list[tuple[int, str]]:
            name = last_name(decorator)
            return [] if name is None else self.decorator_catches(tree, path, name)

        return check

    def decorator_catches(self, tree: ast.Module, path: str, name: str) -> list[tuple[int, str]]:
        """[(line, "Type (in decorator name)")] of the decorator `name` as module `tree` (at
        `path`) sees it: its own, or one it imports from another module of the repository."""
        found = self._find(tree, path, name, depth=0)
        if found is None:
            return []
        func, _where = found
        return catches(func, name)

    def find_function(self, tree: ast.Module, path: str, name: str) -> tuple[ast.FunctionDef, str] | None:
        """The function `name` as module `tree` (at `path`) sees it: its own, or one it imports
        from another module of the repository; with the path of the file that defines it."""
        return self._find(tree, path, name, depth=0)

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


class _Receivers:
    """What the receiver of a call is, as far as one module shows: ("name", None) for `f()`,
    ("self", class) for `self.f()`, ("class", C) for `C().f()` / `C.f()` / `x.f()` after
    `x = C(...)`, ("module", m) for an imported module, ("unknown", text) otherwise."""

    def __init__(self, tree: ast.Module) -> None:
        self.modules: set[str] = set()
        #: names bound by `import module [as alias]`: alias → the module it names
        self.module_of: dict[str, str] = {}
        #: names bound by `from module import name [as alias]`: alias → (module, level, name)
        self.imported: dict[str, tuple[str, int, str]] = {}
        #: functions and classes defined anywhere in the module
        self.defined: set[str] = set()
        #: modules imported with `from module import *`: (module, level)
        self.star: list[tuple[str, int]] = []
        self.instances: dict[str, str] = {}
        #: functions of the module that return an instance of one class (`def svc(): return C()`)
        self.factories: dict[str, str] = {}
        for n in _statements(tree.body):
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self.defined.add(n.name)
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
                returns = [r for r in _statements(n.body) if isinstance(r, ast.Return)]
                made = {last_name(r.value.func) for r in returns if isinstance(r.value, ast.Call)}
                if len(made) == 1 and returns and all(isinstance(r.value, ast.Call) for r in returns):
                    cls = made.pop()
                    if cls and cls[:1].isupper():
                        self.factories[n.name] = cls
                for arg in [*n.args.posonlyargs, *n.args.args, *n.args.kwonlyargs]:
                    ann = last_name(arg.annotation) if arg.annotation is not None else None
                    if ann and ann[:1].isupper():
                        self.instances[arg.arg] = ann
            if isinstance(n, ast.Import):
                self.modules.update((a.asname or a.name).split(".")[0] for a in n.names)
                for a in n.names:
                    top = a.name.split(".")[0]
                    self.module_of[a.asname or top] = a.name if a.asname else top
            elif isinstance(n, ast.ImportFrom):
                for a in n.names:
                    if a.name == "*":
                        self.star.append((n.module or "", n.level))
                        continue
                    self.imported[a.asname or a.name] = (n.module or "", n.level, a.name)
            elif isinstance(n, ast.Assign) and isinstance(n.value, ast.Call):
                cls = last_name(n.value.func)
                if cls and cls[:1].isupper():
                    for target in n.targets:
                        if isinstance(target, ast.Name):
                            self.instances[target.id] = cls
                        elif isinstance(target, ast.Attribute):
                            self.instances[ast.unparse(target)] = cls

    def kind(self, call: ast.Call, owner: str | None) -> tuple[str, str | None]:
        func = call.func
        if isinstance(func, ast.Name):
            return "name", None
        if not isinstance(func, ast.Attribute):
            return "unknown", ast.unparse(func)[:40]
        value = func.value
        if isinstance(value, ast.Name) and value.id in ("self", "cls"):
            return "self", owner
        if isinstance(value, ast.Call):
            cls = last_name(value.func)
            if cls in self.factories:
                return "class", self.factories[cls]
            return ("class", cls) if cls and cls[:1].isupper() else ("unknown", ast.unparse(value)[:40])
        text = ast.unparse(value)
        if text in self.instances:
            return "class", self.instances[text]
        if isinstance(value, ast.Name):
            if value.id in self.modules:
                return "module", value.id
            if value.id[:1].isupper():
                return "class", value.id
        return "unknown", text[:40]


@dataclass(frozen=True, slots=True)
class FileCalls:
    """What one read of a file found (`RepoIndex._file_calls`), and what it depended on."""

    catching: list[tuple[str, int, str, tuple[str, str | None]]]
    escapes: list[Escape]
    #: the sha1 of the file's bytes (None: it could not be read)
    digest: str | None = None
    #: every other file the read parsed, with the sha1 of its bytes (None: none there)
    files: tuple[tuple[str, str | None], ...] = ()
    #: every module the read looked up: (module, level, importing file, the file found or None)
    modules: tuple[tuple[str, int, str, str | None], ...] = ()

    def only(self, names: set[str]) -> FileCalls:
        """The calls of `names` alone (what a read of them finds), with the same dependencies."""
        return FileCalls([c for c in self.catching if c[0] in names],
                          [e for e in self.escapes if e.callee in names],
                          self.digest, self.files, self.modules)


class _Reads:
    """What a read in progress parsed and looked up beyond its own file."""

    __slots__ = ("files", "modules")

    def __init__(self) -> None:
        self.files: dict[str, str | None] = {}
        self.modules: dict[tuple[str, int, str], str | None] = {}

    def merge(self, other: _Reads) -> None:
        self.files.update(other.files)
        self.modules.update(other.modules)

    def frozen(self) -> tuple[tuple[tuple[str, str | None], ...],
                              tuple[tuple[str, int, str, str | None], ...]]:
        """(the files, the modules), each sorted: plain values a later run can check."""
        return (tuple(sorted(self.files.items())),
                tuple(sorted(((*k, v) for k, v in self.modules.items()), key=lambda m: m[:3])))


@dataclass(frozen=True, slots=True)
class Escape:
    """A call whose exceptions leave the calling function (see `callers.escaping_calls`)."""

    path: str
    line: int
    callee: str
    function: str
    owner: str | None
    receiver: tuple[str, str | None]
    #: each decorator's name and the specific types its wrapper catches around the call
    decorator_catches: tuple[tuple[str, tuple[str, ...]], ...]
    is_route: bool


T = TypeVar("T")


class _Calls(Generic[T]):
    """The indexed calls of one name, in the order found, filed by what their receiver says the
    callee is: a plain function of one file (`_Receivers` kind "name" or "module" with one
    origin), one that may be any function of that name (an origin that does not resolve, or
    none), a method of one class (`self.`, `Owner()`), or a receiver the code does not show. The
    calls of one function are looked up where they can be, not among every call of its name
    (2,000 modules calling `count()` on their own queries would be 4 million checks)."""

    def __init__(self) -> None:
        self.items: list[T] = []
        self._filed: dict[tuple[str, str | None], list[int]] = {}

    def add(self, item: T, receiver: tuple[str, str | None]) -> None:
        kind, what = receiver
        if kind in ("name", "module"):
            exact = what and "|" not in what and what[:1] != "?"
            key = ("function", what) if exact else ("any function", None)
        else:
            key = ("class", what) if kind in ("self", "class") else ("unknown", None)
        self._filed.setdefault(key, []).append(len(self.items))
        self.items.append(item)

    def of(self, owner: str | None, path: str | None, unknown: bool = False) -> list[T]:
        """The calls that may be of function `owner`.`name` (a plain function of `path` when
        `owner` is None), in the order found: every call that `_resolves` to it is among them
        (each still to be checked), and with `unknown` every method call whose receiver the code
        does not show."""
        if owner is not None:
            keys = [("class", owner), ("class", None), *([("unknown", None)] if unknown else [])]
        elif path is not None:
            keys = [("function", path), ("any function", None)]
        else:
            return self.items
        found = sorted(i for k in keys for i in self._filed.get(k, ()))
        return [self.items[i] for i in found]


def _resolves(receiver: tuple[str, str | None], owner: str | None, path: str | None = None) -> bool:
    """Whether a call's receiver is known to be `owner` (None: a plain function, defined in
    `path`: a call whose function comes from another file, or from none of the repository's,
    is not a call of it; one whose origin cannot be told is)."""
    kind, what = receiver
    if owner is None:
        if kind not in ("name", "module"):
            return False
        if path is None or what is None:
            return True
        return any(w == path or (w[:1] == "?" and _module_path_ends(path, w[1:])) for w in what.split("|"))
    return kind in ("self", "class") and what in (owner, None)


def _module_path_ends(path: str, module: str) -> bool:
    """Whether file `path` may be module `module` (`app/services.py` may be `services`)."""
    parts = path.removesuffix(".py").split("/")
    if parts[-1] == "__init__":
        parts.pop()
    names = module.split(".")
    return bool(names) and parts[-len(names):] == names


def function_origins(occurrences: Iterable[Occurrence]) -> tuple[set[str], Origins]:
    """The names of the functions `occurrences` are in, and which functions they are: a
    module-level function of its file, or (a method, a nested function) one of unknown place."""
    names: set[str] = set()
    origins: dict[str, set[tuple[str | None, str | None]]] = {}
    for o in occurrences:
        name = o.function.rsplit(".", 1)[-1]
        names.add(name)
        origins.setdefault(name, set()).add((None, o.path) if "." not in o.function else ("?", None))
    return names, origins


def upstream_frontier(occurrences: Iterable[Occurrence]) -> list[tuple[str, str | None, str]]:
    """(name, class or None, file) of the functions `occurrences` are in, as the analysis asks
    `upstream_handlers` of them (a method directly in its class has the class; any other
    function none)."""
    out = set()
    for o in occurrences:
        parts = o.function.split(".")
        if o.function == "<module>" or not parts[-1]:
            continue
        cls = o.class_name if len(parts) >= 2 and parts[-2] == o.class_name else None
        out.add((parts[-1], cls, o.path))
    return sorted(out, key=lambda f: (f[0], f[1] or "", f[2]))


def _may_call(rel: str, data: bytes, stems: set[bytes] | None, files: Iterable[str],
              packages: set[Path]) -> bool:
    """Whether file `rel` (holding `data`) may call a function of interest: any file when
    `stems` is None (a method, or a function of unknown place); else only the function's own
    file, a file that names its module (every import of it does), or one whose relative imports
    may reach the function's file (a folder above or below it, the function's folder a package:
    `packages` are those folders, relative to the root)."""
    if stems is None or rel in files:
        return True
    if any(s in data for s in stems):
        return True
    if b"from ." not in data:
        return False
    here = Path(rel).parent
    return any(Path(f).parent in packages and (here.is_relative_to(Path(f).parent)
                                               or Path(f).parent.is_relative_to(here)) for f in files)


def _stem(path: str) -> bytes:
    """The name an import of file `path` ends with (`services` for app/services.py, `app` for
    app/__init__.py)."""
    parts = path.removesuffix(".py").split("/")
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return parts[-1].encode("utf-8", "surrogateescape")


def _names_written(data: bytes, names: set[str]) -> Callable[[int, int], bool] | None:
    """For a module's bytes, whether one of `names` is written on lines `first`..`last`: where it
    is not, no call of it is (by its last name) there. None where the bytes may not be the text
    (not ASCII, or a coding declaration: identifiers are compared as the parser reads them)."""
    if not data.isascii():
        return None
    lines = data.splitlines()  # (the parser's lines: bytes split on CR, LF and CRLF alone)
    if any(b"coding" in line for line in lines[:2]):
        return None
    wanted = [n.encode() for n in names]

    def written(first: int, last: int) -> bool:
        segment = b"\n".join(lines[first - 1 : last])
        return any(n in segment for n in wanted)

    return written


def _last_line(body: list[ast.stmt]) -> int:
    return body[-1].end_lineno or body[-1].lineno


def _parse(path: Path) -> tuple[ast.Module | None, bytes | None]:
    """A file's tree (None when it cannot be read or parsed) and its bytes (None: unreadable)."""
    try:
        data = path.read_bytes()
    except OSError:
        return None, None
    try:
        return _tree_of(data), data
    except (SyntaxError, ValueError, RecursionError):
        return None, data


def _tree_of(data: bytes) -> ast.Module:
    """The tree of a file's bytes: of its text, as the scan and the analysis parse it (one parse
    for all of them in a process, `trees`), or of the bytes when they do not decode."""
    try:
        text = decode(data)[0]
    except UndecodableSource:
        return ast.parse(data)
    return trees.parse(text)


def _sha1(data: bytes) -> str:
    import hashlib

    return hashlib.sha1(data).hexdigest()


def _catching_blocks(node: ast.AST) -> list[tuple[list[ast.stmt], list[tuple[int, str]]]]:
    """Statement lists whose exceptions of specific types are caught: try bodies with specific
    handlers, `with pytest.raises(T):` and `with self.assertRaises(T):` bodies."""
    if isinstance(node, ast.Try):
        types, _ = live_specific(node.handlers)
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
    """`wrapped_catches`, each type worded with the decorator's name."""
    return [(line, f"{t} (in decorator {name})") for line, t in wrapped_catches(func)]


def wrapped_catches(func: ast.FunctionDef) -> list[tuple[int, str]]:
    """Specific exception types a decorator's wrapper catches around its call of the wrapped
    function (a parameter of the decorator or of a function nested in it). A `try` that holds only
    other calls (`validate_csrf()` before `return f()`) catches nothing of the view's."""
    params = {a.arg for n in ast.walk(func) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
              for a in [*n.args.posonlyargs, *n.args.args, *n.args.kwonlyargs]}
    out: list[tuple[int, str]] = []
    for node in ast.walk(func):
        if not isinstance(node, ast.Try):
            continue
        calls_wrapped = any(isinstance(c, ast.Call) and isinstance(c.func, ast.Name) and c.func.id in params
                            for c in ast.walk(ast.Module(body=node.body, type_ignores=[])))
        if calls_wrapped:
            types, _ = live_specific(node.handlers)
            out.extend(types)
    return out


_INDEXES: dict[Path | None, RepoIndex] = {}
#: The largest file whose bytes a kept read is checked against.
MAX_SOURCE_BYTES = 64 << 20
#: Below this many files to read for callers, one process is faster than starting workers.
PARALLEL_FILES = 48
#: The index whose callers the forked workers of `RepoIndex._calls_of` read.
_PRIMING: RepoIndex | None = None


def _file_calls_job(job: tuple[str, set[str]]) -> FileCalls:
    assert _PRIMING is not None
    return _PRIMING._file_calls(*job)


def repo_index(root: Path | None) -> RepoIndex:
    """The (cached) index of a repository; call `forget_index` after the tree changes."""
    if root not in _INDEXES:
        _INDEXES[root] = RepoIndex(root)
    return _INDEXES[root]


def forget_index(root: Path | None) -> None:
    _INDEXES.pop(root, None)
