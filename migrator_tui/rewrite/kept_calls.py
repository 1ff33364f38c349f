"""The caller index's reads of files, as plain values a later run can use again.

`RepoIndex.kept_calls()` gives, per file, the calls each read of it found (for some names) with
what the read depended on: the sha1 of the file's bytes and of every other file it parsed, and
every module it looked up with the file found. The scan cache keeps them (`review.cache`); the
next run hands them back (`RepoIndex.keep_calls`) and uses one only while all of that is as it
was, so a rescan after an edit reads only the files the edit can change. A kept question's
answer keeps what it read in the same form (`reads_json`, `reads`).

`dump` and `load` convert; `load` and `reads` take untrusted input and raise `ValueError` on
anything a dump could not have written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from migrator_tui.rewrite.repo_index import Escape, FileCalls
from migrator_tui.untrusted import fixed, flag, mapping, number, optional_text, pair, relative_path, text
from migrator_tui.untrusted import items as _items

Kept = dict[str, list[tuple[frozenset[str] | None, FileCalls]]]
Files = tuple[tuple[str, str | None], ...]
Modules = tuple[tuple[str, int, str, str | None], ...]

#: Bounds on what is read back (a kept file is untrusted).
MAX_FILES = 200_000
MAX_ITEMS = 100_000


def dump(kept: Mapping[str, list[tuple[frozenset[str] | None, FileCalls]]]) -> dict[str, object]:
    return {rel: [[None if names is None else sorted(names), _calls_json(calls)] for names, calls in reads]
            for rel, reads in kept.items()}


def reads_json(files: Iterable[tuple[str, str | None]],
               modules: Iterable[tuple[str, int, str, str | None]]) -> dict[str, object]:
    """What a read depended on beyond its own file, as plain values (see `reads`)."""
    return {"files": [list(f) for f in files], "modules": [list(m) for m in modules]}


def _calls_json(c: FileCalls) -> dict[str, object]:
    return {
        "digest": c.digest,
        **reads_json(c.files, c.modules),
        "catching": [[callee, line, joined, kind, what] for callee, line, joined, (kind, what) in c.catching],
        "escapes": [[e.path, e.line, e.callee, e.function, e.owner, e.receiver[0], e.receiver[1],
                     [[name, list(types)] for name, types in e.decorator_catches], e.is_route]
                    for e in c.escapes],
    }


def load(data: object) -> Kept:
    """What `dump` wrote, every field checked (ValueError: not a dump)."""
    found = mapping(data)
    if len(found) > MAX_FILES:
        raise ValueError("too many files")
    out: Kept = {}
    for rel, reads_of in found.items():
        out[relative_path(rel)] = [(None if names is None else frozenset(text(n) for n in _list(names)),
                                    _calls(calls)) for names, calls in (pair(r) for r in _list(reads_of))]
    return out


def reads(item: object) -> tuple[Files, Modules]:
    """What `reads_json` wrote: (the files with their sha1, the module lookups), every field
    checked (ValueError: not what it writes)."""
    c = mapping(item)
    if set(c) != {"files", "modules"}:
        raise ValueError("not what a read depended on")
    files = tuple((relative_path(rel), optional_text(digest))
                  for rel, digest in (pair(f) for f in _list(c["files"])))
    modules = []
    for entry in _list(c["modules"]):
        module, level, here, found = fixed(entry, 4)
        modules.append((text(module), number(level), relative_path(here),
                        None if found is None else relative_path(found)))
    return files, tuple(modules)


def _calls(item: object) -> FileCalls:
    c = mapping(item)
    if set(c) != {"digest", "files", "modules", "catching", "escapes"}:
        raise ValueError("not a read")
    catching = []
    for entry in _list(c["catching"]):
        callee, line, joined, kind, what = fixed(entry, 5)
        catching.append((text(callee), number(line), text(joined), (text(kind), optional_text(what))))
    escapes = []
    for entry in _list(c["escapes"]):
        path, line, callee, function, owner, kind, what, decorators, route = fixed(entry, 9)
        catches = tuple((text(name), tuple(text(t) for t in _list(types)))
                        for name, types in (pair(d) for d in _list(decorators)))
        escapes.append(Escape(relative_path(path), number(line), text(callee), text(function),
                              optional_text(owner), (text(kind), optional_text(what)), catches, flag(route)))
    files, modules = reads({"files": c["files"], "modules": c["modules"]})
    return FileCalls(catching, escapes, optional_text(c["digest"]), files, modules)


def _list(value: object) -> list[object]:
    return _items(value, MAX_ITEMS)
