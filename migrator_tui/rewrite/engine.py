"""The rewrite engine's public functions: proposals as values, composition of accepted choices.

Nothing here raises for a hard occurrence: it becomes a `manual` proposal with the reason. Only
`apply_choices` raises (`RewriteError`) when asked for something impossible, such as an edited
text that does not parse.
"""

from __future__ import annotations

import ast
import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace as dataclass_replace
from pathlib import Path

from migrator_tui.errors import RewriteError, printable
from migrator_tui.model import Occurrence
from migrator_tui.recipe import Recipe
from migrator_tui.rewrite.analyze import Analyzer
from migrator_tui.rewrite.plan import Plan, for_strategy
from migrator_tui.rewrite.proposal import Choice, Finding, Proposal
from migrator_tui.rewrite.questions import RepoQuestions
from migrator_tui.rewrite.repo_index import function_origins
from migrator_tui.rewrite.strategies import choose, unavailable_summary
from migrator_tui.rewrite.warnings import HINTS, evaluate
from migrator_tui.scan import trees
from migrator_tui.sourcefile import split_lines


def too_deep(path: str) -> RewriteError:
    return RewriteError(f"{printable(path)} is nested too deeply to be rewritten (a recursion limit was "
                        "reached); migrate it by hand.")


class FileAnalysis:
    """Plans and default strategies of every occurrence of one file (parsed once, with `ast`)."""

    def __init__(self, source: str, occurrences: Sequence[Occurrence], recipe: Recipe,
                 *, repo_root: Path | None = None, tree: ast.Module | None = None) -> None:
        try:
            self._analyse(source, occurrences, recipe, repo_root, tree)
        except RecursionError:  # valid code nested deeper than the interpreter's recursion limit
            raise too_deep(occurrences[0].path if occurrences else "<file>") from None

    def _analyse(self, source: str, occurrences: Sequence[Occurrence], recipe: Recipe,
                 repo_root: Path | None, tree: ast.Module | None) -> None:
        self.source = source
        self.recipe = recipe
        self._parsed = None
        self.occurrences = {o.id: o for o in occurrences}
        path = occurrences[0].path if occurrences else ""
        self.tree = tree if tree is not None else trees.parse(source)
        wraps = any(s.wraps for s in recipe.strategies.values())
        # every question about the rest of the repository goes through `questions`, which keeps
        # them with their answers: what this file's verdicts depend on beyond its text
        ask = RepoQuestions(repo_root, recipe, self.tree, path) if repo_root is not None else None
        self.questions = ask
        if ask is not None and wraps:  # one search for the callers of every function here
            ask.index.prime(*function_origins(occurrences))
        analyzer = Analyzer(self.tree, recipe, ask.decorator if ask and wraps else None,
                            ask.callers if ask and wraps else None, source, path=path)
        if ask is not None and wraps:
            analyzer.upstream = ask.upstream
        if ask is not None:
            analyzer.find_function = ask.function
        if ask is not None and any(s.commits for s in recipe.strategies.values()):
            analyzer.relations |= ask.relationships()
        self.bound = analyzer.bound
        self.plans: dict[str, Plan] = _untangle({o.id: analyzer.plan(o) for o in occurrences})
        module = path.removesuffix(".py").replace("/", ".").removesuffix(".__init__")
        flask, missing = ask.facts() if ask is not None else (True, frozenset())
        unmet = ask.unmet() if ask is not None else {}
        for plan in self.plans.values():
            plan.facts.flask, plan.facts.missing_modules, plan.facts.module = flask, missing, module
            plan.facts.unmet = unmet
        self.defaults: dict[str, tuple[str | None, tuple[str, ...]]] = {
            oid: choose(recipe, plan.facts, self.occurrences[oid].path) for oid, plan in self.plans.items()
        }
        self._prefer_helpers()

    def _prefer_helpers(self) -> None:
        """A class with two or more `service` occurrences gets `service_helper` by default: one
        helper holds the fallback once instead of a copy of every method body (`service` stays
        one key away)."""
        kinds = {name: s.kind for name, s in self.recipe.strategies.items()}
        per_class: dict[str, list[str]] = {}
        for oid, (default, _) in self.defaults.items():
            cls = self.plans[oid].facts.class_name
            if default is not None and kinds.get(default) == "service" and cls:
                per_class.setdefault(cls, []).append(oid)
        for oids in per_class.values():
            if len(oids) < 2:
                continue
            for oid in oids:
                default, others = self.defaults[oid]
                helper = next((n for n in others if kinds.get(n) == "service_helper"), None)
                if helper is not None:
                    self.defaults[oid] = helper, (default, *(n for n in others if n != helper))  # type: ignore[assignment]

    def summary(self, occ_id: str, strategy: str | None = None) -> Proposal:
        """The proposal's strategy, confidence and warnings, without building the new text."""
        found = self._summary(occ_id, strategy)
        noun = self.recipe.noun
        if noun == "session":
            return found
        findings = tuple(dataclass_replace(f, message=reword(f.message, noun), hint=reword(f.hint, noun))
                         for f in found.warnings)
        reason = reword(found.manual_reason, noun) if found.manual_reason else None
        return dataclass_replace(found, warnings=findings, manual_reason=reason)

    def _summary(self, occ_id: str, strategy: str | None = None) -> Proposal:
        plan = self.plans[occ_id]
        default, others = self.defaults[occ_id]
        name = strategy or default
        alternatives = tuple(n for n in (default, *others) if n and n != name)
        if plan.is_manual:  # manual whatever the strategy: none to switch to
            alternatives = ()
        if name is None or plan.is_manual:
            strat = self.recipe.strategies[name] if name else next(iter(self.recipe.strategies.values()))
            confidence, findings, reason = evaluate(plan, strat)
            if name is None and not plan.is_manual:
                why = unavailable_summary(list(self.recipe.strategies.values()), plan.facts)
                reason = "no strategy of the recipe applies here" + (f": {why}" if why else "")
                at = plan.acquire_line
                code = "target-unavailable" if why else "session-escapes"
                findings = [Finding(code, at, f"Line {at}: {reason}.", HINTS.get(code, ""))]
                confidence = "manual"
            return Proposal(occ_id, name, alternatives, confidence, tuple(findings), reason,
                            plan.acquire_line, plan.acquire_line)
        if name not in self.recipe.strategies:
            raise RewriteError(f"Unknown strategy {name!r} for {occ_id}.")
        confidence, findings, reason = evaluate(plan, self.recipe.strategies[name])
        if confidence == "manual":  # manual under this strategy only (another may apply)
            return Proposal(occ_id, name, alternatives, confidence, tuple(findings), reason,
                            plan.acquire_line, plan.acquire_line)
        plan = for_strategy(plan, self.recipe.strategies[name].kind)
        return Proposal(occ_id, name, alternatives, confidence, tuple(findings), None,
                        plan.region_start, plan.region_end)

    @property
    def parsed(self):  # type: ignore[no-untyped-def]
        """The libcst module, parsed on first use (summaries never need it)."""
        if self._parsed is None:
            from migrator_tui.rewrite.build import Parsed

            self._parsed = Parsed(self.source, self.tree, (o.line for o in self.occurrences.values()))
        return self._parsed

    def propose(self, occ_id: str, strategy: str | None = None) -> Proposal:
        """The full proposal: summary plus the rewritten file and region text, checked to compile."""
        from migrator_tui.rewrite.build import Job, build

        summary = self.summary(occ_id, strategy)
        if summary.is_manual:
            lines = split_lines(self.source, keepends=True)
            occ = self.occurrences[occ_id]
            start, end = occ.scope_start or occ.line, occ.scope_end or occ.line
            return _replace(summary, start_line=occ.line, end_line=occ.line,
                            before="".join(lines[start - 1 : end]))
        strategy = self.recipe.strategies[summary.strategy]  # type: ignore[index]
        plan = for_strategy(self.plans[occ_id], strategy.kind)
        job = Job(plan, strategy)
        try:
            new_source, regions = build(self.parsed, [job], self.recipe, plan.facts.bound)
            compile(new_source, self.occurrences[occ_id].path or "<rewrite>", "exec", dont_inherit=True)
            after = regions[occ_id]
        except Exception as exc:  # a bug here must not take the review down: report it as manual
            reason = f"the rewrite could not be built ({exc.__class__.__name__}: {exc})"
            return _replace(summary, confidence="manual", manual_reason=reason,
                            warnings=(Finding("session-escapes", plan.acquire_line, reason),))
        lines = split_lines(self.source, keepends=True)
        before = "".join(lines[plan.region_start - 1 : plan.region_end])
        return _replace(summary, before=before, after=after, new_source=new_source)

    def apply(self, choices: Mapping[str, Choice]) -> str:
        """The file's new text with exactly the chosen occurrences rewritten."""
        return self.apply_with_regions(choices)[0]

    def apply_with_regions(self, choices: Mapping[str, Choice], *, shown_only: bool = False
                           ) -> tuple[str, dict[str, str]]:
        """`apply`, and each chosen occurrence's new region text, from one build of the file
        (what `apply --dry-run` shows: linear in the occurrences, where a `propose` of each would
        rewrite the whole file once per occurrence).

        The new text always compiles; unless it is `shown_only` (a dry run's diffs, never
        written), it is also parsed again with libcst, so that whatever is written can be
        rewritten again."""
        from migrator_tui.rewrite.build import Job, build

        jobs = []
        for occ_id, choice in sorted(choices.items()):
            if occ_id not in self.plans:
                raise RewriteError(f"{occ_id} is not an occurrence of this file.")
            plan = self.plans[occ_id]
            if choice.strategy not in self.recipe.strategies:
                raise RewriteError(f"Unknown strategy {choice.strategy!r} for {occ_id}.")
            if choice.edited is None:
                verdict, _, reason = evaluate(plan, self.recipe.strategies[choice.strategy])
                if verdict == "manual":
                    raise RewriteError(f"{occ_id} needs a manual rewrite: {reason}.")
                plan = for_strategy(plan, self.recipe.strategies[choice.strategy].kind)
            if choice.edited is not None:
                error = edit_error(choice.edited)
                if error:
                    raise RewriteError(f"The edited text of {occ_id} does not parse: {error}.")
                if evaluate(plan, self.recipe.strategies[choice.strategy])[0] == "manual":
                    # a hand rewrite of a manual occurrence replaces its function
                    occ = self.occurrences[occ_id]
                    plan = dataclass_replace(plan, region_start=occ.scope_start or occ.line,
                                             region_end=occ.scope_end or occ.line)
                else:  # the text replaces the region the proposal showed
                    plan = for_strategy(plan, self.recipe.strategies[choice.strategy].kind)
            jobs.append(Job(plan, self.recipe.strategies[choice.strategy], choice.edited))
        _check_disjoint(jobs)
        path = next(iter(self.occurrences.values())).path if self.occurrences else "<file>"
        try:
            new_source, regions = build(self.parsed, jobs, self.recipe, self.bound)
            _prove(new_source, path, libcst=not shown_only)
        except RecursionError:
            raise too_deep(path) from None
        except SyntaxError as exc:
            raise RewriteError(f"The rewritten {path} does not compile: {exc.msg} at line {exc.lineno}.") \
                from None
        return new_source, regions


