"""One program through the engine and the fakes: every strategy, every configuration, checked."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from behaviour.compare import EXPLAINED_BY, Difference, differences, unexplained
from behaviour.programs import Program
from behaviour.runner import RECIPE, analyse, configs, load, observe, proposals, rewrite


@dataclass
class Stats:
    """What a batch of checks saw (for the exploration script and the test's sanity checks)."""

    programs: int = 0
    checked: Counter[str] = field(default_factory=Counter)  # "strategy confidence" → proposals run
    manual: Counter[str] = field(default_factory=Counter)  # manual reason → count
    runs: int = 0
    kinds: Counter[str] = field(default_factory=Counter)  # difference kind → runs showing it
    explained_by: Counter[str] = field(default_factory=Counter)  # "kind ← code": the code that explained it
    failures: list[str] = field(default_factory=list)


@dataclass
class Failure:
    program: Program
    strategy: str
    confidence: str
    codes: list[str]
    config: str
    bad: list[Difference]
    diffs: list[Difference]
    before: str
    after: str
    old: object
    new: object

    def report(self) -> str:
        bad = "\n".join(f"  - {d.kind}: {d.detail}" for d in self.bad)
        allk = ", ".join(sorted({d.kind for d in self.diffs}))
        return (f"strategy {self.strategy} ({self.confidence}, warnings: {', '.join(self.codes) or 'none'}), "
                f"{self.config}\nunexplained:\n{bad}\nall differences: {allk}\n"
                f"--- original\n{self.before}--- rewritten\n{self.after}"
                f"--- original run\n{self.old}\n--- rewritten run\n{self.new}\n")


def check(program: Program, stats: Stats) -> list[Failure]:
    source = program.source()
    fa, occ_id = analyse(source)
    stats.programs += 1
    original = load(source)
    failures: list[Failure] = []
    for p in proposals(fa, occ_id):
        if p.is_manual:
            stats.manual[(p.manual_reason or "?").split(" (")[0]] += 1
            continue
        assert p.strategy is not None
        stats.checked[f"{p.strategy} {p.confidence}"] += 1
        codes = {w.code for w in p.warnings}
        new_source = rewrite(fa, occ_id, p.strategy)
        rewritten = load(new_source)
        for config in configs(RECIPE.strategies[p.strategy].kind):
            old, new = observe(original, config), observe(rewritten, config)
            stats.runs += 1
            diffs = differences(old, new)
            for d in diffs:
                stats.kinds[d.kind] += 1
                for c in sorted(EXPLAINED_BY.get(d.kind, frozenset()) & codes):
                    stats.explained_by[f"{d.kind} ← {c}"] += 1
            bad = unexplained(diffs, codes, p.confidence)
            if bad:
                failures.append(Failure(program, p.strategy, p.confidence, sorted(codes), config.label, bad,
                                        diffs, source, new_source, old, new))
                break  # one failing configuration per strategy is enough to report
    return failures
