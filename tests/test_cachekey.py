"""The tool's own source as part of a kept scan's key: known by each file's status, read while
a file was changed too recently for its status to be trusted."""

from __future__ import annotations

import os
from pathlib import Path

from migrator_tui.review.cachekey import RACY_SECONDS, source_digest


def package(tmp_path: Path) -> Path:
    root = tmp_path / "pkg"
    (root / "rewrite").mkdir(parents=True)
    (root / "demo").mkdir()
    (root / "__pycache__").mkdir()
    (root / "cli.py").write_text("print('cli')\n")
    (root / "rewrite" / "plan.py").write_text("A = 1\n")
    (root / "recipe.toml").write_text("name = 'x'\n")
    (root / "demo" / "app.py").write_text("demo = 1\n")
    (root / "__pycache__" / "cli.cpython-311.pyc").write_bytes(b"\0")
    (root / "README.md").write_text("notes\n")
    return root


def later(root: Path) -> float:
    """A time at which no file under `root` is recent any more."""
    return max(max(p.stat().st_mtime, p.stat().st_ctime) for p in root.rglob("*")) + RACY_SECONDS + 1


def test_the_same_files_give_the_same_digest(tmp_path: Path) -> None:
    root = package(tmp_path)
    now = later(root)
    assert source_digest(root, now) == source_digest(root, now)
    assert source_digest(root, now).startswith("status:")


def test_an_edit_that_keeps_size_and_modification_time_changes_it(tmp_path: Path) -> None:
    root = package(tmp_path)
    plan = root / "rewrite" / "plan.py"
    before = source_digest(root, later(root))
    st = plan.stat()
    plan.write_text("A = 2\n")
    os.utime(plan, ns=(st.st_atime_ns, st.st_mtime_ns))  # the change time still moves
    assert plan.stat().st_size == st.st_size and plan.stat().st_mtime_ns == st.st_mtime_ns
    assert source_digest(root, later(root)) != before


def test_new_and_removed_files_change_it_and_the_rest_does_not(tmp_path: Path) -> None:
    root = package(tmp_path)
    before = source_digest(root, later(root))
    (root / "demo" / "app.py").write_text("demo = 2\n")
    (root / "__pycache__" / "cli.cpython-311.pyc").write_bytes(b"\1\1")
    (root / "README.md").write_text("other notes\n")
    assert source_digest(root, later(root)) == before
    (root / "rewrite" / "new.py").write_text("")
    with_new = source_digest(root, later(root))
    assert with_new != before
    (root / "rewrite" / "new.py").unlink()
    (root / "recipe.toml").unlink()
    assert source_digest(root, later(root)) not in (before, with_new)


def test_a_recent_change_is_read(tmp_path: Path) -> None:
    root = package(tmp_path)
    plan = root / "rewrite" / "plan.py"
    now = plan.stat().st_ctime + RACY_SECONDS / 2
    first = source_digest(root, now)
    assert first.startswith("read:")
    plan.write_text("A = 3\n")
    assert source_digest(root, now) != first
    plan.write_text("A = 1\n")  # the content again: the same digest, whatever its status says
    assert source_digest(root, now) == first


def test_git_commands_side_by_side_give_what_each_prints_alone(tmp_path: Path) -> None:
    """`git_all` spawns the commands without `subprocess`: each output whole (several larger than
    a pipe holds, read in turn), None for a command that fails, the same as `subprocess` gives."""
    import subprocess

    from gitfixtures import make_repo

    from migrator_tui.review import cachekey

    big = "".join(f"line {i} of a file larger than any pipe's buffer\n" for i in range(8000))
    root = make_repo(tmp_path / "repo", {"big.txt": big, "a.py": "x = 1\n"})
    commands = [("show", "HEAD:big.txt"), ("rev-parse", "--git-common-dir"), ("show", "HEAD:nothing"),
                ("show", "HEAD:big.txt"), ("ls-files", "-s", "-z")]
    outs = cachekey.git_all(root, commands)
    assert outs[0] == outs[3] == big.encode() and len(big) > 1 << 16
    assert outs[2] is None
    assert outs[1] == b".git\n"
    alone = [subprocess.run(["git", *c], cwd=root, capture_output=True).stdout for c in commands]
    assert [o for i, o in enumerate(outs) if i != 2] == [o for i, o in enumerate(alone) if i != 2]
    assert cachekey._git_all_subprocess(root, commands) == outs
    # a folder that is not there, and a path given as text
    assert cachekey.git_all(tmp_path / "nowhere", commands[:2]) == [None, None]
    assert cachekey.git_all(str(root), commands[1:2]) == [b".git\n"]
