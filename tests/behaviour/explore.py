"""A longer exploration than the test runs: `python tests/behaviour/explore.py [EXAMPLES] [SEED]`.

Prints how many programs and proposals were checked, the difference kinds seen, the manual
reasons, and the first unexplained difference of each (strategy, kinds) family, with its programs.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hypothesis import HealthCheck, given, seed, settings

from behaviour.check import Stats, check
from behaviour.known_bugs import known_bug
from behaviour.programs import programs


def main(argv: list[str]) -> int:
    examples = int(argv[0]) if argv else 3000
    rng_seed = int(argv[1]) if len(argv) > 1 else 20240611
    stats = Stats()
    families: dict[tuple[str, ...], str] = {}
    counts: dict[tuple[str, ...], int] = {}

    @seed(rng_seed)
    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(programs())
    def run(program):  # type: ignore[no-untyped-def]
        bug = known_bug(program)
        for f in check(program, stats):
            key = (bug or "new", f.strategy, f.confidence, *sorted({d.kind for d in f.bad}))
            counts[key] = counts.get(key, 0) + 1
            if key not in families or len(f.before) < len(families[key]):
                families[key] = f.report()

    run()
    print(f"programs: {stats.programs}, proposals run: {sum(stats.checked.values())}, "
          f"configurations run: {stats.runs}")
    for k, n in sorted(stats.checked.items()):
        print(f"  checked {k}: {n}")
    for k, n in stats.manual.most_common():
        print(f"  manual: {n} × {k}")
    for k, n in stats.kinds.most_common():
        print(f"  difference {k}: {n} runs")
    for k, n in sorted(stats.explained_by.items()):
        print(f"  explained {k}: {n} runs")
    print(f"unexplained families: {len(families)} "
          f"(outside the known bugs: {sum(1 for k in families if k[0] == 'new')})")
    for key, text in families.items():
        print("=" * 100)
        print(f"{counts[key]} proposals: {key}")
        print(text)
    return 1 if families else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
