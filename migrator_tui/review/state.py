"""Review state: every decision, the base commit, file hashes and per-file commits, on disk.

The state of one review lives in `<git-common-dir>/migrator/<recipe>/state.json` (inside the git
directory, so it never dirties the working tree; the common directory, so every worktree of a
repository shares the one set of branches it describes). Each change is written at once,
atomically (a temporary file in the same directory, flushed and fsynced, renamed over the old one,
then the directory fsynced): a crash leaves the previous or the new state, never half of one.

Loading validates the schema; a file that fails is moved aside to `state.json.corrupt-<timestamp>`
and reported in one sentence (`StateError`) — never silently reset.

A decision is matched to the current scan by occurrence id *and* fingerprint (a hash of the
enclosing scope's code with the occurrence's position made relative to it): a decision whose code
changed is marked stale — kept and shown, never applied.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import io
import json
import os
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from migrator_tui.errors import StateError
from migrator_tui.model import Occurrence

STATE_VERSION = 1
STATE_FILE = "state.json"
#: A cluster decision's id (in decisions and history; absent in states written before clusters).
GROUP_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,99}")
#: Undo history kept on disk (the oldest entries are dropped beyond this).
HISTORY_LIMIT = 1000

#: The note `apply` puts on the decisions it makes (a mark of who decided, not a reviewer's note).
APPLY_NOTE = "accepted by apply"

DecisionKind = Literal["pending", "accepted", "rejected"]
DECISIONS: tuple[str, ...] = ("pending", "accepted", "rejected")

#: What a recorded test run can have come to (see `checks.verify`).
VERIFICATION_STATUSES: tuple[str, ...] = ("passed", "failed", "timeout", "error")


def utc_now() -> str:
    """The current time as ISO 8601 UTC with a `Z` (seconds precision)."""
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


#: The last source `fingerprint` split, and its lines: the occurrences of one file are
#: fingerprinted one after another (splitting the file for each made thousands quadratic).
_SPLIT: tuple[str, list[str]] = ("", [])


def _lines(source: str) -> list[str]:
    """Lines as Python counts them (\n, \r\n, \r), not str.splitlines (which also splits on \f,
    \x1e...); the same list for the same string object."""
    global _SPLIT
    kept = _SPLIT  # (read once: another thread may replace it meanwhile)
    if kept[0] is source:
        return kept[1]
    lines = io.StringIO(source, newline="").readlines()
    _SPLIT = (source, lines)
    return lines


def fingerprint(source: str, occ: Occurrence) -> str:
    """A hash of the occurrence's code: its enclosing scope's lines, position made relative.

    Lines `scope_start..scope_end` (the whole file when the scope is unset) are hashed with the
    occurrence's line and column relative to the scope, so edits elsewhere in the file — even ones
    that move the function up or down — do not change it, while any edit inside the scope does.
    """
    lines = _lines(source)
    start = occ.scope_start if occ.scope_start > 0 else 1
    end = occ.scope_end if occ.scope_end >= start else len(lines)
    h = hashlib.sha256()
    h.update(f"{occ.line - start}:{occ.column}:{occ.end_line - start}:{occ.end_column}\n".encode())
    for line in lines[start - 1 : end]:
        h.update(line.encode("utf-8", "surrogatepass"))
    return h.hexdigest()[:32]


def choices_digest(records: Iterable[DecisionRecord]) -> str:
    """A hash of what a commit of these accepted decisions applies: ids, strategies and edits."""
    h = hashlib.sha256()
    for d in sorted(records, key=lambda r: r.id):
        h.update(f"{d.id}\0{d.strategy or ''}\0".encode("utf-8", "surrogatepass"))
        h.update((d.edited or "").encode("utf-8", "surrogatepass") + b"\1")
    return h.hexdigest()[:32]


# --- records --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """A reviewer's decision on one occurrence."""

    id: str
    path: str
    decision: str = "pending"
    strategy: str | None = None
    edited: str | None = None
    note: str = ""
    reviewer: str = ""
    time: str = ""
    fingerprint: str = ""
    line: int = 0
    function: str = ""
    #: Warning codes the reviewer saw when accepting (acknowledged), for the commit message.
    warnings: tuple[str, ...] = ()
    #: The code changed since the decision was made: shown, never applied.
    stale: bool = False
    #: Its file's migration was rolled back: shown, never applied (nor re-applied by `apply`)
    #: until the reviewer decides again.
    rolled_back: bool = False
    #: The cluster decision this decision was made in ("" for a decision on this occurrence alone).
    group: str = ""
    #: Within a cluster decision: the reviewer confirmed this member one by one (a sample).
    sampled: bool = False

    @property
    def accepted(self) -> bool:
        return self.decision == "accepted" and not self.stale and not self.rolled_back


