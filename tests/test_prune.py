"""libcst parses only the part of a module a build reads (`rewrite.prune`): every build from that
part is the build from the whole module, byte for byte."""

from __future__ import annotations

import ast
import tempfile
from pathlib import Path

import libcst as cst
import pytest
from hypothesis import given
from hypothesis import strategies as st
from rewrite_cases import CASES, case_options

from migrator_tui.demo.build import demo_files
from migrator_tui.errors import MigratorError
from migrator_tui.recipe import load_recipe
from migrator_tui.rewrite import FileAnalysis
from migrator_tui.rewrite.build import Parsed
from migrator_tui.rewrite.proposal import Choice
from migrator_tui.rewrite.prune import first_indent, prune
from migrator_tui.scan import scan
from migrator_tui.sourcefile import outermost

CASE_DIRS = sorted(p for p in CASES.iterdir() if (p / "before.py").exists())
DEMO_FILES = {name: data.decode("utf-8") for name, data in demo_files() if name.endswith(".py")}
CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"


def _analyses(text: str, recipe_name: str | None = None) -> tuple[FileAnalysis, FileAnalysis] | None:
    """Two analyses of one module: one builds from the pruned parse, one from the whole."""
    recipe = load_recipe(recipe_name)
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "mod.py").write_text(text, newline="")
        occs = scan(Path(tmp), recipe).occurrences
    if not occs:
        return None
    pruned, whole = (FileAnalysis(text, occs, recipe) for _ in range(2))
    whole._parsed = Parsed(text, whole.tree)
    return pruned, whole


def _build(fa: FileAnalysis, strategy: str) -> str:
    choices = {i: Choice(strategy) for i in fa.occurrences if not fa.summary(i, strategy).is_manual}
    try:
        return fa.apply(choices) if choices else "(nothing to build)"
    except MigratorError as exc:
        return f"refused: {exc.message}"


def _same_builds(text: str, recipe_name: str | None = None) -> int:
    """Every strategy's build of every occurrence, pruned and whole; returns how many compared."""
    pair = _analyses(text, recipe_name)
    if pair is None:
        return 0
    pruned, whole = pair
    compared = 0
    for strategy in pruned.recipe.strategies:
        assert _build(pruned, strategy) == _build(whole, strategy), strategy
        compared += 1
    return compared


@pytest.mark.parametrize("case", CASE_DIRS, ids=lambda p: p.name)
def test_every_strategy_builds_the_same_from_the_pruned_parse(case: Path) -> None:
    _, recipe = case_options(case)
    text = (case / "before.py").read_bytes().decode("utf-8")
    compared = _same_builds(text, recipe)
    assert compared > 0 or not any((case / f).exists() for f in ("warnings.txt", "manual.txt"))


def test_the_demo_builds_the_same_from_the_pruned_parse() -> None:
    assert sum(_same_builds(text) for text in DEMO_FILES.values() if "get_session" in text) > 0


def _corpus_sources(limit: int) -> list[str]:
    import warnings

    out = []
    for path in sorted(CORPUS.rglob("*.py")):
        try:
            text = path.read_bytes().decode("utf-8")
            with warnings.catch_warnings():  # (old code's escapes: not this test's concern)
                warnings.simplefilter("ignore")
                ast.parse(text)
        except (OSError, UnicodeDecodeError, SyntaxError, ValueError, RecursionError):
            continue
        out.append(text)
        if len(out) >= limit:
            break
    return out


def test_the_first_indentation_is_the_one_libcst_detects() -> None:
    texts = [(c / "before.py").read_text() for c in CASE_DIRS] + list(DEMO_FILES.values())
    texts += _corpus_sources(150) if CORPUS.is_dir() else []
    texts += ["x = 1\n", "", "if x: y = 1\n", "class A: pass\n\n\ndef f():\n  return 1\n",
              "def f(\n        a,\n):\n\treturn a\n", "@d(\n    1)\ndef f():\n   pass\n",
              "def f(a,\n      b): return a\n\n\nclass A:\n  x = 1\n",
              "if x:\n  @d\n  def f(): pass\n", "if (a or\n    b): y = 1\nwhile x:\n\tx -= 1\n"]
    for text in texts:
        assert first_indent(text, ast.parse(text)) == cst.parse_module(text).default_indent


