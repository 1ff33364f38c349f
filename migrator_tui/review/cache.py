"""A scan and its proposal summaries, kept between runs in `<git-common-dir>/migrator/cache/`.

A proposal's verdict depends on its own file and on the rest of the repository (callers,
decorators, models, which modules exist, the requirement pins), on the recipe, on which strategy
modules this interpreter can import, and on this tool's own code. A kept set of summaries is
used only when all of these are what they were: every file git tracks (its blob id, or the
content of a file changed since the index) and every untracked file git does not ignore, the
recipe, the interpreter and the importable modules the recipe's strategies name, the commit
checked out, and the source of this package. Anything else scans and analyses again, and keeps
the new result.

The file is untrusted input like any other: one that is malformed, too large or for another key
is ignored (and replaced). Outside a git work tree, or where the folder cannot be written,
nothing is kept.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from migrator_tui.model import Excluded, Occurrence, ScanResult, SkippedFile
from migrator_tui.recipe import Recipe
from migrator_tui.review.cache_sweep import sweep, touch
from migrator_tui.review.cachekey import cache_file, repository_key, static_key
from migrator_tui.rewrite.proposal import Finding, Proposal
from migrator_tui.scan.run import Outcome, Progress
from migrator_tui.untrusted import flag as _flag
from migrator_tui.untrusted import items as _list
from migrator_tui.untrusted import mapping as _mapping
from migrator_tui.untrusted import number as _line
from migrator_tui.untrusted import pair as _pair
from migrator_tui.untrusted import text as _text

if TYPE_CHECKING:
    from migrator_tui.rewrite.engine import FileAnalysis

#: The largest cache file read (a summary takes some hundred bytes).
MAX_BYTES = 256 << 20
_CONFIDENCES = ("safe", "review", "manual")


def cached_scan(root: Path | str, recipe: Recipe, *, proposals: bool = True, progress: Progress | None = None,
                use_cache: bool = True, state: str | None = None
                ) -> tuple[ScanResult, dict[str, Proposal] | None]:
    """`scan(root, recipe)` and (with `proposals`) `rewrite.summarize` of it, from the cache
    when nothing they depend on changed since they were kept.

    When something changed, the repository is scanned again, and a file keeps its kept
    summaries only if its content and occurrences are the same and every question its analysis
    asked of the rest of the repository gets the same answer now (`rewrite.questions`); the
    others are analysed again. `state`: the repository's `cachekey.repository_state`, when the
    caller computed it just before (`scan` did, for its kept output)."""
    from migrator_tui.scan import scan
    from migrator_tui.scan.files import check_root

    root = check_root(Path(root))
    where = cache_file(root, recipe) if use_cache else None
    static = static_key(root, recipe)
    key = repository_key(root, static, state) if where is not None else None
    kept: Kept | None = None
    if where is not None and key is not None:
        kept = _load(where, key, static)
        if kept is not None:  # (kept under the folder's real path: the name given may be another)
            kept = replace(kept, result=replace(kept.result, root=str(root)))
        if kept is not None and kept.current and (kept.summaries is not None or not proposals):
            return kept.result, kept.summaries if proposals else None
    if not use_cache:
        result = scan(root, recipe, progress=progress)
        if not proposals:
            return result, None
        from migrator_tui.rewrite import summarize
        from migrator_tui.rewrite.repo_index import forget_index

        forget_index(root)
        return result, summarize(result, recipe)
    outcomes: dict[str, tuple[str, Outcome]] = {}
    if kept is not None and kept.current:
        result, outcomes = kept.result, kept.outcomes
    else:  # files whose bytes are the same are not parsed again
        result = scan(root, recipe, progress=progress, reuse=kept.outcomes if kept else None, record=outcomes)
    summaries: dict[str, Proposal] | None = None
    files: dict[str, FileRecord] = {}
    calls: object = None
    if proposals:
        from migrator_tui.rewrite import kept_calls
        from migrator_tui.rewrite.repo_index import repo_index

        summaries, files = _summaries(root, recipe, result, kept)
        calls = kept_calls.dump(repo_index(root).kept_calls())
    if where is not None and key is not None and repository_key(root, static) == key:
        # (kept only when nothing changed while it was computed: else it may not be the key's)
        _store(where, key, static, result, summaries, files, outcomes, calls)
    return result, summaries


def kept_summaries(root: Path, recipe: Recipe, result: ScanResult) -> dict[str, Proposal]:
    """The kept summaries (default strategies) of `result`'s occurrences, when the kept scan is
    of the repository as it is now and found exactly these occurrences; else none."""
    return kept_for_review(root, recipe, result)[0]


def kept_for_review(root: Path, recipe: Recipe, result: ScanResult) -> tuple[dict[str, Proposal], object]:
    """`kept_summaries`, and the kept reads of caller files (see `kept_reads`), from one read of
    the kept scan."""
    where = cache_file(root, recipe)
    static = static_key(root, recipe)
    key = repository_key(root, static) if where is not None else None
    kept = _load(where, key, static) if where is not None and key is not None else None
    if kept is None:
        return {}, None
    if not kept.current or kept.summaries is None or kept.result.occurrences != result.occurrences:
        return {}, kept.calls
    return dict(kept.summaries), kept.calls


def use_kept_reads(root: Path, recipe: Recipe, dump: object = ...) -> None:
    """Hand the caller index of `root` the reads of files the last scan kept (`dump`, when the
    caller read them already): it uses each only while what it read is as it was, so priming
    re-reads only the callers that changed."""
    from migrator_tui.rewrite import kept_calls
    from migrator_tui.rewrite.repo_index import repo_index

    if dump is ...:
        dump = kept_reads(root, recipe)
    if dump is not None:
        with contextlib.suppress(ValueError, TypeError, KeyError, RecursionError):
            repo_index(root).keep_calls(kept_calls.load(dump))


def kept_reads(root: Path, recipe: Recipe) -> object:
    """The caller index's reads kept with the last scan of `root` by this tool and recipe, as
    `rewrite.kept_calls` dumped them (each is checked against the files when used), or None."""
    where = cache_file(root, recipe)
    data = _read(where) if where is not None else None
    if not isinstance(data, dict) or data.get("static") != static_key(root, recipe):
        return None
    return data.get("calls")


def _read(path: Path) -> object:
    """The kept scan's JSON as read (None: no such file, a link, too large, not JSON)."""
    try:
        if path.is_symlink() or path.stat().st_size > MAX_BYTES:
            return None
        return json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return None


