"""What still uses the old pattern: in the working tree, or at any git ref without checking it out.

The spec's validation script, done on the syntax tree: every direct acquire that the scan finds is
"remaining", except what the recipe deliberately excludes (the context managers' own
implementation, and the non-Flask fallbacks that the `service` strategies write).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from migrator_tui.errors import RepositoryError
from migrator_tui.model import Excluded, Occurrence, SkippedFile
from migrator_tui.recipe import Recipe


@dataclass(slots=True)
class Validation:
    root: str
    ref: str | None
    recipe: str
    remaining: list[Occurrence] = field(default_factory=list)
    excluded: list[Excluded] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    files_scanned: int = 0

    def to_json(self) -> dict[str, object]:
        return {
            "root": self.root, "ref": self.ref, "recipe": self.recipe,
            "total": len(self.remaining),
            "remaining": [{"path": o.path, **o.to_json(), "phase": o.phase} for o in self.remaining],
            "excluded": [{"path": e.path, "line": e.line, "function": e.function, "reason": e.reason}
                         for e in self.excluded],
            "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
        }


def validate(root: Path, recipe: Recipe, ref: str | None = None) -> Validation:
    """Remaining direct acquires in the working tree at `root`, or at `ref` when given."""
    if ref is None:
        from migrator_tui.scan import scan

        result = scan(root, recipe)
        return Validation(result.root, None, recipe.name, list(result.occurrences),
                          list(result.excluded), list(result.skipped), result.files_scanned)
    return _validate_ref(root, recipe, ref)


def _git(root: Path, *args: str, input: bytes | None = None) -> bytes:
    proc = subprocess.run(["git", *args], cwd=root, input=input, capture_output=True, check=False)
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        first = message[0].removeprefix("fatal: ") if message else f"git {args[0]} failed"
        raise RepositoryError(f"{first.rstrip('.')}.")
    return proc.stdout


def _validate_ref(root: Path, recipe: Recipe, ref: str) -> Validation:
    from migrator_tui.scan import spec_for
    from migrator_tui.scan.acquire import may_hold
    from migrator_tui.scan.classify import scan_source
    from migrator_tui.scan.files import decode_source

    if not root.is_dir():
        raise RepositoryError(f"{root} is not a directory.")
    try:
        commit = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").decode().strip()
    except RepositoryError:
        raise RepositoryError(f"{ref!r} does not name a commit in {root}.") from None
    listing = _git(root, "ls-tree", "-r", "-z", "--full-tree", commit)
    blobs: list[tuple[str, str]] = []
    for entry in listing.split(b"\0"):
        if not entry:
            continue
        meta, _, name = entry.partition(b"\t")
        mode, kind, sha = meta.split()
        path = name.decode("utf-8", "surrogateescape")
        if kind != b"blob" or mode == b"120000" or not path.endswith(".py"):
            continue
        if recipe.is_excluded(path):
            continue
        blobs.append((path, sha.decode()))
    result = Validation(str(root), ref, recipe.name, files_scanned=len(blobs))
    if not blobs:
        return result
    spec = spec_for(recipe)
    wanted = spec.acquire()
    for path, data in _read_blobs(root, blobs):
        if not may_hold(data, wanted):
            continue
        try:
            text = decode_source(data)
        except Exception as exc:  # undecodable: reported, the check goes on
            result.skipped.append(SkippedFile(path, str(exc) or exc.__class__.__name__))
            continue
        phase = recipe.phase_of(path)
        outcome = scan_source(path, data, text, spec, phase.number if phase else None)
        if outcome.skipped is not None:
            result.skipped.append(SkippedFile(path, outcome.skipped))
        result.remaining.extend(outcome.occurrences)
        result.excluded.extend(outcome.excluded)
    return result


def _read_blobs(root: Path, blobs: list[tuple[str, str]]) -> list[tuple[str, bytes]]:
    """Contents of many blobs through one `git cat-file --batch`."""
    out = _git(root, "cat-file", "--batch", input="".join(f"{sha}\n" for _, sha in blobs).encode())
    contents: list[tuple[str, bytes]] = []
    pos = 0
    for path, _sha in blobs:
        header_end = out.index(b"\n", pos)
        size = int(out[pos:header_end].split()[2])
        start = header_end + 1
        contents.append((path, out[start : start + size]))
        pos = start + size + 1
    return contents