_SESSION = re.compile(r"\b(the|a|The|A|second|first|raw|no|same|that|this)( )session(s?)\b")


def reword(text: str, noun: str) -> str:
    """A message in the recipe's own word for the resource: "the connection is used at line 9"."""
    return _SESSION.sub(lambda m: f"{m.group(1)} {noun}{m.group(3)}", text)


def _check_disjoint(jobs: Sequence[object]) -> None:
    """Manual edits replace a region wholesale: they must not overlap another chosen region."""
    spans = sorted((j.plan.region_start, j.plan.region_end, j.plan.occurrence_id, j.edited is not None)  # type: ignore[attr-defined]
                   for j in jobs)
    for (_, e1, id1, ed1), (s2, _, id2, ed2) in itertools.pairwise(spans):
        if s2 <= e1 and (ed1 or ed2):
            raise RewriteError(f"The edited text of {id1 if ed1 else id2} overlaps {id2 if ed1 else id1}; "
                               "accept one of them only.")


def _replace(p: Proposal, **changes: object) -> Proposal:
    from dataclasses import replace

    return replace(p, **changes)  # type: ignore[arg-type]


def _prove(source: str, path: str, *, libcst: bool = True) -> None:
    """The output compiles and (with `libcst`) parses with libcst."""
    compile(source, path or "<rewrite>", "exec", dont_inherit=True)
    if libcst:
        import libcst as cst

        cst.parse_module(source)


