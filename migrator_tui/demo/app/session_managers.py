"""The project's session context managers.

`UnifiedSessionManager.get_db_session()` commits on success, rolls back on any exception and
re-raises it wrapped as `SessionDatabaseError`, and always closes. `RequestSessionManager.session_scope()`
shares one session per request, commits on success, rolls back and re-raises the original exception;
the session is closed when the request tears down.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, g, has_request_context
from sqlalchemy import text
from sqlalchemy.orm import Session

from database import DatabaseManager

logger = logging.getLogger(__name__)


class SessionDatabaseError(Exception):
    """Any failure inside a unified session block; the original exception is the __cause__."""


class UnifiedSessionManager:
    def __init__(self, db_manager: DatabaseManager) -> None:
        self.db_manager = db_manager

    def init_app(self, app: Flask) -> None:
        app.unified_session_manager = self

    @contextmanager
    def get_db_session(self) -> Iterator[Session]:
        session = self.db_manager.get_session()
        try:
            session.execute(text("SELECT 1"))
            yield session
            session.commit()
        except Exception as exc:
            session.rollback()
            logger.warning("database session rolled back: %s", exc)
            raise SessionDatabaseError(f"database operation failed: {exc}") from exc
        finally:
            session.close()


class RequestSessionManager:
    _G_KEY = "_request_db_session"

    def __init__(self, db_manager: DatabaseManager) -> None:
        self.db_manager = db_manager

    def init_app(self, app: Flask) -> None:
        app.request_session_manager = self
        app.teardown_request(self.close_request_session)

    @contextmanager
    def session_scope(self) -> Iterator[Session]:
        if not has_request_context():
            raise RuntimeError("session_scope() needs an active request context")
        session = g.get(self._G_KEY)
        if session is None:
            session = self.db_manager.get_session()
            setattr(g, self._G_KEY, session)
        try:
            yield session
            session.commit()
        except Exception:
            session.rollback()
            raise

    def close_request_session(self, _exc: BaseException | None = None) -> None:
        session = g.pop(self._G_KEY, None)
        if session is not None:
            session.close()
