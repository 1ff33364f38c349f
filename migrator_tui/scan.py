"""Scan a repository: every hand-acquired session, where it is, and how its lifetime is written.

`scan(root, recipe)` lists the `.py` files (git's tracked and untracked-not-ignored files, or a
tree walk outside git), keeps those whose bytes hold `<method>(`, parses only those with the
standard library `ast`, and classifies each acquire call (`scan_classify`). Many candidates are
spread over worker processes; a few are handled in this process. Nothing heavy is imported here:
no libcst, no GitPython, no Textual.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

from migrator_tui.model import Excluded, Occurrence, ScanResult, SkippedFile
from migrator_tui.recipe import Recipe, glob_to_regex
from migrator_tui.scan_classify import FileOutcome, ScanSpec, scan_source
from migrator_tui.scan_files import (
    Unreadable,
    check_root,
    decode_source,
    list_python_files,
    read_file,
)

__all__ = ["Excluded", "Occurrence", "ScanResult", "SkippedFile", "blob_hash", "scan", "spec_for"]

#: Candidates beyond which the parse is spread over processes (and bytes beyond which, too).
PARALLEL_FILES = 64
PARALLEL_BYTES = 2 * 1024 * 1024

Progress = Callable[[int, int], None]


def spec_for(recipe: Recipe) -> ScanSpec:
    """The part of a recipe the per-file scan needs, as one small picklable value."""
    a = recipe.acquire
    return ScanSpec(
        method=a.method, receivers=frozenset(a.receivers), arguments=a.arguments, release=a.release,
        rollback=a.rollback, commit=a.commit, watched=recipe.watched_names,
        managers=tuple(sorted({s.manager for s in recipe.strategies.values()})),
        exclude_context_managers=recipe.exclude_context_managers,
    )


def blob_hash(data: bytes) -> str:
    """The git blob id of `data` (what `git hash-object` prints)."""
    import hashlib

    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _exclusion(recipe: Recipe) -> re.Pattern[str] | None:
    if not recipe.exclude_paths:
        return None
    return re.compile("|".join(f"(?:{glob_to_regex(g).pattern})" for g in recipe.exclude_paths))


def _scan_one(path: str, data: bytes, spec: ScanSpec, phase: int | None) -> tuple[FileOutcome, str | None]:
    try:
        text = decode_source(data)
    except Unreadable as exc:
        return FileOutcome(path, [], [], str(exc)), None
    outcome = scan_source(path, data, text, spec, phase)
    return outcome, (blob_hash(data) if outcome.occurrences else None)


def _scan_paths(root_real: str, items: list[tuple[str, int | None]], spec: ScanSpec,
                known: frozenset[str]) -> list[tuple[FileOutcome, str | None]]:
    """Worker: read and scan candidate files (already known to hold the needle)."""
    out: list[tuple[FileOutcome, str | None]] = []
    for path, phase in items:
        try:
            data = read_file(root_real, path, known)
        except Unreadable as exc:
            out.append((FileOutcome(path, [], [], str(exc)), None))
            continue
        if data is not None:
            out.append(_scan_one(path, data, spec, phase))
    return out


def _pool(workers: int):  # type: ignore[no-untyped-def]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    return ProcessPoolExecutor(max_workers=workers, mp_context=context)


def scan(root: Path | str, recipe: Recipe, *, progress: Progress | None = None) -> ScanResult:
    """Every occurrence of the recipe's acquire call under `root`, grouped by nothing yet.

    Raises `MigratorError` when `root` does not exist or git cannot list it; a file that cannot
    be read or parsed is listed in `skipped` and the scan goes on.
    """
    root = check_root(Path(root))
    paths, base = list_python_files(root)
    excluded_re = _exclusion(recipe)
    if excluded_re is not None:
        paths = [p for p in paths if not excluded_re.match(p)]
    result = ScanResult(root=str(root), recipe=recipe.name, base=base, files_scanned=len(paths))
    spec = spec_for(recipe)
    root_real = os.path.realpath(root)
    known = frozenset(paths)
    needle = (spec.method + "(").encode()
    total = len(paths)

    # 1. the byte filter: read everything once, keep the files that hold `<method>(`
    candidates: list[tuple[str, bytes]] = []
    size = 0
    for n, path in enumerate(paths, 1):
        try:
            data = read_file(root_real, path, known)
        except Unreadable as exc:
            result.skipped.append(SkippedFile(path, str(exc)))
            continue
        if data is not None and needle in data:
            candidates.append((path, data))
            size += len(data)
        if progress is not None and n % 256 == 0:
            progress(n // 2, total)

    # 2. parse and classify the candidates, here or in worker processes
    outcomes: list[tuple[FileOutcome, str | None]] = []
    workers = min(os.cpu_count() or 1, len(candidates) // (PARALLEL_FILES // 2) or 1)
    if workers > 1 and (len(candidates) > PARALLEL_FILES or size > PARALLEL_BYTES):
        chunks = [candidates[i::workers * 4] for i in range(workers * 4)]
        jobs = [[(p, _phase(recipe, p)) for p, _ in chunk] for chunk in chunks]
        del candidates, chunks  # the workers read the files again: keep the memory low
        done = 0
        with _pool(workers) as pool:
            futures = [pool.submit(_scan_paths, root_real, job, spec, known) for job in jobs if job]
            for future in futures:
                part = future.result()
                outcomes.extend(part)
                done += len(part)
                if progress is not None:
                    progress(total // 2 + done * (total - total // 2) // max(1, sum(map(len, jobs))), total)
    else:
        for n, (path, data) in enumerate(candidates, 1):
            outcomes.append(_scan_one(path, data, spec, _phase(recipe, path)))
            if progress is not None and n % 16 == 0:
                progress(total // 2 + n * (total - total // 2) // len(candidates), total)

    for outcome, digest in sorted(outcomes, key=lambda o: o[0].path):
        if outcome.skipped is not None:
            result.skipped.append(SkippedFile(outcome.path, outcome.skipped))
            continue
        result.occurrences.extend(outcome.occurrences)
        result.excluded.extend(outcome.excluded)
        if digest is not None:
            result.file_hashes[outcome.path] = digest
    result.skipped.sort(key=lambda s: s.path)
    if progress is not None:
        progress(total, total)
    return result


def _phase(recipe: Recipe, path: str) -> int | None:
    phase = recipe.phase_of(path)
    return phase.number if phase is not None else None