@dataclass(frozen=True, slots=True)
class GroupDecision:
    """One member's decision within a cluster decision."""

    occ_id: str
    decision: str
    strategy: str | None = None
    warnings: tuple[str, ...] = ()
    #: Confirmed by the reviewer one by one (a sample member).
    sampled: bool = False


@dataclass(frozen=True, slots=True)
class CommitInfo:
    """The commit holding one file's migration, on its own branch."""

    branch: str
    sha: str
    base: str
    time: str
    occurrences: tuple[str, ...] = ()
    total: int = 0
    #: `choices_digest` of the accepted decisions the commit applied ("" in older states).
    choices: str = ""


@dataclass(frozen=True, slots=True)
class BlockCoverage:
    """Which tests of a `verify --coverage` run executed one occurrence's rewritten block.

    `start`..`end` are the block's lines in the branch's version of the file (0 when the block
    could not be located there); `line` is the occurrence's line at the base.
    """

    id: str
    line: int
    function: str
    start: int
    end: int
    #: Statements of the block, and how many of them ran (in any test, or outside one).
    statements: int = 0
    executed: int = 0
    #: Tests (pytest node ids) that executed at least one line of the block.
    tests: int = 0
    #: Those of them that failed (their node ids).
    failed: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CoverageRun:
    """The coverage part of one verification: the tests the run reported and each block's tests."""

    #: Tests the run reported (pytest node ids), and how many of them failed.
    tests: int = 0
    failed: int = 0
    blocks: tuple[BlockCoverage, ...] = ()
    #: Why no coverage was recorded (the command did not run pytest, coverage.py missing there...).
    error: str = ""


@dataclass(frozen=True, slots=True)
class Verification:
    """The outcome of running the target's tests on a file's branch."""

    status: str  # "passed" | "failed" | "timeout" | "error"
    command: str
    sha: str
    time: str
    seconds: float = 0.0
    output: str = ""
    #: The run's full log (a file under `<state dir>/logs/`); empty when none was written.
    log: str = ""
    #: `verify --coverage`: which tests executed each rewritten block; None without `--coverage`.
    coverage: CoverageRun | None = None


