"""Scan a repository: every hand-acquired session, where it is, and how its lifetime is written.

`scan(root, recipe)` lists the `.py` files (git's tracked and untracked-not-ignored files, or a
tree walk outside git), keeps those whose bytes hold `<method>(`, parses only those with the
standard library `ast`, and classifies each acquire call (`scan_classify`). Many candidates are
shared between this process and forked workers (a process pool where `fork` is unsafe or
missing); a few are handled here. Nothing heavy is imported: no libcst, no GitPython, no Textual.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import fields
from operator import attrgetter
from pathlib import Path

from migrator_tui.model import Excluded, Occurrence, ScanResult, SkippedFile
from migrator_tui.recipe import Recipe, compile_glob
from migrator_tui.scan.acquire import may_hold
from migrator_tui.scan.classify import ScanSpec, scan_source
from migrator_tui.scan.files import (
    SUBMODULE_REASON,
    Unreadable,
    check_root,
    decode_source,
    list_python_files,
    list_submodules,
    read_file,
)

__all__ = ["Excluded", "Occurrence", "ScanResult", "SkippedFile", "blob_hash", "scan", "spec_for"]

#: Candidates beyond which the parse is shared with worker processes (and bytes beyond which, too).
PARALLEL_FILES = 64
PARALLEL_BYTES = 1024 * 1024

Progress = Callable[[int, int], None]
#: One file's result as plain values: (path, occurrences, exclusions, skip reason, blob id).
Outcome = tuple[str, list[tuple], list[tuple], str | None, str | None]  # type: ignore[type-arg]

_OCC_FIELDS = attrgetter(*(f.name for f in fields(Occurrence)))
_EXC_FIELDS = attrgetter(*(f.name for f in fields(Excluded)))


def spec_for(recipe: Recipe) -> ScanSpec:
    """The part of a recipe the per-file scan needs, as one small picklable value."""
    a = recipe.acquire
    return ScanSpec(
        method=a.method, receivers=frozenset(a.receivers), arguments=a.arguments, release=a.release,
        rollback=a.rollback, commit=a.commit, watched=recipe.watched_names,
        managers=tuple(sorted({s.manager for s in recipe.strategies.values()})),
        exclude_context_managers=recipe.exclude_context_managers,
        any_receiver=a.any_receiver, binds=a.binds, with_is_migrated=a.with_is_migrated,
        calls=a.calls, factories=a.factories, closed_only=a.closed_only,
    )


def blob_hash(data: bytes) -> str:
    """The git blob id of `data` (what `git hash-object` prints)."""
    try:
        from _sha1 import sha1  # the builtin module: loads faster than hashlib's OpenSSL binding
    except ImportError:  # pragma: no cover - builds without it
        from hashlib import sha1
    return sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _exclusion(recipe: Recipe) -> Callable[[str], bool] | None:
    if not recipe.exclude_paths:
        return None
    globs = [compile_glob(g) for g in recipe.exclude_paths]
    return lambda path: any(g.match(path) for g in globs)


def _scan_one(path: str, data: bytes, spec: ScanSpec, phase: int | None) -> Outcome:
    try:
        text = decode_source(data)
    except Unreadable as exc:
        return (path, [], [], str(exc), None)
    found = scan_source(path, data, text, spec, phase)
    return (path, [_OCC_FIELDS(o) for o in found.occurrences], [_EXC_FIELDS(e) for e in found.excluded],
            found.skipped, blob_hash(data) if found.occurrences else None)


def _scan_items(items: Iterable[tuple[str, bytes | None, int | None]], spec: ScanSpec, root_real: str,
                known: frozenset[str], progress: Callable[[], None] | None = None) -> list[Outcome]:
    """Scan candidate files; `None` data means read it first (in a worker without the bytes)."""
    out: list[Outcome] = []
    for path, data, phase in items:
        if data is None:
            try:
                data = read_file(root_real, path, known)
            except Unreadable as exc:
                out.append((path, [], [], str(exc), None))
                continue
            if data is None:
                continue
        out.append(_scan_one(path, data, spec, phase))
        if progress is not None:
            progress()
    return out


def _fork_safe() -> bool:
    """`fork` is safe here: the platform has it and this process runs a single thread."""
    if not hasattr(os, "fork") or sys.platform == "darwin":
        return False
    threading = sys.modules.get("threading")
    return threading is None or threading.active_count() == 1


def _forked(share: list[tuple[str, bytes | None, int | None]], spec: ScanSpec, root_real: str,
            known: frozenset[str]) -> tuple[int, int]:
    """Start a child that scans `share` (its copy of the bytes comes with the fork) and writes the
    outcomes, marshalled, to a pipe. Returns (pid, read end)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: compute, write, leave without running the parent's cleanup
        code = 1
        try:
            os.close(read_end)
            import marshal

            payload = marshal.dumps(_scan_items(share, spec, root_real, known))
            with os.fdopen(write_end, "wb") as fh:
                fh.write(payload)
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    return pid, read_end


def _collect(pid: int, read_end: int) -> list[Outcome] | None:
    import marshal

    with os.fdopen(read_end, "rb") as fh:
        payload = fh.read()
    _, status = os.waitpid(pid, 0)
    if status != 0 or not payload:
        return None
    return marshal.loads(payload)  # type: ignore[no-any-return]


