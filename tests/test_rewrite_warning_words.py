"""Warnings read as one fact each, and quote whole tokens."""

from __future__ import annotations

from pathlib import Path

from migrator_tui.recipe import load_recipe
from migrator_tui.rewrite import FileAnalysis
from migrator_tui.rewrite.astutil import elide
from migrator_tui.scan import scan
from tests.gitfixtures import make_repo

APP = '''\
from database import db_manager


def load(item_id):
    session = db_manager.get_session()
    try:
        item = session.query(Item).get(item_id)
        if item is None:
            raise ValueError("no item with this id exists in the catalogue, check the import job first")
        return item.name
    finally:
        session.close()


def view(item_id):
    try:
        return load(item_id)
    except ValueError:
        return None
'''


def _proposal(root: Path, path: str):  # type: ignore[no-untyped-def]
    recipe = load_recipe("db-session")
    result = scan(root, recipe)
    occs = [o for o in result.occurrences if o.path == path]
    source = (root / path).read_text()
    return FileAnalysis(source, occs, recipe, repo_root=root).propose(occs[0].id, "unified")


def test_a_same_file_caller_is_one_warning_not_two(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", {"app.py": APP})
    proposal = _proposal(root, "app.py")
    callers = [w.message for w in proposal.warnings if "caller catches" in w.message]
    assert callers == ["Line 5: a caller catches ValueError at line 18; the exception now arrives as "
                       "SessionDatabaseError."]


def test_a_caller_in_another_file_names_that_file(tmp_path: Path) -> None:
    other = ("from app import load\n\n\ndef job():\n    try:\n        load(1)\n"
             "    except KeyError:\n        pass\n")
    root = make_repo(tmp_path / "repo", {"app.py": APP, "jobs.py": other})
    proposal = _proposal(root, "app.py")
    callers = sorted(w.message for w in proposal.warnings if "caller catches" in w.message)
    assert len(callers) == 2
    assert "KeyError at jobs.py:7" in callers[0]


def test_quoted_code_is_cut_at_a_token_boundary(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", {"app.py": APP})
    proposal = _proposal(root, "app.py")
    raised = next(w.message for w in proposal.warnings if w.code == "domain-raise-wrapped")
    quoted = raised.split("`")[1]
    assert quoted == "raise ValueError(…", raised  # the string does not fit: it is left out whole


def test_elide() -> None:
    assert elide("f(a, b)", 40) == "f(a, b)"
    assert elide("session.query(User).filter_by(username=name).first()", 30) == \
        "session.query(User).filter_by(…"
    assert elide("'a very long string that does not fit at all'", 10) == \
        "'a very long string that does not fit at all'"
    assert elide("x + 'a very long string that does not fit'", 10) == "x +…"


def test_long_io_names_the_slow_call_and_not_a_request_object() -> None:
    import shutil
    import tempfile

    from tests.rewrite_cases import CASES

    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(CASES / "long_io_request_object_twin" / "before.py", Path(tmp) / "m.py")
        recipe = load_recipe()
        occs = scan(tmp, recipe).occurrences
        fa = FileAnalysis((Path(tmp) / "m.py").read_text(), occs, recipe, repo_root=None)
        messages = [w.message for w in fa.summary(occs[0].id).warnings if w.code == "long-io-in-block"]
    assert messages == ["Line 15: urllib.request.urlopen() inside the block keeps the transaction open."]
