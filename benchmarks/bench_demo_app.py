"""The demo app's request suite before and after the migration: per-route time ratio after / before.

    python benchmarks/bench_demo_app.py [--requests N] [--rounds R] [--repo PATH]

Without `--repo`: builds the demo repository in a temporary folder; "before" is the demo as built,
"after" is the demo with every `safe` proposal applied (`FileAnalysis.apply`). Only `safe` ones:
they are the proposals the demo's own tests prove harmless (tests/test_demo_oracle.py), so both
variants answer every request of the suite the same way; `review` proposals change some answers
(that is what their warnings say), and timing a different answer compares nothing.

With `--repo PATH` (a review of the demo): "before" is the review's base commit, "after" the tip of
its integration branch (`migrate/<recipe>/all`, which must exist), each checked out in a temporary
`git worktree` (removed afterwards); the result is also written as JSON to the review's state
folder (`.git/migrator/<recipe>/benchmark.json`), where `migrator-tui report` reads it.

Each variant runs in a worker process of its own (so the two versions of the app's modules never
mix in one interpreter), on a fresh SQLite database seeded the same way, through Flask's test
client, logged in as an admin. The workers stay up and are asked in turn, route by route, in an
order that rotates, for one warm-up request and N timed ones, so a change of machine load hits
every variant alike. A third worker runs the "before" code again: the spread between two runs of
the same code is printed beside the ratio (`before/before`). The figure per route is the median
over rounds. Status codes
must be equal before and after, or the route is flagged. `get_db_session()` runs an extra
`SELECT 1` and commits on exit, so read-only routes that move to it are expected to get slower.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

#: GET routes of the demo that only read (the same request can be repeated), with ids seeded below.
ROUTES = [
    "/", "/images", "/images/1", "/review", "/platforms", "/api/platforms", "/api/captions/stats",
    "/api/images/1/status", "/export/captions.csv", "/health", "/reviewer/queue",
    "/api/images/statuses", "/admin/dashboard", "/admin/health", "/admin/users", "/admin/users/1",
]

WORKER = r'''
import json, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, ".")
import logging
logging.disable(logging.CRITICAL)
from sqlalchemy.orm import Session
import web_app
from models import Image, PlatformConnection, ProcessingRun, User

tmp = tempfile.mkdtemp()
app = web_app.create_app(f"sqlite:///{tmp}/bench.db", TESTING=True)
with Session(web_app.db_manager.engine) as s:
    admin = User(username="admin", email="admin@example.com", role="admin", active=True)
    admin.set_password("pw")
    s.add(admin)
    for i in range(20):
        u = User(username=f"user{i}", email=f"user{i}@example.com", role="viewer", active=i % 3 != 0)
        u.set_password("pw")
        s.add(u)
    s.commit()
    s.add(PlatformConnection(user_id=admin.id, name="Home", platform_type="mastodon",
                             instance_url="https://mastodon.example", access_token="t", is_default=True))
    s.commit()
    for i in range(40):
        status = ("pending", "generated", "approved")[i % 3]
        s.add(Image(user_id=admin.id, filename=f"img{i}.jpg", status=status,
                    generated_caption=f"caption {i}", platform_id=1))
        s.add(ProcessingRun(user_id=admin.id, status="completed", images_processed=i))
    s.commit()
client = app.test_client()
assert client.post("/login", data={"username": "admin", "password": "pw"}).status_code == 302
print("ready", flush=True)
for line in sys.stdin:  # "<n> <route>": time n requests of one route
    n, route = line.split(" ", 1)
    route, n = route.strip(), int(n)
    status = client.get(route).status_code
    t0 = time.perf_counter()
    for _ in range(n):
        client.get(route)
    print(json.dumps({"ms": (time.perf_counter() - t0) * 1000 / n, "status": status}), flush=True)
web_app.db_manager.engine.dispose()
'''


class Variant:
    """One version of the app in a worker process of its own, timing routes on request."""

    def __init__(self, tree: Path) -> None:
        self.tree = tree
        self.proc = subprocess.Popen([sys.executable, "-c", WORKER], cwd=tree, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self._expect("ready")

    def _expect(self, what: str) -> str:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line or (what and line.strip() != what):
            err = self.proc.stderr.read() if self.proc.stderr else ""
            raise SystemExit(f"the request suite failed in {self.tree}:\n{line}{err[-3000:]}")
        return line

    def time(self, route: str, n: int) -> dict[str, float]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"{n} {route}\n")
        self.proc.stdin.flush()
        return json.loads(self._expect(""))

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def measure(before: Path, after: Path, n: int, rounds: int) -> list[dict[str, object]]:
    """Median ms per request of each route, the variants interleaved route by route in rotating order."""
    names = ("before", "after", "again")
    samples: dict[str, dict[str, list[float]]] = {k: {} for k in names}
    status: dict[str, dict[str, int]] = {k: {} for k in names}
    # "again" is the before tree in a second process: the spread between two runs of the same code
    variants = {"before": Variant(before), "after": Variant(after), "again": Variant(before)}
    try:
        for r in range(rounds):
            for i, route in enumerate(ROUTES):
                k = (r + i) % 3
                for name in names[k:] + names[:k]:
                    res = variants[name].time(route, n)
                    samples[name].setdefault(route, []).append(res["ms"])
                    status[name][route] = int(res["status"])
            print(f"round {r + 1}/{rounds} done", file=sys.stderr)
    finally:
        for v in variants.values():
            v.close()
    rows = []
    for route in ROUTES:
        b = statistics.median(samples["before"][route])
        a = statistics.median(samples["after"][route])
        again = statistics.median(samples["again"][route])
        rows.append({"route": f"GET {route}", "before_ms": round(b, 4), "after_ms": round(a, 4),
                     "ratio": round(a / b, 3), "noise": round(again / b, 3),
                     "status_before": status["before"][route], "status_after": status["after"][route]})
    return rows


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout.strip()


def demo_variants(work: Path) -> tuple[Path, Path, dict[str, object], dict[str, object]]:
    from migrator_tui.demo.build import build_demo
    from migrator_tui.recipe import load_recipe
    from migrator_tui.rewrite import FileAnalysis
    from migrator_tui.rewrite.proposal import Choice
    from migrator_tui.scan import scan

    before = work / "before"
    sha = build_demo(before)
    after = work / "after"
    shutil.copytree(before, after, ignore=shutil.ignore_patterns(".git"))
    recipe = load_recipe()
    applied = 0
    for path, occs in scan(before, recipe).by_path().items():
        fa = FileAnalysis((before / path).read_text(), occs, recipe, repo_root=before)
        choices = {}
        for oid in fa.plans:
            p = fa.summary(oid)
            if p.confidence == "safe" and p.strategy:
                choices[oid] = Choice(p.strategy)
        if choices:
            (after / path).write_text(fa.apply(choices))
            applied += len(choices)
    return before, after, {"label": "demo as built", "sha": sha}, \
        {"label": f"demo with its {applied} safe proposals applied", "sha": None}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=50, help="timed requests per route and round")
    parser.add_argument("--rounds", type=int, default=4, help="alternating rounds (median is kept)")
    parser.add_argument("--repo", type=Path, default=None,
                        help="a review of the demo: compare its base with its integration branch, save JSON")
    parser.add_argument("--recipe", default=None, help="the review's recipe (default: db-session)")
    args = parser.parse_args()

    from migrator_tui.review.state import atomic_write, utc_now

    work = Path(tempfile.mkdtemp(prefix="bench-demo-app-"))
    worktrees: list[Path] = []
    try:
        if args.repo is None:
            before, after, b_info, a_info = demo_variants(work)
            out_file = None
        else:
            from migrator_tui.checks.report import BENCHMARK_FILE
            from migrator_tui.recipe import load_recipe
            from migrator_tui.review.workspace import open_readonly

            recipe = load_recipe(args.recipe)
            ws = open_readonly(args.repo, recipe)
            try:
                root, base = ws.root, ws.state.base
                branch = ws.flow.integration_branch
                tip = ws.flow.tips_of([branch]).get(branch)
                out_file = ws.state.path.parent / BENCHMARK_FILE
            finally:
                ws.close()
            if tip is None:
                raise SystemExit(f"{branch} does not exist: run `migrator-tui integrate` first.")
            before, after = work / "before", work / "after"
            for tree, sha in ((before, base), (after, tip)):
                _git(root, "worktree", "add", "--detach", "--quiet", str(tree), sha)
                worktrees.append(tree)
            b_info, a_info = {"label": "base", "sha": base}, {"label": branch, "sha": tip}
        rows = measure(before, after, args.requests, args.rounds)
    finally:
        for tree in worktrees:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=args.repo,
                           capture_output=True, check=False)
        if worktrees:
            subprocess.run(["git", "worktree", "prune"], cwd=args.repo, capture_output=True, check=False)
        shutil.rmtree(work, ignore_errors=True)

    print(f"before: {b_info['label']}  after: {a_info['label']}")
    print(f"{args.requests} requests per route and round, {args.rounds} alternating rounds, median per route")
    print(f"{'route':<28} {'before ms':>10} {'after ms':>10} {'after/before':>13} {'before/before':>14}")
    for row in rows:
        flag = "" if row["status_before"] == row["status_after"] else \
            f"  (status {row['status_before']} -> {row['status_after']})"
        print(f"{row['route']:<28} {row['before_ms']:>10.3f} {row['after_ms']:>10.3f} "
              f"{row['ratio']:>12.2f}× {row['noise']:>13.2f}×{flag}")
    ratios = [float(r["ratio"]) for r in rows]
    noise = [float(r["noise"]) for r in rows]
    print(f"after/before: geometric mean {statistics.geometric_mean(ratios):.2f}×, worst {max(ratios):.2f}×; "
          f"two runs of the same tree: {min(noise):.2f}× to {max(noise):.2f}×")
    if out_file is not None:
        data = {"version": 1, "time": utc_now(), "requests": args.requests, "rounds": args.rounds,
                "before": b_info, "after": a_info, "routes": rows}
        atomic_write(out_file, (json.dumps(data, indent=1) + "\n").encode())
        print(f"written to {out_file}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
