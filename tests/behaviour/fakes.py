"""Recording fakes of the database layer, with the semantics of DESIGN.md and SQLAlchemy.

Everything that happens lands in one `World.trace`: queries, adds, commits (with what they flushed),
rollbacks, closes, attribute reads and writes on loaded objects, calls on a closed session. The
modelled semantics:

- a commit flushes the pending writes (new and changed objects) and, with `expire_on_commit`, expires
  every object of the session; a rollback discards the pending writes and expires them too;
- reading an expired attribute reloads it while the session is open ("refresh"), and raises
  `DetachedInstanceError` once the session is closed; non-expired attributes stay readable;
- `close()` discards pending writes and expunges (detaches) every object; a closed session used
  again is recorded ("use-after-close") and works, empty, as SQLAlchemy's does;
- `UnifiedSessionManager.get_db_session()` commits on success, rolls back on any exception and
  re-raises it wrapped as `SessionDatabaseError(...) from exc`, and always closes;
- `RequestSessionManager.session_scope()` shares one session per request, commits on success, rolls
  back and re-raises the original; the session is closed at the request's teardown.

Failures are configured per world: every query fails (`SQLAlchemyError`), or a commit that has
writes to flush fails (`IntegrityError`, as a real flush would; an empty commit never fails).
"""

from __future__ import annotations

import builtins
import types
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


class SQLAlchemyError(Exception):
    """The fake `sqlalchemy.exc.SQLAlchemyError`."""


class IntegrityError(SQLAlchemyError):
    """The fake `sqlalchemy.exc.IntegrityError`: raised by a flush the database rejects."""


class DetachedInstanceError(SQLAlchemyError):
    """The fake `sqlalchemy.orm.exc.DetachedInstanceError` (a SQLAlchemyError, as the real one)."""


class SessionDatabaseError(Exception):
    """What the unified manager raises, the original exception as `__cause__`."""


FIELDS = ("id", "name")


@dataclass(frozen=True)
class Failures:
    """Which database operations fail in one run."""

    query: bool = False  # every query and get raises SQLAlchemyError
    flush: bool = False  # a commit with pending writes raises IntegrityError

    @property
    def label(self) -> str:
        return "query-fails" if self.query else "flush-fails" if self.flush else "no-failure"


FAILURES = (Failures(), Failures(query=True), Failures(flush=True))


@dataclass
class World:
    """One run's shared state: the trace, the failures, the sessions and the request."""

    failures: Failures = field(default_factory=Failures)
    trace: list[tuple[Any, ...]] = field(default_factory=list)
    sessions: int = 0
    created: int = 0
    in_app: bool = True
    request_session: FakeSession | None = None

    def record(self, *event: Any) -> None:
        self.trace.append(event)

    def new_session(self) -> FakeSession:
        self.sessions += 1
        self.record("open")
        return FakeSession(self)

    def end_request(self) -> None:
        """The request's teardown: close its shared session, if one was opened."""
        if self.request_session is not None:
            self.request_session.close()
            self.request_session = None


class FakeObj:
    """An ORM-like object: attribute reads and writes are recorded, expiry is honoured."""

    __slots__ = ("_db", "_expired", "_label", "_session", "_values", "_world")

    def __init__(self, world: World, label: str, values: dict[str, Any],
                 session: FakeSession | None = None) -> None:
        object.__setattr__(self, "_world", world)
        object.__setattr__(self, "_label", label)
        object.__setattr__(self, "_values", dict(values))  # what the object holds
        object.__setattr__(self, "_db", dict(values))  # what the database holds
        object.__setattr__(self, "_session", session)
        object.__setattr__(self, "_expired", set())  # attributes to reload before reading

    def __getattr__(self, name: str) -> Any:
        if name not in FIELDS:
            raise AttributeError(name)
        if name in self._expired:
            if self._session is None:
                self._world.record("read", self._label, name, "detached")
                raise DetachedInstanceError(
                    f"Instance <{self._label}> is not bound to a Session; attribute refresh operation "
                    "cannot proceed")
            self._world.record("read", self._label, name, "refresh")
            self._refresh()
        else:
            self._world.record("read", self._label, name, "ok")
        return self._values[name]

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in FIELDS:
            raise AttributeError(name)
        self._world.record("set", self._label, name)
        self._values[name] = value
        self._expired.discard(name)  # a set value is held without a load, as SQLAlchemy's __dict__
        session = self._session
        if session is not None and self not in session.dirty:
            session.dirty.append(self)

    def _refresh(self) -> None:
        """Reload every expired attribute from the database (one load, as SQLAlchemy does)."""
        for name in self._expired:
            self._values[name] = self._db[name]
        self._expired.clear()

    def _expire(self) -> None:
        self._expired.update(FIELDS)

    def _flushed(self) -> None:
        self._db.update(self._values)

    def __repr__(self) -> str:
        return f"<{self._label}>"


