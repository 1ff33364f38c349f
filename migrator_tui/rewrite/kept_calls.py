"""The caller index's reads of files, as plain values a later run can use again.

`RepoIndex.kept_calls()` gives, per file, the calls each read of it found (for some names) with
what the read depended on: the sha1 of the file's bytes and of every other file it parsed, and
every module it looked up with the file found. The scan cache keeps them (`review.cache`); the
next run hands them back (`RepoIndex.keep_calls`) and uses one only while all of that is as it
was, so a rescan after an edit reads only the files the edit can change.

`dump` and `load` convert; `load` takes untrusted input and raises `ValueError` on anything a
dump could not have written.
"""

from __future__ import annotations

from collections.abc import Mapping

from migrator_tui.rewrite.repo_index import Escape, FileCalls

Kept = dict[str, list[tuple[frozenset[str] | None, FileCalls]]]

#: Bounds on what is read back (a kept file is untrusted).
MAX_FILES = 200_000
MAX_ITEMS = 100_000


def dump(kept: Mapping[str, list[tuple[frozenset[str] | None, FileCalls]]]) -> dict[str, object]:
    return {rel: [[None if names is None else sorted(names), _calls_json(calls)] for names, calls in reads]
            for rel, reads in kept.items()}


def _calls_json(c: FileCalls) -> dict[str, object]:
    return {
        "digest": c.digest,
        "files": [list(f) for f in c.files],
        "modules": [list(m) for m in c.modules],
        "catching": [[callee, line, joined, kind, what] for callee, line, joined, (kind, what) in c.catching],
        "escapes": [[e.path, e.line, e.callee, e.function, e.owner, e.receiver[0], e.receiver[1],
                     [[name, list(types)] for name, types in e.decorator_catches], e.is_route]
                    for e in c.escapes],
    }


def load(data: object) -> Kept:
    """What `dump` wrote, every field checked (ValueError: not a dump)."""
    items = _dict(data)
    if len(items) > MAX_FILES:
        raise ValueError("too many files")
    out: Kept = {}
    for rel, reads in items.items():
        out[relative(rel)] = [(None if names is None else frozenset(_text(n) for n in _list(names)),
                            _calls(calls)) for names, calls in (_pair(r) for r in _list(reads))]
    return out


def _calls(item: object) -> FileCalls:
    c = _dict(item)
    if set(c) != {"digest", "files", "modules", "catching", "escapes"}:
        raise ValueError("not a read")
    catching = []
    for entry in _list(c["catching"]):
        callee, line, joined, kind, what = _fixed(entry, 5)
        catching.append((_text(callee), _line(line), _text(joined), (_text(kind), _opt(what))))
    escapes = []
    for entry in _list(c["escapes"]):
        path, line, callee, function, owner, kind, what, decorators, route = _fixed(entry, 9)
        catches = tuple((_text(name), tuple(_text(t) for t in _list(types)))
                        for name, types in (_pair(d) for d in _list(decorators)))
        if not isinstance(route, bool):
            raise ValueError("not a flag")
        escapes.append(Escape(relative(path), _line(line), _text(callee), _text(function), _opt(owner),
                              (_text(kind), _opt(what)), catches, route))
    files = tuple((relative(rel), _opt(digest)) for rel, digest in (_pair(f) for f in _list(c["files"])))
    modules = []
    for entry in _list(c["modules"]):
        module, level, here, found = _fixed(entry, 4)
        modules.append((_text(module), _line(level), relative(here),
                        None if found is None else relative(found)))
    return FileCalls(catching, escapes, _opt(c["digest"]), files, tuple(modules))


def _dict(value: object) -> dict[object, object]:
    if not isinstance(value, dict):
        raise ValueError("not a mapping")
    return value


def _list(value: object) -> list[object]:
    if not isinstance(value, list) or len(value) > MAX_ITEMS:
        raise ValueError("not a list")
    return value


def _fixed(value: object, n: int) -> list[object]:
    items = _list(value)
    if len(items) != n:
        raise ValueError("not an entry")
    return items


def _pair(value: object) -> list[object]:
    return _fixed(value, 2)


def relative(value: object) -> str:
    """A file's path inside the repository as the index writes it (`a/b.py`): nothing absolute,
    no `..`, no empty or `.` part (a kept file is untrusted: it must not name files elsewhere)."""
    text = _text(value)
    parts = text.split("/")
    if not text or "\\" in text or "\0" in text or any(p in ("", ".", "..") for p in parts):
        raise ValueError("not a path inside the repository")
    return text


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("not text")
    return value


def _opt(value: object) -> str | None:
    return None if value is None else _text(value)


def _line(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError("not a number")
    return value
