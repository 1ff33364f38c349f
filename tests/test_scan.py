"""The scanner's findings: receiver forms, non-occurrences, shape tags, ids, occurrence fields."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from test_scan_helpers import make_repo, scan_source

from migrator_tui.model import SHAPES
from migrator_tui.recipe import load_recipe
from migrator_tui.scan import blob_hash, scan


def _one(tmp_path: Path, source: str):  # type: ignore[no-untyped-def]
    result = scan_source(tmp_path, source)
    assert len(result.occurrences) == 1, [o.id for o in result.occurrences]
    return result.occurrences[0]


# --- what is and is not an occurrence ----------------------------------------------------

@pytest.mark.parametrize(
    ("expr", "receiver"),
    [
        ("db_manager.get_session()", "db_manager"),
        ("self.db_manager.get_session()", "self.db_manager"),
        ("app.db_manager.get_session()", "app.db_manager"),
        ("self.web_app.db_manager.get_session()", "self.web_app.db_manager"),
        ("current_app.config['db_manager'].get_session()", "current_app.config['db_manager']"),
        ("(db_manager\n        .get_session())", "db_manager"),
    ],
)
def test_every_receiver_form(tmp_path: Path, expr: str, receiver: str) -> None:
    occ = _one(tmp_path, f"def f(self, app, current_app):\n    s = {expr}\n    s.close()\n")
    assert occ.receiver == receiver
    assert occ.variable == "s"
    assert occ.function == "f"


@pytest.mark.parametrize(
    "source",
    [
        "# s = db_manager.get_session()\n",
        "x = 'db_manager.get_session()'\n",
        'def f():\n    """Call db_manager.get_session() and close it."""\n',
        "s = other_manager.get_session()\n",
        "s = self.pool.get_session()\n",
        "s = db_manager.get_session(bind=engine)\n",
        "s = db_manager.get_session(1)\n",
        "s = db_manager.get_session\n",
        "s = get_session()\n",
        "s = db_manager.get_sessions()\n",
        "s = f'{db_manager}.get_session()'\n",
    ],
    ids=["comment", "string", "docstring", "other-object", "other-attribute", "keyword-argument",
         "positional-argument", "not-called", "bare-function", "other-method", "f-string"],
)
def test_never_an_occurrence(tmp_path: Path, source: str) -> None:
    assert scan_source(tmp_path, source).occurrences == []


def test_always_an_occurrence(tmp_path: Path) -> None:
    source = """
    S = db_manager.get_session()

    class Repo:
        session = db_manager.get_session()

        def rows(self):
            return self.db_manager.get_session().query(1).all()

    def with_form():
        with db_manager.get_session() as s:
            s.query(1)

    def outer():
        def inner():
            s = db_manager.get_session()
            s.close()
        return inner

    def closure():
        return lambda: db_manager.get_session()
    """
    result = scan_source(tmp_path, source)
    assert [(o.function, o.variable) for o in result.occurrences] == [
        ("<module>", "S"),
        ("Repo", "session"),
        ("Repo.rows", None),
        ("with_form", "s"),
        ("outer.inner", "s"),
        ("closure.<lambda>", None),
    ]


def test_qualified_names_and_decorators(tmp_path: Path) -> None:
    source = """
    def role_required(role):
        def decorator(f):
            @wraps(f)
            def decorated_function(*args, **kwargs):
                s = db_manager.get_session()
                s.close()
                return f(*args, **kwargs)
            return decorated_function
        return decorator

    def register_routes(app):
        @app.route('/dashboard', methods=['GET'])
        @login_required
        def dashboard():
            s = db_manager.get_session()
            s.close()

    class UserService:
        async def get_all_users(self):
            s = self.db_manager.get_session()
            s.close()
    """
    occs = scan_source(tmp_path, source).occurrences
    assert [o.function for o in occs] == [
        "role_required.decorator.decorated_function", "register_routes.dashboard",
        "UserService.get_all_users"]
    assert occs[0].decorators == ("wraps(f)",)
    assert occs[1].decorators == ("app.route('/dashboard', methods=['GET'])", "login_required")
    assert occs[1].is_view and not occs[0].is_view and not occs[2].is_view
    assert occs[2].class_name == "UserService" and occs[1].class_name is None
    assert occs[2].receiver_self
    assert (occs[1].scope_start, occs[1].scope_end) == (12, 16)


def test_ids_columns_and_positions(tmp_path: Path) -> None:
    source = """
    def platform_management():
        session = db_manager.get_session()
        other = db_manager.get_session()
        other.close()
        session.close()
    """
    occs = scan_source(tmp_path, source, name="web_app.py").occurrences
    assert [o.id for o in occs] == ["web_app.py::platform_management::0",
                                    "web_app.py::platform_management::1"]
    first = occs[0]
    assert (first.line, first.column, first.end_line, first.end_column) == (2, 14, 2, 38)
    assert first.phase == 1
    assert first.scope_start == 1 and first.scope_end == 5


def test_columns_count_characters_not_bytes(tmp_path: Path) -> None:
    occ = _one(tmp_path, "def f():\n    é = 'ü'; s = db_manager.get_session()\n    s.close()\n")
    assert occ.column == len("    é = 'ü'; s = ")


def test_ids_survive_unrelated_edits(tmp_path: Path) -> None:
    source = """
    import os

    def a():
        s = db_manager.get_session()
        s.close()

    def b():
        s = db_manager.get_session()
        try:
            pass
        finally:
            s.close()
    """
    repo = make_repo(tmp_path / "repo", {"svc.py": source})
    first = scan(repo, load_recipe())
    again = scan(repo, load_recipe())
    assert [o.id for o in first.occurrences] == [o.id for o in again.occurrences]
    text = (repo / "svc.py").read_text()
    edited = text.replace("import os\n", "import os\nimport sys\n\n\ndef added():\n    return 1\n")
    edited = edited.replace("def a():\n", "def a():\n    x = 1  # unrelated\n")
    (repo / "svc.py").write_text(edited)
    after = scan(repo, load_recipe())
    assert [o.id for o in after.occurrences] == ["svc.py::a::0", "svc.py::b::0"]
    assert [o.line for o in after.occurrences] != [o.line for o in first.occurrences]


def test_reads_and_bound(tmp_path: Path) -> None:
    source = """
    from session_managers import unified_session_manager

    def profile():
        s = db_manager.get_session()
        name = current_user.name
        s.close()

    def other():
        s = db_manager.get_session()
        s.close()
    """
    occs = scan_source(tmp_path, source).occurrences
    assert occs[0].reads == ("current_user",) and occs[1].reads == ()
    assert occs[0].bound == ("unified_session_manager",)
    not_bound = scan_source(tmp_path / "b", "def f():\n    s = db_manager.get_session()\n    s.close()\n")
    assert not_bound.occurrences[0].bound == ()


def test_bound_through_global(tmp_path: Path) -> None:
    source = """
    def init_app():
        global request_session_manager
        request_session_manager = make()

    def f():
        s = db_manager.get_session()
        s.close()
    """
    assert _one(tmp_path, source).bound == ("request_session_manager",)


def test_context_manager_implementation_is_excluded(tmp_path: Path) -> None:
    source = """
    import contextlib
    from contextlib import contextmanager

    @contextmanager
    def session_scope():
        session = db_manager.get_session()
        try:
            yield session
            session.commit()
        finally:
            session.close()

    @contextlib.asynccontextmanager
    async def async_scope():
        with db_manager.get_session() as s:
            yield s

    @contextmanager
    def not_yielding_it():
        session = db_manager.get_session()
        try:
            yield None
        finally:
            session.close()
    """
    result = scan_source(tmp_path, source)
    assert [(e.function, e.line) for e in result.excluded] == [("session_scope", 6), ("async_scope", 15)]
    assert "context manager" in result.excluded[0].reason
    assert [o.function for o in result.occurrences] == ["not_yielding_it"]


def test_exclusion_can_be_turned_off(tmp_path: Path) -> None:
    recipe_text = (Path(__file__).parents[1] / "migrator_tui/recipe/builtin/db_session.toml").read_text()
    custom = tmp_path / "r.toml"
    custom.write_text(recipe_text.replace("context_managers = true", "context_managers = false"))
    repo = make_repo(tmp_path / "repo", {"a.py": """
        @contextmanager
        def scope():
            s = db_manager.get_session()
            yield s
            s.close()
    """})
    result = scan(repo, load_recipe(str(custom)))
    assert result.excluded == [] and len(result.occurrences) == 1


def test_file_hashes_are_git_blob_ids(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"a.py": "s = db_manager.get_session()\n", "b.py": "x = 1\n"})
    result = scan(repo, load_recipe())
    data = (repo / "a.py").read_bytes()
    expected = subprocess.run(["git", "hash-object", "a.py"], cwd=repo, capture_output=True, text=True,
                              check=True).stdout.strip()
    assert result.file_hashes == {"a.py": expected} == {"a.py": blob_hash(data)}
    assert result.base is not None and len(result.base) == 40
    assert result.files_scanned == 2


def test_many_candidates_use_worker_processes_with_the_same_result(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    files = {f"pkg/m{i:03}.py": f"def f{i}():\n    s = db_manager.get_session()\n    s.close()\n"
             for i in range(150)}
    repo = make_repo(tmp_path / "repo", files)
    seen: list[tuple[int, int]] = []
    parallel = scan(repo, load_recipe(), progress=lambda d, t: seen.append((d, t)))
    import migrator_tui.scan.run as scan_module

    with monkeypatch.context() as patch:  # a threaded caller: a pool of spawned processes instead
        patch.setattr(scan_module, "_fork_safe", lambda: False)
        pooled = scan(repo, load_recipe())
    assert pooled.occurrences == parallel.occurrences
    monkeypatch.setattr(scan_module, "PARALLEL_FILES", 10_000)
    monkeypatch.setattr(scan_module, "PARALLEL_BYTES", 10**9)
    serial = scan(repo, load_recipe())
    assert parallel.occurrences == serial.occurrences
    assert parallel.total == 150
    assert seen[-1] == (150, 150) and all(d <= t for d, t in seen)


def test_scan_path_imports_nothing_heavy() -> None:
    code = (
        "import sys, migrator_tui.scan, migrator_tui.commands.scan\n"
        "from migrator_tui.recipe import load_recipe\n"
        "migrator_tui.scan.scan('.', load_recipe())\n"
        "heavy = [m for m in ('libcst', 'textual', 'git', 'rich', 'pygments') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parent)
    assert out.stdout.strip() == ""


def test_shape_vocabulary_is_documented() -> None:
    doc = (Path(__file__).parents[1] / "docs" / "shapes.md").read_text()
    for name in SHAPES:
        assert f"`{name}`" in doc, name
