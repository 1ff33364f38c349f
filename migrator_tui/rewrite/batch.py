"""Proposals for many files at once, spread over processes when there are many.

The parent primes the repository index (callers that catch specific exceptions) for every
function before forking, so the workers inherit it instead of searching again.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

from migrator_tui.errors import MigratorError
from migrator_tui.model import Occurrence, ScanResult
from migrator_tui.recipe import Recipe
from migrator_tui.rewrite.engine import FileAnalysis
from migrator_tui.rewrite.proposal import Proposal
from migrator_tui.rewrite.repo_index import function_origins, repo_index, upstream_frontier
from migrator_tui.sourcefile import decode

#: `typing.TYPE_CHECKING`: the clusters (and `difflib`) load only for a run that clusters
TYPE_CHECKING = False

if TYPE_CHECKING:
    from migrator_tui.rewrite.clusters import Member

#: Below this many files, one process is faster than starting workers.
PARALLEL_FILES = 48

#: What to compute from one file's analysis, where the analysis is (a worker process when there
#: are many files): `work(path, text, analysis)`, returning picklable values.
Work = Callable[[str, str, FileAnalysis], object]

_JOB: tuple[Path, Mapping[str, Sequence[Occurrence]], Recipe, Work | None] | None = None
#: `analyse_files(..., texts=)`: the text to analyse for some paths instead of the file's bytes
_TEXTS: Mapping[str, str] = {}


def _one(path: str) -> tuple[str, str | None, object, str | None]:
    assert _JOB is not None
    root, by_path, recipe, work = _JOB
    assert work is not None
    occs = by_path[path]
    try:
        text = _TEXTS[path] if path in _TEXTS else decode((root / path).read_bytes())[0]
    except (OSError, SyntaxError, UnicodeDecodeError) as exc:
        return path, None, None, f"cannot be read ({exc.__class__.__name__})"
    try:
        fa = FileAnalysis(text, occs, recipe, repo_root=root)
    except SyntaxError as exc:
        return path, text, None, f"cannot be parsed (line {exc.lineno})"
    except ValueError:  # (a null byte, on interpreters that say so with a ValueError)
        return path, text, None, "cannot be parsed"
    except MigratorError:
        return path, text, None, "is nested too deeply to be analysed"
    return path, text, work(path, text, fa), None


def analyse_files(root: Path, by_path: Mapping[str, Sequence[Occurrence]], recipe: Recipe, work: Work,
                  *, workers: int | None = None, texts: Mapping[str, str] | None = None
                  ) -> Iterator[tuple[str, str | None, object, str | None]]:
    """(path, text, work(path, text, analysis), error) for every file, in the order of `by_path`:
    each file read (or its text taken from `texts`), parsed and analysed once, and `work` done
    beside its analysis (so a dry run's diffs are built in the workers, from the analysis that
    decided them)."""
    global _TEXTS
    _TEXTS = texts or {}
    try:
        yield from _map(_one, root, by_path, recipe, workers, work)
    finally:
        _TEXTS = {}


def summarize_files(root: Path, by_path: Mapping[str, Sequence[Occurrence]], recipe: Recipe,
                    *, workers: int | None = None) -> dict[str, Proposal]:
    """Strategy, alternatives, confidence and warnings of every occurrence (`ast` only); a file
    that cannot be read or parsed again gives none (its occurrences keep only the scan's facts)."""
    out: dict[str, Proposal] = {}
    for _, _, found, _ in analyse_files(root, by_path, recipe, summaries_of, workers=workers):
        out.update(found or {})  # type: ignore[arg-type]
    return out


def _map(fn, root: Path, by_path: Mapping[str, Sequence[Occurrence]], recipe: Recipe,  # type: ignore[no-untyped-def]
         workers: int | None, work: Work | None = None) -> Iterator:  # type: ignore[type-arg]
    global _JOB
    _JOB = (root, by_path, recipe, work)
    paths = list(by_path)
    workers = workers or min(os.cpu_count() or 1, 4)
    parallel = workers > 1 and len(paths) >= PARALLEL_FILES and hasattr(os, "fork")
    if any(s.wraps for s in recipe.strategies.values()):
        occurrences = [o for occs in by_path.values() for o in occs]
        names, origins = function_origins(occurrences)
        index = repo_index(root)
        index.prime(names, origins, workers=workers if parallel else 1)
        # and the callers further up that each file's analysis walks to (one search per level,
        # not one per function)
        index.prime_upstream(upstream_frontier(occurrences), workers=workers if parallel else 1)
    try:
        if parallel:
            import multiprocessing

            with multiprocessing.get_context("fork").Pool(workers) as pool:
                yield from pool.imap(fn, paths, chunksize=max(1, len(paths) // (workers * 8)))
        else:
            for path in paths:
                yield fn(path)
    finally:
        _JOB = None


def summaries_of(path: str, text: str, fa: FileAnalysis) -> dict[str, Proposal]:
    """A `Work`: the summary of every occurrence of the analysed file."""
    return {o.id: fa.summary(o.id) for o in fa.occurrences.values()}


def _members_of(path: str, text: str, fa: FileAnalysis) -> list[Member]:
    return file_members(fa, text, path, list(fa.occurrences.values()))


def file_members(fa: FileAnalysis, text: str, path: str, occs: Sequence[Occurrence],
                 summaries: Mapping[str, Proposal] | None = None) -> list[Member]:
    """The cluster members of one analysed file: every proposal's region before and after (its
    default strategy), from one build of the file with all of them (one full proposal each only
    if that build fails). `summaries` (by id, default strategy) spares computing them again."""
    from migrator_tui.rewrite.clusters import Member
    from migrator_tui.rewrite.proposal import Choice
    from migrator_tui.sourcefile import split_lines

    summaries = {o.id: (summaries or {}).get(o.id) or fa.summary(o.id) for o in occs}
    wanted = {i: Choice(p.strategy or "") for i, p in summaries.items() if not p.is_manual}
    try:
        regions = fa.apply_with_regions(wanted)[1] if wanted else {}
    except MigratorError:
        regions = {}
    lines = split_lines(text, keepends=True)
    out = []
    for o in occs:
        p = summaries[o.id]
        if p.is_manual:
            out.append(Member(o.id, path, o.line, p.strategy or "", "manual", (), o.shapes, "", ""))
            continue
        after = regions.get(o.id)
        if after is None:
            full = fa.propose(o.id, p.strategy)
            if full.is_manual:
                out.append(Member(o.id, path, o.line, p.strategy or "", "manual", (), o.shapes, "", ""))
                continue
            after = full.after
        before = "".join(lines[p.start_line - 1 : p.end_line])
        out.append(Member(o.id, path, o.line, p.strategy or "", p.confidence,
                          tuple(w.code for w in p.warnings), o.shapes, before, after))
    return out


def cluster_members(root: Path, by_path: Mapping[str, Sequence[Occurrence]], recipe: Recipe,
                    *, workers: int | None = None) -> list[Member]:
    """Every occurrence as a cluster member (manual ones with confidence "manual"); a file that
    cannot be read or parsed again gives none."""
    out: list[Member] = []
    for _, _, members, _ in analyse_files(root, by_path, recipe, _members_of, workers=workers):
        out.extend(members or [])  # type: ignore[call-overload]
    return out


def summarize(result: ScanResult, recipe: Recipe) -> dict[str, Proposal]:
    """Default strategy, alternatives, confidence and warnings of every scanned occurrence.

    Uses only the `ast` analysis (no libcst), one parse per file, over worker processes when
    there are many files. A file that cannot be read again gives no summaries (its occurrences
    keep only the scan's facts).
    """
    return summarize_files(Path(result.root), result.by_path(), recipe)
