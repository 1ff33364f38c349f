"""Benchmark a rescan after an edit: `scan --json` once (kept), one file with occurrences edited,
`scan --json` again (the rescan), against `scan --json --no-cache` of the same edited tree.

Not a test. For each corpus (the demo ×10 and the dense corpus of `bench_scan.py`, and the
corpus's wegent with its recipe when `../shared/corpus` is present), in alternating rounds: a
fresh edit of one file (a comment with new text appended, so no kept result covers it), then the
rescan and the cold scan as subprocesses; the outputs must be identical (else it stops). Prints
the median wall time of each and their ratio.

    .venv/bin/python benchmarks/bench_rescan.py [--rounds 3] [--keep DIR] [--tool CMD]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_scan import BIN, RUN_ENV, _git_commit, dense_corpus, replicated_demo

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"


TOOL = [str(BIN / "migrator-tui")]


def _scan(root: Path, recipe: str, *extra: str) -> tuple[float, bytes]:
    cmd = [*TOOL, "scan", "--json", "--recipe", recipe, *extra]
    start = time.perf_counter()
    out = subprocess.run(cmd, cwd=root, capture_output=True, check=True, env=RUN_ENV).stdout
    return time.perf_counter() - start, out


def corpora(base: Path) -> list[tuple[str, Path, str]]:
    found = []
    demo = replicated_demo(base, 10)
    if demo is not None:
        found.append(("demo ×10", demo, "db-session"))
    found.append(("dense", dense_corpus(base), "db-session"))
    if (CORPUS / "wegent").is_dir():
        wegent = base / "wegent"
        shutil.copytree(CORPUS / "wegent", wegent, symlinks=True)
        _git_commit(wegent)
        found.append(("wegent", wegent, "sqlalchemy-sessionmaker"))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="build the corpora here and keep them")
    parser.add_argument("--tool", help="the command to run instead of this environment's migrator-tui")
    args = parser.parse_args()
    if args.tool:
        TOOL[:] = [args.tool]
    with tempfile.TemporaryDirectory() as tmp:
        base = args.keep or Path(tmp)
        base.mkdir(parents=True, exist_ok=True)
        print(f"{'corpus':<10} {'edited file':<48} {'rescan':>8} {'cold':>8} {'rescan/cold':>12}")
        for name, root, recipe in corpora(base):
            _, out = _scan(root, recipe)
            doc = json.loads(out)
            files = [f["path"] for p in doc["phases"] for f in p["files"]]
            edited = root / files[len(files) // 2]
            original = edited.read_bytes()
            rescans, colds = [], []
            for k in range(args.rounds):
                _scan(root, recipe)  # (the kept result is of the tree before the edit)
                edited.write_bytes(original + f"\n# edit {time.time_ns()} {k}\n".encode())
                t, rescanned = _scan(root, recipe)
                c, cold = _scan(root, recipe, "--no-cache")
                if rescanned != cold:
                    raise SystemExit(f"{name}: the rescan's output differs from the cold scan's")
                rescans.append(t)
                colds.append(c)
                edited.write_bytes(original)
            r, c = statistics.median(rescans), statistics.median(colds)
            rel = edited.relative_to(root).as_posix()
            print(f"{name:<10} {rel[-48:]:<48} {r:>7.2f}s {c:>7.2f}s {r / c:>11.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
