"""A rule's `reads` (db-session: a view reading `current_user` takes `unified`, another view
`request_scope`): the names a function reads, found by the walk or ruled out by its text."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from migrator_tui.recipe import load_recipe
from migrator_tui.rewrite import FileAnalysis
from migrator_tui.scan import scan

VIEW = '''\
from flask import Flask
from flask_login import current_user
from web_app import db_manager, unified_session_manager, request_session_manager

app = Flask(__name__)


@app.route("/items")
def items():
    session = db_manager.get_session()
    try:
        return str(session.query(Item).filter_by(owner=READ).count())
    finally:
        session.close()
'''


def strategy(source: str) -> str | None:
    recipe = load_recipe(None)
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "views.py").write_text(source, encoding="utf-8")
        result = scan(Path(tmp), recipe)
    (occ,) = result.occurrences
    return FileAnalysis(source, [occ], recipe).summary(occ.id).strategy


@pytest.mark.parametrize(("read", "expected"), [
    ("current_user.id", "unified"),
    ("(lambda: current_user.id)()", "unified"),  # a nested scope reads it too
    ("\uff43urrent_user.id", "unified"),  # a compatibility form: the parser reads current_user
    ("7", "request_scope"),
    ("'current_user'", "request_scope"),  # written, not read
])
def test_a_view_reading_the_watched_name_takes_its_rule(read: str, expected: str) -> None:
    assert strategy(VIEW.replace("READ", read)) == expected
