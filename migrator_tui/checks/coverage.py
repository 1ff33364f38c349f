"""`verify --coverage`: which of the target's tests execute each rewritten block of a branch.

How the tests are measured: the pytest plugin in `coverage_plugin.py` is copied into a folder of
the run under `<state dir>/coverage/<branch leaf>/` and loaded through `PYTHONPATH` and
`PYTEST_PLUGINS`, so the user's own test command runs unchanged, in its own environment; the
plugin runs coverage.py there with one dynamic context per test (its pytest node id) and writes
the data and each test's outcome into that folder (never into the user's working tree).

How a block is found: the branch's commit holds the base's file with the accepted occurrences
rewritten. A line diff of the base's text against the tip's gives the changed hunks; the hunk
holding an occurrence's line (at the base) is its rewrite, and its block is the outermost
`with` statement starting in that hunk (or the `if`/`else` holding a service's fallback), not a
`try` around it, from its first line to its last, in the tip's file. Several occurrences in one
hunk take its blocks in order.
"""

from __future__ import annotations

import ast
import difflib
import json
import os
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from migrator_tui.errors import MigratorError
from migrator_tui.review.state import BlockCoverage, CoverageRun, Verification
from migrator_tui.sourcefile import split_lines

#: The plugin's module name in the run folder (and in `PYTEST_PLUGINS`).
PLUGIN_MODULE = "_migrator_coverage"
#: Outcome files larger than this are not read (a hostile or broken run).
MAX_OUTCOMES_BYTES = 50_000_000


def require() -> str:
    """coverage.py's version; a `MigratorError` of one sentence when it is not installed here."""
    try:
        import coverage
    except ImportError:
        raise MigratorError("verify --coverage needs coverage.py, which is not installed: "
                            "pip install 'migrator-tui[coverage]' (and coverage in the tests' "
                            "environment).") from None
    return str(coverage.__version__)


@dataclass(frozen=True, slots=True)
class Anchor:
    """An occurrence the branch's commit rewrote: its id, line at the base, and function."""

    id: str
    line: int
    function: str


@dataclass(frozen=True, slots=True)
class Located:
    anchor: Anchor
    start: int
    end: int
    #: The block's statement lines (their first lines, as coverage.py reports them).
    statements: frozenset[int]


# --- the run folder and the environment of the test command ------------------------------------


