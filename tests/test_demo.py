"""The bundled demo repository: the spec's counts, its own passing suite, reproducible builds, the CLI."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from migrator_tui import cli
from migrator_tui.demo import build_demo, demo_files
from migrator_tui.errors import MigratorError

#: The spec's "Current State Analysis": direct db_manager.get_session() calls per file.
SPEC_COUNTS = {
    "web_app.py": 21,
    "session_performance_optimizer.py": 8,
    "admin/routes/dashboard.py": 1,
    "admin/routes/user_management.py": 2,
    "admin/routes/system_health.py": 1,
    "admin/services/cleanup_service.py": 1,
    "admin/services/user_service.py": 11,
    "admin/services/monitoring_service.py": 7,
}
SPEC_KEY_FUNCTIONS = {
    "platform_management", "post_approved_captions", "dashboard", "images", "review_captions",
}  # fmt: skip


def _last_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _is_acquire(node: ast.AST) -> bool:
    """A no-argument `<...>.db_manager.get_session()` / `db_manager.get_session()` call."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get_session"
        and not node.args
        and not node.keywords
        and _last_name(node.func.value) == "db_manager"
    )


def _is_context_manager_implementation(func: ast.FunctionDef) -> bool:
    """A @contextmanager function that yields the session it acquired."""
    if not any(_last_name(d) == "contextmanager" for d in func.decorator_list):
        return False
    acquired = {
        target.id
        for node in ast.walk(func)
        if isinstance(node, ast.Assign) and _is_acquire(node.value)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    return any(
        isinstance(node, ast.Yield) and isinstance(node.value, ast.Name) and node.value.id in acquired
        for node in ast.walk(func)
    )


def count_acquires(source: str) -> int:
    tree = ast.parse(source)
    excluded: set[int] = set()
    for func in ast.walk(tree):
        if isinstance(func, ast.FunctionDef) and _is_context_manager_implementation(func):
            excluded.update(id(node) for node in ast.walk(func) if _is_acquire(node))
    return sum(1 for node in ast.walk(tree) if _is_acquire(node) and id(node) not in excluded)


def _raw_acquires(source: str) -> int:
    return sum(1 for node in ast.walk(ast.parse(source)) if _is_acquire(node))


@pytest.fixture(scope="module")
def demo_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    target = tmp_path_factory.mktemp("demo") / "repo"
    return target, build_demo(target)


def _python_sources(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(root.rglob("*.py"))
        if ".git" not in path.parts
    }


def test_counts_per_file_are_the_specs(demo_repo: tuple[Path, str]) -> None:
    root, _sha = demo_repo
    sources = _python_sources(root)
    counts = {path: count_acquires(sources[path]) for path in SPEC_COUNTS}
    assert counts == SPEC_COUNTS
    assert sum(counts.values()) == 52


def test_a_few_occurrences_live_outside_the_plan(demo_repo: tuple[Path, str]) -> None:
    root, _sha = demo_repo
    outside = {
        path: n
        for path, source in _python_sources(root).items()
        if path not in SPEC_COUNTS and (n := count_acquires(source))
    }
    assert all(path.startswith("scripts/") for path in outside)
    assert 3 <= sum(outside.values()) <= 5


def test_context_manager_implementation_is_the_only_excluded_acquire(demo_repo: tuple[Path, str]) -> None:
    root, _sha = demo_repo
    sources = _python_sources(root)
    excluded = {path: _raw_acquires(src) - count_acquires(src) for path, src in sources.items()}
    assert {path: n for path, n in excluded.items() if n} == {"session_managers.py": 2}


def test_mentions_and_other_get_session_calls_are_not_counted(demo_repo: tuple[Path, str]) -> None:
    root, _sha = demo_repo
    web_app = (root / "web_app.py").read_text(encoding="utf-8")
    optimizer = (root / "session_performance_optimizer.py").read_text(encoding="utf-8")
    # Text mentions (comments, strings, docstrings) exceed the real calls...
    assert web_app.count("db_manager.get_session()") > count_acquires(web_app)
    assert optimizer.count("db_manager.get_session()") > count_acquires(optimizer)
    # ...and get_session of other receivers or with arguments is there too.
    assert "db_manager.get_session(readonly=True)" in web_app
    assert "platform_client.get_session()" in web_app
    assert "self.cache.get_session()" in optimizer


def test_key_functions_of_the_spec_hold_occurrences(demo_repo: tuple[Path, str]) -> None:
    root, _sha = demo_repo
    tree = ast.parse((root / "web_app.py").read_text(encoding="utf-8"))
    holders = {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and any(_is_acquire(n) for n in ast.walk(node))
    }
    assert holders >= SPEC_KEY_FUNCTIONS


def test_demo_suite_passes(demo_repo: tuple[Path, str]) -> None:
    root, _sha = demo_repo
    done = subprocess.run(
        [sys.executable, "-m", "pytest"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    summary = re.search(r"(\d+) passed", done.stdout)
    # Over a hundred tests; a collection problem that hid most of them would show here.
    assert summary is not None and int(summary.group(1)) >= 100, done.stdout[-3000:]
    assert "failed" not in done.stdout and "error" not in done.stdout


def test_build_is_reproducible(demo_repo: tuple[Path, str], tmp_path: Path) -> None:
    _root, sha = demo_repo
    assert build_demo(tmp_path / "again") == sha


def test_build_ignores_user_git_config(demo_repo: tuple[Path, str], tmp_path: Path, monkeypatch) -> None:
    _root, sha = demo_repo
    gitconfig = Path.home() / ".gitconfig"
    gitconfig.write_text(
        "[core]\n\tautocrlf = true\n[commit]\n\tgpgsign = true\n[init]\n\tdefaultBranch = trunk\n"
        "[user]\n\tname = Someone Else\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("GIT_AUTHOR_DATE", "2001-01-01T00:00:00+00:00")
    target = tmp_path / "configured"
    assert build_demo(target) == sha
    branch = subprocess.run(
        ["git", "symbolic-ref", "--short", "HEAD"], cwd=target, capture_output=True, text=True, check=True
    )
    assert branch.stdout.strip() == "main"


def test_build_writes_a_clean_committed_tree(demo_repo: tuple[Path, str]) -> None:
    root, _sha = demo_repo
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True, check=True
    )
    assert status.stdout == ""
    tracked = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True, check=True)
    assert tracked.stdout.split() == [path for path, _content in demo_files()]
    assert ".gitignore" in tracked.stdout.split()


def test_build_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(MigratorError, match="not empty"):
        build_demo(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_cli_demo_refuses_a_non_empty_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "web_app.py").write_text("# my own file\n", encoding="utf-8")
    assert cli.main(["demo", "--no-tui", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "is not empty" in err and err.count("\n") == 1
    assert [p.name for p in tmp_path.iterdir()] == ["web_app.py"]
    assert (tmp_path / "web_app.py").read_text(encoding="utf-8") == "# my own file\n"


def test_cli_demo_refuses_a_file(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x", encoding="utf-8")
    assert cli.main(["demo", "--no-tui", str(target)]) == 2
    assert target.read_text(encoding="utf-8") == "x"


@pytest.mark.parametrize("existing", [True, False], ids=["empty-dir", "new-dir"])
def test_cli_demo_writes_the_repository(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], demo_repo: tuple[Path, str], existing: bool
) -> None:
    target = tmp_path / "nested" / "demo"
    if existing:
        target.mkdir(parents=True)
    assert cli.main(["demo", "--no-tui", str(target)]) == 0
    out = capsys.readouterr().out
    _root, sha = demo_repo
    assert str(target) in out and sha[:12] in out
    assert f"migrator-tui scan {target}" in out
    assert (target / "web_app.py").is_file()


def test_cli_demo_default_directory_is_a_new_temporary_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    assert cli.main(["demo", "--no-tui"]) == 0
    created = [p for p in tmp_path.iterdir() if p.name.startswith("migrator-demo-")]
    assert len(created) == 1
    assert str(created[0]) in capsys.readouterr().out
    assert (created[0] / ".git").is_dir()
