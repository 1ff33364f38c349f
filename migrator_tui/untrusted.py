"""Checks of values read back from a file the tool wrote but cannot trust (a kept scan, the
caller index's kept reads): each returns its value when it is of the kind named, else raises
`ValueError`, which the reader takes as "not a file this tool wrote" and ignores it whole."""

from __future__ import annotations


def mapping(value: object) -> dict[object, object]:
    if not isinstance(value, dict):
        raise ValueError("not a mapping")
    return value


def items(value: object, limit: int | None = None) -> list[object]:
    """A list (of at most `limit` items)."""
    if not isinstance(value, list) or (limit is not None and len(value) > limit):
        raise ValueError("not a list")
    return value


def fixed(value: object, n: int) -> list[object]:
    """A list of exactly `n` items."""
    found = items(value)
    if len(found) != n:
        raise ValueError(f"not a list of {n}")
    return found


def pair(value: object) -> list[object]:
    return fixed(value, 2)


def flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError("not a flag")
    return value


def text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("not text")
    return value


def optional_text(value: object) -> str | None:
    return None if value is None else text(value)


def number(value: object) -> int:
    """A whole number, 0 or more (a line, a column, a count; never a flag)."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError("not a number")
    return value


def relative_path(value: object) -> str:
    """A file's path inside the repository as the tool writes it (`a/b.py`): nothing absolute,
    no `..`, no empty or `.` part, no backslash or NUL (it must not name a file elsewhere)."""
    found = text(value)
    if not found or "\\" in found or "\0" in found or any(p in ("", ".", "..") for p in found.split("/")):
        raise ValueError("not a path inside the repository")
    return found
