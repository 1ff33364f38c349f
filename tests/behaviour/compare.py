"""Compare two observations and name each difference, then decide whether the warnings explain it.

The table `EXPLAINED_BY` is the contract: each kind of difference between the original's run and
the rewrite's run, and the warning codes of which one (at least) must be on the proposal for the
difference to be acceptable. `DOCUMENTED` lists the context managers' own semantics, which need
no warning (a `safe` proposal may show them). `SAFE_KINDS` are the differences a `safe` proposal
may show besides those: the ones whose warning is capped at `safe`.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from behaviour.runner import Observation

#: Context-manager semantics every strategy documents: never a behaviour change to warn about.
DOCUMENTED: dict[str, str] = {
    "duplicate-close": "the original closed more than once (close() in the try and in the finally); "
                       "the rewrite closes once, and a second close() does nothing",
    "close-on-error": "the context manager closes when the block raises (it rolled back); the "
                      "original's close() was skipped when the exception escaped before it (a leak)",
    "rollback-by-close": "a rollback() right before close() is gone: close() discards the same "
                         "uncommitted work",
    "cm-rollback": "the context manager rolls back when the block raises; the original discarded the "
                   "same uncommitted work by closing",
    "db-error-wrapped": "a database error that no handler of the file catches now reaches the caller "
                        "as SessionDatabaseError from the original (the unified manager's contract)",
    "cm-on-closed-session": "the block closed the session itself (the rewrite keeps that close()); the "
                            "context manager's commit or rollback on exit then runs on an empty session",
    "exit-commit-after-commit": "the context manager commits again on exit after the block's own "
                                "commit, with nothing to flush",
    "exit-commit": "the context manager commits on exit where the original never committed on that "
                   "path, with nothing to flush: an empty transaction ends by a commit instead of "
                   "the close's rollback (no data changes, so no warning)",
}

#: difference kind → the warning codes that explain it.
EXPLAINED_BY: dict[str, frozenset[str]] = {
    # an extra commit on exit that saves writes the original discarded
    "exit-commit-writes": frozenset({"implicit-commit", "raw-session-with"}),
    # that extra commit fails (the flush is rejected) and the caller sees the error
    "exit-commit-failed": frozenset({"implicit-commit", "raw-session-with"}),
    # the session is closed where the original never closed it (on some path)
    "close-added": frozenset({"no-release", "statements-before-try"}),
    # the original closed in the call; the shared request session is closed at teardown
    "close-deferred": frozenset({"request-scope-shared"}),
    # an attribute read in the function raises DetachedInstanceError (the object was expired on exit)
    "read-detached": frozenset({"orm-escape"}),
    # an attribute read in the function reloads an object the exit commit expired
    "read-refresh": frozenset({"orm-escape", "request-scope-shared"}),
    # a statement of the `finally` runs where the original raised before reaching the `try`
    "finally-ran": frozenset({"statements-before-try"}),
    # a handler runs where it did not, or no longer runs where it did (its statements show it), or the
    # `else` clause is skipped: the exception reaching the handlers changed
    "handler-changed": frozenset({"exception-wrapped", "statements-before-try", "raw-session-with"}),
    # the caller now sees the domain exception wrapped in SessionDatabaseError
    "domain-error-wrapped": frozenset({"domain-raise-wrapped"}),
    # a handler no longer sees the exception it caught (it is wrapped, or raised from elsewhere now):
    # the caller sees another return value or exception
    "handler-outcome": frozenset({"exception-wrapped", "statements-before-try", "raw-session-with"}),
    # the function itself now raises DetachedInstanceError (possibly wrapped)
    "detached-raise": frozenset({"orm-escape"}),
    # a read that raised DetachedInstanceError now works (the shared session is still open), and so
    # the function no longer raises it
    "read-alive": frozenset({"request-scope-shared"}),
    "detached-avoided": frozenset({"request-scope-shared"}),
    # the caller's read of the returned object raises DetachedInstanceError
    "post-read-detached": frozenset({"orm-escape"}),
    # the caller's read of the returned object reloads it (session still open, object expired)
    "post-read-refresh": frozenset({"request-scope-shared", "orm-escape"}),
    # the caller's read of the returned object works where it raised (the session is still open)
    "post-read-alive": frozenset({"request-scope-shared"}),
}

#: Besides DOCUMENTED, what a `safe` proposal may show (its explaining warning is capped at safe).
SAFE_KINDS: frozenset[str] = frozenset()


#: (original, rewrite) state of the caller's read of the returned object → difference kind.
POST_READ_KINDS = {
    ("ok", "detached"): "post-read-detached",
    ("refresh", "detached"): "post-read-detached",
    ("ok", "refresh"): "post-read-refresh",
    ("detached", "ok"): "post-read-alive",
    ("detached", "refresh"): "post-read-alive",
}


#: Differences that raise in the rewrite's run where the original went on.
STOPPERS = frozenset({"read-detached", "exit-commit-failed"})

#: Differences that follow from a failed commit on exit (the run took the error path from there).
CONSEQUENCES = frozenset({"handler-changed", "handler-outcome", "finally-ran", "events-removed"})


@dataclass(frozen=True)
class Difference:
    kind: str
    detail: str


def _closes(events: tuple[tuple[Any, ...], ...]) -> int:
    return sum(1 for e in events if e[0] == "close")


def _label(e: tuple[Any, ...]) -> str:
    return " ".join(str(x) for x in e)


def differences(old: Observation, new: Observation) -> list[Difference]:
    """Every difference between the original's run (`old`) and the rewrite's (`new`), named."""
    out: list[Difference] = []
    # closes: compared as facts (closed in the call, at teardown, never), then left out of the alignment
    old_in, new_in, new_td = _closes(old.events), _closes(new.events), _closes(new.teardown)
    if old_in and not new_in and new_td:
        out.append(Difference("close-deferred", "closed at the request's teardown instead of in the call"))
    elif old_in and not new_in + new_td:
        out.append(Difference("close-lost", "the original closed the session; the rewrite never does"))
    elif not old_in and new_in + new_td and _raised(old):
        out.append(Difference("close-on-error", "the rewrite closes the session an exception leaked"))
    elif not old_in and new_in + new_td:
        out.append(Difference("close-added", "the rewrite closes a session the original left open"))
    if max(old_in, new_in + new_td) > 1 and old_in != new_in + new_td:
        out.append(Difference("duplicate-close", f"{old_in} closes became {new_in + new_td}"))
    a = [e for e in old.events if e[0] != "close"]
    b = [e for e in new.events if e[0] != "close"]
    outcome_changed = old.outcome != new.outcome
    # reads are aligned on (object, attribute); their state (ok / refresh / detached) is compared after
    matcher = difflib.SequenceMatcher(None, [_key(e) for e in a], [_key(e) for e in b], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for r, twin in zip(a[i1:i2], b[j1:j2], strict=True):
                if r[0] == "read" and r[3] != twin[3]:
                    out.append(_read_difference(r, twin))
            continue
        removed, added = a[i1:i2], b[j1:j2]
        for e in added:
            if e[0] == "commit" and e[1] == "failed":
                out.append(Difference("exit-commit-failed", f"an added commit failed to flush {e[2]} writes"))
            elif e[0] == "commit" and e[2]:
                out.append(Difference("exit-commit-writes", f"an added commit saved {e[2]} writes"))
            elif e[0] == "commit":
                committed = any(x[0] == "commit" and x[1] == "ok" for x in b[:j1])
                out.append(Difference("exit-commit-after-commit" if committed else "exit-commit",
                                      "an added commit with nothing to flush"))
            elif e[0] == "rollback":
                out.append(Difference("cm-rollback", f"an added rollback (discarding {e[1]} writes)"))
            elif e[0] == "use-after-close" and e[1] in ("commit", "rollback"):
                out.append(Difference("cm-on-closed-session", _label(e)))
            elif e[0] == "audit":
                out.append(Difference("finally-ran" if e[1] == "finally" else "handler-changed", _label(e)))
            elif e[0] == "read" and e[3] == "detached":
                out.append(Difference("read-detached", f"{_label(e)} (added)"))
            else:
                out.append(Difference("events-added", _label(e)))
        # the rewrite stopped early (an exception): the outcome, or the read or commit that raised, says why
        trailing = i2 == len(a) and (outcome_changed or any(d.kind in STOPPERS for d in out))
        for e in removed:
            if e[0] == "rollback" and _followed_by_close(old.events, e):
                out.append(Difference("rollback-by-close", _label(e)))
            elif e[0] == "audit" and e[1] != "finally":
                out.append(Difference("handler-changed", f"{_label(e)} (removed)"))
            elif not trailing:
                out.append(Difference("events-removed", _label(e)))
    if outcome_changed:
        out.append(_outcome_difference(old, new, out))
    elif old.post_read != new.post_read:
        kind = POST_READ_KINDS.get((str(old.post_read), str(new.post_read)), "post-read-other")
        out.append(Difference(kind, f"reading the returned object: {old.post_read} → {new.post_read}"))
    # an outcome that changed because a read in the call started or stopped raising DetachedInstanceError
    # (a caller in the module may catch it) is that read's consequence
    for read, outcome in (("read-detached", "detached-raise"), ("read-alive", "detached-avoided")):
        if any(d.kind == read for d in out):
            out = [Difference(outcome, d.detail) if d.kind == "handler-outcome" else d for d in out]
    if any(d.kind == "exit-commit-failed" for d in out):  # the failed exit commit took the error path
        out = [Difference("exit-commit-failed", d.detail) if d.kind in CONSEQUENCES else d for d in out]
    return out


def _raised(run: Observation) -> bool:
    """An exception was raised in the run (a failed database call or the domain error), caught or not."""
    return run.outcome[0] == "raise" or any(e[0] == "raise" or "failed" in e for e in run.events)


def _key(e: tuple[Any, ...]) -> tuple[Any, ...]:
    return e[:3] if e[0] == "read" else e


def _read_difference(r: tuple[Any, ...], twin: tuple[Any, ...]) -> Difference:
    detail = f"{_label(r[:3])}: {r[3]} → {twin[3]}"
    if twin[3] == "detached":
        return Difference("read-detached", detail)
    if r[3] == "detached":
        return Difference("read-alive", detail)
    if twin[3] == "refresh":
        return Difference("read-refresh", detail)
    return Difference("read-state", detail)


def _followed_by_close(events: tuple[tuple[Any, ...], ...], event: tuple[Any, ...]) -> bool:
    """The session's next operation after `event` is its close (statements between do not use it)."""
    later = [e for e in events[events.index(event) + 1:] if e[0] != "audit"]
    return bool(later) and later[0][0] == "close"


