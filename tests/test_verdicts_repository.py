"""Verdicts that depend on the repository around the occurrence (real repositories in tmp_path)."""

from __future__ import annotations

from pathlib import Path

from gitfixtures import REPORTS, make_repo

from migrator_tui.recipe import load_recipe
from migrator_tui.rewrite import FileAnalysis
from migrator_tui.scan import scan

JOB = """\
from database import DatabaseManager


def cleanup():
    try:
        db_manager = DatabaseManager()
        session = db_manager.get_session()
        purge(session)
        session.close()
    except Exception as exc:
        log(exc)
"""


def proposals(root: Path, recipe_name: str = "db-session") -> dict[str, object]:
    recipe = load_recipe(recipe_name)
    result = scan(root, recipe)
    out = {}
    for path, occs in result.by_path().items():
        fa = FileAnalysis((root / path).read_text(), occs, recipe, repo_root=root)
        out.update({o.id: fa.propose(o.id) for o in occs})
    return out


def test_flask_strategies_are_not_offered_where_the_repository_has_no_flask(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", {"jobs.py": JOB})
    (p,) = proposals(root).values()
    assert p.confidence == "manual" and p.strategy is None
    assert [w.code for w in p.warnings] == ["target-unavailable"]
    assert "need Flask, which this repository never imports" in (p.manual_reason or "")


def test_twin_a_flask_application_gets_the_spec_strategy(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", {"jobs.py": JOB, "app.py": "from flask import Flask\n"})
    (p,) = proposals(root).values()
    assert p.strategy == "admin_route" and p.confidence == "review"
    assert "no-release" in {w.code for w in p.warnings}


def test_flask_extensions_count_as_flask(tmp_path: Path) -> None:
    auth = "from flask_login import login_required\n"
    root = make_repo(tmp_path / "repo", {"jobs.py": JOB, "auth.py": auth})
    (p,) = proposals(root).values()
    assert p.strategy == "admin_route"


def test_a_strategy_never_imports_its_manager_from_the_module_itself(tmp_path: Path) -> None:
    web = "from flask import Flask\n\n\ndef page():\n    s = db_manager.get_session()\n    try:\n" \
          "        return s.query(1).count()\n    finally:\n        s.close()\n"
    root = make_repo(tmp_path / "repo", {"web_app.py": web})
    (p,) = proposals(root).values()
    assert p.strategy == "admin_route"
    assert "unified" not in p.alternatives and "request_scope" not in p.alternatives


# --- exception-wrapped: only where a specific handler can see the wrapped exception ------------

SERVICE = """\
from flask import Flask


class CleanupService:
    def __init__(self, db_manager):
        self.db_manager = db_manager

    def cleanup_old_runs(self):
        session = self.db_manager.get_session()
        try:
            session.query(Run).delete()
            session.commit()
        finally:
            session.close()
"""

OTHER_CALLER = """\
from services import CleanupService


class SomethingElse:
    def cleanup_old_runs(self):
        return 0


def job():
    try:
        SomethingElse().cleanup_old_runs()
    except ValueError:
        pass
"""

TRUE_CALLER = """\
from services import CleanupService


def job():
    service = CleanupService(None)
    try:
        service.cleanup_old_runs()
    except ValueError:
        pass
"""


def wrapped_messages(root: Path) -> list[str]:
    out = []
    for p in proposals(root).values():
        out += [w.message for w in p.warnings if w.code == "exception-wrapped"]
    return out


def test_a_call_on_another_class_is_not_a_caller(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", {"services.py": SERVICE, "jobs.py": OTHER_CALLER})
    assert wrapped_messages(root) == []


def test_twin_a_caller_resolved_to_the_class_is_named(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", {"services.py": SERVICE, "jobs.py": TRUE_CALLER})
    (message,) = wrapped_messages(root)
    assert "ValueError at jobs.py:8" in message and "whose class" not in message


def test_an_unresolved_receiver_is_said_to_be_unresolved(tmp_path: Path) -> None:
    caller = TRUE_CALLER.replace("    service = CleanupService(None)\n", "")
    caller = caller.replace("def job():", "def job(service):")
    root = make_repo(tmp_path / "repo", {"services.py": SERVICE, "jobs.py": caller})
    (message,) = wrapped_messages(root)
    assert "whose class the code does not show" in message


BROAD_FIRST = """\
from flask import Flask
from web_app import db_manager, unified_session_manager


def platform_names():
    try:
        session = db_manager.get_session()
        try:
            return [p.name for p in session.query(Platform)]
        finally:
            session.close()
    except Exception as e:
        log(e)
        return error_response(str(e))


def page():
    try:
        return platform_names()
    except SQLAlchemyError:
        return "db down"
"""


def test_a_broad_handler_that_does_not_reraise_stops_caller_warnings(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", {"views.py": BROAD_FIRST})
    assert wrapped_messages(root) == []


def test_twin_a_broad_handler_that_reraises_lets_the_caller_see_it(tmp_path: Path) -> None:
    source = BROAD_FIRST.replace("        return error_response(str(e))\n", "        raise\n")
    root = make_repo(tmp_path / "repo", {"views.py": source})
    assert any("SQLAlchemyError at line 20" in m for m in wrapped_messages(root))


CHAIN = """\
from flask import Flask
from web_app import db_manager, unified_session_manager


def load(item_id):
    session = db_manager.get_session()
    try:
        return session.get(Item, item_id).name
    except DetachedInstanceError:
        return None
    except SQLAlchemyError:
        return None
    except KeyboardInterrupt:
        return None
    finally:
        session.close()
"""


def test_one_handler_chain_is_one_warning_and_base_exceptions_are_never_wrapped(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", {"items.py": CHAIN})
    (message,) = wrapped_messages(root)
    assert "`except DetachedInstanceError` / `except SQLAlchemyError` now see" in message
    assert "KeyboardInterrupt" not in message


CSRF = """\
from functools import wraps

from flask import Flask


def csrf_protected(f):
    @wraps(f)
    def wrapper(*args, **kwargs):
        try:
            validate_csrf()
        except CSRFError:
            return "bad token", 400
        return f(*args, **kwargs)
    return wrapper


def json_errors(f):
    @wraps(f)
    def wrapper(*args, **kwargs):
        try:
            return f(*args, **kwargs)
        except IntegrityError:
            return "conflict", 409
    return wrapper
"""

VIEW = """\
from decorators import {deco}
from web_app import app, db_manager, unified_session_manager


@app.route("/save", methods=["POST"])
@{deco}
def save():
    session = db_manager.get_session()
    try:
        session.add(Item())
        session.commit()
    finally:
        session.close()
"""


def test_a_decorator_whose_try_does_not_call_the_view_catches_nothing_of_it(tmp_path: Path) -> None:
    views = VIEW.format(deco="csrf_protected")
    root = make_repo(tmp_path / "repo", {"decorators.py": CSRF, "views.py": views})
    assert wrapped_messages(root) == []


def test_twin_a_decorator_whose_try_calls_the_view_is_named(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", {"decorators.py": CSRF, "views.py": VIEW.format(deco="json_errors")})
    (message,) = wrapped_messages(root)
    assert "IntegrityError (in decorator json_errors)" in message


MODELS = """\
from sqlalchemy.orm import DeclarativeBase, Mapped, relationship


class Base(DeclarativeBase):
    pass


class UserSession(Base):
    __tablename__ = "user_sessions"
    user: Mapped["User"] = relationship(back_populates="sessions")
"""

CONTEXT = """\
from models import UserSession
from web_app import unified_session_manager


def session_context(db_manager, token):
    session = db_manager.get_session()
    try:
        user_session = session.query(UserSession).filter_by(token=token).first()
        return {{"who": user_session.{attr}, "token": token}}
    finally:
        session.close()
"""


def test_an_orm_object_reached_through_a_relationship_of_another_file_escapes(tmp_path: Path) -> None:
    """`user_session.user` is a relationship the models module declares: the returned dict
    holds an ORM object, expired by the commit on exit (orm-escape); a column is plain data."""
    for attr, escapes in (("user", True), ("user_id", False)):
        root = make_repo(tmp_path / attr, {"models.py": MODELS, "context.py": CONTEXT.format(attr=attr),
                                           "app.py": "from flask import Flask\n"})
        (p,) = proposals(root).values()
        assert ("orm-escape" in {w.code for w in p.warnings}) == escapes, (attr, p.warnings)


# --- exception-wrapped further up: the views that call a service, and their decorators -------

SERVICE_NO_HANDLERS = """\
class ReportService:
    def __init__(self, db_manager):
        self.db_manager = db_manager

    def save_report(self, name):
        session = self.db_manager.get_session()
        try:
            session.add(Report(name=name))
            session.commit()
        finally:
            session.close()
"""

DB_ERRORS = """\
from functools import wraps


def db_errors(f):
    @wraps(f)
    def wrapper(*args, **kwargs):
        try:
            return f(*args, **kwargs)
        except IntegrityError:
            return "duplicate", 409
    return wrapper
"""

SERVICE_VIEW = """\
from decorators import db_errors
from services import ReportService
from web_app import app, db_manager


@app.route("/reports", methods=["POST"])
@db_errors
def create_report():
    service = {receiver}
    service.save_report("weekly")
    return "ok"
"""


def _service_repo(tmp_path: Path, receiver: str, **more: str) -> Path:
    files = {"services.py": SERVICE_NO_HANDLERS, "decorators.py": DB_ERRORS,
             "app.py": "from flask import Flask\n", "views.py": SERVICE_VIEW.format(receiver=receiver),
             **more}
    return make_repo(tmp_path / "repo", files)


def test_a_view_decorator_catching_what_a_service_raises_is_named(tmp_path: Path) -> None:
    root = _service_repo(tmp_path, "ReportService(db_manager)")
    (message,) = wrapped_messages(root)
    assert "`except IntegrityError` in decorator db_errors of `create_report()`" in message
    assert "through `create_report()` at views.py:10;" in message


def test_twin_the_same_view_calling_another_class_is_not_followed(tmp_path: Path) -> None:
    other = "class AuditService:\n    def save_report(self, name):\n        return name\n"
    view = SERVICE_VIEW.format(receiver="AuditService()").replace(
        "from services import ReportService", "from audit import AuditService")
    root = _service_repo(tmp_path, "AuditService()", **{"audit.py": other, "views.py": view})
    assert wrapped_messages(root) == []


def test_twin_a_view_that_swallows_every_exception_stops_the_walk(tmp_path: Path) -> None:
    view = SERVICE_VIEW.format(receiver="ReportService(db_manager)").replace(
        '    service.save_report("weekly")\n',
        '    try:\n        service.save_report("weekly")\n'
        '    except Exception:\n        return "failed", 500\n')
    root = _service_repo(tmp_path, "", **{"views.py": view})
    assert wrapped_messages(root) == []


def test_two_calls_up_and_the_applications_error_handler(tmp_path: Path) -> None:
    """A helper calls the service, a view calls the helper; the view has no decorator that
    catches, but the application registers an error handler for IntegrityError."""
    helpers = "from services import ReportService\n\n\ndef weekly(db_manager):\n" \
              "    ReportService(db_manager).save_report('weekly')\n"
    view = "from helpers import weekly\nfrom web_app import app, db_manager\n\n\n" \
           "@app.route('/weekly')\ndef weekly_view():\n    weekly(db_manager)\n    return 'ok'\n"
    errors = "from web_app import app\n\n\n@app.errorhandler(IntegrityError)\ndef conflict(exc):\n" \
             "    return 'conflict', 409\n\n\n@app.errorhandler(404)\ndef missing(exc):\n" \
             "    return 'no', 404\n"
    root = _service_repo(tmp_path, "", **{"helpers.py": helpers, "views.py": view, "errors.py": errors})
    (message,) = wrapped_messages(root)
    assert "the application's error handler for IntegrityError at errors.py:4" in message
    assert "through `weekly()` at helpers.py:5 and `weekly_view()` at views.py:7;" in message


def test_twin_no_route_reached_means_no_error_handler(tmp_path: Path) -> None:
    job = "from services import ReportService\n\n\ndef nightly(db_manager):\n" \
          "    ReportService(db_manager).save_report('nightly')\n"
    errors = "from web_app import app\n\n\n@app.errorhandler(IntegrityError)\ndef conflict(exc):\n" \
             "    return 'conflict', 409\n"
    root = _service_repo(tmp_path, "", **{"views.py": job, "errors.py": errors})
    assert wrapped_messages(root) == []


def test_a_module_level_instance_imported_by_the_view_is_resolved(tmp_path: Path) -> None:
    """`from services import reports` where services.py binds `reports = ReportService(...)`:
    the view's `reports.save_report()` is a call of the service."""
    service = SERVICE_NO_HANDLERS + "\n\nreports = ReportService(None)\n"
    view = SERVICE_VIEW.format(receiver="reports").replace(
        "from services import ReportService", "from services import reports").replace(
        "    service = reports\n    service.", "    reports.")
    root = _service_repo(tmp_path, "", **{"services.py": service, "views.py": view})
    (message,) = wrapped_messages(root)
    assert "decorator db_errors of `create_report()`" in message


def test_twin_an_imported_instance_of_another_class_is_not(tmp_path: Path) -> None:
    service = SERVICE_NO_HANDLERS + "\n\nclass Audit:\n    def save_report(self, name):\n" \
        "        return name\n\n\nreports = Audit()\n"
    view = SERVICE_VIEW.format(receiver="reports").replace(
        "from services import ReportService", "from services import reports").replace(
        "    service = reports\n    service.", "    reports.")
    root = _service_repo(tmp_path, "", **{"services.py": service, "views.py": view})
    assert wrapped_messages(root) == []


def test_a_function_of_an_imported_module_in_a_subfolder_project(tmp_path: Path) -> None:
    """`from app.services import reports` inside `backend/app/views.py` (the project runs from
    `backend/`): `reports.save()` is the module's function."""
    reports = "def save(db_manager, name):\n    session = db_manager.get_session()\n    try:\n" \
              "        session.add(Report(name=name))\n        session.commit()\n    finally:\n" \
              "        session.close()\n"
    view = "from app.decorators import db_errors\nfrom app.services import reports\n" \
           "from web_app import app\n\n\n@app.route('/r')\n@db_errors\ndef create():\n" \
           "    reports.save(None, 'x')\n    return 'ok'\n"
    files = {"backend/app/__init__.py": "", "backend/app/services/__init__.py": "",
             "backend/app/services/reports.py": reports, "backend/app/decorators.py": DB_ERRORS,
             "backend/app/views.py": view, "backend/wsgi.py": "from flask import Flask\n"}
    root = make_repo(tmp_path / "repo", files)
    (message,) = wrapped_messages(root)
    assert "decorator db_errors of `create()`" in message
    # twin: the same view calling `save` on something the code does not show is not followed
    root2 = make_repo(tmp_path / "repo2", {**files, "backend/app/views.py": view.replace(
        "from app.services import reports\n", "").replace("reports.save", "current_app.reports.save")})
    assert wrapped_messages(root2) == []


# --- acquire-may-return-none: a project function that returns None on some path --------------

def _project_recipe(tmp_path: Path) -> Path:
    from migrator_tui.recipe.load import BUILTIN_DIR

    text = (BUILTIN_DIR / "sqlalchemy_sessionmaker.toml").read_text()
    text = text.replace('name = "sqlalchemy-sessionmaker"', 'name = "project-sessions"').replace(
        'calls = ["SessionLocal",', 'calls = ["get_db_session", "SessionLocal",')
    path = tmp_path / "project_sessions.toml"
    path.write_text(text)
    return path


QUERY = """\
{header}

def query(name):
    s = None
    try:
        s = get_db_session(name)
        return s.execute("SELECT 1")
    finally:
        if s:
            s.close()
"""

MAY_BE_NONE = """\
def get_db_session(name):
    if not name:
        return
    return SessionLocal()
"""


def _none_codes(root: Path, recipe: Path) -> dict[str, tuple[str, list[str]]]:
    return {oid: (p.confidence, [w.message for w in p.warnings if w.code == "acquire-may-return-none"])
            for oid, p in proposals(root, str(recipe)).items()}


def test_an_acquire_that_can_return_none_is_named(tmp_path: Path) -> None:
    recipe = _project_recipe(tmp_path)
    root = make_repo(tmp_path / "repo", {"q.py": QUERY.format(header=MAY_BE_NONE)})
    ((confidence, messages),) = _none_codes(root, recipe).values()
    assert confidence == "review"
    (message,) = messages
    assert "`get_db_session()` can return None (line 3)" in message and "TypeError" in message


def test_twin_an_acquire_that_raises_instead_is_safe(tmp_path: Path) -> None:
    recipe = _project_recipe(tmp_path)
    raising = MAY_BE_NONE.replace("        return\n", "        raise KeyError(name)\n")
    root = make_repo(tmp_path / "repo", {"q.py": QUERY.format(header=raising)})
    assert list(_none_codes(root, recipe).values()) == [("safe", [])]


def test_an_imported_acquire_that_falls_off_its_end_is_named(tmp_path: Path) -> None:
    recipe = _project_recipe(tmp_path)
    helper = "def get_db_session(name):\n    if name:\n        return SessionLocal()\n"
    root = make_repo(tmp_path / "repo", {"db.py": helper,
                                         "q.py": QUERY.format(header="from db import get_db_session\n")})
    ((confidence, messages),) = _none_codes(root, recipe).values()
    assert confidence == "review" and "can return None (db.py:3)" in messages[0]


def test_an_acquire_imported_through_the_repositorys_own_package_name(tmp_path: Path) -> None:
    """The repository is the package: `from myproject.tests.conftest import get_db_session`
    names `tests/conftest.py`."""
    recipe = _project_recipe(tmp_path)
    header = "from myproject.tests.conftest import get_db_session\n"
    root = make_repo(tmp_path / "repo", {"tests/conftest.py": MAY_BE_NONE,
                                         "tests/utils.py": QUERY.format(header=header)})
    ((confidence, messages),) = _none_codes(root, recipe).values()
    assert confidence == "review" and "can return None (tests/conftest.py:3)" in messages[0]


# --- a plain function's callers are the calls of that function, not of any of its name ---------

ARCHIVE = "def save(db_manager, name):\n    return name\n"


def _caller(head: str, call: str = "save") -> str:
    return (f"{head}\n\n\ndef job():\n    try:\n        {call}(None, 'x')\n"
            "    except ValueError:\n        pass\n")


def _plain_repo(tmp_path: Path, caller: str) -> Path:
    return make_repo(tmp_path / "repo", {"reports.py": REPORTS, "archive.py": ARCHIVE, "jobs.py": caller,
                                         "app.py": "from flask import Flask\n"})


def test_a_plain_function_imported_and_called_is_caught_by_its_caller(tmp_path: Path) -> None:
    (message,) = wrapped_messages(_plain_repo(tmp_path, _caller("from reports import save")))
    assert "ValueError at jobs.py:7" in message


def test_twin_a_function_of_the_same_name_from_another_module_is_not_a_caller(tmp_path: Path) -> None:
    assert wrapped_messages(_plain_repo(tmp_path, _caller("from archive import save"))) == []


def test_twin_a_function_of_the_same_name_defined_by_the_caller_is_not_a_caller(tmp_path: Path) -> None:
    own = _caller("def save(db_manager, name):\n    return name")
    assert wrapped_messages(_plain_repo(tmp_path, own)) == []


def test_twin_a_bare_call_of_a_name_the_file_never_binds_is_not_a_caller(tmp_path: Path) -> None:
    assert wrapped_messages(_plain_repo(tmp_path, _caller("import os"))) == []


def test_a_module_qualified_call_resolves_through_the_import(tmp_path: Path) -> None:
    (message,) = wrapped_messages(_plain_repo(tmp_path, _caller("import reports", "reports.save")))
    assert "ValueError at jobs.py:7" in message
    # twins: the same name in another module of the repository, in a module it does not have
    assert wrapped_messages(_plain_repo(tmp_path / "b", _caller("import archive", "archive.save"))) == []
    assert wrapped_messages(_plain_repo(tmp_path / "c", _caller("import shelve", "shelve.save"))) == []


def test_a_star_import_of_the_functions_module_is_a_caller(tmp_path: Path) -> None:
    (message,) = wrapped_messages(_plain_repo(tmp_path, _caller("from reports import *")))
    assert "ValueError at jobs.py:7" in message
    assert wrapped_messages(_plain_repo(tmp_path / "b", _caller("from archive import *"))) == []


def test_an_import_the_repository_does_not_resolve_is_matched_by_module_name(tmp_path: Path) -> None:
    """`sys.path` set up elsewhere (`lib/` on the path): `from reports import save` in
    `scripts/job.py` names no file the index can place, so any `reports` module may be it."""
    flask = {"app.py": "from flask import Flask\n"}
    root = make_repo(tmp_path / "repo", {"lib/reports.py": REPORTS, "scripts/job.py":
                                         _caller("from reports import save"), **flask})
    (message,) = wrapped_messages(root)
    assert "ValueError at scripts/job.py:7" in message
    root2 = make_repo(tmp_path / "repo2", {"lib/reports.py": REPORTS, "scripts/job.py":
                                           _caller("from ledger import save"), **flask})
    assert wrapped_messages(root2) == []
