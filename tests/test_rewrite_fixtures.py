"""Every rewrite fixture: exact output, exact warnings, compiles, idempotent, untouched lines kept."""

from __future__ import annotations

import difflib
import itertools
import tempfile
from pathlib import Path

import pytest
from rewrite_cases import CASES, case_options, run_bytes, run_case

from migrator_tui.recipe import load_recipe
from migrator_tui.rewrite import FileAnalysis
from migrator_tui.rewrite.proposal import Choice
from migrator_tui.scan import scan
from migrator_tui.sourcefile import decode

CASE_DIRS = sorted(p for p in CASES.iterdir() if (p / "before.py").exists())


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


@pytest.mark.parametrize("case", CASE_DIRS, ids=lambda p: p.name)
def test_fixture(case: Path) -> None:
    out = run_case(case)
    expected = (case / "after.py").read_bytes()
    assert out.after == expected, f"{case.name}: output differs from after.py"
    assert out.warnings == _lines(case / "warnings.txt")
    manual = _lines(case / "manual.txt")
    assert len(out.manual) == len(manual)
    for got, want in zip(out.manual, manual, strict=True):
        assert want in got
    text, _ = decode(out.after)
    compile(text, "after.py", "exec")


@pytest.mark.parametrize("case", CASE_DIRS, ids=lambda p: p.name)
def test_rewriting_the_output_changes_nothing(case: Path) -> None:
    """A second pass changes nothing, except where two sessions' blocks could not nest: one pass
    rewrites the first (the other is manual, `regions-cross`), and the other may be rewritable
    once the first is a `with`; the pass after that changes nothing."""
    after = (case / "after.py").read_bytes()
    strategy, recipe = case_options(case)
    again = run_bytes(after, strategy=strategy, recipe_name=recipe)
    tangled = [m for m in _lines(case / "manual.txt") if "cannot nest" in m]
    if tangled and again.warnings:
        assert len(again.warnings) <= len(tangled)
        after = again.after
        again = run_bytes(after, strategy=strategy, recipe_name=recipe)
    assert again.after == after
    assert again.warnings == [], "after.py still holds rewritable occurrences"


@pytest.mark.parametrize("case", CASE_DIRS, ids=lambda p: p.name)
def test_lines_outside_regions_are_untouched(case: Path) -> None:
    out = run_case(case)
    before = (case / "before.py").read_bytes().decode("utf-8").splitlines(keepends=True)
    after = out.after.decode("utf-8").splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for tag, i1, i2, _j1, _j2 in matcher.get_opcodes():
        if tag in ("replace", "delete"):
            for line in range(i1 + 1, i2 + 1):
                in_region = any(s <= line <= e for s, e in out.regions)
                is_import = before[line - 1].lstrip().startswith(("from ", "import "))
                in_scaffold_class = before[line - 1].lstrip().startswith("def ") and tag == "replace"
                assert in_region or is_import or in_scaffold_class, (
                    f"{case.name}: line {line} changed outside every rewritten region")


def _occurrences(text: str, name: str = "mod.py"):
    recipe = load_recipe()
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / name).write_text(text)
        return recipe, scan(Path(tmp), recipe).occurrences


@pytest.mark.parametrize("case", [c for c in CASE_DIRS if c.name in {
    "several_blocks_one_function", "none_guard", "service_method", "service_helper",
    "try_except_rollback", "orm_escape"}], ids=lambda p: p.name)
def test_any_subset_composes(case: Path) -> None:
    text = (case / "before.py").read_text()
    recipe, occs = _occurrences(text)
    fa = FileAnalysis(text, occs, recipe)
    strategy_file = case / "strategy.txt"
    forced = strategy_file.read_text().strip() if strategy_file.exists() else None
    ids = [o.id for o in occs if not fa.plans[o.id].is_manual]
    assert len(ids) >= 2
    for size in range(1, len(ids) + 1):
        for subset in itertools.combinations(ids, size):
            choices = {i: Choice(fa.summary(i, forced).strategy or "") for i in subset}
            reversed_choices = dict(reversed(list(choices.items())))
            new = fa.apply(choices)
            assert new == fa.apply(reversed_choices)
            compile(new, "mod.py", "exec")
            for i in subset:
                region = fa.propose(i, forced).after
                assert region in new, f"{i}'s proposal is not in the composed text"
            for i in set(ids) - set(subset):
                region = fa.propose(i, forced).before
                assert region in new, f"{i} was rewritten although not chosen"


def test_fixture_folder_is_complete() -> None:
    assert len(CASE_DIRS) >= 30
    for case in CASE_DIRS:
        assert (case / "after.py").exists()
        assert (case / "warnings.txt").exists() or (case / "manual.txt").exists() \
            or (case / "after.py").read_bytes() == (case / "before.py").read_bytes()


