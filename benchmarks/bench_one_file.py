"""Growth with the number of sites in one file: `apply --dry-run`, `--in-place` and branch commits.

Not a test. Generates one module with N hand-closed sessions (N = 300, 600, 1200, 2400 by
default), runs each mode on a fresh git copy, and prints the wall time, the peak RSS of the child
and the growth exponent between consecutive sizes (log2 of the time ratio when N doubles: 1.0 is
linear, 2.0 quadratic). The sizes are the baseline of each other, in the same run.

    .venv/bin/python benchmarks/bench_one_file.py [--sizes 300 600 1200 2400]
"""

from __future__ import annotations

import argparse
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent / "migrator-tui"
MODES = {
    "dry-run": ["apply", ".", "--dry-run", "--all", "--min-confidence", "review"],
    "in-place": ["apply", ".", "--in-place", "--all", "--min-confidence", "review"],
    "branches": ["apply", ".", "--all", "--min-confidence", "review"],
}


def module(n: int) -> str:
    lines = ["from flask import Flask", "from web_app import unified_session_manager",
             "db_manager = None", ""]
    for i in range(n):
        lines += [f"def f{i}(x):", "    session = db_manager.get_session()", "    try:",
                  f"        return session.query(x).get({i})", "    finally:", "        session.close()", ""]
    return "\n".join(lines) + "\n"


def repo(parent: Path, n: int) -> Path:
    root = parent / f"r{n}"
    root.mkdir()
    (root / "many.py").write_text(module(n))
    env = ["-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(["git", *env, "commit", "-qm", "many"], cwd=root, check=True)
    return root


def run(root: Path, args: list[str]) -> tuple[float, int]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run([str(BIN), *args], cwd=root, check=True, capture_output=True)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, max(peak, before)  # ru_maxrss of children is the largest so far (KB)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[300, 600, 1200, 2400])
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        for mode, cmd in MODES.items():
            previous: tuple[int, float] | None = None
            for n in args.sizes:
                folder = Path(tmp) / mode
                folder.mkdir(exist_ok=True)
                seconds, peak = run(repo(folder, n), cmd)
                growth = ""
                if previous is not None:
                    pn, ps = previous
                    growth = f"  exponent {math.log(seconds / ps) / math.log(n / pn):.2f}"
                print(f"{mode:9} {n:5} sites  {seconds:6.2f} s  peak RSS so far {peak // 1024} MB{growth}")
                previous = (n, seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
