"""Benchmark `migrator-tui apply --dry-run` against libcst's own codemod runner.

Not a test. On the demo repository and on the dense corpus (2,000 generated service modules with
3 occurrences each, the same as `bench_scan.py`), runs in alternating rounds:

- `python -m libcst.tool codemod noop.NOOPCommand --jobs=2 --no-format .` — libcst's runner with a
  codemod that changes nothing (the floor of any libcst codemod: parse and print every file);
- `migrator-tui apply --dry-run .` — scan, analyse, build and prove every proposal, print diffs.

Each runs as a subprocess on its own copy of the corpus (the codemod runner rewrites files in
place), and the script prints the median wall time of each and the ratio runner / ours (above 1
means ours is faster).

    .venv/bin/python benchmarks/bench_apply.py [--rounds 3] [--files 2000]
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
HERE = Path(__file__).parent


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
    dense = base / "dense"
    for n in range(files):
        path = dense / f"services/group_{n // 100:02}/service_{n:04}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(scan_bench.DENSE_MODULE.format(n=n))
    scan_bench._git_commit(dense)
    corpora["dense"] = dense
    return corpora


def _time(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{cmd[0]} failed in {cwd}: {proc.stderr.decode()[-500:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--files", type=int, default=2000, help="files in the dense corpus")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        corpora = build(base, args.files)
        print(f"{'corpus':<8} {'libcst noop -j2':>16} {'apply --dry-run':>16} {'runner/ours':>12}")
        for name, root in corpora.items():
            runner: list[float] = []
            ours: list[float] = []
            for _ in range(args.rounds):
                copy = base / f"{name}-copy"
                shutil.rmtree(copy, ignore_errors=True)
                shutil.copytree(root, copy)
                runner.append(_time([str(BIN / "python"), "-m", "libcst.tool", "codemod",
                                     "noop.NOOPCommand", "--jobs=2", "--no-format", "--hide-progress",
                                     "."], copy))
                ours.append(_time([str(BIN / "migrator-tui"), "apply", "--dry-run", "--all", "."], root))
            r, o = statistics.median(runner), statistics.median(ours)
            print(f"{name:<8} {r:>15.2f}s {o:>15.2f}s {r / o:>11.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
