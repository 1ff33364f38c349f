"""The README's first two commands: the first gives everything the demo walkthrough uses, and the
two do not share a virtual environment."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).parent.parent


def _commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Two commands", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    return [ln for ln in block.splitlines() if ln.startswith("python3 -m venv")]


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=\[ ]", r, maxsplit=1)[0].lower() for r in requirements}


def test_the_first_command_installs_what_the_demo_walkthrough_uses() -> None:
    first, _ = _commands()
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert "'.[demo]'" in first
    assert {"pytest", "flask", "flask-login", "sqlalchemy"} <= _names(extras["demo"])
    assert _names(extras["demo"]) <= _names(extras["test"]), "the test extra runs the demo's tests too"


def test_the_two_commands_are_independent() -> None:
    first, second = _commands()
    venv = re.compile(r"python3 -m venv (\S+)")
    assert venv.match(first).group(1) != venv.match(second).group(1)  # type: ignore[union-attr]
