"""The engine on code it was not written for: the Python standard library.

Every `lock` proposal over the standard library (threading, logging, http.cookiejar, tempfile,
...) must build, compile, and compose per file; the ones the engine calls `safe` must be plain
`acquire()` / `try` / `finally: release()` on an object made by `threading.Lock()` and the like.
"""

from __future__ import annotations

import shutil
import sysconfig
from pathlib import Path

import pytest

from migrator_tui.recipe import load_recipe
from migrator_tui.rewrite import FileAnalysis
from migrator_tui.rewrite.proposal import Choice
from migrator_tui.scan import scan
from migrator_tui.sourcefile import decode


@pytest.fixture(scope="module")
def stdlib(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("stdlib") / "Lib"
    source = Path(sysconfig.get_paths()["stdlib"])
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("site-packages", "__pycache__", "test",
                                                                   "tests", "idlelib", "*.pyc"))
    return target


def test_lock_recipe_over_the_standard_library(stdlib: Path) -> None:
    recipe = load_recipe("lock")
    result = scan(stdlib, recipe)
    assert result.total >= 30
    seen = {"safe": 0, "review": 0, "manual": 0}
    for path, occs in result.by_path().items():
        text, _ = decode((stdlib / path).read_bytes())
        analysis = FileAnalysis(text, occs, recipe, repo_root=stdlib)
        choices = {}
        for occ in occs:
            p = analysis.propose(occ.id)
            seen[p.confidence] += 1
            assert not (p.manual_reason or "").startswith("the rewrite could not be built"), p.manual_reason
            if not p.is_manual:
                assert p.new_source is not None
                compile(p.new_source, path, "exec")
                choices[occ.id] = Choice(p.strategy or "")
            if p.confidence == "safe":
                assert f"with {analysis.plans[occ.id].resource}:" in p.after
        if choices:
            compile(analysis.apply(choices), path, "exec")
    assert seen["safe"] >= 5 and seen["manual"] >= 10