def _pooled(shares: list[list[tuple[str, bytes | None, int | None]]], spec: ScanSpec, root_real: str,
            known: frozenset[str]) -> list[Outcome]:
    """The same in a process pool (spawned interpreters): for threaded callers and no-fork systems."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    light = [[(path, None, phase) for path, _, phase in share] for share in shares]
    context = multiprocessing.get_context("spawn")
    out: list[Outcome] = []
    with ProcessPoolExecutor(max_workers=len(light), mp_context=context) as pool:
        for part in pool.map(_scan_items, light, [spec] * len(light), [root_real] * len(light),
                             [known] * len(light)):
            out.extend(part)
    return out


def scan(root: Path | str, recipe: Recipe, *, progress: Progress | None = None,
         contents: Mapping[str, bytes] | None = None,
         reuse: Mapping[str, tuple[str, Outcome]] | None = None,
         record: dict[str, tuple[str, Outcome]] | None = None) -> ScanResult:
    """Every occurrence of the recipe's acquire call under `root`, in path and line order.

    `contents` gives the bytes to scan for some paths instead of the working tree's (a review
    scans a file with uncommitted edits as its base commit holds it). Raises `MigratorError`
    when `root` does not exist or git cannot list it; a file that cannot
    be read or parsed is listed in `skipped` and the scan goes on.

    `record` receives each parsed file's blob id and outcome (what it holds for this recipe);
    given back as `reuse` to a later scan with the same recipe, a file whose blob id is the same
    is not parsed again (its outcome depends on its path, its bytes and the recipe alone).
    """
    root = check_root(Path(root))
    paths, base = list_python_files(root)
    submodules = list_submodules(root)
    excluded = _exclusion(recipe)
    if excluded is not None:
        paths = [p for p in paths if not excluded(p)]
    result = ScanResult(root=str(root), recipe=recipe.name, base=base, files_scanned=len(paths))
    result.skipped.extend(SkippedFile(sub, SUBMODULE_REASON) for sub in submodules
                          if excluded is None or not excluded(sub))
    spec = spec_for(recipe)
    root_real = os.path.realpath(root)
    known = frozenset(paths)
    wanted = spec.acquire()
    total = len(paths)

    if progress is not None:
        progress(0, total)  # the total is known from the start

    # 1. the byte filter: read each file once, keep those that hold `<method>(`
    candidates: list[tuple[str, bytes | None, int | None]] = []
    blobs: dict[str, str] = {}
    reused: list[Outcome] = []
    size = 0
    for n, path in enumerate(paths, 1):
        try:
            data = contents[path] if contents and path in contents else read_file(root_real, path, known)
        except Unreadable as exc:
            result.skipped.append(SkippedFile(path, str(exc)))
            continue
        if data is not None and may_hold(data, wanted):
            kept = None
            if record is not None or reuse:
                blobs[path] = blob_hash(data)
                kept = reuse.get(path) if reuse else None
            if kept is not None and kept[0] == blobs[path] and kept[1][0] == path:
                reused.append(kept[1])
            else:
                phase = recipe.phase_of(path)
                candidates.append((path, data, phase.number if phase is not None else None))
                size += len(data)
        if progress is not None and n % 256 == 0:
            progress(n // 2, total)

    # 2. parse and classify the candidates: here, or shared with worker processes
    done, count = [0], len(candidates)
    half = total // 2

    def tick() -> None:
        done[0] += 1
        if progress is not None and done[0] % 16 == 0:
            progress(min(total, half + done[0] * (total - half) // max(1, count)), total)

    workers = min(os.cpu_count() or 1, max(1, len(candidates) // 32))
    outcomes: list[Outcome] = []
    if workers > 1 and (len(candidates) > PARALLEL_FILES or size > PARALLEL_BYTES):
        shares = _shares(candidates, workers)
        if _fork_safe():
            children = [_forked(share, spec, root_real, known) for share in shares[1:]]
            outcomes.extend(_scan_items(shares[0], spec, root_real, known, tick))
            for share, (pid, read_end) in zip(shares[1:], children, strict=True):
                part = _collect(pid, read_end)
                outcomes.extend(part if part is not None else _scan_items(share, spec, root_real, known))
        else:
            outcomes = _pooled(shares, spec, root_real, known)
    else:
        outcomes = _scan_items(candidates, spec, root_real, known, tick)
    del candidates
    outcomes.extend(reused)
    if record is not None:
        record.update((o[0], (blobs[o[0]], o)) for o in outcomes if o[0] in blobs)

    for path, occs, excl, skipped, digest in sorted(outcomes, key=lambda o: o[0]):
        if skipped is not None:
            result.skipped.append(SkippedFile(path, skipped))
            continue
        result.occurrences.extend(Occurrence(*o) for o in occs)
        result.excluded.extend(Excluded(*e) for e in excl)
        if digest is not None:
            result.file_hashes[path] = digest
    result.skipped.sort(key=lambda s: s.path)
    if progress is not None:
        progress(total, total)
    return result


def _shares(candidates: list[tuple[str, bytes | None, int | None]],
            workers: int) -> list[list[tuple[str, bytes | None, int | None]]]:
    """Split the candidates into `workers` shares of about the same number of bytes."""
    shares: list[list[tuple[str, bytes | None, int | None]]] = [[] for _ in range(workers)]
    loads = [0] * workers
    for item in sorted(candidates, key=lambda c: -len(c[1] or b"")):
        i = loads.index(min(loads))
        shares[i].append(item)
        loads[i] += len(item[1] or b"")
    return shares
