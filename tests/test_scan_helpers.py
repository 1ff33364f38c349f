"""Helpers for the scan tests: small real git repositories built from source strings."""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

from migrator_tui.model import ScanResult
from migrator_tui.recipe import load_recipe
from migrator_tui.scan import scan


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


def make_repo(root: Path, files: dict[str, str | bytes], *, commit: bool = True, init: bool = True) -> Path:
    """Write `files` (text is dedented) under `root`, `git init` it and commit everything."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
    if init:
        git(root, "init", "-q", "-b", "main")
        if commit:
            git(root, "add", "-A")
            git(root, "commit", "-q", "-m", "fixture")
    return root


def scan_source(tmp_path: Path, source: str, name: str = "svc.py") -> ScanResult:
    return scan(make_repo(tmp_path / "repo", {name: source}), load_recipe())
