"""Per-file branches: 1,000 files, each committed to its own branch, three ways in one run.

(a) our batch path (`GitFlow.commit_files`: one `git fast-import`, one ref transaction);
(b) our one-file path (`GitFlow.commit_file`, what the review's commit key does), file by file;
(c) the naive way: checkout -b, edit, add, commit, checkout back — per file, with GitPython.

Each runs on its own fresh copy of the same generated repository (nested folders, 1,000 small
Python files). Prints ms per file and the ratios to (c). Goals: (a) <= 2 ms, (b) <= 30 ms.

    .venv/bin/python benchmarks/bench_git.py [--files N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from migrator_tui.git.flow import FileChange, GitFlow
from migrator_tui.git.repo import open_repo

ENV = {"GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
       "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.com"}


def make_repo(root: Path, n: int) -> list[str]:
    root.mkdir(parents=True)
    paths = []
    for i in range(n):
        rel = f"pkg{i % 10}/sub{i % 7}/module_{i:04d}.py"
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(f"def f_{i}():\n    return {i}\n" * 20)
        paths.append(rel)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "base"], cwd=root, check=True)
    return paths


def _new(data: bytes) -> bytes:
    return data + b"# migrated\n"


def _message(base: str, path: str) -> str:
    return f"Migrate {path}\n\nMigrator-Recipe: bench\nMigrator-Base: {base}\n"


def bench_batch(root: Path, paths: list[str]) -> float:
    repo = open_repo(root)
    base = repo.head.commit.hexsha
    flow = GitFlow(repo, recipe="bench", base=base, author="Bench <bench@example.com>")
    changes = [FileChange(p, _new, _message(base, p)) for p in paths]
    t = time.perf_counter()
    result = flow.commit_files(changes)
    elapsed = time.perf_counter() - t
    assert not result.failed and len(result.committed) == len(paths)
    repo.close()
    return elapsed


def bench_single(root: Path, paths: list[str]) -> float:
    repo = open_repo(root)
    base = repo.head.commit.hexsha
    flow = GitFlow(repo, recipe="bench", base=base, author="Bench <bench@example.com>")
    t = time.perf_counter()
    for p in paths:
        flow.commit_file(FileChange(p, _new, _message(base, p)))
    elapsed = time.perf_counter() - t
    repo.close()
    return elapsed


def bench_naive(root: Path, paths: list[str]) -> float:
    import git

    repo = git.Repo(root)
    base = repo.head.commit.hexsha
    t = time.perf_counter()
    for i, p in enumerate(paths):
        repo.git.checkout("-q", "-b", f"naive/{i}", base)
        f = root / p
        f.write_bytes(_new(f.read_bytes()))
        repo.index.add([p])
        repo.index.commit(_message(base, p))
        repo.git.checkout("-q", "main")
    elapsed = time.perf_counter() - t
    repo.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    args = parser.parse_args()
    os.environ.update(ENV)
    work = Path(tempfile.mkdtemp(prefix="bench-git-"))
    try:
        template = work / "template"
        paths = make_repo(template, args.files)
        results = {}
        for name, fn in (("a batch (fast-import)", bench_batch), ("b one file at a time", bench_single),
                         ("c naive checkout/add/commit", bench_naive)):
            root = work / name[0]
            shutil.copytree(template, root, symlinks=True)
            results[name] = fn(root, paths) / len(paths) * 1000
        naive = results["c naive checkout/add/commit"]
        print(f"{args.files} files, each committed to its own branch")
        for name, ms in results.items():
            print(f"  ({name}): {ms:7.2f} ms/file   {naive / ms:6.1f}x faster than (c)")
        print("goals: (a) <= 2 ms/file, (b) <= 30 ms/file")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
