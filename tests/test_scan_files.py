"""Which files a scan reads, and the ones it cannot read: skipped with a reason, the scan goes on."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from test_scan_helpers import git, make_repo

import migrator_tui.scan.files as scan_files
from migrator_tui.errors import MigratorError
from migrator_tui.recipe import load_recipe
from migrator_tui.scan import scan

GOOD = "def f():\n    s = db_manager.get_session()\n    s.close()\n"


def _skipped(result) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {s.path: s.reason for s in result.skipped}


def test_unreadable_files_are_skipped_and_the_scan_goes_on(tmp_path: Path) -> None:
    outside = tmp_path / "outside.py"
    outside.write_text(GOOD)
    repo = make_repo(tmp_path / "repo", {
        "good.py": GOOD,
        "broken.py": "def f(:\n    s = db_manager.get_session()\n",
        "latin_cookie.py": b"# -*- coding: latin-1 -*-\n" + "x = 'café'\n".encode("latin-1") + GOOD.encode(),
        "latin_plain.py": "x = 'café'\n".encode("latin-1") + GOOD.encode(),
        "big.py": GOOD + "#" * (scan_files.MAX_FILE_BYTES + 10) + "\n",
        "nulls.py": b"x = 1\0\n" + GOOD.encode(),
    }, commit=False)
    os.symlink(outside, repo / "link_out.py")
    os.symlink(repo / "missing_target.py", repo / "dangling.py")
    os.symlink("good.py", repo / "link_in.py")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "fixture")
    result = scan(repo, load_recipe())
    assert _skipped(result) == {
        "broken.py": "syntax error at line 1",
        "latin_plain.py": "not UTF-8 and no coding declaration",
        "big.py": "larger than 2 MB (2.0 MB)",
        "link_out.py": "symbolic link leading outside the repository",
        "dangling.py": "broken symbolic link",
        "nulls.py": _skipped(result)["nulls.py"],
    }
    assert _skipped(result)["nulls.py"].startswith("cannot be parsed")
    # the cookie is honoured; a link to a listed file is scanned under the file's own name
    assert sorted(o.path for o in result.occurrences) == ["good.py", "latin_cookie.py"]


def test_unknown_declared_encoding(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"x.py": b"# coding: klingon\n\xff" + GOOD.encode()})
    assert _skipped(scan(repo, load_recipe())) == {"x.py": "declares an unknown encoding: klingon"}


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read a file without read permission")
def test_permission_denied(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"secret.py": GOOD, "ok.py": GOOD})
    (repo / "secret.py").chmod(0)
    try:
        result = scan(repo, load_recipe())
    finally:
        (repo / "secret.py").chmod(0o644)
    assert _skipped(result) == {"secret.py": "cannot be read (Permission denied)"}
    assert [o.path for o in result.occurrences] == ["ok.py"]


def test_read_errors_become_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same path as a permission error, for machines where the tests run as root."""
    repo = make_repo(tmp_path / "repo", {"secret.py": GOOD, "ok.py": GOOD})
    real_open = open

    def fake_open(file, *args, **kwargs):  # type: ignore[no-untyped-def]
        if str(file).endswith("secret.py"):
            raise PermissionError(13, "Permission denied")
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(scan_files, "open", fake_open, raising=False)
    result = scan(repo, load_recipe())
    assert _skipped(result) == {"secret.py": "cannot be read (Permission denied)"}
    assert [o.path for o in result.occurrences] == ["ok.py"]


def test_git_lists_tracked_and_untracked_but_not_ignored(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {
        ".gitignore": "ignored/\ngenerated_*.py\n",
        "tracked.py": GOOD,
        "ignored/x.py": GOOD,
        "generated_models.py": GOOD,
        "notes.txt": GOOD,
    })
    (repo / "untracked.py").write_text(GOOD)
    (repo / "tracked_deleted.py").write_text(GOOD)
    git(repo, "add", "tracked_deleted.py")
    (repo / "tracked_deleted.py").unlink()
    result = scan(repo, load_recipe())
    assert sorted(result.by_path()) == ["tracked.py", "untracked.py"]
    assert result.skipped == []


def test_recipe_exclude_paths(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"app.py": GOOD, "build/lib/app.py": GOOD, "venv/lib/x.py": GOOD})
    result = scan(repo, load_recipe())
    assert sorted(result.by_path()) == ["app.py"]
    assert result.files_scanned == 1


def test_a_folder_outside_git_is_walked(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "plain", {
        "app.py": GOOD,
        "pkg/mod.py": GOOD,
        ".hidden/x.py": GOOD,
        "node_modules/x.py": GOOD,
        "myenv/pyvenv.cfg": "home = /usr\n",
        "myenv/lib/x.py": GOOD,
        "__pycache__/x.py": GOOD,
    }, init=False)
    result = scan(root, load_recipe())
    assert sorted(result.by_path()) == ["app.py", "pkg/mod.py"]
    assert result.base is None


def test_repository_without_commits(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"app.py": GOOD}, commit=False)
    result = scan(repo, load_recipe())
    assert result.base is None and result.total == 1


def test_missing_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(MigratorError, match="does not exist"):
        scan(tmp_path / "nope", load_recipe())
    (tmp_path / "file.py").write_text("x = 1\n")
    with pytest.raises(MigratorError, match="is not a directory"):
        scan(tmp_path / "file.py", load_recipe())


def test_only_candidates_are_parsed(tmp_path: Path) -> None:
    """A file whose bytes lack `get_session(` is never parsed, so its syntax error is not reported."""
    repo = make_repo(tmp_path / "repo", {"notes.py": "def f(:\n", "app.py": GOOD})
    result = scan(repo, load_recipe())
    assert result.skipped == [] and result.files_scanned == 2 and result.total == 1
