"""How many decisions a review by cluster takes: a generated 1,000-site repository, and the corpora.

Not a test. The generated repository has 40 modules of 25 functions, each one of eight shapes of
hand-closed session met in real code (query and return, write and commit, a rollback handler, a
close without `try`, statements before the `try`, an early return, a generator dependency, a
session handed to a helper), with random names, models and literals. For it, and for every
corpus of `../shared/corpus` named in `truth/labels.tsv` (with its recipe), `scan --clusters
--json` gives the clusters; the script prints sites, clusters, the decisions a reviewer makes
deciding by cluster (manual occurrences one each), the sample confirmations of `review` clusters,
and decisions per site (the baseline is one decision per site, in the same run).

    .venv/bin/python benchmarks/bench_clusters.py [--sites 1000] [--seed 7]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
CORPUS = HERE.parent.parent / "shared" / "corpus"
BIN = Path(sys.executable).parent / "migrator-tui"
sys.path.insert(0, str(HERE))
from bench_corpus import RECIPES  # noqa: E402  (the same recipe for each labelled corpus)

SHAPES = [
    "def {f}({a}):\n    {s} = SessionLocal()\n    try:\n"
    "        return {s}.query({M}).filter_by(id={a}).first()\n    finally:\n        {s}.close()\n",
    "def {f}({a}):\n    {s} = SessionLocal()\n    try:\n        {s}.add({M}(name={a}))\n"
    "        {s}.commit()\n    finally:\n        {s}.close()\n",
    "def {f}({a}):\n    {s} = SessionLocal()\n    try:\n        {s}.merge({M}(id={a}))\n"
    "        {s}.commit()\n    except Exception:\n        {s}.rollback()\n        raise\n"
    "    finally:\n        {s}.close()\n",
    "def {f}({a}):\n    {s} = SessionLocal()\n    rows = {s}.query({M}).limit({n}).all()\n    {s}.close()\n"
    "    return rows\n",
    "def {f}({a}):\n    {s} = SessionLocal()\n    {s}.expire_on_commit = False\n    try:\n"
    "        return {s}.get({M}, {a})\n    finally:\n        {s}.close()\n",
    "def {f}({a}):\n    {s} = SessionLocal()\n    try:\n        found = {s}.get({M}, {a})\n"
    "        if found is None:\n            return {n}\n        return found.{a}\n    finally:\n"
    "        {s}.close()\n",
    "def {f}():\n    {s} = SessionLocal()\n    try:\n        yield {s}\n    finally:\n        {s}.close()\n",
    "def {f}({a}):\n    {s} = SessionLocal()\n    try:\n        return helper_{f}({s}, {a})\n    finally:\n"
    "        {s}.close()\n",
]
WORDS = ["user", "order", "item", "invoice", "token", "report", "job", "event", "account", "video", "tag",
         "quest", "agent", "price", "plan", "note", "file", "run", "task", "query"]


def generate(root: Path, sites: int, seed: int) -> Path:
    rng = random.Random(seed)
    per_file = 25
    for i in range((sites + per_file - 1) // per_file):
        parts = ["from app.database import SessionLocal\nfrom app.models import *  # noqa: F403\n"]
        for j in range(min(per_file, sites - i * per_file)):
            word = rng.choice(WORDS)
            parts.append("\n\n" + rng.choice(SHAPES).format(
                f=f"{word}_{i}_{j}", a=rng.choice(WORDS) + "_id", s=rng.choice(["db", "session", "s"]),
                M=rng.choice(WORDS).title(), n=rng.randint(1, 500)))
        (root / f"module_{i:03}.py").write_text("".join(parts))
    return commit(root)


def commit(root: Path) -> Path:
    env = ["-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(["git", *env, "commit", "-qm", "bench"], cwd=root, check=True)
    return root


def measure(root: Path, recipe: str) -> dict[str, int]:
    out = subprocess.run([str(BIN), "scan", str(root), "--json", "--clusters", "--recipe", recipe],
                         capture_output=True, text=True, check=True)
    doc = json.loads(out.stdout)
    return {"sites": doc["total"], **doc["review_effort"]}


def show(name: str, r: dict[str, int]) -> None:
    per = r["decisions"] / r["sites"] if r["sites"] else 0.0
    print(f"{name:45} {r['sites']:5} sites  {r['clusters']:4} clusters (largest {r['largest']:4})  "
          f"{r['decisions']:4} decisions + {r['confirmations']:3} confirmations  "
          f"{per:.2f} decisions per site (one each: 1.00); safe accepted per phase: "
          f"{r['decisions_accepting_safe']} decisions")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        generated = Path(tmp) / "generated"
        generated.mkdir()
        show(f"generated ({args.sites} sites, seed {args.seed})",
             measure(generate(generated, args.sites, args.seed), "sqlalchemy-sessionmaker"))
        if not CORPUS.is_dir():
            print(f"corpora: skipped ({CORPUS} is not there)")
            return 0
        with (HERE / "truth" / "labels.tsv").open(newline="") as fh:
            pairs = sorted({(r["corpus"], r["recipe"]) for r in csv.DictReader(fh, delimiter="\t")})
        for corpus, recipe in pairs:
            if not (CORPUS / corpus).is_dir():
                continue
            copy = Path(tmp) / f"{corpus}-{recipe}"
            shutil.copytree(CORPUS / corpus, copy, ignore=shutil.ignore_patterns("__pycache__"))
            show(f"{corpus} / {recipe}", measure(commit(copy), RECIPES[recipe]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
