"""How many decisions a full review by cluster takes, made for real through the review core.

Not a test. Generates a 1,000-site repository (`sqlalchemy-sessionmaker` recipe): most sites in the
eight alike shapes of `bench_clusters.py` (random names, models and literals), a few distinct ones
(a none-guard, a handler that swallows, statements after the close, a session handed out, a
nested try...), some of them `review`. Then a scripted reviewer goes through it as the TUI's cluster
view offers: per cluster one decision (a `safe` one accepted at once; a `review` one accepted after
its random sample, each sample member one confirmation), and each occurrence in no cluster decided
alone. Every decision goes through `Workspace.decide_group` / `decide`, as in the TUI, and the
report's `decision_counts` counts them from the saved state. Prints those counts against the
baseline of one decision per site.

    .venv/bin/python benchmarks/bench_cluster_review.py [--sites 1000] [--seed 7]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_clusters import SHAPES, WORDS, commit

#: Shapes met only a few times: each forms its own small cluster or none.
DISTINCT = [
    "def {f}({a}):\n    {s} = None\n    try:\n        {s} = SessionLocal()\n"
    "        return {s}.get({M}, {a})\n    finally:\n        if {s} is not None:\n            {s}.close()\n",
    "def {f}({a}):\n    {s} = SessionLocal()\n    try:\n        {s}.add({M}(id={a}))\n        {s}.commit()\n"
    "    except ValueError:\n        return None\n    finally:\n        {s}.close()\n",
    "def {f}({a}):\n    {s} = SessionLocal()\n    try:\n        rows = {s}.query({M}).all()\n    finally:\n"
    "        {s}.close()\n    return [r.{a} for r in rows]\n",
    "def {f}({a}):\n    {s} = SessionLocal()\n    return {s}\n",
    "def {f}({a}):\n    {s} = SessionLocal()\n    try:\n        try:\n            return {s}.get({M}, {a})\n"
    "        except KeyError:\n            {s}.rollback()\n            raise\n"
    "    finally:\n        {s}.close()\n",
    "def {f}({a}):\n    {s} = SessionLocal()\n    for _ in range({n}):\n        {s}.execute('select 1')\n"
    "    {s}.close()\n",
    "def {f}({a}):\n    {s} = SessionLocal()\n    {s}.close()\n    return {s}.get({M}, {a})\n",
    "def {f}({a}):\n    {s} = SessionLocal()\n    try:\n        cache[{a}] = {s}\n"
    "        return {s}.get({M}, {a})\n    finally:\n        {s}.close()\n",
]
#: Of every 1,000 sites, this many are in the distinct shapes.
DISTINCT_SITES = 40


def generate(root: Path, sites: int, seed: int) -> Path:
    rng = random.Random(seed)
    per_file = 25
    distinct = max(1, sites * DISTINCT_SITES // 1000)
    kinds = [DISTINCT[i % len(DISTINCT)] for i in range(distinct)] + [rng.choice(SHAPES)
                                                                      for _ in range(sites - distinct)]
    rng.shuffle(kinds)
    for i in range(0, sites, per_file):
        parts = ["from app.database import SessionLocal\nfrom app.models import *  # noqa: F403\n"]
        for j, shape in enumerate(kinds[i : i + per_file]):
            word = rng.choice(WORDS)
            parts.append("\n\n" + shape.format(
                f=f"{word}_{i}_{j}", a=rng.choice(WORDS) + "_id", s=rng.choice(["db", "session", "s"]),
                M=rng.choice(WORDS).title(), n=rng.randint(1, 500)))
        (root / f"module_{i // per_file:03}.py").write_text("".join(parts))
    return commit(root)


def review(root: Path, seed: int) -> dict[str, int]:
    """A full review by cluster, every decision recorded in the review state; the counts."""
    from migrator_tui.checks.report import decision_counts
    from migrator_tui.recipe import load_recipe
    from migrator_tui.review import cluster_decision as cd
    from migrator_tui.review.workspace import Workspace
    from migrator_tui.rewrite.batch import cluster_members
    from migrator_tui.rewrite.clusters import clusters

    recipe = load_recipe("sqlalchemy-sessionmaker")
    rng = random.Random(seed)
    with Workspace.open(root, recipe) as ws:
        ws.scan_base()
        assert ws.scan is not None
        members = cluster_members(ws.root, ws.scan.by_path(), recipe)
        found = clusters(members)
        confirmations = review_clusters = 0
        for cluster in found:
            sc = cd.scope(cluster, ws.state.decisions)
            seen = cluster.representative  # its diff is what the reviewer reads first
            if cluster.confidence == "safe":
                decisions = cd.decide_all(sc, "accepted")
            else:
                review_clusters += 1
                sample = cd.pick_sample(sc, seen, rng)
                confirmations += len(sample)
                decisions = cd.decide_sampled(sc, seen, sample, [True] * len(sample))
            ws.decide_group(cd.new_group_id(cluster), decisions)
        singles = [m for m in members if m.confidence == "manual"]
        with ws.state.batch():
            for m in singles:  # no automatic rewrite: each one read and rejected (or edited) alone
                ws.decide(m.id, "rejected")
        counts = decision_counts(list(ws.state.decisions.values()))
    return {"sites": ws.scan.total, "clusters": len(found), "review_clusters": review_clusters,
            "largest": max((c.size for c in found), default=0), "confirmations": confirmations, **counts}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "generated"
        root.mkdir()
        generate(root, args.sites, args.seed)
        start = time.monotonic()
        r = review(root, args.seed)
        seconds = time.monotonic() - start
    work = r["decisions"] + r["confirmations"]
    print(f"{r['sites']:,} sites: {r['clusters']} clusters ({r['review_clusters']} review, largest "
          f"{r['largest']})")
    print(f"  {r['occurrences']:,} occurrences decided in {r['decisions']} decisions: "
          f"{r['cluster_decisions']} cluster decisions ({r['cluster_occurrences']:,} occurrences) + "
          f"{r['single']} single; {r['confirmations']} sample confirmations")
    print(f"  a full review: {work} reviewer actions (decisions + confirmations) instead of {r['sites']:,} "
          f"({work / r['sites']:.3f} per site); scan, clustering and recording took {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
