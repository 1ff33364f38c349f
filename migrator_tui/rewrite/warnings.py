"""Turn a plan and a strategy into warnings and a confidence (DESIGN.md "Warning codes")."""

from __future__ import annotations

from migrator_tui.model import CONFIDENCE_ORDER, Confidence
from migrator_tui.recipe import Strategy
from migrator_tui.rewrite.plan import Plan
from migrator_tui.rewrite.proposal import Finding

#: The most confident a proposal carrying each warning can be.
CAPS: dict[str, Confidence] = {
    "implicit-commit": "safe",
    "exception-wrapped": "review",
    "domain-raise-wrapped": "review",
    "orm-escape": "review",
    "statements-before-try": "review",
    "unguarded-acquire": "safe",
    "raw-session-with": "review",
    "request-scope-shared": "review",
    "needs-app-context": "review",
    "no-release": "review",
    "handler-uses-session": "manual",
    "session-escapes": "manual",
    "used-after-close": "manual",
    "inline-acquire": "manual",
    "long-io-in-block": "safe",
    "unknown-context-manager": "review",
    "not-a-context-manager": "manual",
    "release-elsewhere": "manual",
    "handler-scope-narrowed": "review",
    "finally-reordered": "review",
    "close-errors-swallowed": "review",
    "session-yielded": "review",
    "session-rebound": "manual",
    "target-unavailable": "manual",
    "transaction-ended": "manual",
    "shared-finally": "manual",
    "regions-cross": "manual",
    "acquire-may-return-none": "review",
}

HINTS: dict[str, str] = {
    "implicit-commit": "Check that committing here is intended: pending changes on every path are saved.",
    "exception-wrapped": "Catch the wrapper type too, or choose a strategy that re-raises the original.",
    "domain-raise-wrapped": "Check the callers: they now receive the wrapper exception.",
    "orm-escape": "Read what the caller needs inside the block, or turn off expire_on_commit.",
    "statements-before-try": "Check that the moved statements may now be rolled back and caught.",
    "unguarded-acquire": "Nothing to do: the rewrite removes a latent UnboundLocalError.",
    "raw-session-with": "The raw session only closed; check that a commit on exit is wanted.",
    "request-scope-shared": "Check the request's other pending work and that a request context exists.",
    "needs-app-context": "Check every caller runs inside a Flask application or request context.",
    "no-release": "Check nothing relied on the session staying open.",
    "handler-uses-session": "Rewrite by hand: move the session work of the handler into the block.",
    "session-escapes": "Rewrite by hand: the session must not outlive the block.",
    "used-after-close": "Rewrite by hand: the code uses a closed session today.",
    "inline-acquire": "Bind the session to a name in a `with`, then query it.",
    "long-io-in-block": "Consider moving the slow call out of the block to keep the transaction short.",
    "unknown-context-manager": "Check that the object's __enter__ acquires and its __exit__ releases.",
    "not-a-context-manager": "Give the class __enter__/__exit__ first, or leave this one as it is.",
    "release-elsewhere": "Rewrite by hand: it is released somewhere other than the `finally` of the "
                         "`try` that follows (under a condition, in another block).",
    "handler-scope-narrowed": "Check that a failure of the moved statements need not reach the handler, "
                              "or move them back inside by hand.",
    "finally-reordered": "Check that the statement does not depend on the session being held (or released).",
    "close-errors-swallowed": "Check that an error while closing may now propagate, or keep the try by hand.",
    "session-yielded": "Check what the generator's consumer leaves pending: it is now committed on exit.",
    "session-rebound": "Rewrite by hand: give the second session its own `with`.",
    "target-unavailable": "Use a recipe whose context managers exist here (sqlalchemy-with), or add them.",
    "transaction-ended": "Keep the strategy that only closes, or end the block at the commit by hand.",
    "shared-finally": "Rewrite by hand, or use a strategy that only closes (its `with` blocks nest).",
    "regions-cross": "Accept the other occurrence alone, or give each resource its own block by hand.",
    "acquire-may-return-none": "Check that the function cannot return None here, or keep a None check "
                               "before the `with`.",
    "stale": "Scan again: the file changed.",
}


def closes_only(strategy: Strategy) -> bool:
    """The strategy's `with` enters the acquire itself and its exit only closes that very object
    (`with SessionLocal() as db:`, `with closing(connect()) as c:`)."""
    return strategy.kind == "receiver_with" and not (
        strategy.commits or strategy.rolls_back or strategy.wraps)


