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
