"""The scan kept in .git/migrator/cache: used only when nothing it depends on changed (real
repositories in tmp_path, the CLI in process)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest
from gitfixtures import CALLER, CATCHING_DECORATORS, DECORATED_SERVICE, DECORATORS, REPORTS, make_repo

from migrator_tui.cli import main

Capsys = pytest.CaptureFixture[str]


def scan_json(root: Path, capsys: Capsys, *extra: str) -> dict[str, object]:
    capsys.readouterr()
    assert main(["scan", str(root), "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def every_code(found: dict[str, object]) -> set[str]:
    return {c for cs in codes(found).values() for c in cs}


def codes(found: dict[str, object]) -> dict[str, list[str]]:
    out = {}
    for phase in found["phases"]:  # type: ignore[attr-defined]
        for file in phase["files"]:
            for occ in file["occurrences"]:
                out[occ["id"]] = sorted(w["code"] for w in occ["warnings"])
    return out


def cache_files(root: Path) -> list[Path]:
    return sorted((root / ".git" / "migrator" / "cache").glob("summaries-*.json"))


def forget_output(root: Path) -> None:
    """Remove the kept printed outputs (`review.kept_output`): the next scan goes through the
    kept summaries these tests are about."""
    for path in (root / ".git" / "migrator" / "cache").glob("output-*.txt"):
        path.unlink()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", {"reports.py": REPORTS, "app.py": "from flask import Flask\n"})


def test_a_second_scan_of_an_unchanged_repository_gives_the_same_result_from_the_cache(
        repo: Path, capsys: Capsys) -> None:
    first = scan_json(repo, capsys)
    (kept,) = cache_files(repo)
    assert json.loads(kept.read_bytes())["summaries"], "the summaries are kept"
    assert scan_json(repo, capsys) == first
    assert scan_json(repo, capsys, "--no-cache") == first


def _tamper(root: Path) -> None:
    """Change the kept summaries in a well-formed way: only a run that reads them shows it."""
    forget_output(root)
    (kept,) = cache_files(root)
    data = json.loads(kept.read_bytes())
    for item in data["summaries"].values():
        item["warnings"] = [{"code": "kept-marker", "line": 1, "message": "m", "hint": ""}]
    kept.write_text(json.dumps(data))


def test_the_cache_is_read_and_no_cache_does_not_read_it(repo: Path, capsys: Capsys) -> None:
    scan_json(repo, capsys)
    _tamper(repo)
    assert every_code(scan_json(repo, capsys)) == {"kept-marker"}
    assert "kept-marker" not in every_code(scan_json(repo, capsys, "--no-cache"))


@pytest.mark.parametrize("change", ["edit a tracked file", "add an untracked file", "stage a file",
                                    "commit"])
def test_a_change_anywhere_in_the_repository_is_scanned_again(repo: Path, capsys: Capsys,
                                                               change: str) -> None:
    """The caller in another file decides the verdict: a kept result must not hide it; a change
    that answers none of the file's questions differently leaves its kept summaries in use."""
    scan_json(repo, capsys)
    _tamper(repo)
    caller = repo / "jobs.py"
    if change == "edit a tracked file":
        (repo / "app.py").write_text("from flask import Flask\n\nAPP = 1\n")
    else:
        caller.write_text(CALLER)
        if change in ("stage a file", "commit"):
            subprocess.run(["git", "add", "jobs.py"], cwd=repo, check=True)
        if change == "commit":
            subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "jobs"],
                           cwd=repo, check=True)
    found = codes(scan_json(repo, capsys))
    if change == "edit a tracked file":  # nothing reports.py's analysis asked about changed
        assert found == {"reports.py::save::0": ["kept-marker"]}, "its kept summaries serve"
    else:  # a new caller: the answer to "who calls save()" changed, so it is analysed again
        assert found == {"reports.py::save::0": ["exception-wrapped", "needs-app-context"]}


def test_a_malformed_cache_is_ignored_and_replaced(repo: Path, capsys: Capsys) -> None:
    first = scan_json(repo, capsys)
    (kept,) = cache_files(repo)
    data = json.loads(kept.read_bytes())
    bad = [b"not json", b"[]", json.dumps({**data, "summaries": {"x": 1}}).encode(),
           json.dumps({**data, "scan": {**data["scan"], "occurrences": [[1, 2]]}}).encode(),
           json.dumps({**data, "summaries": {k: {**v, "confidence": "certain"}
                                             for k, v in data["summaries"].items()}}).encode(),
           json.dumps({**data, "summaries": {k: {**v, "start_line": -3}
                                             for k, v in data["summaries"].items()}}).encode()]
    for content in bad:
        kept.write_bytes(content)
        forget_output(repo)
        assert scan_json(repo, capsys) == first, content[:40]
        assert json.loads(kept.read_bytes())["key"] == data["key"], "replaced by a good one"


def test_a_read_only_git_folder_keeps_nothing_and_loses_nothing(repo: Path, capsys: Capsys) -> None:
    import shutil
    import sys

    prefix: list[str] = []
    if os.geteuid() == 0:  # root writes anyway: drop the capabilities that let it
        if shutil.which("setpriv") is None:
            pytest.skip("needs setpriv to drop root's file capabilities")
        prefix = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner"]
    expected = scan_json(repo, capsys, "--no-cache")
    git_dir = repo / ".git"
    modes = {p: p.stat().st_mode for p in [git_dir, *git_dir.rglob("*")] if p.is_dir()}
    for p in modes:
        p.chmod(stat.S_IMODE(modes[p]) & ~0o222)
    try:
        proc = subprocess.run([*prefix, sys.executable, "-m", "migrator_tui", "scan", str(repo), "--json"],
                              capture_output=True, text=True, check=False)
    finally:
        for p, mode in modes.items():
            p.chmod(stat.S_IMODE(mode))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == expected
    assert not cache_files(repo)
    assert not list(repo.glob(".git/migrator/cache/output-*")), "no kept output either"


