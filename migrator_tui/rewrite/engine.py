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

from migrator_tui.errors import MigratorError
from migrator_tui.model import Occurrence
from migrator_tui.recipe import Recipe
from migrator_tui.rewrite.analyze import Analyzer
from migrator_tui.rewrite.plan import Plan
from migrator_tui.rewrite.proposal import Choice, Finding, Proposal
from migrator_tui.rewrite.repo_index import repo_index
from migrator_tui.rewrite.strategies import choose
from migrator_tui.rewrite.warnings import evaluate


class RewriteError(MigratorError):
    """A requested rewrite cannot be produced (e.g. an edit that does not parse)."""


class FileAnalysis:
    """Plans and default strategies of every occurrence of one file (parsed once, with `ast`)."""

    def __init__(self, source: str, occurrences: Sequence[Occurrence], recipe: Recipe,
                 *, repo_root: Path | None = None, tree: ast.Module | None = None) -> None:
        self.source = source
        self.recipe = recipe
        self._parsed = None
        self.occurrences = {o.id: o for o in occurrences}
        path = occurrences[0].path if occurrences else ""
        self.tree = tree if tree is not None else ast.parse(source)
        wraps = any(s.wraps for s in recipe.strategies.values())
        index = repo_index(repo_root) if repo_root is not None and wraps else None
        if index is not None:  # one search for the callers of every function here
            index.prime({o.function.rsplit(".", 1)[-1] for o in occurrences})
        analyzer = Analyzer(self.tree, recipe, index.checker(self.tree, path) if index else None,
                            index.catching_callers if index else None, source, path=path)
        self.bound = analyzer.bound
        self.plans: dict[str, Plan] = {o.id: analyzer.plan(o) for o in occurrences}
        self.defaults: dict[str, tuple[str | None, tuple[str, ...]]] = {
            oid: choose(recipe, plan.facts, self.occurrences[oid].path) for oid, plan in self.plans.items()
        }

    def summary(self, occ_id: str, strategy: str | None = None) -> Proposal:
        """The proposal's strategy, confidence and warnings, without building the new text."""
        plan = self.plans[occ_id]
        default, others = self.defaults[occ_id]
        name = strategy or default
        alternatives = tuple(n for n in (default, *others) if n and n != name)
        if name is None or plan.is_manual:
            strat = self.recipe.strategies[name] if name else next(iter(self.recipe.strategies.values()))
            confidence, findings, reason = evaluate(plan, strat)
            if name is None and not plan.is_manual:
                reason = "no strategy of the recipe applies here"
                at = plan.acquire_line
                findings = [Finding("session-escapes", at, f"Line {at}: {reason}.")]
                confidence = "manual"
            return Proposal(occ_id, name, alternatives, confidence, tuple(findings), reason,
                            plan.acquire_line, plan.acquire_line)
        if name not in self.recipe.strategies:
            raise RewriteError(f"Unknown strategy {name!r} for {occ_id}.")
        confidence, findings, _ = evaluate(plan, self.recipe.strategies[name])
        return Proposal(occ_id, name, alternatives, confidence, tuple(findings), None,
                        plan.region_start, plan.region_end)

    @property
    def parsed(self):  # type: ignore[no-untyped-def]
        """The libcst module, parsed on first use (summaries never need it)."""
        if self._parsed is None:
            from migrator_tui.rewrite.build import Parsed

            self._parsed = Parsed(self.source, self.tree)
        return self._parsed

    def propose(self, occ_id: str, strategy: str | None = None) -> Proposal:
        """The full proposal: summary plus the rewritten file and region text, checked to compile."""
        from migrator_tui.rewrite.build import Job, build

        summary = self.summary(occ_id, strategy)
        if summary.is_manual:
            lines = self.source.splitlines(keepends=True)
            occ = self.occurrences[occ_id]
            start, end = occ.scope_start or occ.line, occ.scope_end or occ.line
            return _replace(summary, start_line=occ.line, end_line=occ.line,
                            before="".join(lines[start - 1 : end]))
        plan = self.plans[occ_id]
        job = Job(plan, self.recipe.strategies[summary.strategy])  # type: ignore[index]
        try:
            new_source, regions = build(self.parsed, [job], self.recipe, plan.facts.bound)
            compile(new_source, self.occurrences[occ_id].path or "<rewrite>", "exec", dont_inherit=True)
            after = regions[occ_id]
        except Exception as exc:  # a bug here must not take the review down: report it as manual
            reason = f"the rewrite could not be built ({exc.__class__.__name__}: {exc})"
            return _replace(summary, confidence="manual", manual_reason=reason,
                            warnings=(Finding("session-escapes", plan.acquire_line, reason),))
        lines = self.source.splitlines(keepends=True)
        before = "".join(lines[plan.region_start - 1 : plan.region_end])
        return _replace(summary, before=before, after=after, new_source=new_source)

    def apply(self, choices: Mapping[str, Choice]) -> str:
        """The file's new text with exactly the chosen occurrences rewritten."""
        from migrator_tui.rewrite.build import Job, build

        jobs = []
        for occ_id, choice in sorted(choices.items()):
            if occ_id not in self.plans:
                raise RewriteError(f"{occ_id} is not an occurrence of this file.")
            plan = self.plans[occ_id]
            if plan.is_manual and choice.edited is None:
                raise RewriteError(f"{occ_id} needs a manual rewrite: {plan.manual_reason}.")
            if choice.strategy not in self.recipe.strategies:
                raise RewriteError(f"Unknown strategy {choice.strategy!r} for {occ_id}.")
            if choice.edited is not None:
                error = edit_error(choice.edited)
                if error:
                    raise RewriteError(f"The edited text of {occ_id} does not parse: {error}.")
                if plan.is_manual:  # a hand rewrite of a manual occurrence replaces its function
                    occ = self.occurrences[occ_id]
                    plan = dataclass_replace(plan, region_start=occ.scope_start or occ.line,
                                             region_end=occ.scope_end or occ.line)
            jobs.append(Job(plan, self.recipe.strategies[choice.strategy], choice.edited))
        _check_disjoint(jobs)
        new_source, _ = build(self.parsed, jobs, self.recipe, self.bound)
        path = next(iter(self.occurrences.values())).path if self.occurrences else "<file>"
        try:
            _prove(new_source, path)
        except SyntaxError as exc:
            raise RewriteError(f"The rewritten {path} does not compile: {exc.msg} at line {exc.lineno}.") \
                from None
        return new_source


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


def _prove(source: str, path: str) -> None:
    """The output parses with libcst and compiles."""
    import libcst as cst

    cst.parse_module(source)
    compile(source, path or "<rewrite>", "exec", dont_inherit=True)


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

    lines = text.splitlines(keepends=True)
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