class Model:
    """The fake mapped class `Item`: `Item(name=...)` makes a transient object."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, **values: Any) -> FakeObj:
        world = CURRENT.world
        world.created += 1
        return FakeObj(world, f"new#{world.created}", {"id": None, **values})

    def __repr__(self) -> str:
        return self.name


class FakeQuery:
    def __init__(self, session: FakeSession, model: Model) -> None:
        self.session = session
        self.model = model

    def filter_by(self, **_: Any) -> FakeQuery:
        return self

    def count(self) -> int:
        self.session._run("count")
        return 3

    def first(self) -> FakeObj:
        self.session._run("first")
        return self.session._load(1)

    def all(self) -> list[FakeObj]:
        self.session._run("all")
        return [self.session._load(1), self.session._load(2)]


class FakeSession:
    def __init__(self, world: World) -> None:
        self.world = world
        self.closed = False
        self.identity: dict[int, FakeObj] = {}
        self.new: list[FakeObj] = []
        self.dirty: list[FakeObj] = []

    # -- helpers -------------------------------------------------------------------------------
    def _use(self, op: str) -> None:
        if self.closed:  # recorded; the session then works again, empty, as SQLAlchemy's does
            self.world.record("use-after-close", op)
            self.closed = False

    def _run(self, op: str) -> None:
        self._use(op)
        if self.world.failures.query:
            self.world.record("query", op, "failed")
            raise SQLAlchemyError(f"query {op} failed")
        self.world.record("query", op)

    def _load(self, ident: int) -> FakeObj:
        obj = self.identity.get(ident)
        if obj is None:
            obj = FakeObj(self.world, f"Item#{ident}", {"id": ident, "name": f"item-{ident}"}, self)
            self.identity[ident] = obj
        else:  # a query refreshes an expired object of the identity map
            obj._refresh()
        return obj

    def _expire_all(self) -> None:
        for obj in self.identity.values():
            obj._expire()

    # -- the Session API used by the generated code --------------------------------------------
    def query(self, model: Model) -> FakeQuery:
        return FakeQuery(self, model)

    def get(self, model: Model, ident: int) -> FakeObj:
        self._run("get")
        return self._load(ident)

    def delete(self, obj: FakeObj) -> None:
        self._use("delete")
        self.world.record("delete", obj._label)
        if obj not in self.dirty:
            self.dirty.append(obj)

    def __enter__(self) -> FakeSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(self, obj: FakeObj) -> None:
        self._use("add")
        self.world.record("add", obj._label)
        object.__setattr__(obj, "_session", self)
        if obj not in self.new:
            self.new.append(obj)

    def commit(self) -> None:
        self._use("commit")
        pending = len(self.new) + len(self.dirty)
        if pending and self.world.failures.flush:
            self.world.record("commit", "failed", pending)
            raise IntegrityError("duplicate key value violates unique constraint")
        self.world.record("commit", "ok", pending)
        for i, obj in enumerate(self.new, start=100):
            obj._values["id"] = i
            self.identity[i] = obj
        for obj in [*self.new, *self.dirty]:
            obj._flushed()
        self.new.clear()
        self.dirty.clear()
        self._expire_all()

    def rollback(self) -> None:
        self._use("rollback")
        self.world.record("rollback", len(self.new) + len(self.dirty))
        for obj in self.new:
            object.__setattr__(obj, "_session", None)
        self.new.clear()
        self.dirty.clear()
        self._expire_all()

    def close(self) -> None:
        """Discard pending writes and expunge every object: they are detached from now on."""
        self.world.record("close")
        self.closed = True
        for obj in [*self.identity.values(), *self.new]:
            object.__setattr__(obj, "_session", None)
        self.identity.clear()
        self.new.clear()
        self.dirty.clear()


class FakeDbManager:
    def get_session(self) -> FakeSession:
        return CURRENT.world.new_session()


class UnifiedSessionManager:
    @contextmanager
    def get_db_session(self) -> Iterator[FakeSession]:
        session = CURRENT.world.new_session()
        try:
            yield session
            session.commit()
        except Exception as exc:
            session.rollback()
            raise SessionDatabaseError(f"database operation failed: {exc}") from exc
        finally:
            session.close()


class RequestSessionManager:
    @contextmanager
    def session_scope(self) -> Iterator[FakeSession]:
        world = CURRENT.world
        if world.request_session is None:
            world.request_session = world.new_session()
        session = world.request_session
        try:
            yield session
            session.commit()
        except Exception:
            session.rollback()
            raise


class CurrentApp:
    """Flask's `current_app`: outside an application context every attribute raises RuntimeError."""

    def __getattr__(self, name: str) -> Any:
        if not CURRENT.world.in_app:
            raise RuntimeError("Working outside of application context.")
        if name == "unified_session_manager":
            return UNIFIED
        if name == "request_session_manager":
            return REQUEST
        raise AttributeError(name)


