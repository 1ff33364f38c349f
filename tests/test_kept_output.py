"""A scan's printed output kept for its key (`review.kept_output`): printed again as it is when
nothing changed, never when anything did, and never when the kept file is not one a scan wrote."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from gitfixtures import CALLER, REPORTS, make_repo

import migrator_tui
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


def _parts(path: Path) -> list[bytes]:
    """A kept file's key, the modules its recipe imports, and the output."""
    return path.read_bytes().split(b"\n", 2)


def _replace_body(path: Path, body: bytes) -> None:
    head, modules, _ = _parts(path)
    path.write_bytes(head + b"\n" + modules + b"\n" + body)


def test_an_unchanged_repository_prints_the_kept_output(repo: Path, capsys: Capsys) -> None:
    first = scan(repo, capsys, "--json")
    (kept,) = outputs(repo)
    assert _parts(kept)[2].decode() == first
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
    assert _parts(kept)[2].decode() == first, "and replaced by the real one"


def test_a_kept_output_for_another_key_or_behind_a_link_is_ignored(repo: Path, capsys: Capsys,
                                                                  tmp_path: Path) -> None:
    first = scan(repo, capsys)
    (kept,) = outputs(repo)
    modules = _parts(kept)[1]
    kept.write_bytes(b"0" * 64 + b"\n" + modules + b"\nplanted\n")
    assert scan(repo, capsys) == first
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_bytes(b"\n".join(_parts(kept)[:2]) + b"\nplanted\n")
    kept.unlink()
    os.symlink(elsewhere, kept)
    assert scan(repo, capsys) == first


def test_an_output_computed_while_the_repository_changed_is_not_kept(
        repo: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = iter(["before", "after"])
    monkeypatch.setattr(kept_output, "repository_state", lambda root: next(calls))
    scan(repo, capsys, "--json")
    assert not outputs(repo)


def test_outside_git_nothing_is_kept(tmp_path: Path, capsys: Capsys) -> None:
    root = tmp_path / "plain"
    root.mkdir()
    (root / "reports.py").write_text(REPORTS)
    assert scan(root, capsys, "--json") == scan(root, capsys, "--json")
    assert not list(tmp_path.rglob("output-*"))


def probe_recipe(tmp_path: Path) -> Path:
    """The built-in recipe, with a strategy importing a module nothing has (yet)."""
    from migrator_tui.recipe.load import BUILTIN_DIR

    text = (BUILTIN_DIR / "db_session.toml").read_text()
    assert "from web_app import unified_session_manager" in text
    path = tmp_path / "probe.toml"
    path.write_text(text.replace("from web_app import", "from kept_probe_module import"))
    return path


def test_a_module_the_recipe_imports_becoming_importable_is_a_change(
        repo: Path, capsys: Capsys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    recipe = probe_recipe(tmp_path)
    scan(repo, capsys, "--json", "--recipe", str(recipe))
    (kept,) = outputs(repo)
    assert _parts(kept)[1].split() == [b"flask", b"kept_probe_module"], "the modules are kept beside"
    _replace_body(kept, b'{"marker": true}\n')
    assert scan(repo, capsys, "--json", "--recipe", str(recipe)) == '{"marker": true}\n'
    modules = tmp_path / "modules"
    modules.mkdir()
    (modules / "kept_probe_module.py").write_text("unified_session_manager = None\n")
    monkeypatch.syspath_prepend(str(modules))
    importlib.invalidate_caches()
    assert scan(repo, capsys, "--json", "--recipe", str(recipe)) != '{"marker": true}\n'


def test_an_edited_recipe_file_is_a_change(repo: Path, capsys: Capsys, tmp_path: Path) -> None:
    recipe = probe_recipe(tmp_path)
    scan(repo, capsys, "--json", "--recipe", str(recipe))
    (kept,) = outputs(repo)
    _replace_body(kept, b'{"marker": true}\n')
    recipe.write_text(recipe.read_text() + "\n# edited\n")
    assert scan(repo, capsys, "--json", "--recipe", str(recipe)) != '{"marker": true}\n'


@pytest.mark.parametrize("modules", [b"", b"flask", b"flask web_app os", b"../web_app", b"flask  web_app",
                                     b" ".join([b"m"] * 300)],
                         ids=["none", "fewer", "more", "not-a-name", "empty-name", "too-many"])
def test_a_kept_file_naming_other_modules_is_ignored(repo: Path, capsys: Capsys, modules: bytes) -> None:
    first = scan(repo, capsys, "--json")
    (kept,) = outputs(repo)
    head, kept_modules, _ = _parts(kept)
    assert kept_modules == b"flask web_app"
    kept.write_bytes(head + b"\n" + modules + b"\n" + b'{"marker": true}\n')
    assert scan(repo, capsys, "--json") == first


def test_a_kept_output_is_printed_without_loading_the_recipe_or_the_analysis(repo: Path) -> None:
    import subprocess
    import sys

    code = (
        "import io, sys, contextlib\n"
        "from migrator_tui.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        f"    main(['scan', {str(repo)!r}, '--json'])\n"
        "heavy = ('tomllib', 'ast', 'dataclasses', 'libcst', 'migrator_tui.recipe.model',\n"
        "         'migrator_tui.scan', 'migrator_tui.model', 'pathlib', 'subprocess', 'typing')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
        "print(out.getvalue(), end='')\n"
    )
    # without `site` (-S): what the tool loads, not what an install's start-up files load; the
    # package's folder on the path instead
    env = {**os.environ, "PYTHONPATH": str(Path(migrator_tui.__file__).parent.parent)}
    runs = [subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, check=True,
                           env=env).stdout
            for _ in range(3)]  # (the first computes and keeps it)
    loaded, _, printed = runs[-1].partition("\n")
    assert loaded == "[]"
    assert printed == runs[0].partition("\n")[2] and '"total": 1' in printed
