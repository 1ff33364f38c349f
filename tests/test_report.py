"""report on real repositories: sections, determinism, and each checklist box ticked only on its fact."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from gitfixtures import SERVICE, WEB_APP, branches, demo_repo, make_repo

from migrator_tui import cli
from migrator_tui.checks.report import BENCHMARK_FILE, criteria, gather
from migrator_tui.recipe import load_recipe

Capsys = pytest.CaptureFixture[str]
INLINE = ("from database import db_manager\n\n\n"
          "def total():\n    return db_manager.get_session().query(User).count()\n")
SECTIONS = ["# Migration report: db-session", "## Summary", "### By phase", "### By confidence",
            "### By strategy", "### By file", "## Decisions", "## Branches", "## What `validate` still finds",
            "### Working tree", "### Integration branch", "## Performance", "## Success criteria"]


def build(tmp_path: Path, capsys: Capsys, *, manual: bool = False) -> Path:
    files = {"web_app.py": WEB_APP, "admin/services/user_service.py": SERVICE}
    if manual:
        files["scripts/inline.py"] = INLINE
    root = make_repo(tmp_path / "repo", files)
    assert cli.main(["apply", "--min-confidence", "review", str(root)]) == 0
    capsys.readouterr()
    return root


def report(root: Path, capsys: Capsys) -> str:
    assert cli.main(["report", str(root)]) == 0
    return capsys.readouterr().out


def box(text: str, start: str) -> bool:
    for line in text.splitlines():
        if line.startswith(("- [x] ", "- [ ] ")) and line[6:].startswith(start):
            return line.startswith("- [x]")
    raise AssertionError(f"no checklist line for {start!r}")


def run(capsys: Capsys, *argv: str) -> int:
    code = cli.main(list(argv))
    capsys.readouterr()
    return code


def test_sections_counts_decisions_and_determinism(tmp_path: Path, capsys: Capsys) -> None:
    root = build(tmp_path, capsys)
    run(capsys, "verify", str(root), "--test-cmd", "true")
    text = report(root, capsys)
    for section in SECTIONS:
        assert section in text
    assert "3 occurrences in 2 files of the working tree: 3 accepted, 0 rejected, 0 pending" in text
    assert "| 1 | Web application routes | 1 | 2 | 2 | 0 | 0 | 0 |" in text
    assert "accepted by apply" in text and "`exception-wrapped`" in text
    assert "passed at " in text and ".git/migrator/db-session/logs/web_app.py.log" in text
    for sha in branches(root).values():
        assert sha[:12] in text
    assert str(tmp_path) not in text  # no absolute paths
    assert report(root, capsys) == text  # deterministic
    out = tmp_path / "out" / "report.md"
    assert cli.main(["report", str(root), "-o", str(out)]) == 0
    assert out.read_text() == text
    for unchecked in ("Session context awareness maintained", "Admin functionality works correctly",
                      "Monitoring and logging functional"):
        assert not box(text, unchecked)
    assert text.count("not checked by this tool") >= 6


def test_all_usage_migrated_needs_validate_clean_on_the_integration_branch(tmp_path: Path,
                                                                         capsys: Capsys) -> None:
    root = build(tmp_path / "a", capsys)
    text = report(root, capsys)
    assert not box(text, "All direct `db_manager.get_session()` usage migrated")
    assert "does not exist" in text
    run(capsys, "integrate", str(root))
    text = report(root, capsys)
    assert box(text, "All direct `db_manager.get_session()` usage migrated")
    assert "finds 0 direct usages" in text

    other = build(tmp_path / "b", capsys, manual=True)  # a manual inline acquire stays
    run(capsys, "integrate", str(other))
    text = report(other, capsys)
    assert not box(text, "All direct `db_manager.get_session()` usage migrated")
    assert "finds 1 direct usage" in text and "`scripts/inline.py:5`" in text


def test_all_tests_pass_needs_every_current_tip_or_the_integration_branch(tmp_path: Path,
                                                                        capsys: Capsys) -> None:
    root = build(tmp_path, capsys)
    text = report(root, capsys)
    assert not box(text, "All tests pass")  # never verified, and said so: not "did not pass"
    assert "2 of 2 committed branches were never verified" in text and "did not pass" not in text
    run(capsys, "verify", str(root), "--test-cmd", "grep -q unified_session_manager web_app.py")
    text = report(root, capsys)
    assert not box(text, "All tests pass")  # the service's branch failed
    assert "1 of 2 committed branches did not pass" in text
    run(capsys, "verify", str(root), "--test-cmd", "true")
    assert box(report(root, capsys), "All tests pass")
    # a branch moves after its verification: no longer proven
    from migrator_tui.review.workspace import Workspace
    from migrator_tui.scan import scan

    recipe = load_recipe()
    with Workspace.open(root, recipe) as ws:
        ws.load_scan(scan(ws.root, recipe))
        ws.decide(ws.occurrences_of("web_app.py")[0].id, "rejected")
        ws.commit_file("web_app.py")
    text = report(root, capsys)
    assert not box(text, "All tests pass")
    assert "outdated: passed" in text
    # the integration branch passing at its tip proves it on its own
    run(capsys, "integrate", str(root))
    run(capsys, "verify", str(root), "--test-cmd", "true", "--integration", "--only", "web_app.py")
    text = report(root, capsys)
    assert box(text, "All tests pass")
    assert "passed at `migrate/db-session/all`" in text


def _bench(root: Path, sha: str, ratios: dict[str, float]) -> None:
    data = {"version": 1, "time": "2024-01-01T00:00:00Z", "requests": 10, "rounds": 2,
            "before": {"label": "base", "sha": "0" * 40}, "after": {"label": "integration", "sha": sha},
            "routes": [{"route": r, "before_ms": 1.0, "after_ms": x, "ratio": x} for r, x in ratios.items()]}
    (root / ".git" / "migrator" / "db-session" / BENCHMARK_FILE).write_text(json.dumps(data))


def test_no_performance_degradation_needs_a_benchmark_of_the_integration_tip(tmp_path: Path,
                                                                           capsys: Capsys) -> None:
    root = build(tmp_path, capsys)
    run(capsys, "integrate", str(root))
    tip = branches(root)["migrate/db-session/all"]
    text = report(root, capsys)
    assert not box(text, "No performance degradation") and "no benchmark result" in text
    _bench(root, tip, {"GET /": 1.1, "GET /images": 0.9})
    text = report(root, capsys)
    assert box(text, "No performance degradation")
    assert "| `GET /` | 1.000 | 1.100 | 1.10 | - |" in text
    _bench(root, tip, {"GET /": 1.1, "GET /images": 1.4})
    text = report(root, capsys)
    assert not box(text, "No performance degradation") and "slowest route `GET /images`: 1.40×" in text
    _bench(root, "f" * 40, {"GET /": 1.0})  # measured something else
    assert not box(report(root, capsys), "No performance degradation")


def test_error_handling_needs_acknowledged_warnings_and_no_manual(tmp_path: Path, capsys: Capsys) -> None:
    root = build(tmp_path / "a", capsys)
    facts = gather(root, load_recipe())
    by_text = {c.text: c for c in criteria(facts)}
    # `apply` accepted them: no person saw their warnings
    assert not by_text["Proper error handling and cleanup"].checked
    assert "unacknowledged" in by_text["Proper error handling and cleanup"].fact
    # the same decisions made by a person who saw the warnings
    facts.decisions = [dataclasses.replace(x, note="") for x in facts.decisions]
    assert {c.text: c for c in criteria(facts)}["Proper error handling and cleanup"].checked
    # the same facts, but one accepted decision acknowledged none of its proposal's warnings
    d = next(d for d in facts.decisions if d.warnings)
    facts.decisions = [dataclasses.replace(x, warnings=()) if x.id == d.id else x for x in facts.decisions]
    crit = {c.text: c for c in criteria(facts)}["Proper error handling and cleanup"]
    assert not crit.checked and "unacknowledged" in crit.fact

    other = build(tmp_path / "b", capsys, manual=True)
    text = report(other, capsys)
    assert not box(text, "Proper error handling and cleanup")
    assert "1 manual occurrence not migrated" in text

    empty = make_repo(tmp_path / "c", {"web_app.py": WEB_APP})
    assert not box(report(empty, capsys), "Proper error handling and cleanup")  # nothing accepted


def test_a_report_sends_no_one_to_files_they_do_not_have(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    root = demo_repo(tmp_path / "repo")
    assert cli.main(["apply", str(root)]) == 0
    assert cli.main(["report", str(root)]) == 0
    text = capsys.readouterr().out
    assert "benchmarks/" not in text and "bench_demo_app" not in text
    assert "no benchmark result" in text.lower()


def test_a_rolled_back_decision_is_not_counted_as_accepted(tmp_path: Path, capsys: Capsys) -> None:
    root = build(tmp_path, capsys)
    assert run(capsys, "rollback", str(root), "web_app.py") == 0
    text = report(root, capsys)
    assert "3 occurrences in 2 files of the working tree: 1 accepted, 0 rejected, 0 pending, 0 stale, " \
           "2 rolled back (their branch was removed)." in text
    assert "accepted (rolled back: its branch was removed)" in text


def test_other_recipes_get_the_general_criteria_only(tmp_path: Path, capsys: Capsys) -> None:
    root = make_repo(tmp_path / "repo", {"m.py": "import sqlite3\n\n\ndef f(p):\n    c = sqlite3.connect(p)\n"
                                                  "    try:\n        return c.execute('select 1')\n"
                                                  "    finally:\n        c.close()\n"})
    assert cli.main(["report", str(root), "--recipe", "dbapi-connection"]) == 0
    text = capsys.readouterr().out
    assert box(text, "All direct `sqlite3.connect() / sqlite3.dbapi2.connect() / …` usage migrated") is False
    assert "Session context awareness" not in text and "Admin functionality" not in text


def test_decisions_are_counted_per_cluster_and_per_occurrence(tmp_path: Path, capsys: Capsys) -> None:
    """A cluster decision counts once, however many occurrences it decided; human and JSON agree."""
    from migrator_tui.review.state import GroupDecision
    from migrator_tui.review.workspace import Workspace
    from migrator_tui.scan import scan

    recipe = load_recipe()
    root = make_repo(tmp_path / "repo", {"web_app.py": WEB_APP, "admin/services/user_service.py": SERVICE})
    with Workspace.open(root, recipe) as ws:
        ws.load_scan(scan(ws.root, recipe))
        ids = sorted(ws.occurrences)
        assert len(ids) == 3
        ws.decide_group("c0123456789.ab", [GroupDecision(ids[0], "rejected", sampled=True),
                                           GroupDecision(ids[1], "rejected")])
        ws.decide(ids[2], "rejected")
    text = report(root, capsys)
    # the sample member shown and rejected is no confirmation
    assert "3 occurrences decided in 2 decisions: 1 cluster decision (2 occurrences), 1 single." in text
    assert cli.main(["report", str(root), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["decisions"] == {"occurrences": 3, "decisions": 2, "cluster_decisions": 1,
                                "cluster_occurrences": 2, "sample_confirmations": 0, "single": 1}
    assert doc["occurrences"]["rejected"] == 3 and doc["occurrences"]["total"] == 3
    assert [c["text"] for c in doc["criteria"]] == [c.text for c in criteria(gather(root, recipe))]
