"""What the review shows after a rescan is the new scan's analysis, never one kept from before;
and a review opened on a repository whose scan is kept starts from the kept summaries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gitfixtures import CALLER, REPORTS, make_repo

from migrator_tui.cli import main
from migrator_tui.recipe import load_recipe
from migrator_tui.tui.controller import ReviewController

RECIPE = load_recipe()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", {"reports.py": REPORTS, "app.py": "from flask import Flask\n"})


def _opened(root: Path) -> ReviewController:
    ctl = ReviewController(root, RECIPE)
    ctl.open()
    ctl.scan()
    return ctl


def _codes(ctl: ReviewController) -> set[str]:
    (occ,) = ctl.occurrences
    return {w.code for w in ctl.summary(occ).warnings}


def test_a_rescan_shows_a_verdict_changed_by_another_file(repo: Path) -> None:
    ctl = _opened(repo)
    try:
        (occ,) = ctl.occurrences
        assert "exception-wrapped" not in _codes(ctl)
        ctl.proposal(occ)  # (a full proposal too: neither may outlive the scan)
        (repo / "jobs.py").write_text(CALLER)
        ctl.scan()
        assert "exception-wrapped" in _codes(ctl)
        assert "exception-wrapped" in {w.code for w in ctl.proposal(ctl.occurrences[0]).warnings}
    finally:
        ctl.close()


def test_a_review_starts_from_the_kept_summaries_of_the_same_repository(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", str(repo), "--json"]) == 0
    capsys.readouterr()
    kept = next((repo / ".git" / "migrator" / "cache").glob("summaries-*.json"))
    data = json.loads(kept.read_bytes())
    for item in data["summaries"].values():  # well-formed, and only a review that reads it shows it
        item["warnings"] = [{"code": "kept-marker", "line": 1, "message": "m", "hint": ""}]
    kept.write_text(json.dumps(data))
    ctl = _opened(repo)
    try:
        (occ,) = ctl.occurrences
        assert ctl.confidence(occ) is not None, "known before any analysis"
        assert _codes(ctl) == {"kept-marker"}
    finally:
        ctl.close()
    (repo / "jobs.py").write_text(CALLER)  # the repository changed since: nothing kept serves
    ctl = _opened(repo)
    try:
        assert "kept-marker" not in _codes(ctl)
        assert "exception-wrapped" in _codes(ctl)
    finally:
        ctl.close()


def test_a_review_primes_the_callers_from_the_reads_the_last_scan_kept(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from migrator_tui.rewrite.repo_index import forget_index

    (repo / "jobs.py").write_text(CALLER)
    assert main(["scan", str(repo), "--json"]) == 0
    capsys.readouterr()
    kept = next((repo / ".git" / "migrator" / "cache").glob("summaries-*.json"))
    data = json.loads(kept.read_bytes())
    text = json.dumps(data["calls"]["jobs.py"])
    assert "ValueError" in text
    data["calls"]["jobs.py"] = json.loads(text.replace("ValueError", "PlantedError"))
    kept.write_text(json.dumps(data))  # (well-formed: only a review that uses the read shows it)
    forget_index(repo)
    ctl = _opened(repo)
    try:
        (occ,) = ctl.occurrences
        assert any("PlantedError" in w.message for w in ctl.proposal(occ).warnings)
    finally:
        ctl.close()
    (repo / "jobs.py").write_text(CALLER.replace("ValueError", "KeyError"))  # the read is stale now
    forget_index(repo)
    ctl = _opened(repo)
    try:
        (occ,) = ctl.occurrences
        messages = " ".join(w.message for w in ctl.proposal(occ).warnings)
        assert "KeyError" in messages and "PlantedError" not in messages, messages
    finally:
        ctl.close()
