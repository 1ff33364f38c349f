"""Path globs of recipes and `--file`: `**` spans directories, `*` and `?` stay inside one name."""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=512)
def glob_to_regex(glob: str) -> re.Pattern[str]:
    """Compile a path glob. `**` spans directories, `*` and `?` stay inside one name.

    A glob without `/` matches the file name at any depth (like `.gitignore`); one with `/`
    is anchored at the repository root.
    """
    if not glob or glob.startswith("/") or "\\" in glob or "//" in glob:
        raise ValueError(f"bad glob {glob!r}")
    out: list[str] = []
    i = 0
    while i < len(glob):
        c = glob[i]
        if glob.startswith("**/", i):
            out.append("(?:[^/]+/)*")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            end = glob.find("]", i + 1)
            if end == -1:
                raise ValueError(f"bad glob {glob!r}: unclosed '['")
            body = glob[i + 1 : end].replace("!", "^", 1) if glob[i + 1 : i + 2] == "!" else glob[i + 1 : end]
            out.append(f"[{body}]")
            i = end + 1
        else:
            out.append(re.escape(c))
            i += 1
    prefix = "" if "/" in glob.rstrip("/") else "(?:.*/)?"
    return re.compile(prefix + "".join(out) + r"\Z")
