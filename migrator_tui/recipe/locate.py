"""Where a recipe named on the command line is read from: a built-in name or a file's path.

Light (`os.path` only): a kept scan is found by its recipe's file without parsing it, or
loading `pathlib`.
"""

from __future__ import annotations

import os

#: `typing.TYPE_CHECKING` without importing `typing` (a kept scan is printed without it)
TYPE_CHECKING = False

if TYPE_CHECKING:
    from pathlib import Path

    BUILTIN_DIR: Path

#: The built-in recipes' folder (`BUILTIN_DIR` is the same as a `Path`)
BUILTIN_FOLDER = os.path.join(os.path.dirname(__file__), "builtin")
DEFAULT_RECIPE = "db-session"


def __getattr__(name: str) -> object:
    if name == "BUILTIN_DIR":
        from pathlib import Path

        return Path(BUILTIN_FOLDER)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def recipe_location(name_or_path: str | None) -> tuple[str, bool]:
    """The file a recipe spec names, as text, and whether it is a built-in one (the file may not
    exist)."""
    spec = name_or_path or DEFAULT_RECIPE
    builtin = os.path.join(BUILTIN_FOLDER, spec.replace("-", "_") + ".toml")
    if "/" not in spec and os.path.isfile(builtin):
        return builtin, True
    return spec, False


def recipe_file(name_or_path: str | None) -> tuple[Path, bool]:
    """The file a recipe spec names, and whether it is a built-in one (the file may not exist)."""
    from pathlib import Path

    where, builtin = recipe_location(name_or_path)
    return Path(where), builtin


def builtin_names() -> list[str]:
    from pathlib import Path

    return sorted(p.stem.replace("_", "-") for p in Path(BUILTIN_FOLDER).glob("*.toml"))