def prepare(folder: Path) -> Path:
    """An empty run folder holding the plugin; returns it."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    plugin = Path(__file__).with_name("coverage_plugin.py").read_text("utf-8")
    (folder / f"{PLUGIN_MODULE}.py").write_text(plugin, "utf-8")
    return folder


def environment(folder: Path, tree: Path, base: dict[str, str]) -> dict[str, str]:
    """`base` with the plugin loaded by any pytest the command starts, measuring under `tree`."""
    env = dict(base)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(folder), base.get("PYTHONPATH", "")) if p)
    env["PYTEST_PLUGINS"] = ",".join(p for p in (PLUGIN_MODULE, base.get("PYTEST_PLUGINS", "")) if p)
    env["MIGRATOR_COVERAGE_DIR"] = str(folder)
    env["MIGRATOR_COVERAGE_ROOT"] = str(tree)
    # the project's own coverage settings and a pytest-cov run would fight over the tracer
    env.pop("COVERAGE_PROCESS_START", None)
    return env


# --- locating the rewritten blocks ---------------------------------------------------------------


def _roots(tree: ast.Module) -> list[ast.stmt]:
    """Every `with` statement, and every `if` that holds one (a service's fallback), by line.

    A `try` around a `with` is not a block of its own: its handlers are not the rewritten code.
    """
    out: list[ast.stmt] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.With | ast.AsyncWith) or (
            isinstance(node, ast.If) and any(isinstance(n, ast.With | ast.AsyncWith) for n in ast.walk(node))
        ):
            out.append(node)
    return sorted(out, key=lambda n: (n.lineno, -(n.end_lineno or n.lineno)))


def _statement_lines(tree: ast.Module, start: int, end: int) -> frozenset[int]:
    return frozenset(n.lineno for n in ast.walk(tree) if isinstance(n, ast.stmt) and start <= n.lineno <= end)


def _blocks_in(roots: list[ast.stmt], opcode: tuple[str, int, int, int, int]) -> list[ast.stmt]:
    """The outermost `with`-holding statements that start in the tip's side of one change."""
    _tag, _i1, _i2, j1, j2 = opcode
    first, last = j1 + 1, max(j2, j1 + 1)
    blocks: list[ast.stmt] = []
    for node in roots:
        if first <= node.lineno <= last and not any(
            b.lineno <= node.lineno and (node.end_lineno or 0) <= (b.end_lineno or 0) for b in blocks
        ):
            blocks.append(node)
    return blocks


def locate(base_text: str, tip_text: str, anchors: Iterable[Anchor]) -> list[Located | None]:
    """Each anchor's rewritten block in `tip_text` (None where none is found), in `anchors`' order."""
    anchors = list(anchors)
    try:
        tree = ast.parse(tip_text)
    except (SyntaxError, ValueError):
        return [None] * len(anchors)
    base_lines = split_lines(base_text, keepends=True)
    tip_lines = split_lines(tip_text, keepends=True)
    opcodes = [op for op in difflib.SequenceMatcher(None, base_lines, tip_lines, autojunk=False).get_opcodes()
               if op[0] != "equal"]
    roots = _roots(tree)
    by_hunk: dict[int, list[Anchor]] = {}
    for a in anchors:
        for k, (_tag, i1, i2, _j1, _j2) in enumerate(opcodes):
            if i1 < a.line <= i2:
                by_hunk.setdefault(k, []).append(a)
                break
    found: dict[str, Located] = {}
    for k, mine in by_hunk.items():
        blocks = _blocks_in(roots, opcodes[k])
        if not blocks and k + 1 < len(opcodes):
            # the acquire's lines were only deleted: the `with` is in the next change
            blocks = _blocks_in(roots, opcodes[k + 1])
        mine.sort(key=lambda a: a.line)
        for i, a in enumerate(mine):
            if not blocks:
                break
            node = blocks[i] if len(blocks) == len(mine) else blocks[min(i, len(blocks) - 1)]
            end = node.end_lineno or node.lineno
            found[a.id] = Located(a, node.lineno, end, _statement_lines(tree, node.lineno, end))
    return [found.get(a.id) for a in anchors]


# --- reading what the run measured -------------------------------------------------------------


class NoCoverage(MigratorError):
    """The run wrote no coverage data: the sentence says why."""


def _read_json(path: Path) -> dict[str, object]:
    if path.stat().st_size > MAX_OUTCOMES_BYTES:
        raise NoCoverage(f"{path.name} is larger than {MAX_OUTCOMES_BYTES} bytes; not read.")
    data = json.loads(path.read_text("utf-8"))
    if not isinstance(data, dict):
        raise ValueError("not an object")
    return data


def outcomes(folder: Path) -> dict[str, str]:
    """node id -> passed / failed / skipped, merged over the processes of the run (failed wins)."""
    errors = sorted(folder.glob("error-*.json"))
    files = sorted(folder.glob("outcomes-*.json"))
    if errors:
        try:
            data = _read_json(errors[0])
            python, why = str(data.get("python", "?")), str(data.get("error", "?"))
        except (OSError, ValueError):
            python, why = "?", "coverage.py cannot be imported"
        raise NoCoverage(f"{why} in the Python that runs the tests ({python}): install coverage there.")
    if not files:
        raise NoCoverage("the test command wrote no coverage data: --coverage measures pytest runs, and this "
                         "command did not run pytest in Python (or pytest stopped before its end).")
    merged: dict[str, str] = {}
    for f in files:
        try:
            data = _read_json(f)
        except (OSError, ValueError) as exc:
            raise NoCoverage(f"the outcomes file {f.name} is unreadable ({exc}).") from None
        got = data.get("outcomes")
        if not isinstance(got, dict):
            raise NoCoverage(f"the outcomes file {f.name} holds no outcomes.")
        for nodeid, outcome in got.items():
            if isinstance(nodeid, str) and outcome in ("passed", "failed", "skipped") \
                    and merged.get(nodeid) != "failed":
                merged[nodeid] = outcome
    return merged


def line_contexts(folder: Path, tree: Path, path: str) -> dict[int, set[str]]:
    """line -> the contexts ("" outside any test) that executed it, in `path` of the checkout `tree`."""
    from coverage import CoverageData
    from coverage.exceptions import CoverageException

    wanted = os.path.realpath(tree / path)
    out: dict[int, set[str]] = {}
    for f in sorted(folder.glob("coverage.*")):
        data = CoverageData(basename=str(f))
        try:
            data.read()
            names = [m for m in data.measured_files() if os.path.realpath(m) == wanted]
            for name in names:
                for line, contexts in data.contexts_by_lineno(name).items():
                    out.setdefault(line, set()).update(contexts)
        except (CoverageException, OSError, ValueError) as exc:
            raise NoCoverage(f"the coverage data file {f.name} is unreadable ({exc}).") from None
    return out


def measure(folder: Path, tree: Path, path: str, base_text: str, tip_text: str,
            anchors: Sequence[Anchor]) -> CoverageRun:
    """The coverage of one branch's run: each anchor's block and the tests that executed it.

    Never raises for what the run left behind: a run without data is a `CoverageRun` with `error`.
    """
    try:
        results = outcomes(folder)
        lines = line_contexts(folder, tree, path)
    except NoCoverage as exc:
        return CoverageRun(error=exc.message)
    failed_tests = sum(1 for o in results.values() if o == "failed")
    blocks = []
    for anchor, loc in zip(anchors, locate(base_text, tip_text, anchors), strict=True):
        if loc is None:
            blocks.append(BlockCoverage(anchor.id, anchor.line, anchor.function, 0, 0))
            continue
        tests: set[str] = set()
        for line in range(loc.start, loc.end + 1):
            tests.update(c for c in lines.get(line, ()) if c in results)
        failed = sorted(t for t in tests if results[t] == "failed")
        blocks.append(BlockCoverage(anchor.id, anchor.line, anchor.function, loc.start, loc.end,
                                    statements=len(loc.statements),
                                    executed=sum(1 for s in loc.statements if s in lines),
                                    tests=len(tests), failed=tuple(failed)))
    return CoverageRun(tests=len(results), failed=failed_tests, blocks=tuple(blocks))


@dataclass(frozen=True, slots=True)
class Branch:
    """What a branch's run is measured for: its file, the file's text at the base, its anchors."""

    path: str
    base_text: str
    anchors: tuple[Anchor, ...]


class Meter:
    """The coverage side of a `verify` run: a folder per branch, the environment, the reading.

    `branches` maps a target's key (the file's path) to what to measure; other targets (the base,
    the integration branch) run without coverage.
    """

    def __init__(self, folder: Path, branches: dict[str, Branch]) -> None:
        self.folder = Path(folder)
        self.branches = branches

    def wants(self, key: str) -> bool:
        return key in self.branches

    def run_folder(self, key: str, leaf: str) -> Path:
        return prepare(self.folder / leaf)

    def environment(self, run_folder: Path, tree: Path, base: dict[str, str]) -> dict[str, str]:
        return environment(run_folder, tree, base)

    def read(self, key: str, run_folder: Path, tree: Path) -> CoverageRun:
        """What the run measured, read while its checkout `tree` still exists."""
        b = self.branches[key]
        from migrator_tui.scan.files import Unreadable, decode_source

        try:
            tip_text = decode_source((tree / b.path).read_bytes())
        except OSError as exc:
            return CoverageRun(error=f"{b.path} could not be read in the checkout ({exc.strerror}).")
        except Unreadable as exc:
            return CoverageRun(error=f"{b.path} could not be decoded in the checkout ({exc}).")
        try:
            return measure(run_folder, tree, b.path, b.base_text, tip_text, b.anchors)
        except Exception as exc:  # data written by the tests' process: never trusted to be sound
            why = f"{exc.__class__.__name__}: {exc}"
            return CoverageRun(error=f"the coverage data could not be read ({why}).")


# --- words -------------------------------------------------------------------------------------


def executed(block: BlockCoverage) -> bool:
    return block.tests > 0


def describe_block(block: BlockCoverage) -> str:
    """"executed by 3 tests (all passed)", "... (1 failed)", or "no test executes this block"."""
    if block.end == 0:
        return "its rewritten block was not found in the branch's file"
    if block.tests == 0:
        return "no test executes this block"
    n, k = block.tests, len(block.failed)
    if k == 0:
        return f"executed by {n} test{'s' if n != 1 else ''} ({'all passed' if n != 1 else 'passed'})"
    return f"executed by {n} test{'s' if n != 1 else ''} ({k} failed)"


def summary(run: CoverageRun) -> str:
    """"5 of 7 rewritten blocks executed by a test (103 tests ran)", or the error."""
    if run.error:
        return f"no coverage: {run.error}"
    n = len(run.blocks)
    hit = sum(1 for b in run.blocks if executed(b))
    return f"{hit} of {n} rewritten block{'s' if n != 1 else ''} executed by a test ({run.tests} tests ran)"


def block_lines(run: CoverageRun) -> tuple[str, ...]:
    """One line per rewritten block: "line 41 get_user() (lines 50-55): executed by 3 tests (all passed)"."""
    out = []
    for b in run.blocks:
        where = f"lines {b.start}-{b.end}" if b.end else "not found"
        out.append(f"line {b.line} {b.function}() ({where}): {describe_block(b)}")
    return tuple(out)


def meter_for(ws: Any, targets: list[Any]) -> Meter:
    """What `--coverage` measures on each per-file branch: the file at the tip's parent (the base the
    commit was made on) and the occurrences the commit applied, at their lines there. `ws` is the
    review's workspace, `targets` the verify targets (`checks.verify.Target`)."""
    from migrator_tui.scan.files import Unreadable, decode_source

    state = ws.state
    branches = {}
    for t in targets:
        record = state.files.get(t.key) if t.is_file else None
        if record is None or record.commit is None:
            continue
        commit = ws.flow.store.commit(t.sha)
        parent = commit.parents[0] if commit.parents else state.base
        blob = ws.flow.file_blob(parent, t.key)
        try:
            base_text = decode_source(ws.flow.store.blob(blob)) if blob else ""
        except Unreadable:
            base_text = ""
        anchors = []
        for occ_id in record.commit.occurrences:
            d = state.decisions.get(occ_id)
            if d is not None:
                anchors.append(Anchor(occ_id, d.line, d.function))
        branches[t.key] = Branch(t.key, base_text, tuple(sorted(anchors, key=lambda a: (a.line, a.id))))
    return Meter(state.path.parent / "coverage", branches)


def shown_coverage(verification: Verification, *, outdated: bool) -> tuple[str, tuple[str, ...], int]:
    """What a front end shows of a run's coverage: the summary, a line per block, and how many
    blocks no test executes. A run on a commit the branch no longer holds (`outdated`) shows only
    where it was measured: its blocks may not be the branch's any more."""
    run = verification.coverage
    if run is None:
        return "", (), 0
    if outdated:
        return (f"measured at {verification.sha[:12]}; the branch moved since, so not shown "
                "(verify again)"), (), 0
    unexecuted = 0 if run.error else sum(1 for b in run.blocks if b.tests == 0)
    return summary(run), tuple(block_lines(run)), unexecuted
