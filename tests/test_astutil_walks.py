"""The analysis's tree walks against their plain definitions, on every fixture, the demo and
(when present) the corpus: the cached walks must visit the same nodes in the same order."""

from __future__ import annotations

import ast
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from migrator_tui.rewrite.astutil import walk_all, walk_local

HERE = Path(__file__).parent
CORPUS = HERE.parent.parent / "shared" / "corpus"


def reference_walk_all(nodes: Iterable[ast.AST]) -> Iterator[ast.AST]:
    """Every node and descendant, nested scopes included, pre-order in source order."""
    stack = list(nodes)[::-1]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(list(ast.iter_child_nodes(node))))


def sources() -> list[Path]:
    found = sorted((HERE / "fixtures").rglob("*.py"))
    found += sorted((HERE.parent / "migrator_tui" / "demo" / "app").rglob("*.py"))
    if CORPUS.is_dir():
        found += sorted(CORPUS.rglob("*.py"))[:400]
    return found


def blocks(tree: ast.Module) -> Iterator[list[ast.AST]]:
    """The module, each function's and class's body, each statement and expression alone."""
    yield [tree]
    yield list(tree.body)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            yield list(node.body)
            yield [node]
        elif isinstance(node, ast.Lambda | ast.ExceptHandler | ast.comprehension | ast.arguments):
            yield [node]


def test_there_are_sources_to_compare() -> None:
    assert len(sources()) > 50


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p)[-60:])
def test_walk_all_is_the_plain_walk(path: Path) -> None:
    try:
        with warnings.catch_warnings():  # (a corpus file's invalid escapes)
            warnings.simplefilter("ignore")
            tree = ast.parse(path.read_bytes())
    except (SyntaxError, ValueError):
        pytest.skip("not parseable by this interpreter")
    for nodes in blocks(tree):
        walked = list(walk_all(nodes))
        expected = list(reference_walk_all(nodes))
        assert [id(n) for n in walked] == [id(n) for n in expected]


def test_a_local_walk_is_the_whole_walk_without_nested_scopes() -> None:
    tree = ast.parse(
        "def f(x=lambda: a):\n"
        "    y = [z for z in x]\n"
        "    def g():\n"
        "        return h\n"
        "    class C:\n"
        "        k = m\n"
        "    return (lambda q: q + w)(y)\n"
    )
    body = tree.body[0].body  # type: ignore[attr-defined]
    local = {n.id for n in walk_local(body) if isinstance(n, ast.Name)}
    every = {n.id for n in walk_all(body) if isinstance(n, ast.Name)}
    assert local == {"y", "z", "x"}
    assert every == local | {"h", "k", "m", "q", "w"}


def reference_locals(func: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> set[str]:
    """A function's local names by their definition: parameters, stored names, nested
    definitions and imports (not inside nested scopes), less those declared global or nonlocal."""
    a = func.args
    every = [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg]
    names = {arg.arg for arg in every if arg is not None}
    declared: set[str] = set()
    for node in walk_local(func.body if isinstance(func.body, list) else [func.body]):
        if isinstance(node, ast.Global | ast.Nonlocal):
            declared.update(node.names)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return names - declared


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p)[-60:])
def test_function_locals_are_the_plain_definition(path: Path) -> None:
    from migrator_tui.rewrite.astutil import function_locals

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(path.read_bytes())
    except (SyntaxError, ValueError):
        pytest.skip("not parseable by this interpreter")
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            assert function_locals(node) == reference_locals(node), node.lineno
