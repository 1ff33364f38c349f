"""Removing what `.git/migrator/cache/` keeps that no scan will read again.

A kept scan or output is named by what it is for (the recipe and folder; the options), so one
kept for a folder that moved, an option set no longer used, or a naming this version replaced
is never overwritten. After each write, the folder is swept of those: a kept file of a shape
this version does not write, or one no scan read or wrote for `MAX_AGE_DAYS`. Only regular
files directly in the cache folder whose names are the cache's own are touched; reading a kept
file refreshes its time, so what is in use stays.
"""

from __future__ import annotations

import contextlib
import os
import re
import time

#: `typing.TYPE_CHECKING` without importing `typing` (a kept scan is printed without it)
TYPE_CHECKING = False

if TYPE_CHECKING:
    from pathlib import Path

    from migrator_tui.review.cachekey import Folder

#: A kept file no scan read or wrote for this long is removed.
MAX_AGE_DAYS = 30
#: The names this version writes, and the names of the cache's files of any version.
_CURRENT = re.compile(r"(output|summaries)-[0-9a-f]{16}\.(txt|json)\Z")
_OURS = re.compile(r"(output|summaries)-[0-9a-f-]{1,64}\.(txt|json)\Z")


def touch(path: Folder) -> None:
    """Mark a kept file as read now (its modification time: what the sweep goes by)."""
    with contextlib.suppress(OSError):
        os.utime(path)


def sweep(folder: Folder, now: float | None = None) -> list[Path]:
    """Remove the kept files of `folder` no scan will read again; returns them."""
    from pathlib import Path
    now = time.time() if now is None else now
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if not _OURS.match(entry.name):
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            stale = now - entry.stat(follow_symlinks=False).st_mtime > MAX_AGE_DAYS * 86400
        except OSError:
            continue
        if stale or not _CURRENT.match(entry.name):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed
