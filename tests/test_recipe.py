from __future__ import annotations

from pathlib import Path

import pytest

from migrator_tui.errors import RecipeError
from migrator_tui.recipe import compile_glob, load_recipe


def test_builtin_recipe_has_the_spec_phases() -> None:
    recipe = load_recipe()
    assert recipe.name == "db-session"
    assert [(p.number, p.priority) for p in recipe.phases] == [
        (1, "high"), (2, "medium"), (3, "medium"), (4, "low")]
    assert recipe.phase_of("web_app.py").number == 1
    assert recipe.phase_of("admin/services/user_service.py").number == 2
    assert recipe.phase_of("admin/routes/dashboard.py").number == 3
    assert recipe.phase_of("session_performance_optimizer.py").number == 4
    assert recipe.phase_of("scripts/backfill.py") is None
    assert recipe.phase_of("admin/services/sub/deep.py") is None
    assert set(recipe.strategies) == {"unified", "request_scope", "service", "service_helper",
                                      "admin_route"}


@pytest.mark.parametrize(
    ("glob", "path", "hit"),
    [
        ("web_app.py", "web_app.py", True),
        ("web_app.py", "src/web_app.py", True),
        ("admin/*.py", "admin/x.py", True),
        ("admin/*.py", "admin/a/x.py", False),
        ("admin/**/*.py", "admin/a/b/x.py", True),
        ("admin/**/*.py", "admin/x.py", True),
        (".venv/**", ".venv/lib/x.py", True),
        ("x?.py", "x1.py", True),
    ],
)
def test_globs(glob: str, path: str, hit: bool) -> None:
    assert bool(compile_glob(glob).match(path)) is hit


def _write(tmp_path: Path, text: str) -> str:
    p = tmp_path / "r.toml"
    p.write_text(text)
    return str(p)


BASE = """
name = "x"
[acquire]
method = "get_session"
receivers = ["db_manager"]
[[phases]]
number = 1
name = "One"
paths = ["a.py"]
[strategies.s]
kind = "with"
manager = "m"
method = "scope"
[[rules]]
strategy = "s"
"""


def test_minimal_recipe_loads(tmp_path: Path) -> None:
    assert load_recipe(_write(tmp_path, BASE)).strategies["s"].method == "scope"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: "bogus = 1\n" + t, "unknown key `bogus`"),
        (lambda t: t.replace('method = "scope"', 'method = "scope"\ncolour = "red"'),
         "unknown key `strategies.s.colour`"),
        (lambda t: t.replace('paths = ["a.py"]', 'paths = ["a/[x.py"]'), "phases[0].paths"),
        (lambda t: t.replace('receivers = ["db_manager"]', ""), "missing key `acquire.receivers`"),
        (lambda t: t.replace('strategy = "s"', 'strategy = "nope"'), "unknown strategy 'nope'"),
        (lambda t: t.replace('kind = "with"', 'kind = "magic"'), "strategies.s.kind"),
        (lambda t: t.replace("number = 1", 'number = "1"'), "`phases[0].number` must be a int"),
        (lambda t: t + "\n[[[", "not valid TOML"),
        # the acquire patterns beyond a method, each value checked before use
        (lambda t: t.replace('method = "get_session"\nreceivers = ["db_manager"]', ""),
         "`acquire` must name a `method`, some `calls` or `factories`"),
        (lambda t: t.replace('receivers = ["db_manager"]', 'receivers = ["db_manager"]\n'
                                                           'calls = ["os.system; x"]'),
         "`acquire.calls` must be a dotted name of identifiers"),
        (lambda t: t.replace('receivers = ["db_manager"]', 'receivers = ["db_manager"]\ncalls = ["a..b"]'),
         "`acquire.calls` must be a dotted name"),
        (lambda t: t.replace('receivers = ["db_manager"]', 'receivers = ["db_manager"]\ncalls = ["None"]'),
         "`acquire.calls` must be a dotted name"),
        (lambda t: t.replace('receivers = ["db_manager"]', 'receivers = ["db_manager"]\nfactories = ["a.b"]'),
         "`acquire.factories` must be a Python identifier"),
        (lambda t: t.replace('receivers = ["db_manager"]', 'receivers = ["db_manager"]\narguments = "some"'),
         "`acquire.arguments` must be a count (0 to 255) or \"any\""),
        (lambda t: t.replace('receivers = ["db_manager"]', 'receivers = ["db_manager"]\narguments = -3'),
         "`acquire.arguments` must be a count"),
        (lambda t: t.replace('receivers = ["db_manager"]', 'receivers = ["db_manager"]\nclosed_only = "yes"'),
         "`acquire.closed_only` must be a bool"),
        (lambda t: 'noun = "Conn\\nection"\n' + t, "`noun` must be a short lower-case word"),
        (lambda t: t.replace('kind = "with"', 'kind = "with"\nwrapper = "contextlib.closing"'),
         "`strategies.s.wrapper` is only for kind receiver_with"),
        (lambda t: t.replace('kind = "with"\nmanager = "m"\nmethod = "scope"',
                             'kind = "receiver_with"\nwrapper = "closing(x)"'),
         "`strategies.s.wrapper` must be a dotted name"),
        (lambda t: t.replace('kind = "with"', 'kind = "with"\nrequires = "sqlalchemy; rm -rf /"'),
         "`strategies.s.requires` must be `package>=version`"),
    ],
)
def test_bad_recipes_name_the_key(tmp_path: Path, edit, message: str) -> None:
    path = _write(tmp_path, edit(BASE))
    with pytest.raises(RecipeError) as info:
        load_recipe(path)
    assert message in info.value.message
    assert path in info.value.message


def test_unknown_recipe_name() -> None:
    with pytest.raises(RecipeError, match="No recipe named"):
        load_recipe("no-such-recipe")


def test_a_calls_only_recipe_loads_and_names_its_acquire(tmp_path: Path) -> None:
    text = BASE.replace('method = "get_session"\nreceivers = ["db_manager"]',
                        'calls = ["SessionLocal", "sqlite3.connect"]\nfactories = ["sessionmaker"]\n'
                        'arguments = "any"\nclosed_only = true')
    recipe = load_recipe(_write(tmp_path, 'noun = "connection"\n' + text))
    a = recipe.acquire
    assert (a.method, a.calls, a.factories, a.arguments, a.closed_only) == (
        "", ("SessionLocal", "sqlite3.connect"), ("sessionmaker",), -1, True)
    assert recipe.noun == "connection" and a.label == "SessionLocal() / sqlite3.connect()"
