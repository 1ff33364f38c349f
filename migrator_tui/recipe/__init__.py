"""Recipes: what to look for, how to group it, and which target form to propose.

`load_recipe(name_or_path)` reads a built-in recipe (`builtin/*.toml`) or a TOML file into a
`Recipe`; `compile_glob` compiles the path globs recipes and `--file` use.
"""

from migrator_tui.recipe.globs import compile_glob
from migrator_tui.recipe.load import BUILTIN_DIR, DEFAULT_RECIPE, builtin_names, load_recipe, parse_recipe
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

__all__ = [
    "BUILTIN_DIR", "DEFAULT_RECIPE", "PRIORITIES", "RECEIVER_KINDS", "STRATEGY_KINDS", "Acquire", "Phase",
    "Recipe", "Rule", "Strategy", "builtin_names", "compile_glob", "load_recipe", "parse_recipe",
]
