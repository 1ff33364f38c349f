"""A review in progress: decisions saved as made, per-file commits, undo, resume, HEAD moved, lock."""

from __future__ import annotations

from pathlib import Path

import pytest
from gitfixtures import WEB_APP, branches, demo_repo, git, make_dirty, snapshot

from migrator_tui.errors import StateError
from migrator_tui.git.flow import CommitError
from migrator_tui.recipe import load_recipe
from migrator_tui.review.state import ReviewState
from migrator_tui.review.workspace import Workspace
from migrator_tui.scan import scan

RECIPE = load_recipe()
COUNT = "web_app.py::count_users::0"
ADD = "web_app.py::add_user::0"
BRANCH = "migrate/db-session/web_app.py"


def _open(root: Path, **kw: object) -> Workspace:
    ws = Workspace.open(root, RECIPE, **kw)  # type: ignore[arg-type]
    ws.load_scan(scan(ws.root, RECIPE))
    return ws


def _file_at(root: Path, rev: str, path: str = "web_app.py") -> str:
    return git(root, "show", f"{rev}:{path}")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return demo_repo(tmp_path / "repo")


def test_decide_commit_undo(repo: Path) -> None:
    make_dirty(repo)
    before = snapshot(repo)
    with _open(repo) as ws:
        ws.decide(COUNT, "accepted", strategy="unified", warnings=["implicit-commit"])
        ws.decide(ADD, "rejected", note="keeps its own commit")
        # saved at once: a fresh load sees both
        saved = ReviewState.load(ws.state.path)
        assert saved is not None and saved.decisions[COUNT].decision == "accepted"
        assert saved.decisions[ADD].note == "keeps its own commit"
        assert saved.decisions[COUNT].reviewer == "Test Reviewer <reviewer@example.com>"

        c = ws.commit_file("web_app.py")
        assert c is not None and branches(repo) == {BRANCH: c.sha}
        text = _file_at(repo, c.sha)
        assert "with unified_session_manager.get_db_session() as session:" in text
        assert text.count("db_manager.get_session()") == 1  # add_user was rejected
        body = git(repo, "log", "-1", "--format=%B", c.sha)
        assert body.startswith("Migrate web_app.py: 1 of 2 occurrences (phase 1)\n")
        assert "line 5, count_users: unified; warnings acknowledged: implicit-commit" in body
        assert "Reviewed-by: Test Reviewer <reviewer@example.com>" in body
        assert ws.state.files["web_app.py"].commit is not None

        # accept the second one and re-commit: the tip is replaced
        ws.decide(ADD, "accepted", strategy="unified")
        c2 = ws.commit_file("web_app.py")
        assert c2 is not None and c2.old == c.sha
        assert _file_at(repo, c2.sha).count("db_manager.get_session()") == 0

        # undo that acceptance: re-committed with one occurrence again
        undone = ws.undo()
        assert undone is not None and undone.entry.id == ADD and undone.recommitted is not None
        assert _file_at(repo, undone.recommitted.sha) == text
        assert ws.state.decisions[ADD].decision == "rejected"

        # undo the rejection and the acceptance: nothing accepted, the branch goes
        assert ws.undo() is not None  # ADD back to undecided
        last = ws.undo()
        assert last is not None and last.removed_branch == undone.recommitted.sha
        assert branches(repo) == {}
        assert ws.state.files["web_app.py"].commit is None
    assert snapshot(repo) == before


def test_resume_after_reopen(repo: Path) -> None:
    with _open(repo) as ws:
        ws.decide(COUNT, "accepted", strategy="unified")
    with _open(repo) as ws:
        assert ws.state.decisions[COUNT].decision == "accepted"
        assert not ws.state.decisions[COUNT].stale


def test_head_moved_then_rescan_keeps_matching_decisions(repo: Path) -> None:
    with _open(repo) as ws:
        ws.decide(COUNT, "accepted", strategy="unified")
        ws.decide(ADD, "rejected")
    # a new commit changes add_user only
    (repo / "web_app.py").write_text(WEB_APP.replace("User(name=name)", "User(name=name.strip())"))
    git(repo, "commit", "-q", "-am", "strip names")
    with pytest.raises(StateError, match=r"HEAD moved .* --rescan"):
        Workspace.open(repo, RECIPE)
    with _open(repo, rescan=True) as ws:
        assert ws.state.base == git(repo, "rev-parse", "HEAD").strip()
        assert not ws.state.decisions[COUNT].stale
        assert ws.state.decisions[ADD].stale
        c = ws.commit_file("web_app.py")
        assert c is not None
        assert git(repo, "rev-parse", f"{c.sha}^").strip() == ws.state.base