@dataclass(frozen=True, slots=True)
class FileRecord:
    """What a file's kept summaries hold for: its content and the questions its analysis asked."""

    sha1: str
    asked: list[object]


@dataclass(frozen=True, slots=True)
class Kept:
    """A kept scan: `current` when its key is the repository's now (else only its files may serve)."""

    current: bool
    result: ScanResult
    summaries: dict[str, Proposal] | None
    files: dict[str, FileRecord]
    #: per candidate file: its blob id and what the scan found in it (see `scan(reuse=)`)
    outcomes: dict[str, tuple[str, Outcome]]
    #: the caller index's reads of files, as `rewrite.kept_calls` dumped them (checked when used)
    calls: object = None


def _summaries(root: Path, recipe: Recipe, result: ScanResult, kept: Kept | None
               ) -> tuple[dict[str, Proposal], dict[str, FileRecord]]:
    """Every occurrence's summary: kept for the files whose content, occurrences and answers are
    unchanged, analysed again (in worker processes) for the others."""
    import ast

    from migrator_tui.rewrite.batch import analyse_files
    from migrator_tui.rewrite.questions import RepoQuestions
    from migrator_tui.rewrite.repo_index import forget_index, function_origins, repo_index
    from migrator_tui.sourcefile import decode

    forget_index(root)  # what this process knew of the repository may be out of date
    if kept is not None and kept.calls is not None:
        from migrator_tui.rewrite import kept_calls

        # (the index uses each only while what it read is as it was; a bad dump: none)
        with contextlib.suppress(ValueError, TypeError, KeyError, RecursionError):
            repo_index(root).keep_calls(kept_calls.load(kept.calls))
    by_path = result.by_path()
    out: dict[str, Proposal] = {}
    files: dict[str, FileRecord] = {}
    todo = dict(by_path)
    if kept is not None and kept.summaries is not None:
        before = kept.result.by_path()
        if any(s.wraps for s in recipe.strategies.values()):  # one search, as an analysis makes it
            repo_index(root).prime(*function_origins(result.occurrences))
        for path, occs in by_path.items():
            record = kept.files.get(path)
            if (record is None or record.sha1 != result.file_hashes.get(path) or occs != before.get(path)
                    or any(o.id not in kept.summaries for o in occs)):
                continue
            def own_tree(path: str = path) -> ast.Module | None:
                try:  # (asked for by a question reading the file's own imports, if need be)
                    return ast.parse(decode((root / path).read_bytes())[0])
                except (OSError, SyntaxError, ValueError, RecursionError):
                    return None

            if RepoQuestions.unchanged(root, recipe, own_tree, path, record.asked):
                out.update({o.id: kept.summaries[o.id] for o in occs})
                files[path] = record
                del todo[path]
    for path, _source, found, error in analyse_files(root, todo, recipe, _summaries_and_questions):
        if error is None and found is not None:
            summaries, asked = found  # type: ignore[misc]
            out.update(summaries)
            files[path] = FileRecord(result.file_hashes.get(path, ""), asked)
    return {o.id: out[o.id] for o in result.occurrences if o.id in out}, files


