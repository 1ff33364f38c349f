"""The target context managers behave as the migration relies on."""

from __future__ import annotations

import pytest
from flask import g
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

import web_app
from models import User
from session_managers import SessionDatabaseError


def _user(name: str) -> User:
    user = User(username=name, email=f"{name}@example.com")
    user.set_password("pw")
    return user


def test_globals_are_exposed(app):
    assert app.unified_session_manager is web_app.unified_session_manager
    assert app.request_session_manager is web_app.request_session_manager
    assert web_app.unified_session_manager.db_manager is web_app.db_manager
    assert web_app.SessionDatabaseError is SessionDatabaseError


def test_get_db_session_commits_and_closes(app, seed):
    with web_app.unified_session_manager.get_db_session() as session:
        session.add(_user("bob"))
    assert seed.count(User) == 1
    assert not session.in_transaction()


def test_get_db_session_rolls_back_and_wraps(app, seed):
    seed.user("bob")
    with pytest.raises(SessionDatabaseError) as info:
        with web_app.unified_session_manager.get_db_session() as session:
            session.add(_user("carl"))
            session.flush()
            session.add(_user("bob"))
            session.flush()
    assert isinstance(info.value.__cause__, IntegrityError)
    assert seed.count(User) == 1


def test_get_db_session_wraps_domain_errors_too(app):
    with pytest.raises(SessionDatabaseError) as info:
        with web_app.unified_session_manager.get_db_session():
            raise ValueError("bad input")
    assert isinstance(info.value.__cause__, ValueError)


def test_session_scope_shares_one_session_per_request(app, seed):
    with app.test_request_context():
        with web_app.request_session_manager.session_scope() as first:
            first.add(_user("bob"))
        with web_app.request_session_manager.session_scope() as second:
            assert second is first
            assert second.query(User).count() == 1
        assert g.get("_request_db_session") is first
        first.execute(text("SELECT 1"))
        assert first.in_transaction()
    # The request's teardown closed the shared session.
    assert not first.in_transaction()
    assert seed.count(User) == 1


def test_session_scope_reraises_the_original_exception(app, seed):
    with app.test_request_context():
        with pytest.raises(ValueError, match="bad input"):
            with web_app.request_session_manager.session_scope() as session:
                session.add(_user("bob"))
                session.flush()
                raise ValueError("bad input")
    assert seed.count(User) == 0


def test_session_scope_needs_a_request(app):
    with pytest.raises(RuntimeError, match="request context"):
        with web_app.request_session_manager.session_scope():
            pass