def edit_error(text: str) -> str | None:
    """Why an edited region does not parse on its own, or None (see `edit_error_at`)."""
    found = edit_error_at(text)
    return None if found is None else f"{found[0]} at line {found[1]}"


def edit_error_at(text: str) -> tuple[str, int, int] | None:
    """(why, line, column) where an edited region does not parse on its own, or None.

    `line` is 1-based within `text`, `column` 0-based.

    The region is indented as it stands in its file: the first line's indentation is taken off
    every line that starts with it (lines of a multi-line string that do not are left alone).
    The edit is checked again in its file when it is applied.
    """
    import libcst as cst

    lines = split_lines(text, keepends=True)
    first = next((ln for ln in lines if ln.strip()), "")
    prefix = first[: len(first) - len(first.lstrip(" \t"))]
    code = "".join(ln[len(prefix):] if ln.startswith(prefix) else ln for ln in lines)
    def column(line: int, col: int) -> int:
        if 1 <= line <= len(lines) and lines[line - 1].startswith(prefix):
            return col + len(prefix)
        return col

    try:  # syntax only: `return` and `yield` are fine here, the file's compile() judges them
        ast.parse(code)
    except SyntaxError as exc:  # Python's own words and position
        line = min(max(exc.lineno or 1, 1), max(len(lines), 1))
        return exc.msg, line, column(line, max((exc.offset or 1) - 1, 0))
    try:  # what libcst alone refuses
        cst.parse_module(code)
    except cst.ParserSyntaxError as exc:
        line = min(max(exc.raw_line, 1), max(len(lines), 1))
        message = re.sub(r"^(parser|tokenizer) error: (error at \d+:\d+: )?", "", exc.message)
        return message, line, column(line, exc.raw_column)
    return None