def _summaries_and_questions(path: str, text: str, fa: FileAnalysis
                             ) -> tuple[dict[str, Proposal], list[object]]:
    """A file's summaries, and the questions its analysis asked of the repository."""
    from migrator_tui.rewrite.batch import summaries_of

    return summaries_of(path, text, fa), list(fa.questions.asked) if fa.questions is not None else []


def _load(path: Path, key: str, static: str) -> Kept | None:
    """The kept scan: `current` when its key is `key`; else, when its `static` key matches, its
    files may still serve (see `cached_scan`)."""
    data = _read(path)
    try:
        if not isinstance(data, dict) or data.get("static") != static:
            return None
        result = _result(data["scan"])
        stored = data["summaries"]
        current = data.get("key") == key
        outcomes = {_text(rel): _outcome(_text(rel), item)
                    for rel, item in _mapping(data["outcomes"]).items()}
        touch(path)  # (in use: not swept)
        if stored is None:
            return Kept(current, result, None, {}, outcomes, data.get("calls"))
        if not isinstance(stored, dict):
            return None
        ids = {o.id for o in result.occurrences}
        if not set(stored) <= ids:  # (a file unreadable then has none)
            return None
        summaries = {o.id: _proposal(o.id, stored[o.id]) for o in result.occurrences if o.id in stored}
        files = {}
        for rel, item in _mapping(data.get("files", {})).items():
            record = _mapping(item)
            files[_text(rel)] = FileRecord(_text(record["sha1"]), _list(record["asked"]))
        return Kept(current, result, summaries, files, outcomes, data.get("calls"))
    except (TypeError, ValueError, KeyError):
        return None


def _outcome(path: str, item: object) -> tuple[str, Outcome]:
    """One stored scan outcome (blob id, then what `scan` found in the file), every field checked."""
    blob, found = _pair(item)
    where, occs, excl, skipped, digest = _list(found)
    if where != path or len(_list(found)) != 5:
        raise ValueError("not this file's outcome")
    checked_occs = []
    for o in _list(occs):
        values = _list(o)
        if len(values) != len(_FIELDS):
            raise ValueError("not an occurrence")
        checked_occs.append(_occurrence_values(values))
    checked_excl = []
    for e in map(_list, _list(excl)):
        if len(e) != 4:
            raise ValueError("not an exclusion")
        checked_excl.append((_text(e[0]), _line(e[1]), _text(e[2]), _text(e[3])))
    return _text(blob), (path, checked_occs, checked_excl, None if skipped is None else _text(skipped),
                         None if digest is None else _text(digest))



#: Occurrence fields and their kinds, in order: what a stored occurrence must hold.
_FIELDS = (("id", "text"), ("path", "text"), ("line", "line"), ("column", "line"), ("end_line", "line"),
           ("end_column", "line"), ("function", "text"), ("decorators", "texts"), ("variable", "text?"),
           ("receiver", "text"), ("shapes", "texts"), ("phase", "line?"), ("scope_start", "line"),
           ("scope_end", "line"), ("class_name", "text?"), ("is_view", "flag"), ("reads", "texts"),
           ("bound", "texts"), ("callee", "text"))
#: The names alone, in the same order (`Occurrence`'s fields').
_NAMES = tuple(name for name, _ in _FIELDS)
_CHECK = {
    "text": lambda v: _text(v),
    "text?": lambda v: None if v is None else _text(v),
    "line": lambda v: _line(v),
    "line?": lambda v: None if v is None else _line(v),
    "texts": lambda v: tuple(_text(x) for x in _list(v)),
    "flag": lambda v: _flag(v),
}