def _outcome_difference(old_run: Observation, new_run: Observation, seen: list[Difference]) -> Difference:
    old, new = old_run.outcome, new_run.outcome
    detail = f"{old} → {new}"
    detached = "DetachedInstanceError"
    old_detached = any(e[0] == "read" and e[3] == "detached" for e in old_run.events)
    if new[0] == "raise" and detached in new[1:3] and detached not in old and not old_detached:
        return Difference("detached-raise", detail)
    if old[0] == "raise" and detached in old[1:3] and detached not in new:
        return Difference("detached-avoided", detail)
    if any(d.kind == "exit-commit-failed" for d in seen):
        return Difference("exit-commit-failed", detail)
    wrapped = new[0] == "raise" and new[1] == "SessionDatabaseError"
    if old[0] == "raise" and wrapped and (old[1], old[3]) == (new[2], new[3]):
        return Difference("domain-error-wrapped" if old[1] == "ValueError" else "db-error-wrapped", detail)
    return Difference("handler-outcome", detail)


def unexplained(diffs: list[Difference], codes: set[str], confidence: str) -> list[Difference]:
    """The differences that neither the context managers' semantics nor the warnings explain."""
    bad = []
    for d in diffs:
        if d.kind in DOCUMENTED:
            continue
        explained = bool(EXPLAINED_BY.get(d.kind, frozenset()) & codes)
        if not explained or (confidence == "safe" and d.kind not in SAFE_KINDS):
            bad.append(d)
    return bad
