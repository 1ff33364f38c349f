"""What no scan or dry run written on CPython's `ast` and libcst can go below, beside the peers.

Not a test. The speed goals compare a whole scan with proposals to ast-grep's bare search, and a
whole dry run to libcst's noop codemod runner. This script measures, in the same alternating
rounds, the parts of either that no analysis can remove, so each goal can be read against them:

- `python -c pass`: starting this environment's interpreter;
- imports: the interpreter importing the modules a cold scan loads (`migrator_tui.review.cache`
  and the analysis behind it), then `libcst` (every dry run that builds a rewrite loads it);
- parse: reading every Python file git lists, keeping those whose bytes hold the acquire's
  method name (`get_session`), and parsing those with `ast.parse` in 2 forked processes — what any
  analysis on the standard library's tree does before its first question;
- `scan --no-proposals --no-cache`: finding and classifying the occurrences, no analysis;
- `scan --no-cache`: the whole scan with proposals;
- ast-grep's bare search, and (with `--apply`) libcst's noop runner and `apply --dry-run`.

Each floor is printed as a ratio to the peer: a floor at 0.8× ast-grep leaves 0.2× of its time
for everything else the scan does.

    .venv/bin/python benchmarks/bench_floor.py [--rounds 5] [--replicate 10 50] [--apply]

ast-grep comes from `pip install ast-grep-cli`; without it the ratios are not printed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import bench_scan  # (the corpora and the timed run, as bench_scan.py builds them)

BIN = Path(sys.executable).parent

#: Read the Python files git lists, keep those holding the marker, parse them in 2 processes.
PARSE = """
import ast, multiprocessing, subprocess, sys
files = [p.decode() for p in subprocess.run(["git", "ls-files", "-z", "--", "*.py"],
         capture_output=True, check=True).stdout.split(b"\\0") if p]
data = []
for f in files:
    with open(f, "rb") as fh:
        b = fh.read()
    if b"get_session" in b:
        data.append(b)
def parse(chunk):
    for b in chunk:
        ast.parse(b)
    return len(chunk)
halves = [data[0::2], data[1::2]]
with multiprocessing.get_context("fork").Pool(2) as pool:
    assert sum(pool.map(parse, halves)) == len(data)
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--replicate", type=int, nargs="*", default=[10, 50], metavar="N")
    parser.add_argument("--apply", action="store_true",
                        help="also the dry run's floors against libcst's runner")
    args = parser.parse_args()
    python = sys.executable
    tool = [str(BIN / "migrator-tui")] if (BIN / "migrator-tui").exists() else [python, "-m", "migrator_tui"]
    astgrep = shutil.which("ast-grep", path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    commands: dict[str, list[str]] = {
        "python": [python, "-c", "pass"],
        "imports": [python, "-c", "import migrator_tui.review.cache, migrator_tui.rewrite.engine"],
        "parse": [python, "-c", PARSE],
        "--no-proposals": [*tool, "scan", "--json", "--no-proposals", "--no-cache"],
        "scan": [*tool, "scan", "--json", "--no-cache"],
    }
    if astgrep:
        commands["ast-grep"] = [astgrep, "run", "-p", "$A.get_session()", "--lang", "python"]
    if args.apply:
        commands["import libcst"] = [python, "-c", "import libcst"]
        commands["dry run"] = [*tool, "apply", "--dry-run", "--all", "."]
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        corpora: dict[str, Path] = {}
        demo = base / "demo"
        if bench_scan._demo_into(demo):
            bench_scan._git_commit(demo)
            corpora["demo"] = demo
        for n in args.replicate:
            root = bench_scan.replicated_demo(base, n)
            if root is not None:
                corpora[f"demo×{n}"] = root
        corpora["dense"] = bench_scan.dense_corpus(base)
        print(f"median of {args.rounds} alternating rounds, seconds; {os.cpu_count()} CPUs")
        names = list(commands) + (["noop"] if args.apply else [])
        print(f"{'corpus':<9}" + "".join(f"{n:>15}" for n in names))
        for name, root in corpora.items():
            times: dict[str, list[float]] = {n: [] for n in names}
            for _ in range(args.rounds):
                for label, cmd in commands.items():
                    times[label].append(bench_scan._run(cmd, root)[0])
                if args.apply:
                    copy = base / f"{name}-copy"
                    shutil.rmtree(copy, ignore_errors=True)
                    shutil.copytree(root, copy)
                    noop = [python, "-m", "libcst.tool", "codemod", "noop.NOOPCommand", "--jobs=2",
                            "--no-format", "--hide-progress", "."]
                    times["noop"].append(bench_scan._run(noop, copy)[0])
            med = {n: statistics.median(v) for n, v in times.items()}
            print(f"{name:<9}" + "".join(f"{med[n]:>15.3f}" for n in names))
            if astgrep:
                peer = med["ast-grep"]
                print(f"{'':<9}" + "".join(f"{med[n] / peer:>14.2f}x" for n in commands if n != "ast-grep")
                      + "   (/ ast-grep)")
            if args.apply:
                peer = med["noop"]
                print(f"{'':<9}" + "".join(f"{med[n] / peer:>14.2f}x" for n in ("import libcst", "dry run"))
                      + "   (import libcst, dry run / libcst noop)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
