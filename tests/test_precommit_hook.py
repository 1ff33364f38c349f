"""The shipped pre-commit hook: a strict reading of `.pre-commit-hooks.yaml`, and its entry runs."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

from gitfixtures import WEB_APP, make_repo

ROOT = Path(__file__).resolve().parent.parent
HOOKS = ROOT / ".pre-commit-hooks.yaml"
_ITEM = re.compile(r"^- (?P<key>[a-z_]+): (?P<value>\S.*)$")
_FIELD = re.compile(r"^  (?P<key>[a-z_]+): (?P<value>\S.*)$")


def _scalar(value: str) -> object:
    """The YAML scalars this file may use: booleans, a flow list of words, or a plain string."""
    if value in ("true", "false"):
        return value == "true"
    if value.startswith("["):
        assert value.endswith("]") and re.fullmatch(r"\[[a-z_]+(, [a-z_]+)*\]", value), value
        return value[1:-1].split(", ")
    assert not value.startswith(("'", '"', "{", "&", "*", "!", "|", ">")), value
    assert ": " not in value and " #" not in value, value
    return value


def read_hooks(text: str) -> list[dict[str, object]]:
    """A list of flat mappings, one `key: value` per line, else AssertionError (no other YAML)."""
    hooks: list[dict[str, object]] = []
    for n, line in enumerate(text.splitlines(), 1):
        if m := _ITEM.match(line):
            hooks.append({})
        elif not (m := _FIELD.match(line)) or not hooks:
            raise AssertionError(f"line {n} is not `- key: value` or `  key: value`: {line!r}")
        key = m.group("key")
        assert key not in hooks[-1], f"line {n}: {key} repeated"
        hooks[-1][key] = _scalar(m.group("value"))
    return hooks


def test_hook_file_declares_migrator_validate() -> None:
    text = HOOKS.read_text()
    assert text.endswith("\n") and "\t" not in text
    hooks = read_hooks(text)
    assert [h["id"] for h in hooks] == ["migrator-validate"]
    hook = hooks[0]
    assert hook["entry"] == "migrator-tui validate"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False
    assert hook["types"] == ["python"]
    assert set(hook) <= {"id", "name", "description", "entry", "language", "pass_filenames", "types"}
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert shlex.split(str(hook["entry"]))[0] in scripts


def test_strict_reader_refuses_other_yaml() -> None:
    bad_files = ("- id: x\n  nested:\n    a: b\n", "id: x\n", "- id: x\n  types: [python\n",
                 "- id: x\n  id: y\n")
    for bad in bad_files:
        try:
            read_hooks(bad)
        except AssertionError:
            continue
        raise AssertionError(f"accepted {bad!r}")


def _run_entry(repo: Path) -> subprocess.CompletedProcess[str]:
    entry = shlex.split(str(read_hooks(HOOKS.read_text())[0]["entry"]))
    program = Path(sys.executable).parent / entry[0]  # the installed console script
    return subprocess.run([str(program), *entry[1:]], cwd=repo, capture_output=True, text=True, timeout=120)


def test_entry_fails_while_direct_usage_remains_and_passes_without(tmp_path: Path) -> None:
    dirty = make_repo(tmp_path / "dirty", {"web_app.py": WEB_APP})
    proc = _run_entry(dirty)
    assert proc.returncode == 1, proc.stderr
    assert "web_app.py:5" in proc.stdout
    clean = make_repo(tmp_path / "clean", {"web_app.py": "def f():\n    return 1\n"})
    proc = _run_entry(clean)
    assert proc.returncode == 0, proc.stderr
    assert "No direct db_manager.get_session() usage remains" in proc.stdout
