"""The review's state stays true on real repositories: files with uncommitted edits, refused files,
decisions made after a commit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gitfixtures import WEB_APP, branches, demo_repo, git

from migrator_tui.cli import main

BRANCH = "migrate/db-session/web_app.py"
STATE = ".git/migrator/db-session/state.json"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def decisions(repo: Path) -> dict[str, dict[str, object]]:
    return {d["id"]: d for d in json.loads((repo / STATE).read_text())["decisions"]}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return demo_repo(tmp_path / "repo")


def test_a_refused_file_records_no_decisions(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # a new file that the base commit does not hold: its branch cannot be built, apply refuses it
    (repo / "jobs.py").write_text(WEB_APP.replace("count_users", "count_jobs").replace("add_user", "add_job"))
    code, _, err = run(capsys, "apply", "--min-confidence", "review", str(repo), "--all")
    assert code == 2
    assert "jobs.py" in err and "2 decisions of this run dropped" in err
    assert not [k for k in decisions(repo) if k.startswith("jobs.py::")]
    assert BRANCH in branches(repo), "the other files are still committed"


def test_uncommitted_edits_are_reviewed_and_committed_as_the_base_holds_them(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base_text = (repo / "web_app.py").read_text()
    edited = "# a local edit, not committed\n" + base_text
    (repo / "web_app.py").write_text(edited)

    code, out, err = run(capsys, "apply", "--min-confidence", "review", str(repo))
    assert code == 0, err
    assert "web_app.py has uncommitted edits" in out
    held = git(repo, "show", f"{BRANCH}:web_app.py")
    assert "a local edit" not in held, "no working-tree text on a branch"
    assert "with " in held
    assert (repo / "web_app.py").read_text() == edited, "the working tree is untouched"
    lines = {d["id"]: d["line"] for d in decisions(repo).values()}
    assert lines["web_app.py::count_users::0"] == 5, "lines are the base commit's"

    git(repo, "stash")
    code, out, err = run(capsys, "apply", "--min-confidence", "review", str(repo))
    assert code == 0, err
    assert "stale" not in out, "decisions made on the base content still hold once the edit is gone"
    assert "uncommitted edits" not in out
    assert not any(d["stale"] for d in decisions(repo).values())


def test_rollback_sticks_across_apply_and_rescan(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "apply", "--min-confidence", "review", str(repo))
    assert code == 0, err
    assert BRANCH in branches(repo)
    code, _, err = run(capsys, "rollback", str(repo), "web_app.py")
    assert code == 0, err
    assert BRANCH not in branches(repo)
    web = {k: d for k, d in decisions(repo).items() if k.startswith("web_app.py::")}
    assert web and all(d["decision"] == "accepted" and d["rolled_back"] for d in web.values())

    code, out, err = run(capsys, "apply", "--min-confidence", "review", str(repo))
    assert code == 0, err
    assert BRANCH not in branches(repo), "apply does not re-create a rolled-back branch"
    assert "2 rolled-back decisions not applied again" in out
    git(repo, "commit", "-q", "--allow-empty", "-m", "moved on")
    code, out, err = run(capsys, "apply", "--min-confidence", "review", str(repo), "--rescan")
    assert code == 0, err
    assert BRANCH not in branches(repo), "nor does --rescan"

    code, out, _ = run(capsys, "branches", str(repo), "--json")
    row = next(f for f in json.loads(out)["files"] if f["path"] == "web_app.py")
    assert row["accepted"] == 0 and row["tip"] is None


def test_rollback_after_integrate_into_gives_a_per_file_revert(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import shlex
    import subprocess

    from gitfixtures import SERVICE

    assert run(capsys, "apply", "--min-confidence", "review", str(repo))[0] == 0
    code, _, err = run(capsys, "integrate", str(repo), "--into", "main")
    assert code == 0, err
    migrated_service = (repo / "admin/services/user_service.py").read_text()
    assert migrated_service != SERVICE
    code, out, err = run(capsys, "rollback", str(repo), "web_app.py")
    assert code == 0, err
    assert "`git revert` of that commit would undo them all" in out
    commands = [line.strip() for line in out.splitlines() if line.strip().startswith("git restore")
                or line.strip().startswith("git commit")]
    assert len(commands) == 2
    for command in commands:
        subprocess.run(shlex.split(command), cwd=repo, check=True, capture_output=True)
    assert (repo / "web_app.py").read_text() == WEB_APP, "this file is back as it was"
    assert (repo / "admin/services/user_service.py").read_text() == migrated_service, "the other is not"
    assert git(repo, "status", "--porcelain") == ""


def test_bare_apply_takes_the_plan_and_says_what_it_left(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    from gitfixtures import make_repo

    repo = make_repo(tmp_path / "plan", {"web_app.py": WEB_APP, "tools/cleanup.py": WEB_APP})
    code, out, err = run(capsys, "apply", "--min-confidence", "review", str(repo))
    assert code == 0, err
    assert BRANCH in branches(repo)
    assert "migrate/db-session/tools__cleanup.py" not in branches(repo)
    assert "2 occurrences in 1 Unplanned file left alone" in out and "--phase unplanned" in out
    assert not [k for k in decisions(repo) if k.startswith("tools/")]

    code, out, err = run(capsys, "apply", "--min-confidence", "review", str(repo), "--phase", "unplanned")
    assert code == 0, err
    assert "migrate/db-session/tools__cleanup.py" in branches(repo)
    assert "left alone" not in out
    with pytest.raises(SystemExit) as exit_:
        main(["apply", "--min-confidence", "review", str(repo), "--phase", "later"])
    assert exit_.value.code == 2 and "'later' is not a phase number or 'unplanned'" in capsys.readouterr().err


def test_branches_speaks_the_tuis_words(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from migrator_tui.recipe import load_recipe
    from migrator_tui.review.workspace import Workspace

    assert run(capsys, "apply", "--min-confidence", "review", str(repo), "--file", "web_app.py")[0] == 0
    out = run(capsys, "branches", str(repo))[1]
    line = next(ln for ln in out.splitlines() if ln.startswith(BRANCH))
    assert line.endswith("committed") and "fresh" not in out
    with Workspace.open(repo, load_recipe("db-session")) as ws:  # a decision changed after the commit
        ws.scan_base()
        first = ws.state.for_path("web_app.py")[0]
        ws.decide(first.id, "rejected")
    out = run(capsys, "branches", str(repo))[1]
    line = next(ln for ln in out.splitlines() if ln.startswith(BRANCH))
    assert line.endswith("committed; uncommitted decisions")
    out = run(capsys, "branches", str(repo), "--json")[1]
    row = next(f for f in json.loads(out)["files"] if f["path"] == "web_app.py")
    assert row["uncommitted_decisions"] is True


def test_quitting_says_how_to_reopen_and_where_the_demo_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    import migrator_tui.tui.app as tui_app

    monkeypatch.setattr(tui_app, "run_review", lambda *a, **k: 0)  # the user quits at once
    repo = demo_repo(tmp_path / "my repo")
    code, out, _ = run(capsys, "review", str(repo), "--phase", "1")
    assert code == 0
    assert f"migrator-tui review '{repo.resolve()}' --phase 1" in out
    demo = tmp_path / "demo"
    code, out, _ = run(capsys, "demo", str(demo))
    assert code == 0
    assert f"migrator-tui review {demo.resolve()}" in out and f"The demo repository is at {demo}" in out
