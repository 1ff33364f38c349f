"""Benchmark `migrator-tui scan --json` against `git grep` (the floor) and ast-grep (the fastest peer).

Not a test. Builds three git repositories in a temporary folder:

- demo:   the bundled demo repository;
- sparse: the Python standard library (`Lib/` of this interpreter, without site-packages) plus the
          demo, so a few files among thousands hold an occurrence;
- dense:  2,000 generated service modules with 3 occurrences each.

Then runs, in alternating rounds, `git grep -n get_session`, `ast-grep run -p '$A.get_session()'
--lang python`, `migrator-tui scan --json --no-proposals` (finding and classifying) and
`migrator-tui scan --json` (plus each occurrence's strategy, confidence and warnings; both with
`--no-cache`, cold) and `scan --json` again with the result the first run kept (warm: nothing
changed since) as subprocesses, and prints the median wall time of each, the ratios, and the
scans' peak resident memory (the largest process of a scan).

    .venv/bin/python benchmarks/bench_scan.py [--rounds 5] [--keep DIR] [--replicate 10 50] [--tool CMD]

`--replicate N ...` adds the demo copied N times side by side (`demo×N`, each copy in its own
folder of one repository) and prints the growth exponent of each column between the sizes
(1.0 is linear).

ast-grep comes from `pip install ast-grep-cli`; without it that column is skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
#: Subprocess environment: bytecode caching on (as in an ordinary install; the first, checking run
#: writes the .pyc files), so the scan is not charged for compiling its own modules every time.
RUN_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
GIT_ENV = {**os.environ, "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
           "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.com",
           "GIT_CONFIG_NOSYSTEM": "1"}

DENSE_MODULE = '''"""Generated service module {n}."""

from models import Item


class ItemService{n}:
    def __init__(self, db_manager):
        self.db_manager = db_manager

    def list_items(self, owner_id):
        session = self.db_manager.get_session()
        try:
            return session.query(Item).filter_by(owner_id=owner_id).all()
        finally:
            session.close()

    def add_item(self, owner_id, name):
        session = self.db_manager.get_session()
        try:
            item = Item(owner_id=owner_id, name=name)
            session.add(item)
            session.commit()
            return item.id
        except Exception:
            session.rollback()
            raise
        finally:
            session.close()

    def count(self):
        with self.db_manager.get_session() as session:
            return session.query(Item).count()
'''


def _git_commit(root: Path) -> None:
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "corpus"]):
        subprocess.run(["git", *args], cwd=root, check=True, env=GIT_ENV, capture_output=True)


def _demo_into(target: Path) -> bool:
    try:
        from migrator_tui.demo.build import demo_files
    except ImportError:
        return False
    for rel, data in demo_files():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return True


def replicated_demo(base: Path, copies: int) -> Path | None:
    root = base / f"demo-x{copies}"
    for i in range(copies):
        if not _demo_into(root / f"copy{i:03}"):
            return None
    _git_commit(root)
    return root


def build_corpora(base: Path) -> dict[str, Path]:
    corpora: dict[str, Path] = {}
    demo = base / "demo"
    demo.mkdir()
    if _demo_into(demo):
        _git_commit(demo)
        corpora["demo"] = demo
    else:
        print("demo: skipped (migrator_tui.demo.build is not available)")

    sparse = base / "sparse"
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    shutil.copytree(stdlib, sparse / "Lib", symlinks=True,
                    ignore=shutil.ignore_patterns("site-packages", "__pycache__", "*.pyc"))
    _demo_into(sparse)
    _git_commit(sparse)
    corpora["sparse"] = sparse

    corpora["dense"] = dense_corpus(base)
    return corpora


def dense_corpus(base: Path, modules: int = 2000) -> Path:
    """`modules` generated service modules with 3 occurrences each, in one new repository."""
    dense = base / "dense"
    for n in range(modules):
        path = dense / f"services/group_{n // 100:02}/service_{n:04}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(DENSE_MODULE.format(n=n))
    _git_commit(dense)
    return dense


def _py_stats(root: Path) -> tuple[int, float]:
    out = subprocess.run(["git", "ls-files", "-z", "--", "*.py"], cwd=root, capture_output=True,
                         check=True).stdout.split(b"\0")
    paths = [root / p.decode() for p in out if p]
    return len(paths), sum(p.stat().st_size for p in paths if p.is_file() and not p.is_symlink()) / 1e6


def _run(cmd: list[str], cwd: Path) -> tuple[float, int]:
    """Wall time of one run and the peak RSS (KiB) of its largest process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=RUN_ENV)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{cmd[0]} failed with exit code {proc.returncode} in {cwd}")
    return elapsed, usage.ru_maxrss


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="build the corpora here and keep them")
    parser.add_argument("--replicate", type=int, nargs="*", default=[], metavar="N",
                        help="also the demo copied N times (several sizes: the growth between them)")
    parser.add_argument("--only-replicated", action="store_true", help="skip demo, sparse and dense")
    parser.add_argument("--tool", help="the command to run instead of this environment's migrator-tui "
                                       "(another build, for a side-by-side run)")
    args = parser.parse_args()

    astgrep = shutil.which("ast-grep", path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    scan_cmd = [str(BIN / "migrator-tui"), "scan", "--json"]
    if not (BIN / "migrator-tui").exists():
        scan_cmd = [sys.executable, "-m", "migrator_tui", "scan", "--json"]
    if args.tool:
        scan_cmd = [args.tool, "scan", "--json"]
    tools: dict[str, list[str]] = {"git grep": ["git", "grep", "-n", "get_session"]}
    if astgrep:
        tools["ast-grep"] = [astgrep, "run", "-p", "$A.get_session()", "--lang", "python"]
    else:
        print("ast-grep: not installed (pip install ast-grep-cli), its column is skipped")
    tools["scan"] = [*scan_cmd, "--no-proposals", "--no-cache"]
    tools["scan+proposals"] = [*scan_cmd, "--no-cache"]
    tools["warm"] = scan_cmd  # the kept result of the checking run, below

    with tempfile.TemporaryDirectory() as tmp:
        base = args.keep or Path(tmp)
        base.mkdir(parents=True, exist_ok=True)
        corpora = {} if args.only_replicated else build_corpora(base)
        for n in args.replicate:
            root = replicated_demo(base, n)
            if root is not None:
                corpora[f"demo×{n}"] = root
        rows = []
        for name, root in corpora.items():
            files, size = _py_stats(root)
            check = subprocess.run(scan_cmd, cwd=root, capture_output=True, text=True, check=True,
                                   env=RUN_ENV)
            found = json.loads(check.stdout)["total"]
            times: dict[str, list[float]] = {t: [] for t in tools}
            peak = 0
            for _ in range(args.rounds):
                for tool, cmd in tools.items():
                    elapsed, rss = _run(cmd, root)
                    times[tool].append(elapsed)
                    if tool.startswith("scan"):
                        peak = max(peak, rss)
            med = {t: statistics.median(v) for t, v in times.items()}
            rows.append((name, files, size, found, med, peak))

    head = f"{'corpus':<8}{'files':>7}{'MB':>7}{'found':>7}{'git grep':>10}"
    head += f"{'ast-grep':>10}" if astgrep else ""
    head += f"{'scan':>9}{'scan/ast-grep':>15}{'scan/git grep':>15}{'+proposals':>12}{'/ast-grep':>11}"
    head += f"{'warm':>8}{'/ast-grep':>11}{'peak RSS':>10}"
    print(f"\nmedian of {args.rounds} alternating rounds, seconds; {os.cpu_count()} CPUs")
    print(head)
    for name, files, size, found, med, peak in rows:
        line = f"{name:<8}{files:>7}{size:>7.1f}{found:>7}{med['git grep']:>10.3f}"
        if astgrep:
            line += f"{med['ast-grep']:>10.3f}"
        line += f"{med['scan']:>9.3f}"
        line += f"{med['scan'] / med['ast-grep']:>14.2f}x" if astgrep else f"{'-':>15}"
        line += f"{med['scan'] / med['git grep']:>14.1f}x{med['scan+proposals']:>12.3f}"
        line += f"{med['scan+proposals'] / med['ast-grep']:>10.2f}x" if astgrep else f"{'-':>11}"
        line += f"{med['warm']:>8.3f}"
        line += f"{med['warm'] / med['ast-grep']:>10.2f}x" if astgrep else f"{'-':>11}"
        line += f"{peak / 1024:>7.0f} MB"
        print(line)
    _growth(rows)
    return 0


def _growth(rows: list) -> None:  # type: ignore[type-arg]
    """The growth exponent of each column between consecutive replicated sizes."""
    import itertools
    import math

    sized = [(int(r[0].split("×")[1]), r) for r in rows if "×" in r[0]]
    for (n1, r1), (n2, r2) in itertools.pairwise(sized):
        parts = [f"{tool} {math.log(r2[4][tool] / r1[4][tool]) / math.log(n2 / n1):.2f}"
                 for tool in r1[4] if r1[4][tool] > 0 and r2[4][tool] > 0]
        print(f"growth exponent demo×{n1} → demo×{n2}: " + ", ".join(parts))


if __name__ == "__main__":
    raise SystemExit(main())