# --- module-level conveniences ------------------------------------------------------------


def _untangle(plans: dict[str, Plan]) -> dict[str, Plan]:
    """Regions that would not nest: of two occurrences whose regions cross (`a = S(); b = S(); …;
    a.close(); b.close()`), or where the second's starts before the first's acquire, the second is
    manual, so that every set of proposals a reviewer can accept builds. The first keeps its
    rewrite (the other resource stays as it is, inside or after its `with`). A region inside
    another, after its acquire, nests; so do two sessions acquired in one `try` (`a = None; b =
    None; try: a = S(); b = S() …`): the second's region is what is left of the `try`, inside the
    first's `with` (for strategies that keep the `try` inside it, see `shares_try_with`)."""
    live = sorted((p for p in plans.values() if not p.is_manual and p.region_start),
                  key=lambda p: (p.region_start, p.acquire_line))
    kept: list[Plan] = []  # those whose region has not ended before the current one starts
    for p in live:
        kept = [q for q in kept if q.region_end >= p.region_start]  # (linear for a file's many blocks)
        shared = next((q for q in kept if q.pattern == p.pattern == "try" and q.try_line == p.try_line
                       and q.acquire_in_try and p.acquire_in_try and q.acquire_line < p.acquire_line), None)
        if shared is not None:  # both acquired in one `try`: the second's `with` opens inside the
            p.region_start = p.try_line or p.region_start  # first's, around what is left of the `try`
            p.shares_try_with = shared.acquire_line
            kept.append(p)
            continue
        other = next((q for q in kept if p.region_start <= q.region_end
                      and (p.region_start <= q.acquire_line or p.region_end > q.region_end)), None)
        if other is None:
            kept.append(p)
            continue
        at = other.acquire_line
        how = (f"would cross the one of the session acquired at line {at}" if p.region_end > other.region_end
               else f"would start before the session acquired at line {at} is")
        reason = (f"its block {how}, so the two `with` blocks cannot nest; rewrite it by hand, or accept "
                  "the other alone")
        plans[p.occurrence_id] = Plan(p.occurrence_id, p.var, p.facts, pattern="manual",
                                      manual_code="regions-cross", manual_reason=reason,
                                      acquire_line=p.acquire_line)
    return plans


def propose(source: str, occurrence: Occurrence, recipe: Recipe, strategy: str | None = None,
            *, repo_root: Path | None = None) -> Proposal:
    return FileAnalysis(source, [occurrence], recipe, repo_root=repo_root).propose(occurrence.id, strategy)


def propose_all(source: str, occurrences: Sequence[Occurrence], recipe: Recipe,
                *, repo_root: Path | None = None) -> dict[str, Proposal]:
    fa = FileAnalysis(source, occurrences, recipe, repo_root=repo_root)
    return {o.id: fa.propose(o.id) for o in occurrences}


def apply_choices(source: str, occurrences: Sequence[Occurrence], choices: Mapping[str, Choice],
                  recipe: Recipe, *, repo_root: Path | None = None) -> str:
    return FileAnalysis(source, occurrences, recipe, repo_root=repo_root).apply(choices)
