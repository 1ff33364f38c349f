"""`migrator-tui scan`: the human form, `--json` against the shipped schema, exit codes."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
from test_scan_helpers import make_repo

from migrator_tui.cli import main
from migrator_tui.commands.scan import occurrence_json, scan_json
from migrator_tui.model import SHAPES
from migrator_tui.recipe import load_recipe
from migrator_tui.rewrite.proposal import Finding, Proposal
from migrator_tui.scan import scan

SOURCES = {
    "web_app.py": """
        from flask_login import login_required

        @app.route('/dashboard')
        @login_required
        def dashboard():
            session = db_manager.get_session()
            try:
                return session.query(1)
            finally:
                session.close()
    """,
    "admin/services/user_service.py": """
        class UserService:
            def get_all_users(self):
                with self.db_manager.get_session() as s:
                    return s.query(1)
    """,
    "scripts/backfill.py": "rows = db_manager.get_session().query(1).all()\n",
    "broken.py": "def f(:\n    s = db_manager.get_session()\n",
}


def _schema() -> dict:  # type: ignore[type-arg]
    text = resources.files("migrator_tui").joinpath("schemas/scan.schema.json").read_text()
    return json.loads(text)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", SOURCES)


def test_json_output_validates_and_groups_by_phase(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", str(repo), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    jsonschema.Draft202012Validator(_schema()).validate(data)
    assert data["root"] == str(repo) and data["recipe"] == "db-session" and data["total"] == 3
    assert [(p["phase"], p["name"], p["priority"]) for p in data["phases"]] == [
        (1, "Web application routes", "high"), (2, "Admin services", "medium"), (3, "Admin routes", "medium"),
        (4, "Performance optimization", "low"), (None, "Unplanned", None)]
    web = data["phases"][0]["files"][0]
    assert web["path"] == "web_app.py"
    occ = web["occurrences"][0]
    rewrite = {k: occ.pop(k) for k in ("strategy", "alternatives", "confidence", "warnings")}
    assert occ == {
        "id": "web_app.py::dashboard::0", "line": 6, "column": 14, "end_line": 6, "end_column": 38,
        "function": "dashboard", "decorators": ["app.route('/dashboard')", "login_required"],
        "variable": "session", "receiver": "db_manager", "callee": "db_manager.get_session",
        "shapes": ["try-finally", "early-return"],
        "phase": 1,
    }
    # unified_session_manager is not bound in this web_app.py: the rules fall back to admin_route;
    # unified and request_scope would import their manager from web_app.py itself, which does not
    # define it, so they are not offered
    assert rewrite["strategy"] == "admin_route"
    assert rewrite["alternatives"] == []
    # `return session.query(1)` hands a query out of the block: orm-escape makes it a review
    assert rewrite["confidence"] == "review"
    assert [w["code"] for w in rewrite["warnings"]] == ["orm-escape"]
    unplanned = data["phases"][-1]["files"]
    assert [f["path"] for f in unplanned] == ["scripts/backfill.py"]
    assert data["skipped"] == [{"path": "broken.py", "reason": "syntax error at line 1"}]
    assert data["excluded"] == []


def test_no_proposals_leaves_the_rewrite_fields_out(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", str(repo), "--json", "--no-proposals"]) == 0
    data = json.loads(capsys.readouterr().out)
    jsonschema.Draft202012Validator(_schema()).validate(data)
    occ = data["phases"][0]["files"][0]["occurrences"][0]
    assert "strategy" not in occ and "confidence" not in occ


def test_schema_accepts_the_rewrite_fields_and_rejects_bad_ones(repo: Path) -> None:
    recipe = load_recipe()
    result = scan(repo, recipe)
    occ = result.occurrences[0]
    proposal = Proposal(occurrence_id=occ.id, strategy="unified", alternatives=("request_scope",),
                        confidence="review",
                        warnings=(Finding("implicit-commit", occ.line, "It commits now.", "Check."),))
    data = scan_json(result, recipe, {occ.id: proposal})
    validator = jsonschema.Draft202012Validator(_schema())
    validator.validate(data)
    enriched = occurrence_json(occ, proposal)
    assert enriched["strategy"] == "unified" and enriched["confidence"] == "review"
    assert enriched["warnings"][0]["code"] == "implicit-commit"
    enriched["confidence"] = "maybe"
    assert list(validator.iter_errors({**data, "phases": [{
        "phase": 1, "name": "x", "priority": "high", "files": [{"path": "a", "occurrences": [enriched]}]}]}))


def test_schema_shapes_are_the_model_vocabulary() -> None:
    assert _schema()["$defs"]["shape"]["enum"] == list(SHAPES)


def test_human_form(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", str(repo)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 100
    assert "Phase 1: Web application routes  [high]  1 occurrence" in lines
    assert "Unplanned  1 occurrence" in lines
    assert lines.index("Unplanned  1 occurrence") > lines.index("Phase 4: Performance optimization  [low]  "
                                                                 "0 occurrences")
    assert any(line.split() == ["6", "review", "dashboard", "try-finally,", "early-return"] for line in lines)
    assert lines[-1] == "Proposals: 0 safe, 2 review, 1 manual"
    assert "  broken.py: syntax error at line 1" in lines
    assert lines[-2].startswith("Total: 3 occurrences (2 planned, 1 unplanned)")


def test_default_path_is_the_current_directory(repo: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(repo)
    assert main(["scan", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["root"] == "." and data["total"] == 3


def test_missing_path_exits_2_with_one_sentence(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"migrator-tui: {tmp_path / 'nope'} does not exist."


def test_bad_recipe_exits_2_with_one_sentence(repo: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nsurprise = 1\n')
    assert main(["scan", str(repo), "--recipe", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("migrator-tui: ") and "surprise" in err and len(err.splitlines()) == 1
    assert main(["scan", str(repo), "--recipe", "no-such-recipe"]) == 2
    assert "No recipe named 'no-such-recipe'" in capsys.readouterr().err


def test_recipe_file_is_used(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    builtin = resources.files("migrator_tui").joinpath("recipe/builtin/db_session.toml").read_text()
    custom = tmp_path / "custom.toml"
    custom.write_text(builtin.replace('name = "db-session"', 'name = "custom"')
                      .replace('paths = ["web_app.py"]', 'paths = ["scripts/*.py"]'))
    assert main(["scan", str(repo), "--json", "--recipe", str(custom)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["recipe"] == "custom"
    assert [f["path"] for f in data["phases"][0]["files"]] == ["scripts/backfill.py"]
    assert [f["path"] for f in data["phases"][-1]["files"]] == ["web_app.py"]


def test_progress_counter_appears_only_after_the_delay(capsys: pytest.CaptureFixture[str]) -> None:
    from migrator_tui.commands.scan import _Counter

    quick = _Counter()
    quick(1, 10)
    quick.clear()
    assert capsys.readouterr().err == ""
    slow = _Counter()
    slow.start -= 1.0
    slow(5, 10)
    slow.clear()
    err = capsys.readouterr().err
    assert "scanning 5/10 files" in err and err.endswith("\r\033[K")