def manager_text(strategy: Strategy, plan: Plan) -> str:
    """How a message names the strategy's context manager."""
    if strategy.kind == "begin":
        return f"{plan.var}.begin()"
    if strategy.kind == "receiver_with":
        return f"the `with` on {plan.facts.acquire or plan.facts.receiver}"
    return f"{strategy.manager}.{strategy.method}()"


def evaluate(plan: Plan, strategy: Strategy) -> tuple[Confidence, list[Finding], str | None]:
    """Confidence, warnings and (for manual) the reason, of `plan` rewritten with `strategy`."""
    if plan.is_manual:
        code = plan.manual_code or "session-escapes"
        line = plan.acquire_line
        finding = Finding(code, line, f"Line {line}: {plan.manual_reason}.", HINTS.get(code, ""))
        return "manual", [finding], plan.manual_reason
    if plan.escape is not None and not closes_only(strategy):
        code, reason = plan.escape
        at = plan.acquire_line
        return "manual", [Finding(code, at, f"Line {at}: {reason}.", HINTS[code])], reason
    if plan.shares_try_with is not None and strategy.rolls_back:
        at = plan.shares_try_with
        reason = (f"the session acquired at line {at} shares this `try`; with {strategy.name} the "
                  "handlers and the `finally` move out of the `with`, so the two blocks cannot nest: "
                  "rewrite it by hand, or choose a strategy that only closes")
        return "manual", [Finding("regions-cross", plan.acquire_line, f"Line {plan.acquire_line}: {reason}.",
                                  HINTS["regions-cross"])], reason
    if plan.shared_finally and not closes_only(strategy):
        at = plan.shared_finally[0]
        reason = (f"the `finally` also closes another resource at line {at}; with {strategy.name} the "
                  "handlers and the `finally` move out of the `with`, so give each resource its own "
                  "block by hand")
        finding = Finding("shared-finally", at, f"Line {at}: {reason}.", HINTS["shared-finally"])
        return "manual", [finding], reason
    if strategy.kind == "begin" and plan.yields_session:
        at = plan.yields_session[0]
        reason = (f"the generator hands the session out at line {at}; inside `{plan.var}.begin()`, a "
                  "consumer that commits and then uses the session or what it loaded (`db.commit(); "
                  "db.refresh(obj)`) raises InvalidRequestError")
        return "manual", [Finding("transaction-ended", at, f"Line {at}: {reason}.",
                                  HINTS["transaction-ended"])], reason
    if strategy.kind == "begin" and plan.after_end:
        at, origin = plan.after_end[0]
        call = "commit()" if origin in plan.commit_lines else "rollback()"
        what = f"line {at} runs" if at not in plan.loop_lines else f"the loop at line {at} turns again"
        reason = (f"{what} after the {call} at line {origin}, inside the block; within "
                  f"`{plan.var}.begin()` that {call} ends the transaction, so touching the session or "
                  "an object it expired there raises InvalidRequestError")
        return "manual", [Finding("transaction-ended", at, f"Line {at}: {reason}.",
                                  HINTS["transaction-ended"])], reason
    if (plan.handler_uses or plan.finally_uses) and strategy.rolls_back:  # they move out of the `with`
        at, what = (plan.handler_uses or plan.finally_uses)[0]
        reason = f"{what}; with {strategy.name} it runs after the session is closed"
        return "manual", [Finding("handler-uses-session", at, f"Line {at}: {reason}.",
                                  HINTS["handler-uses-session"])], reason
    w: list[Finding] = []
    line = plan.acquire_line

    raised: dict[int, Confidence] = {}

    def add(code: str, at: int, message: str, cap: Confidence | None = None) -> None:
        w.append(Finding(code, at, message, HINTS[code]))
        if cap is not None:
            raised[len(w) - 1] = cap

    cm = manager_text(strategy, plan)
    if strategy.kind == "begin" and plan.after_handout:
        at, origin = plan.after_handout[0]
        what = f"line {at}" if at not in plan.loop_lines else f"the next turn of the loop at line {at}"
        add("transaction-ended", origin, f"Line {origin}: the session is handed to a call here; should "
            f"that code commit or roll back, {what}, which may touch the session, raises "
            f"InvalidRequestError inside `{plan.var}.begin()`.", "review")
    if strategy.commits:
        for exit_line, write in plan.dirty_exits:
            where = f"the return at line {exit_line}" if exit_line else "the end of the block"
            if write in plan.handouts:
                add("implicit-commit", write, f"Line {write}: the session is handed to a call here, which "
                    f"may leave changes pending at {where}; close() discarded them, {cm} now commits "
                    "them on exit.", "review")
                continue
            add("implicit-commit", write, f"Line {write}: this change is not committed before "
                f"{where}, so close() discarded it; {cm} now commits it on exit.", "review")
        # an exit with nothing pending commits an empty transaction: no change, no warning
    if strategy.wraps:
        wrapped = strategy.wraps
        specific = [(at, t) for at, t in plan.specific_handlers if t.rsplit(".", 1)[-1] != wrapped]
        if specific:  # one handler chain, one warning
            at = specific[0][0]
            names = " / ".join(f"`except {t}`" for _, t in specific)
            verb = "now sees" if len(specific) == 1 else "now see"
            add("exception-wrapped", at, f"Line {at}: {names} {verb} {wrapped}, which {strategy.manager} "
                "raises instead of the original exception.")
        for at, t in plan.outer_handlers:
            add("exception-wrapped", at, f"Line {at}: the enclosing `except {t}` now sees {wrapped}.")
        for _, t in plan.caller_handlers:
            add("exception-wrapped", line, f"Line {line}: a caller catches {t}; the exception now "
                f"arrives as {wrapped}.")
        for at in plan.reraises:
            add("exception-wrapped", at, f"Line {at}: this handler re-raises the database error to "
                f"callers on purpose; they now receive {wrapped} instead.")
        for at, t in plan.decorator_handlers:
            if t.rsplit(".", 1)[-1] != wrapped:
                add("exception-wrapped", line, f"Line {line}: the view's decorator catches {t} "
                    f"(line {at} of its wrapper), which now arrives as {wrapped}.")
        for types, catcher, how in plan.upstream_handlers:
            if any(t.rsplit(".", 1)[-1] != wrapped for t in types):
                add("exception-wrapped", line, f"Line {line}: an exception from this block reaches "
                    f"{catcher}, {how}; it now arrives there as {wrapped}.")
        for at, what in plan.raises:
            add("domain-raise-wrapped", at, f"Line {at}: `{what}` inside the block now reaches callers "
                f"wrapped in {wrapped}.")
    if strategy.commits and not strategy.shared:
        for at, what in plan.orm_escapes:
            add("orm-escape", at, f"Line {at}: {what}; after the commit on exit its attributes are "
                "expired and the session closed, so reading them raises DetachedInstanceError.")
    elif plan.pattern == "open" and plan.expires:
        for at, what in plan.orm_escapes:
            add("orm-escape", at, f"Line {at}: {what}; the block's commit()/rollback() expired it, and "
                "the session, never closed before, reloaded it on access; the `with` now closes the "
                "session, so reading it raises DetachedInstanceError.")
    keeps_inside = not strategy.rolls_back  # handlers and `finally` stay inside the `with`
    kept_finally = plan.finally_before or plan.finally_after
    if keeps_inside and plan.acquire_in_try and (plan.handler_effective or kept_finally):
        moved = [*plan.body_before, plan.acquire_line]
        what = "these statements and the acquire" if plan.body_before else "the acquire"
        where = (f"the `except` at line {plan.handler_effective[0]}" if plan.handler_effective
                 else "the `finally`")
        add("handler-scope-narrowed", moved[0], f"Line {moved[0]}: {what} (lines {moved[0]}–"
            f"{plan.acquire_line}) ran inside the `try`, so {where} covered a failure there; they now "
            "run before the `with`, outside it.")
    if keeps_inside:  # what ran after the release runs after the `with`, but the release of a
        for at, code in plan.finally_after:  # resource acquired later nests inside: it now comes first
            if at in plan.shared_inner:
                add("finally-reordered", at, f"Line {at}: `{code}` ran after the close in the `finally`; "
                    "the two `with` blocks nest, so it now runs first, before this release.")
    elif strategy.commits or strategy.rolls_back:
        for at, code in plan.finally_before:
            add("finally-reordered", at, f"Line {at}: `{code}` ran before the close in the `finally`; it "
                f"now runs after the `with` has ended the transaction and closed the session.")
    if plan.none_return is not None and strategy.kind in ("receiver_with", "begin"):
        at, what = plan.none_return
        fails = ("`closing(None)` runs the block and fails on exit (AttributeError)" if strategy.wrapper
                 else "`with` on None raises TypeError before the block runs")
        add("acquire-may-return-none", plan.acquire_line, f"Line {plan.acquire_line}: {what}; the old code "
            f"bound None and failed only at its first use (or skipped the close behind a check); {fails}.",
            "review")
    if plan.swallowed_close is not None:
        at = plan.swallowed_close
        add("close-errors-swallowed", at, f"Line {at}: the `finally` swallowed errors of close(); the "
            "`with` closes without that guard, so such an error now propagates.")
    if plan.yields_session and (strategy.commits or strategy.rolls_back or strategy.wraps):
        at = plan.yields_session[0]
        add("session-yielded", at, f"Line {at}: the generator hands the session out; what its consumer "
            f"leaves pending was discarded by close() and is now committed by {cm}, and an exception "
            "thrown into the generator now rolls back"
            + (f" and arrives as {strategy.wraps}." if strategy.wraps else "."))
    if plan.pattern == "close" and plan.raising_before_close:
        at = plan.raising_before_close[0]
        add("no-release", at, f"Line {at}: an exception here (or below, before the close at line "
            f"{plan.close_line}) left the session open; the `with` now closes it"
            + (" and rolls back" if strategy.rolls_back else "") + " before the exception goes on.")
    if plan.pre_inside and not keeps_inside:
        at = plan.pre_inside[0]
        add("statements-before-try", at, f"Line {at}: statements between the acquire and the `try` use "
            "the session and move into the block, where errors now roll back and reach the handlers.")
    elif plan.pre_inside_raising:  # they stay before the kept `try`, inside the `with`
        at = plan.pre_inside_raising[0]
        add("no-release", at, f"Line {at}: an exception here (before the `try`) left it open; the "
            "`with` now closes it before the exception goes on.")
    if plan.unguarded and plan.pattern == "try":
        add("unguarded-acquire", line, f"Line {line}: the acquire sits inside the `try` and the `finally` "
            "closes unconditionally (an UnboundLocalError if the acquire fails); the rewrite removes it.")
    # nothing pending at any exit (the commit on exit is empty) and a broad handler that does not
    # re-raise, nor look at the exception, stops every one (the wrapping reaches no one)
    if plan.pattern == "with" and (strategy.commits or strategy.wraps) and not (
            plan.contained and plan.contained_blind and not plan.dirty_exits):
        add("raw-session-with", line, f"Line {line}: the raw session's own `with` only closed it; "
            "the new one commits on exit and wraps exceptions.")
    if strategy.shared:
        add("request-scope-shared", line, f"Line {line}: {strategy.manager}.{strategy.method}() shares "
            "the request's session: a rollback discards the request's other pending work, and the "
            "session stays open until teardown.")
    if (strategy.needs_app or strategy.needs_request) and not plan.facts.is_view:
        need = "request" if strategy.needs_request else "application"
        add("needs-app-context", line, f"Line {line}: {plan.facts.function} is not a view, but "
            f"{strategy.name} needs a Flask {need} context.")
    for at in plan.leaky_exits:
        add("no-release", at, f"Line {at}: this path left without the close() that follows, so the "
            "session stayed open; the rewrite closes it.")
    if plan.pattern == "open":
        add("no-release", line, f"Line {line}: the session was never closed; the rewrite closes it at "
            f"the end of the block (line {plan.region_end}).")
    if strategy.kind == "bare_with" and not plan.resource_known:
        add("unknown-context-manager", line, f"Line {line}: nothing here shows that `{plan.resource}` "
            "supports `with` (it is not made by threading.Lock() or the like).")
    for at, what in plan.io_calls if not closes_only(strategy) else ():  # nothing changes there
        add("long-io-in-block", at, f"Line {at}: {what} inside the block keeps the transaction open.")
    confidence: Confidence = "safe"
    for i, f in enumerate(w):
        cap = raised.get(i, CAPS[f.code])
        if CONFIDENCE_ORDER[cap] > CONFIDENCE_ORDER[confidence]:
            confidence = cap
    return confidence, w, None
