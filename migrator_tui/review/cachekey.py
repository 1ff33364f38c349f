"""Where a kept scan lives (`<git-common-dir>/migrator/cache/`) and what it is keyed by.

Light on purpose (the standard library and the recipe only): a scan whose result is kept
computes its key and prints the kept output without loading the analysis.

The key of a scan is the digest of everything its result depends on: every file git tracks
(its blob id, or the content of a file changed since the index) and every untracked file git
does not ignore, the commit checked out, and the static part — the recipe, the interpreter, which
of the modules the recipe's strategies import it can import, this package's own source, and the
scanned folder.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from migrator_tui.recipe import Recipe

_CODE_DIGEST: str | None = None


def git(root: Path, *args: str) -> bytes | None:
    """The output of `git ARGS` run in `root`, or None when it fails."""
    try:
        proc = subprocess.run(["git", *args], cwd=root, capture_output=True, stdin=subprocess.DEVNULL,
                              check=False)
    except OSError:
        return None
    return proc.stdout if proc.returncode == 0 else None


def cache_file(root: Path, recipe: Recipe, kind: str = "summaries", suffix: str = "json") -> Path | None:
    """The file a kept `kind` of this recipe's scan of `root` lives in, or None outside git."""
    out = git(root, "rev-parse", "--git-common-dir")  # relative to `root`, or absolute
    if not out:
        return None
    common = root / os.fsdecode(out.rstrip(b"\n"))
    # one file per recipe and scanned folder (a scan of a subfolder keeps its own)
    where = f"{recipe.name}\0{root.resolve()}"
    name = hashlib.sha1(where.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return common / "migrator" / "cache" / f"{kind}-{name}.{suffix}"


def repository_key(root: Path, static: str) -> str | None:
    """The digest of everything a scan and its summaries depend on (the repository's files as
    git sees them, and the `static` key), or None when it cannot be told."""
    h = hashlib.sha256()
    head = git(root, "rev-parse", "-q", "--verify", "HEAD")
    tracked = git(root, "ls-files", "-s", "-z")
    changed = git(root, "diff-files", "--name-only", "-z")
    others = git(root, "ls-files", "-o", "--exclude-standard", "-z")
    if tracked is None or changed is None or others is None:
        return None
    h.update(head or b"no commit")
    h.update(tracked)
    for rel in sorted({p for p in changed.split(b"\0") if p} | {p for p in others.split(b"\0") if p}):
        h.update(b"\0" + rel + b"\0" + _content_digest(root / os.fsdecode(rel)))
    h.update(static.encode())
    return h.hexdigest()


def static_key(root: Path, recipe: Recipe) -> str:
    """The digest of what a kept file's summaries depend on beyond the repository's files."""
    h = hashlib.sha256()
    h.update(repr(recipe).encode("utf-8", "surrogateescape"))
    h.update(sys.version.encode())
    h.update(repr(_importable(recipe)).encode())
    h.update(code_digest().encode())
    # the folder itself, not the name it was given: `scan .` in two alike folders of one
    # repository lists the same files, with the same ids, under the same relative names
    h.update(str(root.resolve()).encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def _content_digest(path: Path) -> bytes:
    """A changed or untracked file's content (or what stands there instead)."""
    try:
        if path.is_symlink() or not path.is_file():
            return b"-" + os.fsencode(os.readlink(path)) if path.is_symlink() else b"-"
        with path.open("rb") as fh:
            return hashlib.sha1(fh.read()).digest()
    except OSError:
        return b"?"


def _importable(recipe: Recipe) -> list[tuple[str, bool]]:
    """Whether this interpreter can import each module the recipe's strategies import."""
    import importlib.util

    out = []
    for module in sorted({m for s in recipe.strategies.values() for m in s.imported_modules()}):
        try:
            out.append((module, importlib.util.find_spec(module) is not None))
        except (ImportError, ValueError):
            out.append((module, False))
    return out


def code_digest() -> str:
    """The digest of this package's own source: another build of the tool analyses again."""
    global _CODE_DIGEST
    if _CODE_DIGEST is None:
        package = Path(__file__).resolve().parent.parent
        h = hashlib.sha256()
        for path in sorted(package.rglob("*")):
            if path.suffix in (".py", ".toml") and "demo" not in path.relative_to(package).parts[:1]:
                h.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
        _CODE_DIGEST = h.hexdigest()
    return _CODE_DIGEST
