"""The second and third built-in recipes, on real semantics.

`sqlalchemy-with`: the original and rewritten functions run against a real SQLAlchemy Session on
SQLite and must do the same thing (results, rows written, exceptions, the connection returned).
`lock`: the rewritten functions hold and release a real `threading.Lock` exactly as before.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from rewrite_cases import CASES, run_bytes
from sqlalchemy import String, create_engine, event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

from migrator_tui.recipe import load_recipe
from migrator_tui.scan import scan


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)


class DbManager:
    """A real sessionmaker on a fresh in-memory database; counts connections checked out."""

    def __init__(self) -> None:
        self.engine = create_engine("sqlite://")
        Base.metadata.create_all(self.engine)
        self.checked_out = 0
        event.listen(self.engine, "checkout", lambda *a: self._count(1))
        event.listen(self.engine, "checkin", lambda *a: self._count(-1))
        self.factory = sessionmaker(self.engine)

    def _count(self, n: int) -> None:
        self.checked_out += n

    def get_session(self):  # type: ignore[no-untyped-def]
        return self.factory()

    def names(self) -> list[str]:
        with self.factory() as s:
            return sorted(u.name for u in s.query(User))


def _module(source: bytes) -> dict[str, object]:
    namespace: dict[str, object] = {"User": User, "IntegrityError": IntegrityError}
    exec(compile(source, "<case>", "exec"), namespace)
    return namespace


def _outcome(fn, *args):  # type: ignore[no-untyped-def]
    db = DbManager()
    db_seed = db.get_session()
    db_seed.add(User(name="ada"))
    db_seed.commit()
    db_seed.close()
    try:
        result = ("ok", fn(db, *args))
    except Exception as exc:  # compared by type
        result = ("raised", type(exc).__name__)
    return result, db.names(), db.checked_out


@pytest.mark.parametrize(("function", "args"), [
    ("names", ()), ("add_user", ("bob",)), ("add_user", ("ada",)), ("first_name", ()), ("already", ()),
])
def test_sqlalchemy_with_keeps_behaviour(function: str, args: tuple[object, ...]) -> None:
    case = CASES / "sqlalchemy_with_basic"
    before = _module((case / "before.py").read_bytes())
    after = _module(run_bytes((case / "before.py").read_bytes(), recipe_name="sqlalchemy-with").after)
    assert _outcome(before[function], *args) == _outcome(after[function], *args)
    assert _outcome(after[function], *args)[2] == 0, "a connection was left checked out"


def test_sqlalchemy_with_keeps_behaviour_when_the_database_fails() -> None:
    case = CASES / "sqlalchemy_with_reraise"
    before = _module((case / "before.py").read_bytes())["Repo"]
    after = _module(run_bytes((case / "before.py").read_bytes(), recipe_name="sqlalchemy-with").after)["Repo"]
    outcomes = []
    for repo_class in (before, after):
        db = DbManager()
        repo = repo_class(db)  # type: ignore[operator]
        saved = repo.save(User(name="x"))
        try:  # committed, so expired, then closed: detached both before and after
            read = ("read", saved.name)
        except Exception as exc:
            read = ("raised", type(exc).__name__)
        with pytest.raises(IntegrityError):
            repo.save(User(name="x"))
        outcomes.append((read, db.names(), db.checked_out))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][1:] == (["x"], 0)


def test_sqlalchemy_with_does_not_count_with_forms(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(
        "def a(db_manager):\n    with db_manager.get_session() as s:\n        return s\n"
        "def b(db_manager):\n    s = db_manager.get_session()\n    s.close()\n")
    ids = [o.id for o in scan(tmp_path, load_recipe("sqlalchemy-with")).occurrences]
    assert ids == ["m.py::b::0"]
    assert [o.id for o in scan(tmp_path, load_recipe()).occurrences] == ["m.py::a::0", "m.py::b::0"]


def test_lock_recipe_finds_statement_acquires_only(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(
        "def a(lock):\n    lock.acquire()\n    try:\n        pass\n    finally:\n        lock.release()\n"
        "def b(lock):\n    if lock.acquire(timeout=1):\n        lock.release()\n"
        "def c(lock):\n    ok = lock.acquire()\n")
    result = scan(tmp_path, load_recipe("lock"))
    assert [o.id for o in result.occurrences] == ["m.py::a::0"]


class Spy:
    """A lock that records being taken and given back, through `with` or acquire/release."""

    def __init__(self, lock: threading.RLock, seen: list[str]) -> None:
        self.lock, self.seen = lock, seen

    def __enter__(self) -> bool:
        self.seen.append("enter")
        return self.lock.__enter__()

    def __exit__(self, *exc: object) -> None:
        self.seen.append("exit")
        self.lock.__exit__(*exc)

    def acquire(self) -> bool:
        self.seen.append("enter")
        return self.lock.acquire()

    def release(self) -> None:
        self.seen.append("exit")
        self.lock.release()


def test_lock_recipe_holds_and_releases_like_before() -> None:
    case = CASES / "lock_basic"
    out = run_bytes((case / "before.py").read_bytes(), recipe_name="lock")
    assert out.manual and "leaky" in out.manual[0]
    for source in ((case / "before.py").read_bytes(), out.after):
        ns: dict[str, object] = {}
        exec(compile(source, "<lock>", "exec"), ns)
        lock: threading.Lock = ns["_lock"]  # type: ignore[assignment]
        ns["put"]("k", 1)  # type: ignore[operator]
        assert ns["_cache"] == {"k": 1} and not lock.locked()
        counter = ns["Counter"]()  # type: ignore[operator]
        seen: list[str] = []
        counter._lock = Spy(counter._lock, seen)
        assert counter.bump() == 1 and counter.peek() == 1
        assert seen == ["enter", "exit", "enter", "exit"]
