"""Loading recipes: a TOML file (format in `docs/recipes.md`) or a built-in name, validated.

Every key is checked: an unknown key, a missing field, a wrong type or a bad glob raises
`RecipeError` naming the file and the key.
"""

from __future__ import annotations

import keyword
import re
import tomllib
from typing import Any

from migrator_tui.errors import RecipeError
from migrator_tui.recipe.globs import compile_glob
from migrator_tui.recipe.locate import BUILTIN_DIR, DEFAULT_RECIPE, builtin_names, recipe_file
from migrator_tui.recipe.model import (
    ANY_ARGUMENTS,
    PRIORITIES,
    RECEIVER_KINDS,
    STRATEGY_KINDS,
    Acquire,
    Phase,
    Recipe,
    Rule,
    Strategy,
)

__all__ = ["BUILTIN_DIR", "DEFAULT_RECIPE", "builtin_names", "load_recipe", "parse_recipe"]


# --- loading and validation ---------------------------------------------------------------

_TOP = {"name", "description", "noun", "acquire", "exclude", "phases", "strategies", "rules"}
_NOUN = re.compile(r"[a-z][a-z -]{0,31}\Z")
_ACQUIRE = {"method": str, "receivers": list, "arguments": (int, str), "release": str, "rollback": str,
            "commit": str, "binds": bool, "with_is_migrated": bool, "calls": list,
            "factories": list, "closed_only": bool, "lazy": bool}
_EXCLUDE = {"paths": list, "context_managers": bool}
_PHASE = {"number": int, "name": str, "priority": str, "paths": list}
_STRATEGY = {"description": str, "kind": str, "manager": str, "method": str, "imports": list,
             "helper": str, "commits": bool, "rolls_back": bool, "wraps": str, "shared": bool,
             "needs_request": bool, "needs_app": bool, "wrapper": str, "requires": str}
_RULE = {"strategy": str, "paths": list, "receiver_self": bool, "decorators": list, "reads": list,
         "views": bool, "bound": bool}
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
#: A recipe name is a folder of `.git/migrator/` and a component of branch names: nothing else.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}\Z", re.ASCII)


def _check(table: Any, spec: dict[str, type], where: str, src: str,
           required: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise RecipeError(f"{src}: `{where}` must be a table.")
    for key, value in table.items():
        if key not in spec:
            raise RecipeError(f"{src}: unknown key `{where}.{key}`.")
        want = spec[key]
        if not isinstance(value, want) or (isinstance(value, bool) and want is not bool):
            names = " or a ".join(w.__name__ for w in (want if isinstance(want, tuple) else (want,)))
            raise RecipeError(f"{src}: `{where}.{key}` must be a {names}.")
        if want is list and not all(isinstance(v, str) for v in value):
            raise RecipeError(f"{src}: `{where}.{key}` must be a list of strings.")
    for key in required:
        if key not in table:
            raise RecipeError(f"{src}: missing key `{where}.{key}`.")
    return table


def _globs(values: list[str], where: str, src: str) -> tuple[str, ...]:
    for g in values:
        try:
            compile_glob(g)
        except ValueError as exc:
            raise RecipeError(f"{src}: `{where}` has a {exc}.") from None
    return tuple(values)


def _ident(value: str, where: str, src: str) -> str:
    if not _IDENT.match(value) or keyword.iskeyword(value):
        raise RecipeError(f"{src}: `{where}` must be a Python identifier (not a keyword), not {value!r}.")
    return value


def _text(value: str, where: str, src: str) -> str:
    """Text the tool prints (a name, a description): no newline, escape code or other control
    character, which would forge output lines or recolour the terminal."""
    if not isinstance(value, str) or not value.isprintable():
        raise RecipeError(f"{src}: `{where}` must be printable text (no newline nor control character), "
                          f"not {str(value)[:80]!r}.")
    return value


def _dotted(value: str, where: str, src: str) -> str:
    """`name` or `module.name`: identifiers joined by dots, none a keyword."""
    parts = value.split(".")
    if not all(_IDENT.match(p) and not keyword.iskeyword(p) for p in parts):
        raise RecipeError(f"{src}: `{where}` must be a dotted name of identifiers, not {value[:80]!r}.")
    return value


_REQUIREMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}>=[0-9]{1,4}(\.[0-9]{1,4}){0,3}\Z")


def _requirement(value: str, where: str, src: str) -> str:
    if not _REQUIREMENT.match(value):
        raise RecipeError(f"{src}: `{where}` must be `package>=version` (sqlalchemy>=1.4), "
                          f"not {value[:80]!r}.")
    return value


