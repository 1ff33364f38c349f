"""Recipes: what to look for, how to group it, and which target form to propose.

`load_recipe(name_or_path)` reads a built-in recipe (`builtin/*.toml`) or a TOML file into a
`Recipe`; `compile_glob` compiles the path globs recipes and `--file` use.

Each name is imported from its module when first asked for, so importing one light module of
the package (`locate`) does not load the parser and the model.
"""

from __future__ import annotations

import importlib

#: `typing.TYPE_CHECKING` without importing `typing` (a kept scan is printed without it)
TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import Any

    from migrator_tui.recipe.globs import compile_glob
    from migrator_tui.recipe.load import load_recipe, parse_recipe
    from migrator_tui.recipe.locate import BUILTIN_DIR, DEFAULT_RECIPE, builtin_names
    from migrator_tui.recipe.model import (
        PRIORITIES,
        RECEIVER_KINDS,
        STRATEGY_KINDS,
        Acquire,
        Phase,
        Recipe,
        Rule,
        Strategy,
    )

#: Each name the package exports → the module that defines it.
_HOME = {
    "compile_glob": "globs", "load_recipe": "load", "parse_recipe": "load", "BUILTIN_DIR": "locate",
    "DEFAULT_RECIPE": "locate", "builtin_names": "locate", "PRIORITIES": "model", "RECEIVER_KINDS": "model",
    "STRATEGY_KINDS": "model", "Acquire": "model", "Phase": "model", "Recipe": "model", "Rule": "model",
    "Strategy": "model",
}

__all__ = [
    "BUILTIN_DIR", "DEFAULT_RECIPE", "PRIORITIES", "RECEIVER_KINDS", "STRATEGY_KINDS", "Acquire", "Phase",
    "Recipe", "Rule", "Strategy", "builtin_names", "compile_glob", "load_recipe", "parse_recipe",
]


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOME))
