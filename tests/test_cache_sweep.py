"""`.git/migrator/cache/` is swept of what no scan will read again: kept files of another
naming, or untouched for 30 days; nothing else is touched."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from gitfixtures import REPORTS, make_repo

from migrator_tui.cli import main
from migrator_tui.review.cache_sweep import MAX_AGE_DAYS, sweep

Capsys = pytest.CaptureFixture[str]
OLD = time.time() - (MAX_AGE_DAYS + 1) * 86400


def aged(path: Path, when: float = OLD) -> Path:
    os.utime(path, (when, when))
    return path


def test_the_sweep_removes_only_the_cache_files_no_scan_reads(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    folder.mkdir()
    fresh = [folder / "output-0123456789abcdef.txt", folder / "summaries-fedcba9876543210.json"]
    for p in fresh:
        p.write_text("kept")
    old_naming = folder / "output-884a85d59525-313c9718dd4105ca.txt"
    old_naming.write_text("another version's")
    untouched = folder / "summaries-00000000000000aa.json"
    untouched.write_text("a folder that moved")
    aged(untouched)
    others = [folder / "notes.txt", folder / "output-0123456789abcdef.txt.bak",
              folder / ".x.123.abcdefgh.tmp"]
    for p in others:
        p.write_text("not the cache's")
        aged(p)
    outside = tmp_path / "outside.txt"
    outside.write_text("elsewhere")
    aged(outside)
    link = folder / "output-1111111111111111.txt"
    link.symlink_to(outside)
    (folder / "summaries-2222222222222222.json").mkdir()
    removed = sweep(folder)
    assert sorted(removed) == sorted([old_naming, untouched])
    assert all(p.exists() for p in [*fresh, *others, outside, folder / "summaries-2222222222222222.json"])
    assert link.is_symlink() and outside.read_text() == "elsewhere"


def test_a_missing_folder_is_nothing_to_sweep(tmp_path: Path) -> None:
    assert sweep(tmp_path / "nowhere") == []


def scan(root: Path, capsys: Capsys, *extra: str) -> str:
    capsys.readouterr()
    assert main(["scan", str(root), *extra]) == 0
    return capsys.readouterr().out


def test_a_scan_that_keeps_its_result_sweeps_and_a_read_keeps_a_file_in_use(tmp_path: Path,
                                                                          capsys: Capsys) -> None:
    root = make_repo(tmp_path / "repo", {"reports.py": REPORTS})
    cache = root / ".git" / "migrator" / "cache"
    cache.mkdir(parents=True)
    old_naming = cache / "output-884a85d59525-313c9718dd4105ca.txt"
    old_naming.write_text("another version's")
    moved = cache / "summaries-00000000000000aa.json"
    moved.write_text("{}")
    aged(moved)
    first = scan(root, capsys, "--json")
    assert not old_naming.exists() and not moved.exists()
    kept = sorted(cache.iterdir())
    assert [p.name.split("-")[0] for p in kept] == ["output", "summaries"]
    for p in kept:
        aged(p)
    assert scan(root, capsys, "--json") == first  # read: in use again
    scan(root, capsys, "--format", "concise")  # another form is kept, and the folder swept
    assert all(p.exists() for p in kept)
    assert len(list(cache.iterdir())) == 3