def test_outside_git_nothing_is_kept(tmp_path: Path, capsys: Capsys) -> None:
    root = tmp_path / "plain"
    root.mkdir()
    (root / "reports.py").write_text(REPORTS)
    assert codes(scan_json(root, capsys))
    assert not list(tmp_path.rglob("summaries-*.json"))
    assert not list(tmp_path.rglob("output-*.txt"))


def test_another_build_of_the_tool_does_not_read_the_kept_result(repo: Path, capsys: Capsys,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from migrator_tui.review import cachekey

    scan_json(repo, capsys)
    _tamper(repo)
    monkeypatch.setattr(cachekey, "_CODE_DIGEST", "another build")
    assert "kept-marker" not in every_code(scan_json(repo, capsys))


def test_only_the_files_a_change_can_affect_are_analysed_again(tmp_path: Path, capsys: Capsys) -> None:
    """Two files with occurrences; an edit of one, then of the decorator the other uses."""
    root = make_repo(tmp_path / "repo", {"reports.py": REPORTS, "services.py": DECORATED_SERVICE,
                                         "decorators.py": DECORATORS, "app.py": "from flask import Flask\n"})
    cold = codes(scan_json(root, capsys))
    assert cold["services.py::Reports.weekly::0"] == [], cold
    _tamper(root)
    (root / "reports.py").write_text(REPORTS.replace("name=name", "name=name.strip()"))
    found = codes(scan_json(root, capsys))
    assert found["services.py::Reports.weekly::0"] == ["kept-marker"], "unchanged file, same answers"
    assert "kept-marker" not in found["reports.py::save::0"], "its own text changed"
    assert found == {**cold, "services.py::Reports.weekly::0": ["kept-marker"]}
    # the decorator now catches what the session's errors were: services.py asked about it
    _tamper(root)
    (root / "decorators.py").write_text(CATCHING_DECORATORS)
    found = codes(scan_json(root, capsys))
    assert "exception-wrapped" in found["services.py::Reports.weekly::0"], found
    assert found["reports.py::save::0"] == ["kept-marker"], "reports.py asked nothing of decorators.py"
    assert codes(scan_json(root, capsys, "--no-cache")) == {
        **found, "reports.py::save::0": cold["reports.py::save::0"]}


def test_a_file_whose_bytes_are_the_same_is_not_parsed_again(tmp_path: Path, capsys: Capsys) -> None:
    root = make_repo(tmp_path / "repo", {"reports.py": REPORTS, "services.py": DECORATED_SERVICE,
                                         "decorators.py": DECORATORS, "app.py": "from flask import Flask\n"})
    cold = scan_json(root, capsys)
    (kept,) = cache_files(root)
    data = json.loads(kept.read_bytes())
    # a well-formed change to what the scan found in services.py: shown only if it is reused
    data["outcomes"]["services.py"][1][1][0][6] = "Reports.renamed"
    kept.write_text(json.dumps(data))
    (root / "reports.py").write_text(REPORTS.replace("name=name", "name=name.strip()"))
    functions = {o["function"] for ph in scan_json(root, capsys)["phases"] for f in ph["files"]
                 for o in f["occurrences"]}
    assert functions == {"save", "Reports.renamed"}, functions
    assert scan_json(root, capsys, "--no-cache")["total"] == cold["total"]
    (kept,) = cache_files(root)
    data = json.loads(kept.read_bytes())
    data["outcomes"]["services.py"][1] = ["services.py", [[1, 2]], [], None, None]  # malformed
    kept.write_text(json.dumps(data))
    (root / "reports.py").write_text(REPORTS)
    assert codes(scan_json(root, capsys)) == codes(cold), "a malformed cache is not used"


def test_an_occurrence_is_kept_field_by_field_in_its_own_order() -> None:
    from dataclasses import astuple, fields

    from migrator_tui.model import Occurrence
    from migrator_tui.review import cache

    assert tuple(f.name for f in fields(Occurrence)) == cache._NAMES
    occ = Occurrence("a.py::f::0", "a.py", 3, 4, 3, 20, "f", ("route",), "s", "db", ("try-finally",), 1,
                     1, 9, "C", True, ("g",), ("m",), "get_session")
    assert [getattr(occ, n) for n in cache._NAMES] == list(astuple(occ))


def test_a_stored_occurrence_is_checked_field_by_field_as_its_kinds_say() -> None:
    """`_occurrence_values` (written out) against `_CHECK` (by kind) on a good row and on every
    row with one field of a wrong type."""
    from migrator_tui.review import cache

    good: list[object] = ["a.py::f::0", "a.py", 3, 4, 3, 20, "f", ["route"], "s", "db", ["try-finally"], 1,
                          1, 9, "C", True, ["g"], ["m"], "get_session"]
    generic = tuple(cache._CHECK[kind](good[i]) for i, (_, kind) in enumerate(cache._FIELDS))
    assert cache._occurrence_values(good) == generic
    wrong = {"text": 5, "text?": 5, "line": -1, "line?": "1", "texts": ["x", 1], "flag": 1}
    for i, (_, kind) in enumerate(cache._FIELDS):
        row = list(good)
        row[i] = wrong[kind]
        with pytest.raises((TypeError, ValueError)):
            cache._CHECK[kind](row[i])
        with pytest.raises((TypeError, ValueError)):
            cache._occurrence_values(row)
        if kind.endswith("?"):
            row[i] = None
            assert cache._occurrence_values(row)[i] is None
