"""Verdicts that depend on the repository around the occurrence (real repositories in tmp_path)."""

from __future__ import annotations

from pathlib import Path

from gitfixtures import make_repo

from migrator_tui.recipe import load_recipe
from migrator_tui.rewrite import FileAnalysis
from migrator_tui.scan import scan

JOB = """\
from database import DatabaseManager


def cleanup():
    try:
        db_manager = DatabaseManager()
        session = db_manager.get_session()
        purge(session)
        session.close()
    except Exception as exc:
        log(exc)
"""


def proposals(root: Path, recipe_name: str = "db-session") -> dict[str, object]:
    recipe = load_recipe(recipe_name)
    result = scan(root, recipe)
    out = {}
    for path, occs in result.by_path().items():
        fa = FileAnalysis((root / path).read_text(), occs, recipe, repo_root=root)
        out.update({o.id: fa.propose(o.id) for o in occs})
    return out


def test_flask_strategies_are_not_offered_where_the_repository_has_no_flask(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", {"jobs.py": JOB})
    (p,) = proposals(root).values()
    assert p.confidence == "manual" and p.strategy is None
    assert [w.code for w in p.warnings] == ["target-unavailable"]
    assert "need Flask, which this repository never imports" in (p.manual_reason or "")


def test_twin_a_flask_application_gets_the_spec_strategy(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", {"jobs.py": JOB, "app.py": "from flask import Flask\n"})
    (p,) = proposals(root).values()
    assert p.strategy == "admin_route" and p.confidence == "review"
    assert "no-release" in {w.code for w in p.warnings}


def test_flask_extensions_count_as_flask(tmp_path: Path) -> None:
    auth = "from flask_login import login_required\n"
    root = make_repo(tmp_path / "repo", {"jobs.py": JOB, "auth.py": auth})
    (p,) = proposals(root).values()
    assert p.strategy == "admin_route"


def test_a_strategy_never_imports_its_manager_from_the_module_itself(tmp_path: Path) -> None:
    web = "from flask import Flask\n\n\ndef page():\n    s = db_manager.get_session()\n    try:\n" \
          "        return s.query(1).count()\n    finally:\n        s.close()\n"
    root = make_repo(tmp_path / "repo", {"web_app.py": web})
    (p,) = proposals(root).values()
    assert p.strategy == "admin_route"
    assert "unified" not in p.alternatives and "request_scope" not in p.alternatives