def test_dirty_file_is_refused(repo: Path) -> None:
    (repo / "web_app.py").write_text(WEB_APP + "\n# local edit\n")
    with _open(repo) as ws:
        ws.decide(COUNT, "accepted", strategy="unified")
        with pytest.raises(CommitError, match="differs from the base commit"):
            ws.commit_file("web_app.py")
    assert branches(repo) == {}


def test_new_file_not_in_base_is_refused(repo: Path) -> None:
    (repo / "admin" / "extra.py").write_text(WEB_APP)
    with _open(repo) as ws:
        ws.decide("admin/extra.py::count_users::0", "accepted", strategy="unified")
        with pytest.raises(CommitError, match="is not in the base commit"):
            ws.commit_file("admin/extra.py")


def test_second_review_is_locked_out(repo: Path) -> None:
    with _open(repo), pytest.raises(StateError, match="Another review holds the lock"):
        Workspace.open(repo, RECIPE)
    with _open(repo):
        pass


def test_state_lives_in_the_git_dir(repo: Path, tmp_path: Path) -> None:
    wt = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", "--detach", str(wt))
    with _open(wt) as ws:
        ws.decide(COUNT, "accepted", strategy="unified")
        assert ws.state.path == repo / ".git" / "migrator" / "db-session" / "state.json"
        assert ws.state.path.exists()
    assert git(repo, "status", "--porcelain") == ""


def test_a_rescan_sees_a_caller_added_since_the_last_scan(tmp_path: Path) -> None:
    """The repository's callers are read again by each scan of a review: a caller added after the
    first analysis changes the verdict of the next."""
    from gitfixtures import make_repo

    from migrator_tui.rewrite import FileAnalysis

    reports = ("def save(db_manager, name):\n    session = db_manager.get_session()\n    try:\n"
               "        session.add(name)\n        session.commit()\n    finally:\n        session.close()\n")
    root = make_repo(tmp_path / "repo", {"reports.py": reports, "app.py": "from flask import Flask\n"})

    def codes(ws: Workspace) -> set[str]:
        (occ,) = ws.occurrences.values()
        fa = FileAnalysis(ws.sources[occ.path], [occ], RECIPE, repo_root=ws.root)
        return {w.code for w in fa.summary(occ.id).warnings}

    ws = _open(root)
    try:
        assert "exception-wrapped" not in codes(ws)
        (root / "jobs.py").write_text("from reports import save\n\n\ndef job():\n    try:\n"
                                      "        save(None, 'x')\n    except ValueError:\n        pass\n")
        ws.load_scan(scan(ws.root, RECIPE))
        assert "exception-wrapped" in codes(ws)
    finally:
        ws.close()


def test_a_prepared_build_is_used_only_for_its_own_text_and_choices(repo: Path) -> None:
    """`commit_files(prepared=)` takes a text built ahead (in a worker, by apply) only when the
    file's text and the accepted choices are the ones it was built from."""
    from migrator_tui.review.workspace import Prepared
    from migrator_tui.rewrite.proposal import Choice

    ws = _open(repo)
    try:
        ws.decide(COUNT, "accepted", strategy="admin_route")
        text = ws.sources["web_app.py"]
        marker = text + "\n# built ahead\n"
        same = {COUNT: Choice("admin_route")}
        other = {COUNT: Choice("unified")}
        ws.commit_files(["web_app.py"], {"web_app.py": Prepared(text, other, marker)})
        assert "# built ahead" not in _file_at(repo, BRANCH), "other choices: built again"
        ws.commit_files(["web_app.py"], {"web_app.py": Prepared(text + " ", same, marker)})
        assert "# built ahead" not in _file_at(repo, BRANCH), "another text: built again"
        ws.commit_files(["web_app.py"], {"web_app.py": Prepared(text, same, marker)})
        assert "# built ahead" in _file_at(repo, BRANCH)
    finally:
        ws.close()
