"""Fixtures: a fresh SQLite database per test, a test client, and helpers to seed and read rows.

The helpers open their own `sqlalchemy.orm.Session` on the engine, so the tests never depend on
the application code they are checking.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

import web_app
from models import Image, PlatformConnection, ProcessingRun, User

PASSWORD = "correct horse"


class Seed:
    def __init__(self, engine) -> None:
        self.engine = engine

    def _add(self, obj) -> int:
        with Session(self.engine) as session:
            session.add(obj)
            session.commit()
            return obj.id

    def user(self, username: str, role: str = "viewer", active: bool = True, password: str = PASSWORD) -> int:
        user = User(username=username, email=f"{username}@example.com", role=role, active=active)
        user.set_password(password)
        return self._add(user)

    def platform(self, user_id: int, name: str, instance_url: str = "https://mastodon.example",
                 is_default: bool = False, is_active: bool = True) -> int:
        return self._add(PlatformConnection(
            user_id=user_id, name=name, platform_type="mastodon", instance_url=instance_url,
            access_token="token", is_default=is_default, is_active=is_active,
        ))

    def image(self, user_id: int, filename: str, status: str = "pending", generated: str | None = None,
              final: str | None = None, platform_id: int | None = None) -> int:
        return self._add(Image(
            user_id=user_id, filename=filename, status=status, generated_caption=generated,
            final_caption=final, platform_id=platform_id,
        ))

    def run(self, user_id: int, status: str = "completed", started_at: datetime | None = None) -> int:
        run = ProcessingRun(user_id=user_id, status=status, images_processed=1)
        if started_at is not None:
            run.started_at = started_at
        return self._add(run)

    def get(self, model, ident):
        """A detached copy of one row, read in a fresh session (None if absent)."""
        with Session(self.engine, expire_on_commit=False) as session:
            return session.get(model, ident)

    def count(self, model) -> int:
        with Session(self.engine) as session:
            return session.query(model).count()

    def forbid_update(self, table: str, column: str) -> None:
        """Make every UPDATE of `table.column` fail with a constraint error."""
        with self.engine.connect() as conn:
            conn.execute(text(
                f"CREATE TRIGGER forbid_{table}_{column} BEFORE UPDATE OF {column} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{column} is frozen'); END"
            ))
            conn.commit()

    def drop_table(self, name: str) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("PRAGMA foreign_keys=OFF"))
            conn.execute(text(f"DROP TABLE {name}"))
            conn.commit()


@pytest.fixture
def app(tmp_path):
    application = web_app.create_app(f"sqlite:///{tmp_path / 'captions.db'}", TESTING=True)
    yield application
    web_app.db_manager.engine.dispose()


@pytest.fixture
def seed(app) -> Seed:
    return Seed(web_app.db_manager.engine)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def request_ctx(app):
    """Service and optimizer code runs inside requests; give direct calls one."""
    with app.test_request_context():
        yield


@pytest.fixture
def unreachable_db(app, tmp_path):
    """Point the app at a database file that cannot be opened."""
    web_app.db_manager.configure(f"sqlite:///{tmp_path / 'missing-dir' / 'captions.db'}")


def login(client, username: str, password: str = PASSWORD):
    return client.post("/login", data={"username": username, "password": password})


@pytest.fixture
def alice(seed, client) -> int:
    """A logged-in viewer."""
    user_id = seed.user("alice")
    assert login(client, "alice").status_code == 302
    return user_id
