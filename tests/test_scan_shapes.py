"""Each shape tag on a small source, with the complete tag list the scanner gives it."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_scan_helpers import scan_source

from migrator_tui.model import SHAPES

# (shape under test, source, full expected shapes of the occurrence on the line marking `# <-`)
CASES: list[tuple[str, str, tuple[str, ...]]] = [
    ("try-finally", """
def f():
    session = db_manager.get_session()  # <-
    try:
        session.query(1)
    finally:
        session.close()
""", ("try-finally",)),
    ("try-except-finally", """
def f():
    session = db_manager.get_session()  # <-
    try:
        session.query(1)
    except ValueError:
        log()
    finally:
        session.close()
""", ("try-finally", "try-except-finally")),
    ("rollback-in-handler", """
def f():
    session = db_manager.get_session()  # <-
    try:
        session.add(1)
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()
""", ("try-finally", "try-except-finally", "rollback-in-handler")),
    ("none-guard", """
def f():
    session = None
    try:
        session = db_manager.get_session()  # <-
        session.query(1)
    finally:
        if session:
            session.close()
""", ("try-finally", "none-guard", "acquire-in-try")),
    ("none-guard-is-not-none", """
def f():
    session = None
    session = db_manager.get_session()  # <-
    try:
        session.query(1)
    finally:
        if session is not None:
            session.close()
""", ("try-finally", "none-guard")),
    ("acquire-in-try", """
def f():
    try:
        session = db_manager.get_session()  # <-
        session.query(1)
    finally:
        session.close()
""", ("try-finally", "acquire-in-try")),
    ("statements-before-try", """
def f():
    session = db_manager.get_session()  # <-
    user = session.get(1)
    try:
        session.query(user)
    finally:
        session.close()
""", ("try-finally", "statements-before-try")),
    ("reused-variable", """
def f():
    session = db_manager.get_session()  # <-
    try:
        session.query(1)
    finally:
        session.close()
    session = db_manager.get_session()
    try:
        session.query(2)
    finally:
        session.close()
""", ("try-finally", "reused-variable")),
    ("nested-function", """
def outer():
    def inner():
        session = db_manager.get_session()  # <-
        try:
            session.query(1)
        finally:
            session.close()
    return inner
""", ("try-finally", "nested-function")),
    ("method", """
class S:
    def get(self):
        session = self.db_manager.get_session()  # <-
        try:
            return session.query(1)
        finally:
            session.close()
""", ("try-finally", "method", "early-return")),
    ("raw-with", """
def f():
    with db_manager.get_session() as session:  # <-
        session.query(1)
""", ("raw-with",)),
    ("raw-with-no-as", """
def f():
    with db_manager.get_session():  # <-
        pass
""", ("raw-with",)),
    ("early-return", """
def f():
    session = db_manager.get_session()  # <-
    try:
        if session.query(1):
            return 1
        session.add(2)
    finally:
        session.close()
""", ("try-finally", "early-return")),
    ("explicit-commit", """
def f():
    session = db_manager.get_session()  # <-
    try:
        session.add(1)
        session.commit()
    finally:
        session.close()
""", ("try-finally", "explicit-commit")),
    ("no-close", """
def f():
    session = db_manager.get_session()  # <-
    return len(session.query(1).all())
""", ("no-close",)),
    ("inline", """
def f():
    return db_manager.get_session().query(1).all()  # <-
""", ("no-close", "inline")),
    ("inline-argument", """
def f():
    use(db_manager.get_session())  # <-
""", ("no-close", "inline")),
    ("used-after-close", """
def f():
    session = db_manager.get_session()  # <-
    try:
        rows = session.query(1)
    finally:
        session.close()
    return session.merge(rows)
""", ("try-finally", "used-after-close")),
    ("used-after-close-without-try", """
def f():
    session = db_manager.get_session()  # <-
    session.query(1)
    session.close()
    session.query(2)
""", ("used-after-close",)),
    ("not-used-after-rebinding", """
def f():
    session = db_manager.get_session()  # <-
    session.close()
    session = None
    print(session)
""", ()),
    ("session-escapes-return", """
def f():
    session = db_manager.get_session()  # <-
    return session
""", ("no-close", "session-escapes")),
    ("session-escapes-self", """
class S:
    def open(self):
        self.session = self.db_manager.get_session()  # <-
""", ("method", "no-close", "session-escapes")),
    ("session-escapes-stored", """
class S:
    def open(self):
        session = self.db_manager.get_session()  # <-
        self.current = session
        session.close()
""", ("method", "session-escapes")),
    ("session-escapes-global", """
def f():
    global SESSION
    SESSION = db_manager.get_session()  # <-
""", ("no-close", "session-escapes")),
    ("session-escapes-returned-inline", """
def f():
    return db_manager.get_session()  # <-
""", ("no-close", "inline", "session-escapes")),
    ("outer-handler", """
def f():
    try:
        session = db_manager.get_session()  # <-
        try:
            session.query(1)
        finally:
            session.close()
    except Exception:
        log()
""", ("try-finally", "outer-handler")),
    ("not-outer-handler-when-it-closes", """
def f():
    try:
        session = db_manager.get_session()  # <-
        session.query(1)
    except Exception:
        log()
    finally:
        session.close()
""", ("try-finally", "try-except-finally", "acquire-in-try")),
    ("module-level", """
session = db_manager.get_session()  # <-
try:
    session.query(1)
finally:
    session.close()
""", ("try-finally", "module-level")),
    ("class-body", """
class Config:
    session = db_manager.get_session()  # <-
""", ("no-close", "class-body")),
    ("generator", """
def rows():
    session = db_manager.get_session()  # <-
    try:
        yield from session.query(1)
    finally:
        session.close()
""", ("try-finally", "generator")),
    ("async", """
async def f():
    session = db_manager.get_session()  # <-
    try:
        await session.query(1)
    finally:
        session.close()
""", ("try-finally", "async")),
    ("close-in-try", """
def f():
    session = db_manager.get_session()  # <-
    try:
        session.query(1)
        session.close()
    finally:
        session.close()
""", ("try-finally", "close-in-try")),
]


@pytest.mark.parametrize(("shape", "source", "expected"), CASES, ids=[c[0] for c in CASES])
def test_shape(tmp_path: Path, shape: str, source: str, expected: tuple[str, ...]) -> None:
    line = next(i for i, text in enumerate(source.lstrip("\n").splitlines(), 1) if "# <-" in text)
    result = scan_source(tmp_path, source)
    occ = next(o for o in result.occurrences if o.line == line)
    assert occ.shapes == expected


def test_every_shape_has_a_case() -> None:
    covered = {s for _, _, expected in CASES for s in expected}
    assert covered == set(SHAPES)
