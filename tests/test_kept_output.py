"""A scan's printed output kept for its key (`review.kept_output`): printed again as it is when
nothing changed, never when anything did, and never when the kept file is not one a scan wrote."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from gitfixtures import CALLER, REPORTS, make_repo

from migrator_tui.cli import main
from migrator_tui.review import kept_output

Capsys = pytest.CaptureFixture[str]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", {"reports.py": REPORTS, "app.py": "from flask import Flask\n"})


def scan(root: Path | str, capsys: Capsys, *extra: str) -> str:
    capsys.readouterr()
    assert main(["scan", str(root), *extra]) == 0
    return capsys.readouterr().out


def outputs(root: Path) -> list[Path]:
    return sorted((root / ".git" / "migrator" / "cache").glob("output-*.txt"))


def _replace_body(path: Path, body: bytes) -> None:
    head = path.read_bytes().partition(b"\n")[0]
    path.write_bytes(head + b"\n" + body)


def test_an_unchanged_repository_prints_the_kept_output(repo: Path, capsys: Capsys) -> None:
    first = scan(repo, capsys, "--json")
    (kept,) = outputs(repo)
    assert kept.read_bytes().partition(b"\n")[2].decode() == first
    _replace_body(kept, b'{"marker": true}\n')
    assert scan(repo, capsys, "--json") == '{"marker": true}\n', "the kept output is what is printed"
    assert scan(repo, capsys, "--json", "--no-cache") == first, "--no-cache neither reads it"


@pytest.mark.parametrize("options", [["--json"], [], ["--format", "concise"], ["--json", "--no-proposals"],
                                     ["--json", "--clusters"], ["--clusters"]])
def test_each_form_keeps_its_own_output_which_is_the_computed_one(repo: Path, capsys: Capsys,
                                                                  options: list[str]) -> None:
    scan(repo, capsys, "--format", "concise")  # another form's output is kept beside
    computed = scan(repo, capsys, *options, "--no-cache")
    assert scan(repo, capsys, *options) == computed
    assert scan(repo, capsys, *options) == computed, "and printed again from the kept output"
    assert len(outputs(repo)) == (1 if options == ["--format", "concise"] else 2)


def test_a_change_is_never_hidden_by_the_kept_output(repo: Path, capsys: Capsys) -> None:
    scan(repo, capsys, "--json")
    (kept,) = outputs(repo)
    _replace_body(kept, b'{"marker": true}\n')
    (repo / "jobs.py").write_text(CALLER)  # an untracked caller changes the verdict
    found = json.loads(scan(repo, capsys, "--json"))
    (occ,) = [o for p in found["phases"] for f in p["files"] for o in f["occurrences"]]
    assert "exception-wrapped" in {w["code"] for w in occ["warnings"]}


def test_the_path_as_given_is_part_of_the_output(repo: Path, capsys: Capsys,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    here = json.loads(scan(".", capsys, "--json"))
    there = json.loads(scan(repo, capsys, "--json"))
    assert (here["root"], there["root"]) == (".", str(repo))
    assert json.loads(scan(".", capsys, "--json"))["root"] == "."


@pytest.mark.parametrize("body", [b"\x1b[2J\x1b[Hplanted\n", "caf\u00e9 \u009b31m\n".encode(), b"\xff\xfe\n"],
                         ids=["escape", "c1-control", "not-utf8"])
def test_a_kept_output_a_scan_cannot_have_printed_is_ignored(repo: Path, capsys: Capsys, body: bytes) -> None:
    first = scan(repo, capsys)
    (kept,) = outputs(repo)
    _replace_body(kept, body)
    assert scan(repo, capsys) == first
    assert kept.read_bytes().partition(b"\n")[2].decode() == first, "and replaced by the real one"


def test_a_kept_output_for_another_key_or_behind_a_link_is_ignored(repo: Path, capsys: Capsys,
                                                                  tmp_path: Path) -> None:
    first = scan(repo, capsys)
    (kept,) = outputs(repo)
    kept.write_bytes(b"0" * 64 + b"\nplanted\n")
    assert scan(repo, capsys) == first
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_bytes(kept.read_bytes().partition(b"\n")[0] + b"\nplanted\n")
    kept.unlink()
    os.symlink(elsewhere, kept)
    assert scan(repo, capsys) == first


def test_an_output_computed_while_the_repository_changed_is_not_kept(
        repo: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = iter(["before", "after"])
    monkeypatch.setattr(kept_output, "repository_key", lambda root, static: next(calls))
    scan(repo, capsys, "--json")
    assert not outputs(repo)


def test_outside_git_nothing_is_kept(tmp_path: Path, capsys: Capsys) -> None:
    root = tmp_path / "plain"
    root.mkdir()
    (root / "reports.py").write_text(REPORTS)
    assert scan(root, capsys, "--json") == scan(root, capsys, "--json")
    assert not list(tmp_path.rglob("output-*"))
