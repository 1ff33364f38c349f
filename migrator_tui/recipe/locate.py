"""Where a recipe named on the command line is read from: a built-in name or a file's path.

Light (the standard library's `pathlib` only): a kept scan is found by its recipe's file
without parsing it.
"""

from __future__ import annotations

from pathlib import Path

BUILTIN_DIR = Path(__file__).parent / "builtin"
DEFAULT_RECIPE = "db-session"


def recipe_file(name_or_path: str | None) -> tuple[Path, bool]:
    """The file a recipe spec names, and whether it is a built-in one (the file may not exist)."""
    spec = name_or_path or DEFAULT_RECIPE
    builtin = BUILTIN_DIR / (spec.replace("-", "_") + ".toml")
    if "/" not in spec and builtin.is_file():
        return builtin, True
    return Path(spec), False


def builtin_names() -> list[str]:
    return sorted(p.stem.replace("_", "-") for p in BUILTIN_DIR.glob("*.toml"))
