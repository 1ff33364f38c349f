"""A Markdown report of a migration, built only from facts in the review state and the repository.

Sources: the scan of the working tree (occurrences, their phase), the rewrite engine's summaries
(strategy, confidence, warnings of each proposal), the review state (decisions, commits,
verifications), the per-file branches and the integration branch (tips, validation at that ref),
and the demo benchmark's result file when it was written (`BENCHMARK_FILE` in the state folder).

The output is deterministic: everything is sorted, paths are relative to the repository, times
are the UTC ISO times recorded in the state, and no generation time is written. Each box of the
spec's success-criteria checklist is ticked only when a fact proves it; the rule used is printed
beside it, and the criteria this tool cannot check stay unticked with that reason.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from migrator_tui.checks.coverage import describe_block, executed
from migrator_tui.checks.verify import BASE, INTEGRATION, badge, passed_at
from migrator_tui.errors import printable

if TYPE_CHECKING:
    from migrator_tui.checks.validate import Validation
    from migrator_tui.recipe import Recipe
    from migrator_tui.review.state import BlockCoverage, CoverageRun, DecisionRecord, Verification
    from migrator_tui.review.workspace import FileRow

#: The benchmark result `benchmarks/bench_demo_app.py --repo PATH` writes in the state folder.
BENCHMARK_FILE = "benchmark.json"
#: A route at most this many times slower after the migration than before is not a degradation.
SLOWDOWN_THRESHOLD = 1.25
NOT_CHECKED = "not checked by this tool"


@dataclass(frozen=True, slots=True)
class OccurrenceFacts:
    id: str
    path: str
    line: int
    function: str
    phase: int | None
    strategy: str | None
    confidence: str
    warnings: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Criterion:
    text: str
    checked: bool
    rule: str
    fact: str


@dataclass(slots=True)
class Facts:
    recipe: Recipe
    root: Path
    base: str
    head: str
    started: str
    prefix: str
    occurrences: list[OccurrenceFacts] = field(default_factory=list)
    decisions: list[DecisionRecord] = field(default_factory=list)
    rows: list[FileRow] = field(default_factory=list)
    verifications: dict[str, Verification] = field(default_factory=dict)
    checks: dict[str, Verification] = field(default_factory=dict)
    integration_branch: str = ""
    integration_tip: str | None = None
    working_tree: Validation | None = None
    integration: Validation | None = None
    benchmark: dict[str, Any] | None = None
    #: Files the engine could not analyse, with the reason.
    unanalysed: dict[str, str] = field(default_factory=dict)


def load_benchmark(state_dir: Path) -> dict[str, Any] | None:
    """The benchmark result in the state folder, None if absent or unreadable."""
    try:
        data = json.loads((Path(state_dir) / BENCHMARK_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("routes"), list):
        return None
    return data


def gather(path: str | Path, recipe: Recipe) -> Facts:
    """Everything the report states, read from the repository at `path` (never written)."""
    from migrator_tui.checks.validate import Validation, validate
    from migrator_tui.review.workspace import open_readonly
    from migrator_tui.rewrite import FileAnalysis, RewriteError
    from migrator_tui.scan import scan

    ws = open_readonly(path, recipe)
    try:
        result = scan(ws.root, recipe)
        ws.load_scan(result)
        state = ws.state
        facts = Facts(recipe=recipe, root=ws.root, base=state.base, head=ws.repo.head.commit.hexsha,
                      started=state.started, prefix=state.prefix)
        for fpath, occs in sorted(result.by_path().items()):
            source = ws.sources.get(fpath)
            try:
                if source is None:
                    raise RewriteError("the file could not be read")
                fa = FileAnalysis(source, occs, recipe, repo_root=ws.root)
            except (RewriteError, SyntaxError, ValueError) as exc:
                facts.unanalysed[fpath] = str(exc) or exc.__class__.__name__
                for o in occs:
                    facts.occurrences.append(OccurrenceFacts(o.id, o.path, o.line, o.function, o.phase,
                                                             None, "manual", ()))
                continue
            for o in sorted(occs, key=lambda o: (o.line, o.id)):
                d = state.decision(o.id)
                chosen = d.strategy if d is not None and d.accepted else None
                try:
                    p = fa.summary(o.id, chosen)
                except RewriteError:
                    p = fa.summary(o.id)
                codes = tuple(dict.fromkeys(w.code for w in p.warnings))
                facts.occurrences.append(OccurrenceFacts(o.id, o.path, o.line, o.function, o.phase,
                                                         p.strategy, p.confidence, codes))
        facts.decisions = sorted(state.decisions.values(), key=lambda d: (d.path, d.line, d.id))
        facts.rows = ws.rows()
        facts.verifications = {p: f.verification for p, f in state.files.items() if f.verification}
        facts.checks = dict(state.checks)
        facts.integration_branch = ws.flow.integration_branch
        facts.integration_tip = ws.flow.tips_of([facts.integration_branch]).get(facts.integration_branch)
        facts.working_tree = Validation(result.root, None, recipe.name, list(result.occurrences),
                                        list(result.excluded), list(result.skipped), result.files_scanned)
        if facts.integration_tip:
            facts.integration = validate(ws.root, recipe, facts.integration_tip)
        facts.benchmark = load_benchmark(state.path.parent)
    finally:
        ws.close()
    return facts


def build_report(path: str | Path, recipe: Recipe) -> str:
    return render(gather(path, recipe))


def decision_counts(decisions: list[DecisionRecord]) -> dict[str, int]:
    """How the current decisions (accepted or rejected, not stale) were made: `occurrences` decided
    in `decisions` reviewer decisions, of which `cluster_decisions` covered `cluster_occurrences`
    (`sample_confirmations` of them confirmed one by one) and `single` were one occurrence each."""
    decided = [d for d in decisions if d.decision != "pending" and not d.stale]
    grouped = [d for d in decided if d.group]
    clusters = len({d.group for d in grouped})
    single = len(decided) - len(grouped)
    return {"occurrences": len(decided), "decisions": clusters + single, "cluster_decisions": clusters,
            "cluster_occurrences": len(grouped),
            "sample_confirmations": sum(d.sampled and d.decision == "accepted" for d in grouped),
            "single": single}


def decision_line(c: dict[str, int]) -> str:
    """`688 occurrences decided in 31 decisions: 25 cluster decisions (612 occurrences, ...), 6 single`."""
    line = (f"{c['occurrences']} occurrence{_s(c['occurrences'])} decided in {c['decisions']} "
            f"decision{_s(c['decisions'])}: {c['cluster_decisions']} cluster decision"
            f"{_s(c['cluster_decisions'])} ({c['cluster_occurrences']} "
            f"occurrence{_s(c['cluster_occurrences'])}")
    if c["sample_confirmations"]:
        line += f", {c['sample_confirmations']} of them confirmed one by one in samples"
    return line + f"), {c['single']} single."


def report_json(f: Facts) -> dict[str, Any]:
    """The report's figures as one JSON object: occurrences by status, how the decisions were made
    (`decision_counts`), and the success criteria."""
    st = Counter(_status({d.id: d for d in f.decisions}, o) for o in f.occurrences)
    return {
        "recipe": f.recipe.name, "base": f.base, "head": f.head,
        "integration": {"branch": f.integration_branch, "tip": f.integration_tip},
        "occurrences": {"total": len(f.occurrences), "accepted": st["accepted"], "rejected": st["rejected"],
                        "pending": st["pending"], "stale": st["stale"], "rolled_back": st["rolled back"]},
        "decisions": decision_counts(f.decisions),
        "criteria": [{"text": c.text, "checked": c.checked, "rule": c.rule, "fact": c.fact}
                     for c in criteria(f)],
    }


# --- the checklist ------------------------------------------------------------------------------


#: The recipe of the migration spec, whose own success criteria (performance of the demo's routes,
#: session context, admin and monitoring) the report adds to the general ones.
SPEC_RECIPE = "db-session"


def criteria(f: Facts) -> list[Criterion]:
    """The success criteria, each ticked only when a fact proves it: for every recipe, migrated,
    tests and error handling; for the spec's recipe, the spec's others too."""
    if f.recipe.name != SPEC_RECIPE:
        return [_all_migrated(f, f"All direct `{f.recipe.acquire.label}` usage migrated"), _tests_pass(f),
                _error_handling(f)]
    return [
        _all_migrated(f, f"All direct `{f.recipe.acquire.label}` usage migrated"),
        _tests_pass(f),
        _performance(f),
        _error_handling(f),
        Criterion("Session context awareness maintained", False, NOT_CHECKED, NOT_CHECKED),
        Criterion("Admin functionality works correctly", False, NOT_CHECKED,
                  NOT_CHECKED + " (only as far as the project's own tests cover it, see above)"),
        Criterion("Monitoring and logging functional", False, NOT_CHECKED, NOT_CHECKED),
    ]


def _all_migrated(f: Facts, text: str) -> Criterion:
    rule = ("ticked only if `validate` on the integration branch finds no direct usage "
            "(the working tree and the per-file branches do not count)")
    if f.integration is None:
        return Criterion(text, False, rule, f"the integration branch `{f.integration_branch}` does not exist")
    n = len(f.integration.remaining)
    fact = (f"`validate` at `{f.integration_branch}` ({_short(f.integration_tip)}) finds "
            f"{n} direct usage{_s(n)}")
    return Criterion(text, n == 0, rule, fact)


def _tests_pass(f: Facts) -> Criterion:
    text = "All tests pass with new session patterns"
    rule = ("ticked only if `verify` passed on the integration branch at its current tip, or on every "
            "committed per-file branch at its current tip")
    integ = f.checks.get(INTEGRATION)
    if f.integration_tip and passed_at(integ, f.integration_tip):
        assert integ is not None
        return Criterion(text, True, rule, f"`{integ.command}` passed at `{f.integration_branch}` "
                                           f"({_short(f.integration_tip)}) on {integ.time}")
    committed = [r for r in f.rows if r.tip is not None]
    if not committed:
        return Criterion(text, False, rule, "no per-file branch is committed and the integration branch "
                                            "was not verified at its tip")
    unverified = [r.path for r in committed if f.verifications.get(r.path) is None]
    failing = [r.path for r in committed if r.path not in unverified
               and not passed_at(f.verifications.get(r.path), r.tip)]
    if unverified and not failing:
        return Criterion(text, False, rule, f"{len(unverified)} of {len(committed)} committed branch"
                                            f"{'es were' if len(unverified) != 1 else ' was'} never verified "
                                            "(`migrator-tui verify`): "
                                            + ", ".join(f"`{p}`" for p in unverified))
    if failing:
        return Criterion(text, False, rule, f"{len(failing)} of {len(committed)} committed branch"
                                            f"{'es' if len(committed) != 1 else ''} did not pass at "
                                            f"{'its' if len(committed) == 1 else 'their'} current tip: "
                                            + ", ".join(f"`{p}`" for p in failing))
    commands = sorted({f.verifications[r.path].command for r in committed})
    return Criterion(text, True, rule, f"all {len(committed)} committed branches passed at their current "
                                       f"tip ({', '.join(f'`{c}`' for c in commands)})" + _unverified_fact(f))


def _unverified_fact(f: Facts) -> str:
    measured = measured_blocks(f)
    if not measured:
        return ""
    total = sum(len(run.blocks) for _, run in measured.values())
    n = len(unverified(f))
    return (f"; but {n} of the {total} rewritten blocks measured by `verify --coverage` "
            f"{'is' if n == 1 else 'are'} executed by no test (unverified)") if n else \
        f"; every one of the {total} rewritten blocks measured by `verify --coverage` is executed by a test"


def _performance(f: Facts) -> Criterion:
    text = "No performance degradation"
    rule = (f"ticked only if the demo benchmark's result exists, measured the current integration "
            f"branch tip, and no route is more than {SLOWDOWN_THRESHOLD:g}× slower after the migration "
            "than before")
    b = f.benchmark
    if b is None:
        return Criterion(text, False, rule, f"no benchmark result in the review's state folder "
                         f"({BENCHMARK_FILE}): this tool does not time an application itself")
    routes = [r for r in b.get("routes", []) if isinstance(r, dict)]
    after_sha = (b.get("after") or {}).get("sha")
    if not routes:
        return Criterion(text, False, rule, "the benchmark result holds no route")
    if not f.integration_tip or after_sha != f.integration_tip:
        return Criterion(text, False, rule, f"the benchmark measured {_short(after_sha) or 'another tree'}, "
                                            f"not the integration branch's tip {_short(f.integration_tip)}")
    worst = max(routes, key=lambda r: float(r.get("ratio", 0.0)))
    ratio = float(worst.get("ratio", 0.0))
    fact = f"slowest route `{worst.get('route')}`: {ratio:.2f}× ({len(routes)} routes measured)"
    return Criterion(text, ratio <= SLOWDOWN_THRESHOLD, rule, fact)


def by_apply(d: DecisionRecord) -> bool:
    """A decision `apply` made: no person saw its warnings."""
    from migrator_tui.review.state import APPLY_NOTE

    return d.note == APPLY_NOTE


def unacknowledged(f: Facts) -> dict[str, tuple[str, ...]]:
    """Accepted, not edited decisions whose proposal now carries warnings the reviewer did not see."""
    current = {o.id: o.warnings for o in f.occurrences}
    out = {}
    for d in f.decisions:
        if not d.accepted or d.edited is not None or d.id not in current:
            continue
        seen = () if by_apply(d) else d.warnings  # nobody saw what `apply` accepted
        missing = tuple(c for c in current[d.id] if c not in seen)
        if missing:
            out[d.id] = missing
    return out


def manual_left(f: Facts) -> list[OccurrenceFacts]:
    """Occurrences with no automatic rewrite that no accepted, hand-edited decision migrates."""
    by_id = {d.id: d for d in f.decisions}
    out = []
    for o in f.occurrences:
        d = by_id.get(o.id)
        if o.confidence == "manual" and not (d is not None and d.accepted and d.edited is not None):
            out.append(o)
    return out


def _error_handling(f: Facts) -> Criterion:
    text = "Proper error handling and cleanup"
    rule = ("ticked only if at least one proposal is accepted, no accepted proposal carries a warning the "
            "reviewer did not acknowledge, and no `manual` occurrence is left without an accepted hand edit")
    accepted = [d for d in f.decisions if d.accepted]
    if not accepted:
        return Criterion(text, False, rule, "no proposal is accepted")
    unack = unacknowledged(f)
    manual = manual_left(f)
    problems = []
    if unack:
        problems.append(f"{len(unack)} accepted proposal{_s(len(unack))} with unacknowledged warnings")
    if manual:
        problems.append(f"{len(manual)} manual occurrence{_s(len(manual))} not migrated")
    if problems:
        return Criterion(text, False, rule, "; ".join(problems))
    return Criterion(text, True, rule, f"{len(accepted)} accepted proposal{_s(len(accepted))}, every warning "
                                       "acknowledged, no manual occurrence left")


# --- rendering ----------------------------------------------------------------------------------


def _s(n: int) -> str:
    return "" if n == 1 else "s"


def _short(sha: str | None) -> str:
    return (sha or "")[:12]


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ").strip()


def _table(head: list[str], rows: list[list[object]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(_cell(c) for c in r) + " |" for r in rows]
    return [*out, ""]


def _rel(root: Path, path: str) -> str:
    if not path:
        return ""
    p = Path(path)
    return os.path.relpath(p, root) if p.is_absolute() else path


def describe(v: Verification | None, tip: str | None, root: Path, base_fails: bool = False) -> str:
    """One cell for a verification: status at the tip, or outdated, with duration and log."""
    state = badge(v, tip)
    if v is None or state is None:
        return "not verified"
    where = f"at {_short(v.sha)}"
    extra = f", {v.seconds:.1f} s, `{v.command}`, log `{_rel(root, v.log)}`" if v.log else \
        f", {v.seconds:.1f} s, `{v.command}`"
    if state == "outdated":
        return f"outdated: {v.status} {where}, the branch moved since{extra}"
    note = " (fails at base too)" if v.status == "failed" and base_fails else ""
    return f"{v.status}{note} {where}, {v.time}{extra}"


def render(f: Facts) -> str:
    r = f.recipe
    out: list[str] = [f"# Migration report: {r.name}", ""]
    integ = f"`{f.integration_branch}` at {_short(f.integration_tip)}" if f.integration_tip else \
        f"`{f.integration_branch}` not created"
    out += [
        f"- Recipe: `{r.name}` ({r.description})" if r.description else f"- Recipe: `{r.name}`",
        f"- Base commit: `{f.base}`",
        f"- HEAD: `{f.head}`" + ("" if f.head == f.base else " (moved since the review began)"),
        f"- Review started: {f.started}",
        f"- Integration branch: {integ}",
        "",
        "Every figure below is read from the review state and the repository; nothing is estimated.",
        "",
    ]
    out += _summary(f)
    out += _decisions(f)
    out += _branches(f)
    out += _coverage(f)
    out += _remaining(f)
    out += _benchmark(f)
    out += ["## Success criteria", ""]
    for c in criteria(f):
        out.append(f"- [{'x' if c.checked else ' '}] {c.text} — {c.fact}.")
        out.append(f"  - Rule: {c.rule}.")
    out.append("")
    # one element is one line: a file name's newline, escape code or undecodable byte is escaped
    return "\n".join(printable(line) for line in out)


def _status(by_id: dict[str, DecisionRecord], o: OccurrenceFacts) -> str:
    d = by_id.get(o.id)
    if d is None or d.decision == "pending":
        return "pending"
    if d.rolled_back:
        return "rolled back"
    return "stale" if d.stale else d.decision


def _summary(f: Facts) -> list[str]:
    by_id = {d.id: d for d in f.decisions}

    def status(o: OccurrenceFacts) -> str:
        return _status(by_id, o)

    occs = f.occurrences
    st = Counter(status(o) for o in occs)
    out = ["## Summary", "",
           f"{len(occs)} occurrence{_s(len(occs))} in {len({o.path for o in occs})} file"
           f"{_s(len({o.path for o in occs}))} of the working tree: {st['accepted']} accepted, "
           f"{st['rejected']} rejected, {st['pending']} pending, {st['stale']} stale"
           + (f", {st['rolled back']} rolled back (their branch was removed)" if st["rolled back"] else "")
           + ".", "", decision_line(decision_counts(f.decisions)), ""]
    phases = {p.number: p.name for p in f.recipe.phases}
    keys = sorted({o.phase for o in occs}, key=lambda p: (p is None, p or 0))
    rows: list[list[object]] = []
    for ph in keys:
        mine = [o for o in occs if o.phase == ph]
        c = Counter(status(o) for o in mine)
        name = phases.get(ph, "Unplanned") if ph is not None else "Unplanned"
        rows.append([ph if ph is not None else "-", name, len({o.path for o in mine}), len(mine),
                     c["accepted"], c["rejected"], c["pending"], c["stale"]])
    out += ["### By phase", ""]
    out += _table(["Phase", "Name", "Files", "Occurrences", "Accepted", "Rejected", "Pending", "Stale"], rows)
    out += ["### By confidence", "",
            "Confidence of the proposal as it stands (the accepted strategy, else the default one).", ""]
    rows = []
    for conf in ("safe", "review", "manual"):
        mine = [o for o in occs if o.confidence == conf]
        rows.append([conf, len(mine), sum(status(o) == "accepted" for o in mine)])
    out += _table(["Confidence", "Occurrences", "Accepted"], rows)
    out += ["### By strategy", ""]
    rows = []
    for name in sorted({o.strategy or "(none)" for o in occs}):
        mine = [o for o in occs if (o.strategy or "(none)") == name]
        rows.append([name, len(mine), sum(status(o) == "accepted" for o in mine)])
    out += _table(["Strategy", "Occurrences", "Accepted"], rows)
    out += ["### By file", ""]
    rows = []
    for path in sorted({o.path for o in occs}):
        mine = [o for o in occs if o.path == path]
        conf = Counter(o.confidence for o in mine)
        c = Counter(status(o) for o in mine)
        rows.append([f"`{path}`", mine[0].phase if mine[0].phase is not None else "-", len(mine),
                     conf["safe"], conf["review"], conf["manual"], c["accepted"], c["rejected"],
                     c["pending"] + c["stale"]])
    out += _table(["File", "Phase", "Occurrences", "Safe", "Review", "Manual", "Accepted", "Rejected",
                   "Pending or stale"], rows)
    for path, why in sorted(f.unanalysed.items()):
        out.append(f"- `{path}` could not be analysed ({why}); its occurrences count as manual.")
    if f.unanalysed:
        out.append("")
    return out


def _decisions(f: Facts) -> list[str]:
    out = ["## Decisions", ""]
    if not f.decisions:
        return [*out, "No decision was recorded.", ""]
    unack = unacknowledged(f)
    rows: list[list[object]] = []
    for d in f.decisions:
        decision = d.decision + (" (stale: the code changed since)" if d.stale else "")
        if d.rolled_back:
            decision += " (rolled back: its branch was removed)"
        if d.edited is not None:
            decision += ", edited by hand"
        rows.append([f"`{d.path}:{d.line}` {d.function}", decision, d.strategy or "-", d.reviewer or "-",
                     d.time or "-", _acknowledged(d),
                     ", ".join(f"`{w}`" for w in unack.get(d.id, ())) or "-", d.note or "-"])
    out += _table(["Occurrence", "Decision", "Strategy", "Reviewer", "Time (UTC)", "Warnings acknowledged",
                   "Warnings not acknowledged", "Note"], rows)
    return out


def _acknowledged(d: DecisionRecord) -> str:
    if by_apply(d):
        return "none: accepted by apply"
    return ", ".join(f"`{w}`" for w in d.warnings) or "-"


def _branches(f: Facts) -> list[str]:
    out = ["## Branches", ""]
    base = f.checks.get(BASE)
    base_fails = base is not None and base.sha == f.base and base.status == "failed"
    out.append(f"- Base `{_short(f.base)}`: " + (describe(base, f.base, f.root) if base else
                                                 "not verified (`verify --baseline`)"))
    integ = f.checks.get(INTEGRATION)
    if f.integration_tip:
        out.append(f"- Integration `{f.integration_branch}` at `{_short(f.integration_tip)}`: "
                   + describe(integ, f.integration_tip, f.root))
    out.append("")
    rows: list[list[object]] = []
    for row in f.rows:
        if row.tip is None and row.path not in f.verifications:
            continue
        state = []
        if row.integrated:
            state.append("integrated")
        if row.stale:
            state.append("stale: " + ", ".join(row.stale))
        if not row.ours:
            state.append("not made by migrator-tui")
        rows.append([f"`{row.path}`", f"`{row.branch}`", f"`{_short(row.tip)}`" if row.tip else "deleted",
                     row.accepted, "; ".join(state) or "fresh",
                     describe(f.verifications.get(row.path), row.tip, f.root, base_fails)])
    if not rows:
        return [*out, "No per-file branch is committed.", ""]
    out += _table(["File", "Branch", "Tip", "Accepted", "State", "Verification"], rows)
    return out


def measured_blocks(f: Facts) -> dict[str, tuple[Verification, CoverageRun]]:
    """path -> its verification and coverage, for branches measured by `verify --coverage` at
    their current tip without error."""
    out = {}
    for row in f.rows:
        v = f.verifications.get(row.path)
        if row.tip is not None and v is not None and v.coverage is not None and not v.coverage.error \
                and v.sha == row.tip:
            out[row.path] = (v, v.coverage)
    return out


def unverified(f: Facts) -> list[tuple[str, BlockCoverage]]:
    """(path, block) of every rewritten block at a current tip that no test executed."""
    return [(path, b) for path, (_, run) in sorted(measured_blocks(f).items()) for b in run.blocks
            if not executed(b)]


def _coverage(f: Facts) -> list[str]:
    out = ["## Which tests execute the rewritten blocks", "",
           "From `verify --coverage` (pytest under coverage.py, one context per test): a block is the "
           "new `with` statement of an accepted proposal in its branch's file. A line executed is not a "
           "behaviour checked: a test that runs a block may assert nothing about it.", ""]
    committed = [r for r in f.rows if r.tip is not None]
    if not committed:
        return [*out, "No per-file branch is committed.", ""]
    measured = measured_blocks(f)
    notes: list[str] = []
    rows: list[list[object]] = []
    for row in committed:
        v = f.verifications.get(row.path)
        if row.path not in measured:
            if v is None or v.coverage is None:
                notes.append(f"- `{row.path}`: not measured (`migrator-tui verify --coverage`).")
            elif v.sha != row.tip:
                notes.append(f"- `{row.path}`: measured at `{_short(v.sha)}`; the branch moved since, so "
                             "not counted.")
            else:
                notes.append(f"- `{row.path}`: no coverage recorded: {v.coverage.error}")
            continue
        _, run = measured[row.path]
        for b in run.blocks:
            where = f"{b.start}–{b.end}" if b.end else "not found"
            result = describe_block(b) if executed(b) else f"**unverified**: {describe_block(b)}"
            rows.append([f"`{row.path}:{b.line}` {b.function}", where,
                         f"{b.executed} of {b.statements}", result])
    if rows:
        out += _table(["Occurrence (line at the base)", "Block (lines in the branch)", "Statements run",
                       "Tests"], rows)
    out += notes
    if notes:
        out.append("")
    missing = unverified(f)
    total = sum(len(run.blocks) for _, run in measured.values())
    if measured:
        if not missing:
            out += [f"Every one of the {total} rewritten block{_s(total)} measured is executed by a test.",
                    ""]
        elif len(missing) == 1:
            out += [f"1 of {total} rewritten block{_s(total)} measured is **unverified**: no test executes "
                    "it, so passing tests say nothing about it.", ""]
        else:
            out += [f"{len(missing)} of {total} rewritten blocks measured are **unverified**: no test "
                    "executes them, so passing tests say nothing about them.", ""]
        out += [f"- **unverified** `{path}:{b.line}` {b.function}" for path, b in missing]
        if missing:
            out.append("")
    return out


def _remaining(f: Facts) -> list[str]:
    out = ["## What `validate` still finds", ""]
    for title, v in (("Working tree", f.working_tree),
                     (f"Integration branch `{f.integration_branch}`", f.integration)):
        if v is None:
            out += [f"### {title}", "", "Not created, so not checked.", ""]
            continue
        n = len(v.remaining)
        out += [f"### {title}", "", f"{n} direct usage{_s(n)} in {v.files_scanned} Python files checked.", ""]
        if v.remaining:
            conf = {o.id: o.confidence for o in f.occurrences}
            listed = sorted(v.remaining, key=lambda o: (o.path, o.line))
            out += _table(["Where", "Function", "Shapes", "Confidence now"],
                          [[f"`{o.path}:{o.line}`", o.function, ", ".join(o.shapes) or "-",
                            conf.get(o.id, "-")] for o in listed])
        for s in sorted(v.skipped, key=lambda s: s.path):
            out.append(f"- skipped `{s.path}`: {s.reason}")
        if v.skipped:
            out.append("")
    return out


def _benchmark(f: Facts) -> list[str]:
    out = ["## Performance", ""]
    b = f.benchmark
    if b is None:
        return [*out, f"No benchmark result: nothing has written `{BENCHMARK_FILE}` into this review's state "
                "folder, and migrator-tui does not time an application itself, so this report says "
                "nothing about speed.", ""]
    before, after = b.get("before") or {}, b.get("after") or {}
    out += [f"Demo request suite, {b.get('requests', '?')} requests per route and round, "
            f"{b.get('rounds', '?')} alternating rounds, measured {b.get('time', '?')}: before = "
            f"{before.get('label', '?')} `{_short(before.get('sha'))}`, after = {after.get('label', '?')} "
            f"`{_short(after.get('sha'))}`. Ratio = after / before (above {SLOWDOWN_THRESHOLD:g} counts as "
            "a degradation).", ""]
    routes = sorted((r for r in b["routes"] if isinstance(r, dict)), key=lambda r: str(r.get("route")))
    rows = [[f"`{r.get('route')}`", f"{float(r.get('before_ms', 0)):.3f}",
             f"{float(r.get('after_ms', 0)):.3f}", f"{float(r.get('ratio', 0)):.2f}",
             f"{float(r['noise']):.2f}" if "noise" in r else "-"]
            for r in routes]
    out += _table(["Route", "Before (ms/request)", "After (ms/request)", "Ratio",
                   "Same code twice (noise)"], rows)
    return out
