"""The plan of one occurrence's rewrite, found on the standard library `ast`.

Analysis is strategy-independent: it finds how the session's lifetime is written (the region of
statements to rewrite and what to drop from it) and collects the facts that decide warnings. The
libcst builder (`build.py`) executes the plan, locating statements by their first line.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace


@dataclass(slots=True)
class Facts:
    """What the strategy rules and warnings need to know about the occurrence's surroundings."""

    function: str = "<module>"
    in_function: bool = False
    is_view: bool = False
    class_name: str | None = None
    #: Line of the `class` statement holding the enclosing method.
    class_line: int | None = None
    receiver: str = ""
    receiver_self: bool = False
    #: the acquire call as written (`SessionLocal()`, `sqlite3.connect(path)`)
    acquire: str = ""
    #: the character column where the acquire call starts
    acquire_column: int = 0
    decorators: tuple[str, ...] = ()
    reads: frozenset[str] = frozenset()
    bound: frozenset[str] = frozenset()
    locals: frozenset[str] = frozenset()
    #: the repository imports flask somewhere (unknown without a repository: assumed)
    flask: bool = True
    #: top-level modules named by strategy imports that neither the repository nor the
    #: interpreter has
    missing_modules: frozenset[str] = frozenset()
    #: the occurrence's module, dotted (`admin.routes.dashboard`)
    module: str = ""
    #: strategy requirements (`sqlalchemy>=1.4`) the repository's own pins rule out, with the pin
    unmet: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Plan:
    occurrence_id: str
    var: str | None
    facts: Facts
    #: "try" (closed in a finally), "close" (closed by a later statement), "open" (never closed),
    #: "with" (the raw session's own `with`), "manual".
    pattern: str = "manual"
    manual_reason: str | None = None
    manual_code: str | None = None
    acquire_line: int = 0
    region_start: int = 0
    region_end: int = 0
    try_line: int | None = None
    guard_line: int | None = None
    with_line: int | None = None
    pre_outside: list[int] = field(default_factory=list)
    pre_inside: list[int] = field(default_factory=list)
    body_before: list[int] = field(default_factory=list)
    close_line: int | None = None
    end_stmt_line: int | None = None
    finally_remove: list[int] = field(default_factory=list)
    handler_remove: list[int] = field(default_factory=list)
    handler_drop: list[int] = field(default_factory=list)
    #: handler statements that only close (removed even when the strategy keeps rollbacks)
    handler_close: list[int] = field(default_factory=list)
    #: for `bare_with`: the resource expression (`self._lock`); None for bound acquires
    resource: str | None = None
    #: the resource is known to be a context manager (made by `threading.Lock()` and the like)
    resource_known: bool = False
    handler_pass: list[int] = field(default_factory=list)
    orelse_hoist: bool = False
    body_close_remove: list[int] = field(default_factory=list)
    # facts for warnings (line, detail)
    has_commit: bool = False
    writes: list[int] = field(default_factory=list)
    #: (exit line or 0 for the end of the block, line of the uncommitted change)
    dirty_exits: list[tuple[int, int]] = field(default_factory=list)
    #: exits (a return line, 0 = the end) reached with no commit on their path and nothing pending
    uncommitted_exits: list[int] = field(default_factory=list)
    #: lines that leave a block that closes by a later statement, skipping that close
    leaky_exits: list[int] = field(default_factory=list)
    specific_handlers: list[tuple[int, str]] = field(default_factory=list)
    #: a broad handler that does not re-raise stops every exception of the block before it leaves
    #: the function (so no enclosing, caller or decorator handler can see it)
    contained: bool = False
    #: the enclosing broad handler that stops everything never reads the exception object
    contained_blind: bool = False
    outer_handlers: list[tuple[int, str]] = field(default_factory=list)
    caller_handlers: list[tuple[int, str]] = field(default_factory=list)
    decorator_handlers: list[tuple[int, str]] = field(default_factory=list)
    #: handlers further up (callers' decorators, their callers, error handlers): (types, catcher, how)
    upstream_handlers: list[tuple[tuple[str, ...], str, str]] = field(default_factory=list)
    raises: list[tuple[int, str]] = field(default_factory=list)
    reraises: list[int] = field(default_factory=list)
    orm_escapes: list[tuple[int, str]] = field(default_factory=list)
    io_calls: list[tuple[int, str]] = field(default_factory=list)
    unguarded: bool = False
    #: the acquire sat inside the `try` (covered by its handlers), with these statements before it
    acquire_in_try: bool = False
    #: handlers that do more than roll back, close and re-raise (a failure reaching them is handled)
    handler_effective: list[int] = field(default_factory=list)
    #: (line, what) of handler / `else` uses of the session beyond rollback()/close(): fine while the
    #: handlers stay inside the `with`, manual when they move out of it
    handler_uses: list[tuple[int, str]] = field(default_factory=list)
    #: `finally` statements kept, split by the release: (line, code) before it and after it
    finally_before: list[tuple[int, str]] = field(default_factory=list)
    finally_after: list[tuple[int, str]] = field(default_factory=list)
    #: acquired in the same `try` as the session of this line (which is acquired first): its
    #: `with` nests inside that one's only where the `try` stays inside the `with`
    shares_try_with: int | None = None
    #: the acquire calls a function of the repository that can return None: (line, what)
    none_return: tuple[int, str] | None = None
    #: `finally` statements before the release that use the session (line, what)
    finally_uses: list[tuple[int, str]] = field(default_factory=list)
    #: the release in the `finally` swallowed its own errors (`try: close() except: pass`)
    swallowed_close: int | None = None
    #: `yield <session>` statements (a generator handing the session out, as a dependency does)
    yields_session: list[int] = field(default_factory=list)
    #: of `pre_inside`, the lines that may raise
    pre_inside_raising: list[int] = field(default_factory=list)
    #: lines of the block that may raise, in a block closed by a later statement (no `try`)
    raising_before_close: list[int] = field(default_factory=list)
    #: (first, last line) of `receiver = <lookups>` just before the acquire, read by nothing else:
    #: dropped by strategies whose `with` does not use the receiver
    receiver_binding: tuple[int, int] | None = None
    #: this plan's region starts at `receiver_binding`, which the rewrite drops (`for_strategy`)
    drops_binding: bool = False
    #: lines of `finally` statements closing another resource acquired before the same `try`
    shared_finally: list[int] = field(default_factory=list)
    #: those closing a resource acquired after this one (its `with` nests inside this one's)
    shared_inner: list[int] = field(default_factory=list)
    #: (code, reason): the session leaves the block, or is used after it; `manual` unless the
    #: strategy's `with` closes the very object where the `finally` did (and nothing more)
    escape: tuple[str, str] | None = None
    #: the block calls commit() or rollback() (loaded objects are expired afterwards)
    expires: bool = False
    #: lines of the block's commit() statements
    commit_lines: list[int] = field(default_factory=list)
    #: (line of what runs next, line of the commit/rollback) where something may touch the session
    #: after the block's commit() or rollback() (inside `begin()`, that raises)
    after_end: list[tuple[int, int]] = field(default_factory=list)
    #: the same after statements handing the session to a call (which may commit or roll back)
    after_handout: list[tuple[int, int]] = field(default_factory=list)
    #: lines of statements handing the session to a call
    handouts: list[int] = field(default_factory=list)
    #: lines of the loops in the block (what follows a commit may be their next turn)
    loop_lines: list[int] = field(default_factory=list)

    @property
    def is_manual(self) -> bool:
        return self.pattern == "manual"


#: Strategy kinds whose `with` does not name the acquire's receiver.
DROPS_RECEIVER = ("with", "admin_route")


def for_strategy(plan: Plan, kind: str) -> Plan:
    """The plan as a strategy of `kind` executes it: its region then also takes the receiver's
    binding that nothing else reads (`db_manager = current_app.config["db_manager"]`)."""
    if plan.receiver_binding is None or kind not in DROPS_RECEIVER or plan.pattern in ("with", "manual"):
        return plan
    return replace(plan, region_start=plan.receiver_binding[0], drops_binding=True)