def _arguments(value: int | str, src: str) -> int:
    if value == "any":
        return ANY_ARGUMENTS
    if isinstance(value, int) and 0 <= value <= 255:
        return value
    raise RecipeError(f"{src}: `acquire.arguments` must be a count (0 to 255) or \"any\", "
                      f"not {str(value)[:40]!r}.")


def _import(text: str, where: str, src: str) -> str:
    """One `import ...` or `from ... import ...` statement, in its canonical one-line form.

    The text is parsed, not matched: anything else in it (a second statement after `;` or on
    another line, an expression, a star import, a `__future__` import) is refused, because it
    would be written into the user's code as it is.
    """
    import ast

    try:
        body = ast.parse(text).body
    except (SyntaxError, ValueError):
        body = []
    node = body[0] if len(body) == 1 else None
    if not isinstance(node, (ast.Import, ast.ImportFrom)):
        raise RecipeError(f"{src}: `{where}` has {text!r}, which is not exactly one import statement.")
    if isinstance(node, ast.ImportFrom) and (node.module == "__future__" or
                                             any(a.name == "*" for a in node.names)):
        raise RecipeError(f"{src}: `{where}` has {text!r}: a star or `__future__` import cannot be added.")
    return ast.unparse(node)


def parse_recipe(data: dict[str, Any], source: str) -> Recipe:
    """Build a validated `Recipe` from parsed TOML; `source` names the file in errors."""
    for key in data:
        if key not in _TOP:
            raise RecipeError(f"{source}: unknown key `{key}`.")
    for key in ("name", "acquire", "phases", "strategies", "rules"):
        if key not in data:
            raise RecipeError(f"{source}: missing key `{key}`.")
    if not isinstance(data["name"], str) or not _NAME.match(data["name"]):
        raise RecipeError(
            f"{source}: `name` must be a short identifier (a letter or digit, then up to 63 letters, "
            f"digits, `-` or `_`), not {str(data['name'])[:80]!r}."
        )

    noun = data.get("noun", "session")
    if not isinstance(noun, str) or not _NOUN.match(noun):
        raise RecipeError(f"{source}: `noun` must be a short lower-case word (\"connection\"), "
                          f"not {str(noun)[:40]!r}.")
    a = _check(data["acquire"], _ACQUIRE, "acquire", source, ())
    if "method" not in a and not a.get("calls") and not a.get("factories"):
        raise RecipeError(f"{source}: `acquire` must name a `method`, some `calls` or `factories`.")
    if "method" in a and "receivers" not in a:
        raise RecipeError(f"{source}: missing key `acquire.receivers` (the receivers of `acquire.method`).")
    acquire = Acquire(
        method=_ident(a["method"], "acquire.method", source) if "method" in a else "",
        receivers=tuple(r if r == "*" else _ident(r, "acquire.receivers", source)
                        for r in a.get("receivers", [])),
        arguments=_arguments(a.get("arguments", 0), source),
        calls=tuple(_dotted(c, "acquire.calls", source) for c in a.get("calls", [])),
        factories=tuple(_ident(f, "acquire.factories", source) for f in a.get("factories", [])),
        closed_only=a.get("closed_only", False),
        lazy=a.get("lazy", False),
        release=_ident(a.get("release", "close"), "acquire.release", source),
        rollback=_ident(a.get("rollback", "rollback"), "acquire.rollback", source),
        commit=_ident(a.get("commit", "commit"), "acquire.commit", source),
        binds=a.get("binds", True),
        with_is_migrated=a.get("with_is_migrated", False),
    )
    if acquire.method and not acquire.receivers:
        raise RecipeError(f"{source}: `acquire.receivers` must name at least one receiver.")

    ex = _check(data.get("exclude", {}), _EXCLUDE, "exclude", source, ())
    exclude_paths = _globs(ex.get("paths", []), "exclude.paths", source)

    if not isinstance(data["phases"], list):
        raise RecipeError(f"{source}: `phases` must be an array of tables.")
    phases: list[Phase] = []
    for i, p in enumerate(data["phases"]):
        where = f"phases[{i}]"
        _check(p, _PHASE, where, source, ("number", "name", "paths"))
        priority = p.get("priority", "medium")
        if priority not in PRIORITIES:
            raise RecipeError(f"{source}: `{where}.priority` must be one of {', '.join(PRIORITIES)}.")
        if any(q.number == p["number"] for q in phases):
            raise RecipeError(f"{source}: `{where}.number` {p['number']} is used twice.")
        phases.append(Phase(p["number"], _text(p["name"], f"{where}.name", source), priority,
                            _globs(p["paths"], f"{where}.paths", source)))

    if not isinstance(data["strategies"], dict) or not data["strategies"]:
        raise RecipeError(f"{source}: `strategies` must be a non-empty table.")
    strategies: dict[str, Strategy] = {}
    for name, s in data["strategies"].items():
        where = f"strategies.{name}"
        _check(s, _STRATEGY, where, source, ("kind",))
        if s["kind"] not in STRATEGY_KINDS:
            raise RecipeError(f"{source}: `{where}.kind` must be one of {', '.join(STRATEGY_KINDS)}.")
        if s["kind"] not in RECEIVER_KINDS:
            for key in ("manager", "method"):
                if key not in s:
                    raise RecipeError(f"{source}: missing key `{where}.{key}`.")
        elif s["kind"] == "bare_with" and acquire.binds:
            raise RecipeError(f"{source}: `{where}.kind` bare_with needs `acquire.binds = false`.")
        elif s["kind"] == "begin" and not acquire.binds:
            raise RecipeError(f"{source}: `{where}.kind` begin needs a bound acquire "
                              "(`acquire.binds = true`).")
        if "wrapper" in s and s["kind"] != "receiver_with":
            raise RecipeError(f"{source}: `{where}.wrapper` is only for kind receiver_with.")
        imports = tuple(_import(imp, f"{where}.imports", source) for imp in s.get("imports", []))
        strategies[name] = Strategy(
            name=_text(name, f"strategies.{name!r}", source),
            description=_text(s.get("description", ""), f"{where}.description", source), kind=s["kind"],
            manager=_ident(s.get("manager", "_"), f"{where}.manager", source),
            method=_ident(s.get("method", acquire.method or "_"), f"{where}.method", source),
            imports=imports,
            helper=_ident(s.get("helper", "_db_session"), f"{where}.helper", source),
            commits=s.get("commits", False), rolls_back=s.get("rolls_back", False),
            wraps=s.get("wraps"), shared=s.get("shared", False),
            needs_request=s.get("needs_request", False), needs_app=s.get("needs_app", False),
            wrapper=_dotted(s["wrapper"], f"{where}.wrapper", source) if "wrapper" in s else None,
            requires=_requirement(s["requires"], f"{where}.requires", source) if "requires" in s else None,
        )

    if not isinstance(data["rules"], list) or not data["rules"]:
        raise RecipeError(f"{source}: `rules` must be a non-empty array of tables.")
    rules: list[Rule] = []
    for i, r in enumerate(data["rules"]):
        where = f"rules[{i}]"
        _check(r, _RULE, where, source, ("strategy",))
        if r["strategy"] not in strategies:
            raise RecipeError(f"{source}: `{where}.strategy` names unknown strategy {r['strategy']!r}.")
        rules.append(Rule(
            strategy=r["strategy"], paths=_globs(r.get("paths", []), f"{where}.paths", source),
            receiver_self=r.get("receiver_self"), decorators=tuple(r.get("decorators", [])),
            reads=tuple(r.get("reads", [])), views=r.get("views"), bound=r.get("bound"),
        ))

    phase_patterns = tuple((ph, tuple(compile_glob(g) for g in ph.paths)) for ph in phases)
    return Recipe(
        name=data["name"], source=source,
        description=_text(data.get("description", ""), "description", source),
        acquire=acquire, phases=tuple(phases), strategies=strategies, rules=tuple(rules),
        exclude_paths=exclude_paths,
        exclude_context_managers=ex.get("context_managers", True), noun=noun,
        _phase_patterns=phase_patterns,
    )


def load_recipe(name_or_path: str | None = None) -> Recipe:
    """Load a built-in recipe by name (`db-session`) or a TOML file by path."""
    spec = name_or_path or DEFAULT_RECIPE
    path, builtin = recipe_file(spec)
    if not path.is_file():
        raise RecipeError(
            f"No recipe named {spec!r}: give a built-in name ({', '.join(builtin_names())}) "
            "or the path of a TOML file."
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise RecipeError(f"{path}: cannot be read ({exc.__class__.__name__}).") from None
    except tomllib.TOMLDecodeError as exc:
        raise RecipeError(f"{path}: is not valid TOML ({exc}).") from None
    return parse_recipe(data, f"built-in recipe {spec}" if builtin else str(path))
