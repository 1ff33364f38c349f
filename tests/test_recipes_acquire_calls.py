"""The recipes whose acquire is a call of a name, on the real libraries.

`sqlalchemy-sessionmaker` and its `begin` strategy run against a real sessionmaker on SQLite;
`dbapi-connection` against real sqlite3 connections; the `get_db` dependency through FastAPI's
own dependency runner and through the bare generator protocol. Each original function and its
rewrite must do the same thing (results, rows written, exceptions, connections returned) where
the tool says `safe`, and must differ where it names a behaviour change.
"""

from __future__ import annotations

import sqlite3
import sys
import types
from pathlib import Path

import pytest
from rewrite_cases import CASES, run_bytes
from sqlalchemy import ForeignKey, String, create_engine, event
from sqlalchemy.exc import InvalidRequestError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker
from sqlalchemy.pool import StaticPool

from migrator_tui.recipe import load_recipe
from migrator_tui.scan import scan


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    owner: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)


class Database:
    """A real sessionmaker on a fresh in-memory database; counts connections checked out."""

    def __init__(self, threads: bool = False) -> None:
        # one connection shared by every thread (a server's worker threads) when `threads`
        self.engine = create_engine("sqlite://", poolclass=StaticPool,
                                    connect_args={"check_same_thread": False}) if threads else create_engine("sqlite://")
        Base.metadata.create_all(self.engine)
        self.checked_out = 0
        event.listen(self.engine, "checkout", lambda *a: self._count(1))
        event.listen(self.engine, "checkin", lambda *a: self._count(-1))
        self.SessionLocal = sessionmaker(self.engine)
        with self.SessionLocal() as s:
            s.add(User(id=1, name="ada"))
            s.commit()

    def _count(self, n: int) -> None:
        self.checked_out += n

    def names(self) -> list[str]:
        with self.SessionLocal() as s:
            return sorted(u.name for u in s.query(User))


class _Log:
    def info(self, *args: object) -> None:
        pass

    warning = info


def _load(source: bytes, db: Database, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    module = types.ModuleType("app.database")
    module.SessionLocal = db.SessionLocal  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "app", types.ModuleType("app"))
    monkeypatch.setitem(sys.modules, "app.database", module)
    namespace: dict[str, object] = {"User": User, "Item": Item, "SQLAlchemyError": SQLAlchemyError,
                                    "logger": _Log()}
    exec(compile(source, "<case>", "exec"), namespace)
    return namespace


