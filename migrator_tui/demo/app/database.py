"""The database manager: one engine, one session factory."""

from __future__ import annotations

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from models import Base


class ReadOnlySessionError(RuntimeError):
    """A read-only session tried to flush changes."""


def _enable_sqlite_foreign_keys(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _refuse_readonly_flush(session: Session, _flush_context, _instances) -> None:
    if session.info.get("readonly"):
        raise ReadOnlySessionError("this session was opened read-only")


class DatabaseManager:
    """Owns the engine. `configure()` may rebind it (the app factory and the tests do)."""

    def __init__(self, database_url: str = "sqlite:///captions.db") -> None:
        self.engine: Engine | None = None
        self._factory: sessionmaker[Session] | None = None
        self.configure(database_url)

    def configure(self, database_url: str) -> None:
        if self.engine is not None:
            self.engine.dispose()
        self.database_url = database_url
        self.engine = create_engine(database_url)
        if database_url.startswith("sqlite"):
            event.listen(self.engine, "connect", _enable_sqlite_foreign_keys)
        self._factory = sessionmaker(bind=self.engine)

    def create_tables(self) -> None:
        Base.metadata.create_all(self.engine)

    def get_session(self, readonly: bool = False) -> Session:
        """A new session; the caller closes it. A read-only session refuses to flush."""
        session = self._factory()
        if readonly:
            session.info["readonly"] = True
            event.listen(session, "before_flush", _refuse_readonly_flush)
        return session
