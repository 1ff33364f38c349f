"""The core never imports Textual: import every core module in a fresh interpreter and look."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import migrator_tui


def core_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(migrator_tui.__path__, "migrator_tui."):
        skip = info.name.startswith(("migrator_tui.tui", "migrator_tui.demo.app"))
        if skip or info.name == "migrator_tui.__main__":
            continue
        names.append(info.name)
    return sorted(names)


def test_core_modules_do_not_import_textual() -> None:
    modules = core_modules()
    assert "migrator_tui.diff" in modules and "migrator_tui.cli" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_cli_parser_does_not_import_textual() -> None:
    code = (
        "import sys\n"
        "from migrator_tui import cli\n"
        "cli.build_parser()\n"
        "print('textual' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