def _run(source: bytes, function: str, args: tuple[object, ...], monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    db = Database()
    fn = _load(source, db, monkeypatch)[function]
    try:
        value = fn(*args)  # type: ignore[operator]
        plain = isinstance(value, (str, int, bool, dict, type(None)))
        result = ("ok", value if plain else type(value).__name__)
    except Exception as exc:  # compared by type
        result = ("raised", type(exc).__name__)
    return result, db.names(), db.checked_out


def _versions(case: str, strategy: str | None = None) -> tuple[bytes, bytes]:
    before = (CASES / case / "before.py").read_bytes()
    recipe = (CASES / case / "recipe.txt").read_text().strip()
    return before, run_bytes(before, strategy=strategy, recipe_name=recipe).after


@pytest.mark.parametrize(("case", "strategy", "function", "args"), [
    ("sessionmaker_try_finally", None, "get_user", (1,)),
    ("sessionmaker_try_finally", None, "get_user", (7,)),
    ("begin_every_path_commits", "begin", "rename", (1, "bob")),
    ("begin_every_path_commits", "begin", "rename", (7, "bob")),  # no such user: raises, rolls back
    ("begin_uncommitted_path", "begin", "rename", (1, "bob", False)),
    ("begin_commit_then_plain_return_twin", "begin", "create", ("eve",)),
    ("begin_commit_then_plain_return_twin", "begin", "create", ("ada",)),  # unique: IntegrityError
])
def test_safe_rewrites_keep_behaviour(case: str, strategy: str | None, function: str,
                                      args: tuple[object, ...], monkeypatch: pytest.MonkeyPatch) -> None:
    before, after = _versions(case, strategy)
    assert before != after
    expected = _run(before, function, args, monkeypatch)
    assert _run(after, function, args, monkeypatch) == expected
    assert expected[2] == 0, "a connection was left checked out"


def test_begin_commits_what_an_uncommitted_path_left_pending(monkeypatch: pytest.MonkeyPatch) -> None:
    """The `implicit-commit` warning of begin_uncommitted_path is true: the dry run now saves."""
    before, after = _versions("begin_uncommitted_path", "begin")
    assert _run(before, "rename", (1, "bob", True), monkeypatch) == (("ok", "dry run"), ["ada"], 0)
    assert _run(after, "rename", (1, "bob", True), monkeypatch) == (("ok", "dry run"), ["bob"], 0)


def test_begin_breaks_code_that_uses_the_session_after_its_commit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Why begin_use_after_commit is `manual` under `begin`: the same rewrite, written by hand,
    raises where the original worked."""
    before = (CASES / "begin_use_after_commit" / "before.py").read_bytes()
    assert run_bytes(before, strategy="begin", recipe_name="sqlalchemy-sessionmaker").manual
    forced = before.replace(b"    db = SessionLocal()\n    try:\n",
                            b"    with SessionLocal() as db, db.begin():\n")
    forced = forced.replace(b"    finally:\n        db.close()\n", b"")
    compile(forced, "<forced>", "exec")
    assert _run(before, "create", ("eve",), monkeypatch)[0] == ("ok", {"id": 2, "name": "eve"})
    assert _run(forced, "create", ("eve",), monkeypatch)[0] == ("raised", InvalidRequestError.__name__)
    # and the strategy that only closes is safe there
    safe = run_bytes(before, recipe_name="sqlalchemy-sessionmaker")
    assert safe.warnings == ["create: safe"]
    assert _run(safe.after, "create", ("eve",), monkeypatch) == _run(before, "create", ("eve",), monkeypatch)


# --- the get_db dependency ----------------------------------------------------------------


def _get_db_versions(monkeypatch: pytest.MonkeyPatch, db: Database):  # type: ignore[no-untyped-def]
    before, after = _versions("sessionmaker_get_db_dependency")
    assert b"with SessionLocal() as db:\n        yield db" in after
    return _load(before, db, monkeypatch)["get_db"], _load(after, db, monkeypatch)["get_db"]


@pytest.mark.parametrize("ending", ["exhausted", "thrown", "closed"])
def test_get_db_generator_protocol(ending: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """next(), then the consumer's three ways out: exhaustion, an exception thrown in at the
    yield (what a dependency runner does when the endpoint raises), and close()."""
    outcomes = []
    for version in (0, 1):
        db = Database()
        gen = _get_db_versions(monkeypatch, db)[version]()  # type: ignore[operator]
        session = next(gen)
        session.add(User(name="pending"))
        session.flush()
        held = db.checked_out
        try:
            if ending == "exhausted":
                next(gen)
            elif ending == "thrown":
                gen.throw(KeyError("endpoint failed"))
            else:
                gen.close()
            result = "ended"
        except StopIteration:
            result = "stop"
        except KeyError:
            result = "KeyError"
        outcomes.append((held, result, db.checked_out, db.names(), session.in_transaction()))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0] == 1 and outcomes[0][2] == 0 and outcomes[0][3] == ["ada"]


def test_get_db_through_fastapi(monkeypatch: pytest.MonkeyPatch) -> None:
    fastapi = pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    results = []
    for version in (0, 1):
        db = Database(threads=True)
        get_db = _get_db_versions(monkeypatch, db)[version]
        app = fastapi.FastAPI()

        @app.get("/users/{uid}")
        def read(uid: int, s=fastapi.Depends(get_db)):  # type: ignore[no-untyped-def]  # noqa: B008
            user = s.get(User, uid)
            if user is None:
                raise fastapi.HTTPException(404)
            return {"name": user.name}

        @app.post("/users/{name}")
        def create(name: str, s=fastapi.Depends(get_db)):  # type: ignore[no-untyped-def]  # noqa: B008
            s.add(User(name=name))
            s.flush()
            raise RuntimeError("the endpoint fails after a write")

        with TestClient(app, raise_server_exceptions=False) as client:
            got = [client.get("/users/1").json(), client.get("/users/9").status_code,
                   client.post("/users/zed").status_code]
        results.append((got, db.names(), db.checked_out))
    assert results[0] == results[1]
    assert results[0] == ([{"name": "ada"}, 404, 500], ["ada"], 0)


# --- dbapi-connection ----------------------------------------------------------------------


class _Tracked:
    """sqlite3.connect, recording every connection it makes."""

    def __init__(self) -> None:
        self.made: list[sqlite3.Connection] = []
        self.Row = sqlite3.Row
        self.Error = sqlite3.Error
        self.OperationalError = sqlite3.OperationalError

    def connect(self, *args: object, **kwargs: object) -> sqlite3.Connection:
        conn = sqlite3.connect(*args, **kwargs)  # type: ignore[arg-type]
        self.made.append(conn)
        return conn

    def all_closed(self) -> bool:
        closed = 0
        for conn in self.made:
            try:
                conn.execute("SELECT 1")
            except sqlite3.ProgrammingError:
                closed += 1
        return closed == len(self.made)


def _dbapi(source: bytes, function: str, path: Path, *args: object):  # type: ignore[no-untyped-def]
    tracked = _Tracked()
    namespace: dict[str, object] = {"logger": _Log()}
    exec(compile(source, "<case>", "exec"), namespace)
    namespace["sqlite3"] = tracked
    namespace["DB_PATH"] = str(path)
    try:
        result = ("ok", namespace[function](*args))  # type: ignore[operator]
    except Exception as exc:
        result = ("raised", type(exc).__name__)
    with sqlite3.connect(path) as check:
        rows = check.execute("SELECT title FROM videos ORDER BY title").fetchall()
    check.close()
    return result, rows, tracked.all_closed()


def _videos(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE videos (title TEXT UNIQUE)")
    conn.execute("INSERT INTO videos VALUES ('intro')")
    conn.commit()
    conn.close()


@pytest.mark.parametrize(("function", "args"), [
    ("list_videos", ()), ("add_video", ("new",)), ("add_video", ("intro",)),
])
def test_dbapi_closing_keeps_behaviour(function: str, args: tuple[object, ...], tmp_path: Path) -> None:
    before, after = _versions("dbapi_closing")
    assert b"with contextlib.closing(sqlite3.connect(" in after
    outcomes = []
    for n, source in enumerate((before, after)):
        path = tmp_path / f"{n}.db"
        _videos(path)
        outcomes.append(_dbapi(source, function, path, *args))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][2], "a connection was left open"


def test_a_connection_used_as_a_context_manager_commits_and_does_not_close(tmp_path: Path) -> None:
    """Why the recipe wraps in closing(): `with sqlite3.connect() as c:` is a transaction."""
    path = tmp_path / "x.db"
    _videos(path)
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO videos VALUES ('kept')")
    assert conn.execute("SELECT count(*) FROM videos").fetchone() == (2,)  # still open, committed
    conn.close()


def test_dbapi_matches_by_import_and_leaves_with_forms_alone(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_bytes((CASES / "dbapi_from_import_alias" / "before.py").read_bytes())
    (tmp_path / "b.py").write_text(
        "import sqlite3 as lite\nimport psycopg2\n\n"
        "def f(p):\n    c = lite.connect(p)\n    try:\n        pass\n    finally:\n        c.close()\n\n"
        "def g(dsn):\n    c = psycopg2.connect(dsn)\n    c.close()\n\n"
        "def h(obj):\n    c = obj.connect()\n    c.close()\n\n"
        "def k(p):\n    conn = sqlite3.connect(p)  # not imported here: not sqlite3's\n    conn.close()\n")
    occurrences = scan(tmp_path, load_recipe("dbapi-connection")).occurrences
    assert [(o.path, o.function, o.callee) for o in occurrences] == [
        ("a.py", "read", "open_db"), ("b.py", "f", "lite.connect"), ("b.py", "g", "psycopg2.connect")]


def test_sessionmaker_recipe_finds_names_and_imported_sessions_only(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_bytes((CASES / "sessionmaker_session_engine" / "before.py").read_bytes())
    (tmp_path / "b.py").write_text(
        "from db import SessionLocal\nimport sqlalchemy.orm as orm\n\n"
        "def f():\n    s = SessionLocal()\n    s.close()\n\n"
        "def g(e):\n    s = orm.Session(bind=e)\n    s.close()\n\n"
        "def h(db):\n    s = db.SessionLocal()\n    s.close()\n\n"
        "def k():\n    with SessionLocal() as s:\n        pass\n\n"
        "def m():\n    return 'SessionLocal()'\n")
    found = [(o.path, o.function) for o in scan(tmp_path, load_recipe("sqlalchemy-sessionmaker")).occurrences]
    assert found == [("a.py", "load"), ("b.py", "f"), ("b.py", "g"), ("b.py", "h")]


def test_sessionmaker_recipe_follows_factories_bound_in_the_file(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(
        "from sqlalchemy.orm import sessionmaker\n\nTestingSessionLocal = sessionmaker(bind=engine)\n\n"
        "class Repo:\n    def __init__(self, e):\n        self.Session = sessionmaker(bind=e)\n\n"
        "    def count(self):\n        s = self.Session()\n        try:\n            return 1\n"
        "        finally:\n            s.close()\n\n"
        "def fixture():\n    s = TestingSessionLocal()\n    try:\n        yield s\n"
        "    finally:\n        s.close()\n")
    (tmp_path / "b.py").write_text(  # the same names, not made by a factory here
        "def f(self):\n    s = self.Session()\n    s.close()\n")
    occurrences = scan(tmp_path, load_recipe("sqlalchemy-sessionmaker")).occurrences
    assert [(o.path, o.function) for o in occurrences] == [("a.py", "Repo.count"), ("a.py", "fixture")]


@pytest.mark.parametrize(("pin", "expected"), [
    ("setup.py:install_requires=['sqlalchemy==1.3.13']", "manual"),
    ("requirements.txt:SQLAlchemy~=1.3.0\n", "manual"),
    ("requirements.txt:sqlalchemy<1.4\n", "manual"),
    ("requirements.txt:sqlalchemy~=1.3\n", "safe"),  # >=1.3, <2: 1.4 and later allowed
    ("requirements.txt:sqlalchemy==2.0.30\nflask-sqlalchemy==3.1\n", "safe"),
    ("pyproject.toml:dependencies = ['sqlalchemy>=1.3']", "safe"),
])
def test_an_old_sqlalchemy_pin_rules_out_the_session_with(pin: str, expected: str, tmp_path: Path) -> None:
    """A Session is a context manager only since SQLAlchemy 1.4: under an older pin the `with`
    would raise on every call, so no strategy applies (target-unavailable)."""
    import subprocess

    from migrator_tui.rewrite import FileAnalysis

    name, _, text = pin.partition(":")
    (tmp_path / name).write_text(text)
    source = "from db import SessionLocal\n\ndef f():\n    s = SessionLocal()\n    try:\n        return 1\n" \
             "    finally:\n        s.close()\n"
    (tmp_path / "m.py").write_text(source)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    recipe = load_recipe("sqlalchemy-sessionmaker")
    occurrences = scan(tmp_path, recipe).occurrences
    proposal = FileAnalysis(source, occurrences, recipe, repo_root=tmp_path).summary(occurrences[0].id)
    assert proposal.confidence == expected
    if expected == "manual":
        assert [w.code for w in proposal.warnings] == ["target-unavailable"]
        assert "pins" in (proposal.manual_reason or "")


def _read_after(source: bytes, function: str, args: tuple[object, ...],
                monkeypatch: pytest.MonkeyPatch) -> str:
    db = Database()
    user = _load(source, db, monkeypatch)[function](*args)  # type: ignore[operator]
    try:
        return f"read {user.name}"
    except Exception as exc:
        return type(exc).__name__


@pytest.mark.parametrize(("case", "function", "args", "expected"), [
    ("sessionmaker_early_return_after_commit", "create", ("eve", True), "DetachedInstanceError"),
    ("sessionmaker_early_return_after_commit", "create_checked", ("eve",), "read eve"),
    ("sessionmaker_early_return_no_commit_twin", "find", ("ada", True), "read ada"),
])
def test_an_object_returned_on_a_leaky_path(case: str, function: str, args: tuple[object, ...], expected: str,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Why an early return before the close() gets `no-release` but no `orm-escape`: the session
    it left open was a local nothing else holds, so it went away with the function and took the
    object with it. An object its commit() expired is unreadable afterwards before and after the
    rewrite alike; one that was loaded (or read since) stays readable in both."""
    before, after = _versions(case)
    warnings = run_bytes(before, recipe_name="sqlalchemy-sessionmaker").warnings
    assert warnings and all("orm-escape" not in w for w in warnings)
    assert _read_after(before, function, args, monkeypatch) == _read_after(after, function, args, monkeypatch)
    assert _read_after(before, function, args, monkeypatch) == expected


@pytest.mark.parametrize("commits", [True, False])
def test_begin_warnings_of_a_session_handed_to_a_service(commits: bool,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Both warnings of begin_session_handed_to_service are true: a service that commits makes
    the later refresh raise inside begin() (transaction-ended); one that does not leaves the new
    user pending, which close() discarded and begin() now saves (implicit-commit)."""
    before, after = _versions("begin_session_handed_to_service", "begin")

    class SubscriptionService:
        def __init__(self, db) -> None:  # type: ignore[no-untyped-def]
            self.db = db

        def start_trial(self, user: User) -> None:
            self.db.flush()
            if commits:
                self.db.commit()

    outcomes = []
    for source in (before, after):
        db = Database()
        namespace = _load(source, db, monkeypatch)
        namespace["SubscriptionService"] = SubscriptionService
        try:
            result = ("ok", namespace["create_user"]("eve"))  # type: ignore[operator]
        except Exception as exc:
            result = ("raised", type(exc).__name__)
        outcomes.append((result, db.names(), db.checked_out))
    if commits:
        # the service's commit went through; the refresh after it raised
        assert outcomes == [(("ok", 2), ["ada", "eve"], 0),
                            (("raised", "InvalidRequestError"), ["ada", "eve"], 0)]
    else:
        assert outcomes == [(("ok", 2), ["ada"], 0), (("ok", 2), ["ada", "eve"], 0)]