SERVICE = '''\
"""Reports."""
import logging
from models import Report; LOG = logging.getLogger(__name__)


def unrelated():
{i}return 1


@decorated(
    "multi-line decorator")
def also_unrelated():
{i}text = """a string
{i}holding a def f(): and a class
"""
{i}return text


class Reports:
{i}def __init__(self, db_manager):
{i}{i}self.db_manager = db_manager

{i}def other(self):
{i}{i}return 2

{i}def weekly(self):
{i}{i}session = self.db_manager.get_session()
{i}{i}try:
{i}{i}{i}session.add(Report(name="weekly"))
{i}{i}{i}session.commit()
{i}{i}finally:
{i}{i}{i}session.close()
'''


@pytest.mark.parametrize("indent", ["  ", "    ", "\t"], ids=["two", "four", "tab"])
@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_a_pruned_service_module_builds_as_the_whole_does(indent: str, newline: str) -> None:
    """Scaffolding (a manager property, a session helper) is indented as the module's first block
    is, wherever that block is; `a; b` lines, decorators and strings of dropped functions."""
    text = SERVICE.format(i=indent).replace("\n", newline)
    tree = ast.parse(text)
    part = prune(text, tree, [tree.body[-1].body[-1].lineno + 1])
    assert part is not None, "the two unrelated functions and `other` are dropped"
    pruned_text, _, first = part
    assert "unrelated" not in pruned_text and "def other" not in pruned_text
    assert "LOG = logging" in pruned_text and "__init__" in pruned_text
    assert first == indent
    assert len(pruned_text.splitlines()) == len(text.splitlines())
    assert _same_builds(text) == len(load_recipe(None).strategies)


def test_an_occurrence_outside_any_function_parses_the_whole_module() -> None:
    at_module = ("session = db_manager.get_session()\ntry:\n    session.query(X)\n"
                 "finally:\n    session.close()\n")
    tree = ast.parse(at_module)
    assert prune(at_module, tree, [1]) is None
    in_function = "X = 1\n\n\ndef f():\n    pass\n\n\n" + "def g():\n" + "".join(
        "    " + line + "\n" for line in at_module.splitlines())
    tree = ast.parse(in_function)
    assert prune(in_function, tree, [9]) is not None
    assert _same_builds(at_module) > 0 and _same_builds(in_function) > 0


def test_a_one_line_class_or_nothing_to_drop_parses_the_whole_module() -> None:
    one_line = "class A: x = 1; y = 2\n\n\ndef f():\n    pass\n"
    assert prune(one_line, ast.parse(one_line), [1]) is None
    only = "def f():\n    session = db.get_session()\n    session.close()\n"
    assert prune(only, ast.parse(only), [2]) is None
    # (the head's first statement that is not an import stays: where new imports go depends on it)
    twin = "import db\n\n\ndef first():\n    pass\n\n\ndef g():\n    pass\n\n\n" + only
    assert prune(twin, ast.parse(twin), [13]) is not None


@given(st.lists(st.tuples(st.integers(1, 30), st.integers(0, 8)), max_size=12))
def test_outermost_spans_are_those_no_other_span_contains(raw: list[tuple[int, int]]) -> None:
    """The sort-and-sweep `outermost` (builds and dry runs of files with thousands of regions)
    against its definition."""
    spans = [(s, s + n) for s, n in raw]
    expected = {a for a in spans if not any(b != a and b[0] <= a[0] and a[1] <= b[1] for b in spans)}
    assert outermost(spans) == expected
