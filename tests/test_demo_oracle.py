"""The demo's own test suite as the oracle of the rewrite engine.

- Every `safe` proposal applied at once: the demo's tests stay green.
- Every `review` proposal applied alone: a test may fail only in the way one of the proposal's
  warnings said (a DetachedInstanceError needs `orm-escape`, a SessionDatabaseError or a changed
  error response needs `exception-wrapped`/`domain-raise-wrapped`, "working outside of
  application context" needs `needs-app-context`...). Proposals whose tests still pass are fine.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from migrator_tui.demo.build import build_demo
from migrator_tui.recipe import load_recipe
from migrator_tui.rewrite import FileAnalysis
from migrator_tui.rewrite.proposal import Choice
from migrator_tui.scan import scan

#: (pattern in the failure line, warning codes any one of which explains it)
EXPLANATIONS: list[tuple[str, set[str]]] = [
    ("DetachedInstanceError", {"orm-escape"}),
    ("SessionDatabaseError", {"exception-wrapped", "domain-raise-wrapped"}),
    ("Working outside of", {"needs-app-context", "request-scope-shared"}),
    (r"assert 50\d ==|== 50\d|DID NOT RAISE", {"exception-wrapped", "domain-raise-wrapped"}),
]


#: Warnings that never explain a failing test on their own.
BENIGN = {"implicit-commit", "unguarded-acquire", "long-io-in-block"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("oracle") / "demo"
    build_demo(root)
    recipe = load_recipe()
    result = scan(root, recipe)
    analyses = {}
    for path, occs in result.by_path().items():
        analyses[path] = FileAnalysis((root / path).read_text(), occs, recipe, repo_root=root)
    return root, analyses


def _run_demo_tests(root: Path) -> list[str]:
    env = {**os.environ, "COLUMNS": "400"}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rf", "--tb=line"],
        cwd=root, capture_output=True, text=True, env=env, timeout=600,
    )
    failed = [line for line in proc.stdout.splitlines() if line.startswith("FAILED")]
    if proc.returncode not in (0, 1) or (proc.returncode == 1 and not failed):
        raise AssertionError(f"the demo's tests did not run:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return failed


def _copy(root: Path, dest: Path) -> Path:
    shutil.copytree(root, dest, ignore=shutil.ignore_patterns(".git", "__pycache__", "*.db"))
    return dest


def test_every_safe_proposal_keeps_the_demo_green(demo, tmp_path: Path) -> None:
    root, analyses = demo
    work = _copy(root, tmp_path / "safe")
    applied = 0
    for path, fa in analyses.items():
        choices = {oid: Choice(fa.summary(oid).strategy or "") for oid in fa.plans
                   if fa.summary(oid).confidence == "safe"}
        if choices:
            (work / path).write_text(fa.apply(choices))
            applied += len(choices)
    assert applied >= 10
    assert _run_demo_tests(work) == []


def test_review_proposals_fail_only_as_their_warnings_say(demo, tmp_path: Path) -> None:
    root, analyses = demo
    jobs = []
    for path, fa in analyses.items():
        for oid in fa.plans:
            p = fa.summary(oid)
            if p.confidence == "review":
                jobs.append((oid, path, fa.apply({oid: Choice(p.strategy or "")}),
                             {w.code for w in p.warnings}))
    assert len(jobs) >= 20

    def run(job):  # type: ignore[no-untyped-def]
        oid, path, text, codes = job
        work = _copy(root, tmp_path / re.sub(r"\W+", "_", oid))
        (work / path).write_text(text)
        return oid, codes, _run_demo_tests(work)

    unexplained = []
    failing = 0
    with ThreadPoolExecutor(max_workers=2) as pool:
        for oid, codes, failures in pool.map(run, jobs):
            failing += bool(failures)
            for line in failures:
                needed = [want for pattern, want in EXPLANATIONS if re.search(pattern, line)]
                explained = any(codes & want for want in needed) if needed else bool(codes - BENIGN)
                if not explained:
                    unexplained.append(f"{oid} {sorted(codes)}: {line}")
    assert unexplained == []
    assert failing >= 5, "the demo's tests no longer notice any behaviour change"