def _occurrence_values(v: list[object]) -> tuple[object, ...]:
    """A stored occurrence's values (`_FIELDS`, in order), each checked: `_CHECK` written out
    (a kept scan of thousands of occurrences is read back at every rescan)."""
    texts = (v[7], v[10], v[16], v[17])
    for t in texts:
        if not isinstance(t, list) or not all(isinstance(x, str) for x in t):
            raise TypeError("not texts")
    for i in (0, 1, 6, 9, 18):
        if not isinstance(v[i], str):
            raise TypeError("not text")
    for i in (2, 3, 4, 5, 12, 13):
        _line(v[i])
    for i in (8, 14):
        if v[i] is not None and not isinstance(v[i], str):
            raise TypeError("not text")
    if v[11] is not None:
        _line(v[11])
    _flag(v[15])
    return (v[0], v[1], v[2], v[3], v[4], v[5], v[6], tuple(v[7]), v[8], v[9],  # type: ignore[arg-type]
            tuple(v[10]), v[11], v[12], v[13], v[14], v[15], tuple(v[16]), tuple(v[17]), v[18])  # type: ignore[arg-type]


def _result(item: object) -> ScanResult:
    """A stored scan result, every field checked."""
    if not isinstance(item, dict):
        raise TypeError("not a scan")
    hashes = item["file_hashes"]
    if not isinstance(hashes, dict):
        raise TypeError("not a mapping")
    return ScanResult(
        root=_text(item["root"]), recipe=_text(item["recipe"]),
        base=None if item["base"] is None else _text(item["base"]),
        occurrences=[Occurrence(*_occurrence_values(o)) for o in map(_list, _list(item["occurrences"]))
                     if len(o) == len(_FIELDS)],
        skipped=[SkippedFile(_text(s[0]), _text(s[1])) for s in map(_pair, _list(item["skipped"]))],
        excluded=[Excluded(_text(e[0]), _line(e[1]), _text(e[2]), _text(e[3]))
                  for e in map(_list, _list(item["excluded"])) if len(e) == 4],
        files_scanned=_line(item["files_scanned"]),
        file_hashes={_text(k): _text(v) for k, v in hashes.items()},
    )







def _proposal(oid: str, item: object) -> Proposal:
    """One stored summary, every field checked."""
    if not isinstance(item, dict):
        raise TypeError("not a summary")
    confidence = item["confidence"]
    if confidence not in _CONFIDENCES:
        raise ValueError("unknown confidence")
    strategy = item["strategy"]
    reason = item["manual_reason"]
    warnings = item["warnings"]
    if not isinstance(warnings, list) or not isinstance(item["alternatives"], list):
        raise TypeError("not a list")
    return Proposal(
        oid, None if strategy is None else _text(strategy), tuple(_text(a) for a in item["alternatives"]),
        confidence, tuple(Finding(_text(w["code"]), _line(w["line"]), _text(w["message"]), _text(w["hint"]))
                          for w in warnings),
        None if reason is None else _text(reason), _line(item["start_line"]), _line(item["end_line"]),
    )


def _store(path: Path, key: str, static: str, result: ScanResult, summaries: dict[str, Proposal] | None,
           files: dict[str, FileRecord], outcomes: dict[str, tuple[str, Outcome]], calls: object = None
           ) -> None:
    from migrator_tui.review.state import atomic_write

    scan = {"root": result.root, "recipe": result.recipe, "base": result.base,
            "occurrences": [[getattr(o, name) for name in _NAMES] for o in result.occurrences],
            "skipped": [[s.path, s.reason] for s in result.skipped],
            "excluded": [[e.path, e.line, e.function, e.reason] for e in result.excluded],
            "files_scanned": result.files_scanned, "file_hashes": result.file_hashes}
    kept = None if summaries is None else {oid: {
        "strategy": p.strategy, "alternatives": list(p.alternatives), "confidence": p.confidence,
        "warnings": [w.to_json() for w in p.warnings], "manual_reason": p.manual_reason,
        "start_line": p.start_line, "end_line": p.end_line} for oid, p in summaries.items()}
    try:
        records = {rel: {"sha1": r.sha1, "asked": r.asked} for rel, r in files.items()}
        data = json.dumps({"key": key, "static": static, "scan": scan, "summaries": kept, "files": records,
                           "outcomes": outcomes, "calls": calls},
                          separators=(",", ":"), ensure_ascii=True).encode()
    except (TypeError, ValueError):  # (not expected: every field is text, a number or a list)
        return
    with contextlib.suppress(OSError):  # a read-only repository: nothing kept, nothing lost
        atomic_write(path, data)
        sweep(path.parent)