@dataclass(frozen=True, slots=True)
class FileRecord:
    path: str
    #: git blob sha of the file as scanned.
    blob: str | None = None
    commit: CommitInfo | None = None
    verification: Verification | None = None


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One change of decision: what it was before (None = never decided) and after.

    Entries of one `group` (a cluster decision) were made together and are undone together.
    """

    id: str
    before: DecisionRecord | None
    after: DecisionRecord
    group: str = ""


@dataclass(slots=True)
class ReviewState:
    """The whole review; methods that change it also save it."""

    path: Path
    recipe: str
    base: str
    prefix: str
    started: str = field(default_factory=utc_now)
    decisions: dict[str, DecisionRecord] = field(default_factory=dict)
    files: dict[str, FileRecord] = field(default_factory=dict)
    history: list[HistoryEntry] = field(default_factory=list)
    #: Verifications of whole commits rather than one file's branch: "base", "integration".
    checks: dict[str, Verification] = field(default_factory=dict)
    #: A view that is never written (listing without the lock).
    readonly: bool = False
    #: When set, `save` is skipped (a batch of changes is saved once at its end).
    _deferred: bool = False

    # -- queries -------------------------------------------------------------------------

    def decision(self, occ_id: str) -> DecisionRecord | None:
        return self.decisions.get(occ_id)

    def for_path(self, path: str) -> list[DecisionRecord]:
        return sorted((d for d in self.decisions.values() if d.path == path), key=lambda d: (d.line, d.id))

    def accepted(self, path: str) -> list[DecisionRecord]:
        """Accepted, not stale decisions of one file: what a commit of it applies."""
        return [d for d in self.for_path(path) if d.accepted]

    def counts(self, path: str, occurrence_ids: Iterable[str] | None = None) -> dict[str, int]:
        """accepted / rejected / pending / stale counts for a file (pending includes undecided)."""
        out = {"accepted": 0, "rejected": 0, "pending": 0, "stale": 0, "rolled_back": 0}
        ids = list(occurrence_ids) if occurrence_ids is not None else [d.id for d in self.for_path(path)]
        for occ_id in ids:
            d = self.decisions.get(occ_id)
            if d is None or d.decision == "pending":
                out["pending"] += 1
            elif d.stale:
                out["stale"] += 1
            elif d.rolled_back:
                out["rolled_back"] += 1
            else:
                out[d.decision] += 1
        return out

    # -- changes ---------------------------------------------------------------------------

    def decide(
        self,
        occ: Occurrence,
        decision: str,
        *,
        fingerprint: str,
        reviewer: str,
        strategy: str | None = None,
        edited: str | None = None,
        note: str | None = None,
        warnings: Sequence[str] = (),
        group: str = "",
        sampled: bool = False,
    ) -> DecisionRecord:
        """Record (and save) a decision; `note=None` keeps the previous note. `group` names the
        cluster decision it is part of (undone with the rest of it); `sampled` marks a member the
        reviewer confirmed one by one."""
        if decision not in DECISIONS:
            raise ValueError(f"unknown decision {decision!r}")
        if group and not GROUP_ID.fullmatch(group):
            raise ValueError(f"bad group id {group!r}")
        before = self.decisions.get(occ.id)
        record = DecisionRecord(
            id=occ.id, path=occ.path, decision=decision, strategy=strategy, edited=edited,
            note=(before.note if before else "") if note is None else note,
            reviewer=reviewer, time=utc_now(), fingerprint=fingerprint, line=occ.line,
            function=occ.function, warnings=tuple(warnings), stale=False, group=group, sampled=sampled,
        )
        self.decisions[occ.id] = record
        self.history.append(HistoryEntry(occ.id, before, record, group))
        self._trim_history()
        self.save()
        return record

    def _trim_history(self) -> None:
        """Drop the oldest entries beyond `HISTORY_LIMIT`, never half of a group: a group cut at
        the limit is kept whole (so one undo still takes back all of a large cluster decision)."""
        cut = len(self.history) - HISTORY_LIMIT
        if cut <= 0:
            return
        group = self.history[cut].group
        while group and cut > 0 and self.history[cut - 1].group == group:
            cut -= 1
        del self.history[:cut]

    def undo(self) -> list[HistoryEntry]:
        """Undo the last decision, or all of the last cluster decision (and save); the entries
        undone, latest first (empty when there is nothing to undo)."""
        if not self.history:
            return []
        undone = [self.history.pop()]
        group = undone[0].group
        while group and self.history and self.history[-1].group == group:
            undone.append(self.history.pop())
        for entry in undone:  # latest first: each occurrence ends as it was before the group
            if entry.before is None:
                self.decisions.pop(entry.id, None)
            else:
                self.decisions[entry.id] = entry.before
        self.save()
        return undone

    def mark_rolled_back(self, path: str) -> list[str]:
        """Mark the file's accepted decisions rolled back (and save); their ids. Not in the undo
        history: deciding again is how a reviewer takes one back."""
        marked = []
        for d in self.for_path(path):
            if d.accepted:
                self.decisions[d.id] = replace(d, rolled_back=True)
                marked.append(d.id)
        if marked:
            self.save()
        return marked

    def restore(self, previous: Mapping[str, DecisionRecord | None]) -> None:
        """Put decisions back as they were (None: undecided), dropping their history entries.

        For a change that could not be carried out (a file whose commit was refused): its
        decisions are taken back as if they had never been made, so undo does not see them.
        """
        if not previous:
            return
        made = {occ_id: self.decisions.get(occ_id) for occ_id in previous}
        self.history = [h for h in self.history if not (h.id in made and h.after is made[h.id])]
        for occ_id, record in previous.items():
            if record is None:
                self.decisions.pop(occ_id, None)
            else:
                self.decisions[occ_id] = record
        self.save()

    def set_file(self, path: str, **changes: Any) -> FileRecord:
        current = self.files.get(path) or FileRecord(path)
        record = replace(current, **changes)
        self.files[path] = record
        self.save()
        return record

    def set_check(self, name: str, verification: Verification) -> Verification:
        """Record (and save) the verification of a whole commit ("base", "integration")."""
        self.checks[name] = verification
        self.save()
        return verification

    def reconcile(self, occurrences: Sequence[Occurrence], fingerprints: Mapping[str, str]) -> list[str]:
        """Match decisions to a scan: mark stale those whose occurrence is gone or whose code changed.

        Decisions of files outside the scan's paths are left alone. Returns the ids newly stale.
        A decision that matches again is un-staled.
        """
        by_id = {o.id: o for o in occurrences}
        scanned_paths = {o.path for o in occurrences}
        newly: list[str] = []
        for occ_id, rec in list(self.decisions.items()):
            occ = by_id.get(occ_id)
            if occ is None:
                if rec.path not in scanned_paths:
                    continue
                stale = True
            else:
                stale = fingerprints.get(occ_id) != rec.fingerprint
            if stale != rec.stale:
                if stale:
                    newly.append(occ_id)
                self.decisions[occ_id] = replace(
                    rec, stale=stale, line=occ.line if occ else rec.line
                )
            elif occ is not None and occ.line != rec.line:
                self.decisions[occ_id] = replace(rec, line=occ.line)
        self.save()
        return newly

    @contextlib.contextmanager
    def batch(self) -> Any:
        """Defer saving inside the block; save once at its end (also when it raises)."""
        outer = self._deferred
        self._deferred = True
        try:
            yield self
        finally:
            self._deferred = outer
            if not outer:
                self.save()

    # -- persistence -----------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "recipe": self.recipe,
            "base": self.base,
            "prefix": self.prefix,
            "started": self.started,
            "decisions": [_record_json(d) for d in self.decisions.values()],
            "files": [_file_json(f) for f in self.files.values()],
            "history": [
                {"id": h.id, "before": _record_json(h.before) if h.before else None,
                 "after": _record_json(h.after)} | ({"group": h.group} if h.group else {})
                for h in self.history
            ],
            "checks": {name: asdict(v) for name, v in sorted(self.checks.items())},
        }

    def save(self) -> None:
        if self._deferred or self.readonly:
            return
        data = json.dumps(self.to_json(), indent=1).encode("utf-8")
        atomic_write(self.path, data)

    @classmethod
    def create(cls, path: Path, *, recipe: str, base: str, prefix: str) -> ReviewState:
        state = cls(path=Path(path), recipe=recipe, base=base, prefix=prefix)
        state.save()
        return state

    @classmethod
    def load(cls, path: Path) -> ReviewState | None:
        """The saved state, None if there is none; a corrupt file is moved aside (StateError)."""
        path = Path(path)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StateError(f"The review state {path} cannot be read ({exc.strerror}).") from None
        try:
            data = json.loads(raw.decode("utf-8"))
            version = data.get("version") if isinstance(data, dict) else None
            if isinstance(version, int) and version > STATE_VERSION:
                raise StateError(
                    f"The review state {path} was written by a newer migrator-tui (format {version}); "
                    "upgrade to continue this review."
                )
            return _parse_state(path, data)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            aside = _move_aside(path)
            raise StateError(
                f"The review state {path} is corrupt ({_reason(exc)}); it was moved to {aside} "
                "and the next run starts a new review."
            ) from None


# --- (de)serialisation ----------------------------------------------------------------------


def _record_json(d: DecisionRecord) -> dict[str, Any]:
    out = asdict(d)
    out["warnings"] = list(d.warnings)
    if not d.group:  # written only for cluster decisions: older states and readers stay as they were
        del out["group"], out["sampled"]
    return out


def _file_json(f: FileRecord) -> dict[str, Any]:
    out: dict[str, Any] = {"path": f.path, "blob": f.blob, "commit": None, "verification": None}
    if f.commit:
        out["commit"] = asdict(f.commit) | {"occurrences": list(f.commit.occurrences)}
    if f.verification:
        out["verification"] = asdict(f.verification)
    return out


class _Bad(ValueError):
    pass


def _want(value: Any, kind: type | tuple[type, ...], what: str) -> Any:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _Bad(f"{what} has the wrong type")
    return value


def _opt_str(value: Any, what: str) -> str | None:
    return None if value is None else _want(value, str, what)


def _group(value: Any, what: str) -> str:
    group = _want(value, str, what)
    if group and not GROUP_ID.fullmatch(group):
        raise _Bad(f"{what} is not a group id")
    return group


def _parse_record(d: Any, what: str) -> DecisionRecord:
    _want(d, dict, what)
    decision = _want(d["decision"], str, f"{what}.decision")
    if decision not in DECISIONS:
        raise _Bad(f"{what}.decision is {decision!r}")
    warnings = _want(d.get("warnings", []), list, f"{what}.warnings")
    return DecisionRecord(
        id=_want(d["id"], str, f"{what}.id"),
        path=_want(d["path"], str, f"{what}.path"),
        decision=decision,
        strategy=_opt_str(d.get("strategy"), f"{what}.strategy"),
        edited=_opt_str(d.get("edited"), f"{what}.edited"),
        note=_want(d.get("note", ""), str, f"{what}.note"),
        reviewer=_want(d.get("reviewer", ""), str, f"{what}.reviewer"),
        time=_want(d.get("time", ""), str, f"{what}.time"),
        fingerprint=_want(d["fingerprint"], str, f"{what}.fingerprint"),
        line=_want(d.get("line", 0), int, f"{what}.line"),
        function=_want(d.get("function", ""), str, f"{what}.function"),
        warnings=tuple(_want(w, str, f"{what}.warnings") for w in warnings),
        stale=_want(d.get("stale", False), bool, f"{what}.stale"),
        rolled_back=_want(d.get("rolled_back", False), bool, f"{what}.rolled_back"),
        group=_group(d.get("group", ""), f"{what}.group"),
        sampled=_want(d.get("sampled", False), bool, f"{what}.sampled"),
    )


def _parse_block(b: Any, what: str) -> BlockCoverage:
    _want(b, dict, what)
    numbers = {k: _want(b.get(k, 0), int, f"{what}.{k}") for k in
               ("line", "start", "end", "statements", "executed", "tests")}
    if any(n < 0 for n in numbers.values()) or numbers["start"] > numbers["end"] \
            or numbers["executed"] > numbers["statements"]:
        raise _Bad(f"{what} has impossible line numbers or counts")
    listed = _want(b.get("failed", []), list, f"{what}.failed")
    failed = tuple(_want(t, str, f"{what}.failed") for t in listed)
    if len(failed) > numbers["tests"]:
        raise _Bad(f"{what} has more failed tests than tests")
    return BlockCoverage(id=_want(b["id"], str, f"{what}.id"),
                         function=_want(b.get("function", ""), str, f"{what}.function"),
                         failed=failed, **numbers)


def _parse_coverage(c: Any, what: str) -> CoverageRun | None:
    if c is None:
        return None
    _want(c, dict, what)
    tests = _want(c.get("tests", 0), int, f"{what}.tests")
    failed = _want(c.get("failed", 0), int, f"{what}.failed")
    if not 0 <= failed <= tests:
        raise _Bad(f"{what} has impossible test counts")
    blocks = _want(c.get("blocks", []), list, f"{what}.blocks")
    return CoverageRun(tests=tests, failed=failed,
                       blocks=tuple(_parse_block(b, f"{what}.blocks[{i}]") for i, b in enumerate(blocks)),
                       error=_want(c.get("error", ""), str, f"{what}.error"))


def _parse_verification(ver: Any, what: str) -> Verification:
    _want(ver, dict, what)
    return Verification(
        status=_status(ver["status"], f"{what}.status"),
        command=_want(ver["command"], str, f"{what}.command"),
        sha=_want(ver["sha"], str, f"{what}.sha"),
        time=_want(ver.get("time", ""), str, f"{what}.time"),
        seconds=float(_want(ver.get("seconds", 0.0), (int, float), f"{what}.seconds")),
        output=_want(ver.get("output", ""), str, f"{what}.output"),
        log=_want(ver.get("log", ""), str, f"{what}.log"),
        coverage=_parse_coverage(ver.get("coverage"), f"{what}.coverage"),
    )


def _status(value: Any, what: str) -> str:
    if not isinstance(value, str) or value not in VERIFICATION_STATUSES:
        raise _Bad(f"{what} must be one of {', '.join(VERIFICATION_STATUSES)}")
    return value


def _parse_file(f: Any, what: str) -> FileRecord:
    _want(f, dict, what)
    commit = f.get("commit")
    if commit is not None:
        _want(commit, dict, f"{what}.commit")
        commit = CommitInfo(
            branch=_want(commit["branch"], str, f"{what}.commit.branch"),
            sha=_want(commit["sha"], str, f"{what}.commit.sha"),
            base=_want(commit["base"], str, f"{what}.commit.base"),
            time=_want(commit.get("time", ""), str, f"{what}.commit.time"),
            occurrences=tuple(_want(o, str, f"{what}.commit.occurrences") for o in
                              _want(commit.get("occurrences", []), list, f"{what}.commit.occurrences")),
            total=_want(commit.get("total", 0), int, f"{what}.commit.total"),
            choices=_want(commit.get("choices", ""), str, f"{what}.commit.choices"),
        )
    ver = f.get("verification")
    if ver is not None:
        ver = _parse_verification(ver, f"{what}.verification")
    return FileRecord(
        path=_want(f["path"], str, f"{what}.path"),
        blob=_opt_str(f.get("blob"), f"{what}.blob"),
        commit=commit,
        verification=ver,
    )


def _parse_state(path: Path, data: Any) -> ReviewState:
    _want(data, dict, "the top level")
    if data.get("version") != STATE_VERSION:
        raise _Bad(f"unknown format version {data.get('version')!r}")
    state = ReviewState(
        path=path,
        recipe=_want(data["recipe"], str, "recipe"),
        base=_want(data["base"], str, "base"),
        prefix=_want(data["prefix"], str, "prefix"),
        started=_want(data.get("started", ""), str, "started"),
    )
    for i, d in enumerate(_want(data["decisions"], list, "decisions")):
        rec = _parse_record(d, f"decisions[{i}]")
        state.decisions[rec.id] = rec
    for i, f in enumerate(_want(data["files"], list, "files")):
        fr = _parse_file(f, f"files[{i}]")
        state.files[fr.path] = fr
    for name, ver in _want(data.get("checks", {}), dict, "checks").items():
        state.checks[_want(name, str, "checks")] = _parse_verification(ver, f"checks[{name!r}]")
    for i, h in enumerate(_want(data.get("history", []), list, "history")):
        _want(h, dict, f"history[{i}]")
        before = None if h["before"] is None else _parse_record(h["before"], f"history[{i}].before")
        after = _parse_record(h["after"], f"history[{i}].after")
        entry_id = _want(h["id"], str, f"history[{i}].id")
        if after.id != entry_id or (before is not None and before.id != entry_id):
            raise _Bad(f"history[{i}] mixes occurrences")
        state.history.append(HistoryEntry(entry_id, before, after, _group(h.get("group", ""),
                                                                          f"history[{i}].group")))
    return state


def _reason(exc: BaseException) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"not valid JSON at line {exc.lineno}"
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text"
    if isinstance(exc, KeyError):
        return f"missing key {exc.args[0]!r}"
    return str(exc) or exc.__class__.__name__


def _move_aside(path: Path) -> Path:
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    os.replace(path, aside)
    _fsync_dir(path.parent)
    return aside


# --- atomic files ---------------------------------------------------------------------------


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, mode: int | None = None) -> None:
    """Write `data` to `path` so that a crash leaves the old or the new content, never a mix."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            if mode is not None:
                os.fchmod(fh.fileno(), mode)
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


#: `.<name>.<pid>.<8 random characters>.tmp`: the temporary file `atomic_write` renames into place.
_TMP_NAME = re.compile(r"\.(?P<name>.+)\.(?P<pid>\d+)\.[a-z0-9_]{8}\.tmp\Z")


def remove_leftovers(directory: Path) -> list[Path]:
    """Remove the temporary files a killed `atomic_write` left in `directory`; returns them.

    Only files of the exact shape `atomic_write` creates, beside the file they were for, and made
    by a process that no longer exists, are removed: a write in progress is never touched.
    """
    from migrator_tui.review.lock import pid_alive

    removed: list[Path] = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        m = _TMP_NAME.match(entry.name)
        if m is None or not entry.is_file(follow_symlinks=False) or pid_alive(int(m.group("pid"))):
            continue
        if not (Path(directory) / m.group("name")).exists():
            continue
        with contextlib.suppress(FileNotFoundError):
            os.unlink(entry.path)
            removed.append(Path(entry.path))
    return removed
