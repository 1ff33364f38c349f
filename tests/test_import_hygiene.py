"""The core never imports Textual: import every core module in a fresh interpreter and look."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

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
    assert "migrator_tui.review.diff" in modules and "migrator_tui.cli" in modules
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


def test_one_command_parser_is_the_whole_parser_for_that_command() -> None:
    """A run builds the parser of its command alone: each command's help, and the parse of its
    arguments, are what the whole parser gives."""
    import argparse
    import contextlib
    import io

    from migrator_tui import cli

    def help_of(parser: argparse.ArgumentParser, name: str) -> str:
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
            parser.parse_args([name, "--help"])
        return out.getvalue()

    whole = cli.build_parser()
    for name in cli.COMMANDS:
        one = cli.build_parser(name)
        assert help_of(one, name) == help_of(whole, name) != ""
        for argv in ([name], [name, "somewhere", "--json"]):
            results = []
            for parser in (whole, one):
                try:
                    with contextlib.redirect_stderr(io.StringIO()) as err:
                        results.append(vars(parser.parse_args(argv)))
                except SystemExit as exc:
                    results.append((exc.code, err.getvalue()))
            assert results[0] == results[1]
    assert cli.build_parser("--help").format_help() == whole.format_help()


def test_a_scan_imports_no_other_command() -> None:
    code = (
        "import sys\n"
        "from migrator_tui import cli\n"
        "cli.build_parser('scan')\n"
        "print(sorted(m for m in sys.modules if m.startswith('migrator_tui.commands.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['migrator_tui.commands.scan']"


# --- which stage may import which (docs/architecture.md) ------------------------------------------

SHARED = {"model", "errors", "sourcefile", "untrusted"}
CORE = {"shared", "recipe", "scan", "rewrite", "git", "review", "checks"}
#: stage → the stages its modules may import (lazy and type-checking imports included).
MAY_IMPORT: dict[str, set[str]] = {
    "shared": {"shared"},
    "recipe": {"shared", "recipe"},
    "scan": {"shared", "recipe", "scan"},
    "rewrite": {"shared", "recipe", "scan", "rewrite"},
    "git": {"shared", "git"},
    "review": {"shared", "recipe", "scan", "rewrite", "git", "review"},
    "checks": {"shared", "recipe", "scan", "rewrite", "git", "review", "checks"},
    "demo": {"shared", "demo"},
    "tui": CORE | {"demo", "tui"},
    "commands": CORE | {"demo", "tui", "commands", "cli"},
    "cli": {"shared", "commands", "cli"},
}


def stage_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "shared"
    head = parts[1]
    if head in SHARED or head == "__init__":
        return "shared"
    if head == "__main__":
        return "cli"
    return head


def imports_of(path: Path, module: str) -> list[tuple[int, str, bool]]:
    """(line, imported migrator_tui module, at module level) of every import in a file."""
    tree = ast.parse(path.read_bytes())
    top = {id(n) for n in tree.body}
    top |= {id(n) for stmt in tree.body if isinstance(stmt, ast.If) for n in stmt.body}  # TYPE_CHECKING
    out = []
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names = [f"{base}.{a.name}" for a in node.names] + [base]
        else:
            continue
        for name in names:
            if name == "migrator_tui" or name.startswith("migrator_tui."):
                out.append((node.lineno, name, id(node) in top))
    return out


def package_modules() -> dict[str, Path]:
    root = Path(migrator_tui.__file__).parent
    out = {}
    for path in root.rglob("*.py"):
        rel = path.relative_to(root)
        if rel.parts[:2] == ("demo", "app"):
            continue  # the demo repository's own code, shipped as data
        parts = ["migrator_tui", *rel.with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def test_each_stage_imports_only_the_stages_below_it() -> None:
    modules = package_modules()
    wrong = []
    for module, path in sorted(modules.items()):
        here = stage_of(module)
        for line, name, _ in imports_of(path, module):
            target = next((m for m in (name, name.rsplit(".", 1)[0]) if m in modules), None)
            if target is None:
                continue
            there = stage_of(target)
            if there not in MAY_IMPORT[here]:
                wrong.append(f"{path.name}:{line} {module} ({here}) imports {target} ({there})")
    assert not wrong, "\n".join(wrong)


def test_the_package_root_holds_only_shared_values_the_cli_and_stage_packages() -> None:
    root = Path(migrator_tui.__file__).parent
    files = {p.stem for p in root.glob("*.py")}
    assert files == SHARED | {"__init__", "__main__", "cli"}
    stages = {p.name for p in root.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert stages == set(MAY_IMPORT) - {"shared", "cli"}


def test_no_import_cycle_between_modules() -> None:
    """Module-level imports form no cycle (lazy imports inside functions included: a lazy import
    that closes a circle only hides it)."""
    modules = package_modules()
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        for _, name, _ in imports_of(path, module):
            target = next((m for m in (name, name.rsplit(".", 1)[0]) if m in modules), None)
            own = path.name == "__init__.py"
            inner = target is not None and (module.startswith(target + ".")
                                            or (own and target.startswith(module + ".")))
            # a package and its own modules (an __init__ re-exporting them) are not a cycle
            if target is not None and target != module and not inner:
                graph[module].add(target)
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                return [*stack[stack.index(n):], n]
            if n not in state:
                found = visit(n)
                if found:
                    return found
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state:
            cycle = visit(m)
            assert cycle is None, " -> ".join(cycle)
