"""Per-file commits, branches, rollback and integration on real temporary repositories."""

from __future__ import annotations

from pathlib import Path

import pytest
from gitfixtures import branches, demo_repo, git, head, make_dirty, make_repo, snapshot

from migrator_tui.errors import RepositoryError
from migrator_tui.git.flow import BranchTakenError, CommitError, FileChange, GitFlow
from migrator_tui.git.repo import open_repo
from migrator_tui.scan import blob_hash

RECIPE = "db-session"


def _msg(base: str, subject: str = "Migrate") -> str:
    return f"{subject}\n\nMigrator-Recipe: {RECIPE}\nMigrator-Base: {base}\n"


def _flow(root: Path) -> GitFlow:
    repo = open_repo(root)
    return GitFlow(repo, recipe=RECIPE, base=repo.head.commit.hexsha, author="Rev <rev@example.com>")


def _show(root: Path, rev: str, path: str) -> bytes:
    import subprocess

    return subprocess.run(["git", "show", f"{rev}:{path}"], cwd=root, capture_output=True, check=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return demo_repo(tmp_path / "repo")


def test_commit_leaves_checkout_untouched(repo: Path) -> None:
    make_dirty(repo)
    before = snapshot(repo)
    flow = _flow(repo)
    base = head(repo)
    c = flow.commit_file(FileChange("web_app.py", lambda b: b + b"# migrated\n", _msg(base)))
    assert snapshot(repo) == before
    assert branches(repo) == {"migrate/db-session/web_app.py": c.sha}
    assert git(repo, "rev-parse", f"{c.sha}^").strip() == base
    assert _show(repo, c.sha, "web_app.py").endswith(b"# migrated\n")
    # only that one file differs from the base
    assert git(repo, "diff", "--name-only", base, c.sha).split() == ["web_app.py"]
    assert git(repo, "log", "-1", "--format=%an <%ae>", c.sha).strip() == "Rev <rev@example.com>"


def test_mode_and_crlf_survive(tmp_path: Path) -> None:
    crlf = b"import os\r\nx = 1\r\n"
    root = make_repo(tmp_path / "r", {"bin/tool.py": crlf, "deep/a/b/c.py": "y = 2\n"},
                     modes={"bin/tool.py": 0o755})
    flow = _flow(root)
    c = flow.commit_file(FileChange("bin/tool.py", lambda b: b.replace(b"x = 1", b"x = 2"), _msg(head(root))))
    assert _show(root, c.sha, "bin/tool.py") == b"import os\r\nx = 2\r\n"
    assert "100755" in git(root, "ls-tree", c.sha, "bin/tool.py")
    d = flow.commit_file(FileChange("deep/a/b/c.py", b"y = 3\n", _msg(head(root))))
    assert git(root, "ls-tree", "-r", "--name-only", d.sha).split() == ["bin/tool.py", "deep/a/b/c.py"]
    assert git(root, "fsck", "--no-dangling").strip() == ""


def test_recommit_replaces_tip_and_keeps_reflog(repo: Path) -> None:
    flow = _flow(repo)
    base = head(repo)
    first = flow.commit_file(FileChange("web_app.py", lambda b: b + b"# 1\n", _msg(base)))
    second = flow.commit_file(FileChange("web_app.py", lambda b: b + b"# 2\n", _msg(base)))
    assert second.old == first.sha
    assert git(repo, "rev-parse", f"{second.sha}^").strip() == base
    reflog = git(repo, "reflog", "show", "--format=%H", "migrate/db-session/web_app.py").split()
    assert reflog[:2] == [second.sha, first.sha]


def test_changed_since_scan_is_refused(repo: Path) -> None:
    flow = _flow(repo)
    stale = blob_hash(b"something else\n")
    with pytest.raises(CommitError, match="differs from the base commit"):
        flow.commit_file(FileChange("web_app.py", b"x = 1\n", _msg(head(repo)), expected_blob=stale))
    good = blob_hash((repo / "web_app.py").read_bytes())
    flow.commit_file(FileChange("web_app.py", b"x = 1\n", _msg(head(repo)), expected_blob=good))


def test_deleted_or_renamed_file_is_refused(repo: Path) -> None:
    flow = _flow(repo)
    with pytest.raises(CommitError, match="deleted or renamed since the scan"):
        flow.commit_file(FileChange("gone.py", b"x = 1\n", _msg(head(repo))))
    assert branches(repo) == {}


def test_output_that_does_not_compile_is_refused(repo: Path) -> None:
    flow = _flow(repo)
    with pytest.raises(CommitError, match="does not compile at line 1"):
        flow.commit_file(FileChange("web_app.py", b"def (:\n", _msg(head(repo))))
    with pytest.raises(CommitError, match="does not compile"):
        flow.commit_file(FileChange("web_app.py", b"return 1\n", _msg(head(repo))))
    assert branches(repo) == {}


def test_branch_taken_by_something_else(repo: Path) -> None:
    git(repo, "branch", "migrate/db-session/web_app.py")
    flow = _flow(repo)
    with pytest.raises(BranchTakenError, match="was not made by migrator-tui"):
        flow.commit_file(FileChange("web_app.py", b"x = 1\n", _msg(head(repo))))
    # untouched
    assert branches(repo) == {"migrate/db-session/web_app.py": head(repo)}


def test_batch_equals_single_path(tmp_path: Path) -> None:
    files = {f"pkg/m{i:02d}.py": f"v = {i}\n" for i in range(12)}
    files["odd name/ü_x.py"] = "w = 0\n"
    root = make_repo(tmp_path / "r", files, modes={"pkg/m03.py": 0o755})
    make_dirty_tree = snapshot(root)
    flow = _flow(root)
    base = head(root)
    changes = [FileChange(p, (lambda b: b + b"# b\n"), _msg(base, f"Migrate {p}"),
                          expected_blob=blob_hash(files[p].encode())) for p in files]
    changes.append(FileChange("pkg/missing.py", b"", _msg(base)))
    result = flow.commit_files(changes)
    assert set(result.failed) == {"pkg/missing.py"}
    assert len(result.committed) == len(files)
    made = branches(root)
    assert len(made) == len(files)
    for c in result.committed:
        assert made[c.branch] == c.sha
        assert _show(root, c.sha, c.path) == files[c.path].encode() + b"# b\n"
        assert git(root, "rev-parse", f"{c.sha}^").strip() == base
        changed = git(root, "-c", "core.quotePath=false", "diff", "--name-only", base, c.sha)
        assert changed.splitlines() == [c.path]
        assert git(root, "log", "-1", "--format=%s", c.sha).strip() == f"Migrate {c.path}"
    assert "100755" in git(root, "ls-tree", made["migrate/db-session/pkg__m03.py"], "pkg/m03.py")
    assert not any("migrator-tmp" in r for r in git(root, "for-each-ref", "--format=%(refname)").split())
    assert snapshot(root) == make_dirty_tree
    # a second batch replaces the tips, with reflogs
    again = flow.commit_files([FileChange(c.path, b"v = 0\n", _msg(base)) for c in result.committed])
    assert not again.failed
    for c in again.committed:
        assert c.old is not None
        log = git(root, "reflog", "show", "--format=%H", c.branch).split()
        assert log[:2] == [c.sha, c.old]


def test_integrate_rollback_cycle(repo: Path) -> None:
    make_dirty(repo)
    before = snapshot(repo)
    flow = _flow(repo)
    base = head(repo)
    a = flow.commit_file(FileChange("web_app.py", lambda b: b + b"# a\n", _msg(base, "Migrate web_app.py")))
    flow.commit_file(FileChange("admin/services/user_service.py", lambda b: b + b"# s\n",
                                _msg(base, "Migrate user_service")))
    info = {b.path: b for b in flow.branches()}
    assert not info["web_app.py"].integrated and info["web_app.py"].stale == ()

    result = flow.integrate()
    assert set(result.files) == {"web_app.py", "admin/services/user_service.py"}
    all_sha = result.sha
    assert git(repo, "rev-parse", f"{all_sha}^").strip() == base
    assert _show(repo, all_sha, "web_app.py").endswith(b"# a\n")
    body = git(repo, "log", "-1", "--format=%B", all_sha)
    assert "Migrate web_app.py" in body and "Migrate user_service" in body
    assert all(b.integrated for b in flow.branches())
    assert flow.integrate().changed is False

    # rollback of an integrated file: a revert commit on the integration branch, branch deleted
    rb = flow.rollback("web_app.py")
    assert rb.sha == a.sha and rb.revert is not None and not rb.in_head
    assert git(repo, "rev-parse", f"{rb.revert}^").strip() == all_sha
    assert _show(repo, rb.revert, "web_app.py") == _show(repo, base, "web_app.py")
    assert _show(repo, rb.revert, "admin/services/user_service.py").endswith(b"# s\n")
    assert "migrate/db-session/web_app.py" not in branches(repo)
    # the printed sha restores it
    git(repo, "branch", rb.branch, rb.sha)
    assert branches(repo)[rb.branch] == a.sha

    # rollback of a not-integrated file: only the branch goes
    flow.commit_file(FileChange("README.md", b"x = 1\n", _msg(base)))
    rb2 = flow.rollback("migrate/db-session/README.md")
    assert rb2.revert is None and rb2.path == "README.md"
    with pytest.raises(CommitError, match="no migration branch"):
        flow.rollback("README.md")
    assert snapshot(repo) == before


def test_integrate_into_current_branch(repo: Path) -> None:
    flow = _flow(repo)
    base = head(repo)
    flow.commit_file(FileChange("web_app.py", lambda b: b + b"# a\n", _msg(base)))
    (repo / "web_app.py").write_text("dirty\n")
    with pytest.raises(RepositoryError, match=r"uncommitted changes \(web_app.py\)"):
        flow.integrate_into("main")
    git(repo, "checkout", "-q", "web_app.py")
    with pytest.raises(RepositoryError, match="needs other checked out"):
        flow.integrate_into("other")
    (repo / "untracked.txt").write_text("keep\n")
    result = flow.integrate_into("main")
    assert head(repo) == result.sha
    assert (repo / "web_app.py").read_bytes().endswith(b"# a\n")
    assert (repo / "untracked.txt").read_text() == "keep\n"
    assert git(repo, "status", "--porcelain", "--untracked-files=no") == ""
    info = flow.branches()
    assert info[0].integrated and info[0].in_head
    rb = flow.rollback("web_app.py")
    assert rb.in_head


def test_worktree(repo: Path, tmp_path: Path) -> None:
    wt = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", "--detach", str(wt))
    flow = _flow(wt)
    c = flow.commit_file(FileChange("web_app.py", b"x = 1\n", _msg(head(wt))))
    assert branches(repo) == {"migrate/db-session/web_app.py": c.sha}
