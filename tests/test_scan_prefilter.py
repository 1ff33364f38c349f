"""The scan's text prefilter (`scan.acquire.may_hold`): a file is parsed only where its text can
hold an acquire call, and never skipped where the parser would find one.

Each form a call can take in the text (a space or a line break before `(`, a comment, a closing
bracket, an import under another name, a compatibility character the parser reads as a letter)
is found by the prefilter and by the whole scan; each twin without the call (a name that only
annotates, a longer name, a keyword argument) is not read. On the corpus, every file where the
parser's matcher finds an acquire call holds the prefilter's text, for every recipe.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from migrator_tui.recipe import load_recipe
from migrator_tui.scan import scan, spec_for
from migrator_tui.scan.acquire import Matcher, acquire_calls, may_hold

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"
RECIPES = ["db-session", "sqlalchemy-sessionmaker", "dbapi-connection", "sqlalchemy-with", "lock"]

SESSIONMAKER = "sqlalchemy-sessionmaker"
DB_SESSION = "db-session"

# (recipe, the file's text, the function the scan finds)
FOUND = [
    (DB_SESSION, "def f(db_manager):\n    s = db_manager.get_session ()\n    s.close()\n", "f"),
    (DB_SESSION, "def f(db_manager):\n    s = (db_manager.get_session)()\n    s.close()\n", "f"),
    (DB_SESSION, "def f(db_manager):\n    s = (db_manager.get_session  # the session\n"
                 "         ())\n    s.close()\n", "f"),
    (DB_SESSION, "def f(db_manager):\n    s = db_manager.get_session \\\n        ()\n    s.close()\n", "f"),
    (DB_SESSION, "def f(db_manager):\n    s = db_manager.\uff47et_session()\n    s.close()\n", "f"),
    (SESSIONMAKER, "from db import SessionLocal\n\ndef f():\n    s = SessionLocal\t()\n    s.close()\n", "f"),
    (SESSIONMAKER, "from sqlalchemy.orm import Session as S\n\ndef f(e):\n    s = S(e)\n    s.close()\n",
     "f"),
    (SESSIONMAKER, "from sqlalchemy.orm import (\n    Session  # the class\n    as S,\n)\n\n"
                   "def f(e):\n    s = S(e)\n    s.close()\n", "f"),
    (SESSIONMAKER, "import sqlalchemy.orm as o\n\ndef f(e):\n    s = o.Session(\n        e)\n"
                   "    s.close()\n", "f"),
    (SESSIONMAKER, "from sqlalchemy.orm import sessionmaker\n\nMaker = sessionmaker (bind=None)\n\n"
                   "def f():\n    s = Maker()\n    s.close()\n", "f"),
    (SESSIONMAKER, "# -*- coding: latin-1 -*-\nfrom db import SessionLocal\n\ndef f():\n"
                   "    s = Sessi\xbanLocal()\n    s.close()\n", "f"),
]

# the twins: the names are there, no call of them is
NOT_READ = [
    (DB_SESSION, "def f(db_manager):\n    return db_manager.get_sessions()\n"),
    (DB_SESSION, "def f(db_manager):\n    return db_manager.get_session_factory()\n"),
    (DB_SESSION, "get_session = None  # get_session is called elsewhere\n"),
    (SESSIONMAKER, "from sqlalchemy.orm import Session\n\ndef f(db: Session = None) -> Session:\n"
                   "    return db\n"),
    (SESSIONMAKER, "from sqlalchemy.orm import sessionmaker, Session\n\n"
                   "def f(m: sessionmaker, kind=Session) -> None:\n    return None\n"),
    (SESSIONMAKER, "def f():\n    return SessionLocalFactory()\n"),
]


def _encoded(text: str) -> bytes:
    return text.encode("latin-1") if "latin-1" in text.partition("\n")[0] else text.encode("utf-8")


@pytest.mark.parametrize(("recipe", "text", "function"), FOUND)
def test_every_form_of_a_call_is_read_and_found(recipe: str, text: str, function: str,
                                                tmp_path: Path) -> None:
    data = _encoded(text)
    assert may_hold(data, spec_for(load_recipe(recipe)).acquire())
    (tmp_path / "m.py").write_bytes(data)
    assert [o.function for o in scan(tmp_path, load_recipe(recipe)).occurrences] == [function]


@pytest.mark.parametrize(("recipe", "text"), NOT_READ)
def test_names_that_no_call_follows_are_not_read(recipe: str, text: str, tmp_path: Path) -> None:
    data = text.encode()
    assert not may_hold(data, spec_for(load_recipe(recipe)).acquire())
    (tmp_path / "m.py").write_bytes(data)
    result = scan(tmp_path, load_recipe(recipe))
    assert result.occurrences == [] and result.excluded == []


def _corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.rglob("*.py") if p.is_file() and not p.is_symlink())


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not there")
def test_no_corpus_file_with_an_acquire_call_is_left_out() -> None:
    import warnings

    specs = {r: spec_for(load_recipe(r)).acquire() for r in RECIPES}
    checked = 0
    found = dict.fromkeys(RECIPES, 0)
    left_out: list[tuple[str, str]] = []
    for path in _corpus_files():
        data = path.read_bytes()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tree = ast.parse(data)
        except (SyntaxError, ValueError, RecursionError):
            continue
        checked += 1
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
        for recipe, spec in specs.items():
            if acquire_calls(tree, Matcher(spec, tree), calls):
                found[recipe] += 1
                if not may_hold(data, spec):
                    left_out.append((recipe, str(path.relative_to(CORPUS))))
    assert checked > 1000 and sum(found.values()) > 100, found
    assert left_out == [], f"files with an acquire call left out: {left_out[:5]} (found: {found})"