class FakeApp:
    def route(self, *_: Any, **__: Any) -> Any:
        return lambda fn: fn


class _Current:
    world: World = World()


CURRENT = _Current()
DB_MANAGER = FakeDbManager()
UNIFIED = UnifiedSessionManager()
REQUEST = RequestSessionManager()
ITEM = Model("Item")


def _audit(what: str) -> None:
    CURRENT.world.record("audit", what)


def _module(name: str, **attrs: Any) -> types.ModuleType:
    mod = types.ModuleType(name)
    mod.__dict__.update(attrs)
    return mod


FAKE_MODULES: dict[str, types.ModuleType] = {
    "web_app": _module("web_app", app=FakeApp(), db_manager=DB_MANAGER, unified_session_manager=UNIFIED,
                       request_session_manager=REQUEST, audit=_audit),
    "models": _module("models", Item=ITEM),
    "sqlalchemy": _module("sqlalchemy"),
    "sqlalchemy.exc": _module("sqlalchemy.exc", SQLAlchemyError=SQLAlchemyError,
                              IntegrityError=IntegrityError),
    "flask": _module("flask", current_app=CurrentApp()),
}
FAKE_MODULES["sqlalchemy"].exc = FAKE_MODULES["sqlalchemy.exc"]  # type: ignore[attr-defined]


def _import(name: str, globals: Any = None, locals: Any = None, fromlist: Any = (), level: int = 0) -> Any:
    if level == 0 and name in FAKE_MODULES:
        return FAKE_MODULES[name] if fromlist or "." not in name else FAKE_MODULES[name.split(".")[0]]
    return builtins.__import__(name, globals, locals, fromlist, level)


class RecordedValueError(ValueError):
    """The generated modules' `ValueError`: raising one is recorded (the trace shows the domain error)."""

    def __init__(self, *args: object) -> None:
        super().__init__(*args)
        CURRENT.world.record("raise", "ValueError")


RecordedValueError.__name__ = RecordedValueError.__qualname__ = "ValueError"


def module_namespace(name: str) -> dict[str, Any]:
    """Globals for exec'ing a generated module: its imports resolve to the fakes above, and its
    `ValueError` records when one is made."""
    return {"__name__": name,
            "__builtins__": {**builtins.__dict__, "__import__": _import, "ValueError": RecordedValueError}}
