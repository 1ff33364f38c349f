"""Benchmark `migrator-tui apply --dry-run` against libcst's own codemod runner.

Not a test. On the demo repository and on the dense corpus (2,000 generated service modules with
3 occurrences each, the same as `bench_scan.py`), runs in alternating rounds:

- `python -m libcst.tool codemod noop.NOOPCommand --jobs=2 --no-format .` — libcst's runner with a
  codemod that changes nothing (the floor of any libcst codemod: parse and print every file);
- `migrator-tui apply --dry-run .` — scan, analyse, build and prove every proposal, print diffs.

With `--corpus NAME:N` (repeatable) it also runs on `../shared/corpus/NAME` replicated N times
(N copies side by side, one git repository; `honeypot:11` holds 704 occurrences in 539 files),
with the recipe its labels use, when that corpus is there (skipped otherwise).

Each runs as a subprocess on its own copy of the corpus (the codemod runner rewrites files in
place), and the script prints the median wall time of each, the ratio ours / runner (below 1 means
ours is faster) and the peak resident memory of each (the largest process).

    .venv/bin/python benchmarks/bench_apply.py [--rounds 3] [--files 2000] [--corpus honeypot:11]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
HERE = Path(__file__).parent
CORPUS = HERE.parent.parent / "shared" / "corpus"
#: the recipe each corpus's labels use (benchmarks/truth/labels.tsv)
RECIPES = {"honeypot": str(HERE / "truth" / "sqlalchemy_with_any.toml"),
           "seafevents": str(HERE / "truth" / "sqlalchemy_session_calls.toml"),
           "wegent": "sqlalchemy-sessionmaker", "skyportal": "sqlalchemy-sessionmaker",
           "astrology": "sqlalchemy-sessionmaker", "bottube": "dbapi-connection"}


def _bench_scan():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("bench_scan", HERE / "bench_scan.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build(base: Path, files: int) -> dict[str, Path]:
    scan_bench = _bench_scan()
    corpora: dict[str, Path] = {}
    demo = base / "demo"
    demo.mkdir()
    if scan_bench._demo_into(demo):
        scan_bench._git_commit(demo)
        corpora["demo"] = demo
    corpora["dense"] = scan_bench.dense_corpus(base, files)
    return corpora


def replicated(base: Path, name: str, copies: int) -> Path | None:
    """`copies` copies of corpus `name` side by side in one new git repository (None without it)."""
    source = CORPUS / name
    if not source.is_dir():
        return None
    root = base / f"{name}x{copies}"
    for i in range(copies):
        shutil.copytree(source, root / f"copy{i:02}")
    _bench_scan()._git_commit(root)
    return root


def _time(cmd: list[str], cwd: Path) -> tuple[float, int]:
    """Wall time and peak RSS (KiB, the largest process) of one run."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"{cmd[0]} failed in {cwd} (exit {os.waitstatus_to_exitcode(status)})")
    return elapsed, usage.ru_maxrss


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--files", type=int, default=2000, help="files in the dense corpus")
    parser.add_argument("--corpus", action="append", default=[], metavar="NAME:N",
                        help="also ../shared/corpus/NAME, replicated N times (repeatable)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        corpora = {name: (root, "db-session") for name, root in build(base, args.files).items()}
        for item in args.corpus:
            name, _, n = item.partition(":")
            root = replicated(base, name, int(n or 1))
            if root is None:
                print(f"{name}: skipped (not in {CORPUS})")
                continue
            corpora[root.name] = (root, RECIPES.get(name, "db-session"))
        print(f"{'corpus':<12} {'libcst noop -j2':>16} {'apply --dry-run':>16} {'ours/runner':>12} "
              f"{'noop RSS':>9} {'ours RSS':>9}")
        for name, (root, recipe) in corpora.items():
            runner: list[float] = []
            ours: list[float] = []
            rss = [0, 0]
            for _ in range(args.rounds):
                copy = base / f"{name}-copy"
                shutil.rmtree(copy, ignore_errors=True)
                shutil.copytree(root, copy)
                t, m = _time([str(BIN / "python"), "-m", "libcst.tool", "codemod", "noop.NOOPCommand",
                              "--jobs=2", "--no-format", "--hide-progress", "."], copy)
                runner.append(t)
                rss[0] = max(rss[0], m)
                t, m = _time([str(BIN / "migrator-tui"), "apply", "--dry-run", "--all", "--recipe", recipe,
                              "."], root)
                ours.append(t)
                rss[1] = max(rss[1], m)
            r, o = statistics.median(runner), statistics.median(ours)
            print(f"{name:<12} {r:>15.2f}s {o:>15.2f}s {o / r:>11.2f}x {rss[0] / 1024:>6.0f} MB "
                  f"{rss[1] / 1024:>6.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
