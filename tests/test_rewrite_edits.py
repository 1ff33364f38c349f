"""A reviewer's edited text: replaces exactly its region, is checked in its file, composes."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from migrator_tui.recipe import load_recipe
from migrator_tui.rewrite import FileAnalysis, RewriteError, edit_error
from migrator_tui.rewrite.proposal import Choice
from migrator_tui.scan import scan

SOURCE = '''from web_app import db_manager, unified_session_manager


def report():
    session = db_manager.get_session()
    try:
        rows = session.execute(text("""
SELECT name
  FROM users
""")).fetchall()
        return [r.name for r in rows]
    finally:
        session.close()


def inline():
    return db_manager.get_session().query(User).count()


def other():
    session = db_manager.get_session()
    try:
        return session.query(User).count()
    finally:
        session.close()
'''


def _analysis() -> FileAnalysis:
    recipe = load_recipe()
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "m.py").write_text(SOURCE)
        occs = scan(Path(tmp), recipe).occurrences
    return FileAnalysis(SOURCE, occs, recipe)


def test_the_proposed_region_keeps_multi_line_strings_verbatim() -> None:
    fa = _analysis()
    p = fa.propose("m.py::report::0")
    assert '\nSELECT name\n  FROM users\n"""' in p.after
    assert edit_error(p.after) is None
    assert p.after in p.new_source  # type: ignore[operator]


def test_an_edit_replaces_its_region_and_composes_with_other_choices() -> None:
    fa = _analysis()
    after = fa.propose("m.py::report::0").after
    edited = after.replace("[r.name for r in rows]", "sorted(r.name for r in rows)")
    new = fa.apply({"m.py::report::0": Choice("unified", edited), "m.py::other::0": Choice("unified")})
    assert "sorted(r.name for r in rows)" in new
    assert new.count("with unified_session_manager.get_db_session() as session:") == 2
    assert "def inline():\n    return db_manager.get_session().query(User).count()\n" in new
    compile(new, "m.py", "exec")


def test_a_manual_occurrence_is_rewritten_by_hand_over_its_whole_function() -> None:
    fa = _analysis()
    assert fa.summary("m.py::inline::0").is_manual
    hand = ("def inline():\n    with unified_session_manager.get_db_session() as session:\n"
            "        return session.query(User).count()\n")
    new = fa.apply({"m.py::inline::0": Choice("unified", hand)})
    assert hand in new and "db_manager.get_session().query" not in new
    assert new.startswith(SOURCE[: SOURCE.index("def inline")])
    assert new.endswith(SOURCE[SOURCE.index("\n\ndef other"):])


def test_an_edit_that_does_not_parse_is_refused_with_the_reason() -> None:
    fa = _analysis()
    bad = fa.propose("m.py::other::0").after.replace("return session", "return (session")
    assert edit_error(bad) is not None
    with pytest.raises(RewriteError, match="does not parse"):
        fa.apply({"m.py::other::0": Choice("unified", bad)})
