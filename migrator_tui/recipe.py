"""Recipes: what to look for, how to group it, and which target form to propose.

A recipe is a TOML file (format in `docs/recipes.md`). Loading validates every key: an unknown
key, a missing field, a wrong type or a bad glob raises `RecipeError` naming the file and the key.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from migrator_tui.errors import RecipeError

BUILTIN_DIR = Path(__file__).parent / "recipes"
DEFAULT_RECIPE = "db-session"
STRATEGY_KINDS = ("with", "admin_route", "service", "service_helper", "receiver_with", "bare_with")
#: Kinds whose context manager is built from the occurrence's own receiver (no manager name).
RECEIVER_KINDS = ("receiver_with", "bare_with")
PRIORITIES = ("high", "medium", "low")


@dataclass(frozen=True, slots=True)
class Acquire:
    method: str
    receivers: tuple[str, ...]
    arguments: int = 0
    release: str = "close"
    rollback: str = "rollback"
    commit: str = "commit"
    #: False: the acquire is a statement of its own (`lock.acquire()`), the resource is the receiver.
    binds: bool = True
    #: True: `with <receiver>.<method>() as x:` is already the target form, not an occurrence.
    with_is_migrated: bool = False

    @property
    def any_receiver(self) -> bool:
        return "*" in self.receivers


@dataclass(frozen=True, slots=True)
class Phase:
    number: int
    name: str
    priority: str
    paths: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Strategy:
    """A target form and what its context manager does on exit."""

    name: str
    description: str
    kind: str
    manager: str
    method: str
    imports: tuple[str, ...] = ()
    helper: str = "_db_session"
    commits: bool = False
    rolls_back: bool = False
    wraps: str | None = None
    shared: bool = False
    needs_request: bool = False
    needs_app: bool = False


@dataclass(frozen=True, slots=True)
class Rule:
    strategy: str
    paths: tuple[str, ...] = ()
    receiver_self: bool | None = None
    decorators: tuple[str, ...] = ()
    reads: tuple[str, ...] = ()
    views: bool | None = None
    bound: bool | None = None


@dataclass(frozen=True, slots=True)
class Recipe:
    name: str
    description: str
    source: str
    acquire: Acquire
    phases: tuple[Phase, ...]
    strategies: dict[str, Strategy]
    rules: tuple[Rule, ...]
    exclude_paths: tuple[str, ...] = ()
    exclude_context_managers: bool = True
    _phase_patterns: tuple[tuple[Phase, tuple[re.Pattern[str], ...]], ...] = field(
        default=(), repr=False, compare=False
    )

    def phase_of(self, path: str) -> Phase | None:
        """The phase whose globs match the repository-relative POSIX `path`, if any."""
        for phase, patterns in self._phase_patterns:
            if any(p.match(path) for p in patterns):
                return phase
        return None

    def is_excluded(self, path: str) -> bool:
        return any(glob_to_regex(g).match(path) for g in self.exclude_paths)

    @property
    def watched_names(self) -> tuple[str, ...]:
        """Names whose reads decide a rule (`reads = [...]`)."""
        return tuple(sorted({n for r in self.rules for n in r.reads}))


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


# --- loading and validation ---------------------------------------------------------------

_TOP = {"name", "description", "acquire", "exclude", "phases", "strategies", "rules"}
_ACQUIRE = {"method": str, "receivers": list, "arguments": int, "release": str, "rollback": str,
            "commit": str, "binds": bool, "with_is_migrated": bool}
_EXCLUDE = {"paths": list, "context_managers": bool}
_PHASE = {"number": int, "name": str, "priority": str, "paths": list}
_STRATEGY = {"description": str, "kind": str, "manager": str, "method": str, "imports": list,
             "helper": str, "commits": bool, "rolls_back": bool, "wraps": str, "shared": bool,
             "needs_request": bool, "needs_app": bool}
_RULE = {"strategy": str, "paths": list, "receiver_self": bool, "decorators": list, "reads": list,
         "views": bool, "bound": bool}
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _check(table: Any, spec: dict[str, type], where: str, src: str,
           required: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise RecipeError(f"{src}: `{where}` must be a table.")
    for key, value in table.items():
        if key not in spec:
            raise RecipeError(f"{src}: unknown key `{where}.{key}`.")
        want = spec[key]
        if not isinstance(value, want) or (want is int and isinstance(value, bool)):
            raise RecipeError(f"{src}: `{where}.{key}` must be a {want.__name__}.")
        if want is list and not all(isinstance(v, str) for v in value):
            raise RecipeError(f"{src}: `{where}.{key}` must be a list of strings.")
    for key in required:
        if key not in table:
            raise RecipeError(f"{src}: missing key `{where}.{key}`.")
    return table


def _globs(values: list[str], where: str, src: str) -> tuple[str, ...]:
    for g in values:
        try:
            glob_to_regex(g)
        except ValueError as exc:
            raise RecipeError(f"{src}: `{where}` has a {exc}.") from None
    return tuple(values)


def _ident(value: str, where: str, src: str) -> str:
    if not _IDENT.match(value):
        raise RecipeError(f"{src}: `{where}` must be a Python identifier, not {value!r}.")
    return value


def parse_recipe(data: dict[str, Any], source: str) -> Recipe:
    """Build a validated `Recipe` from parsed TOML; `source` names the file in errors."""
    for key in data:
        if key not in _TOP:
            raise RecipeError(f"{source}: unknown key `{key}`.")
    for key in ("name", "acquire", "phases", "strategies", "rules"):
        if key not in data:
            raise RecipeError(f"{source}: missing key `{key}`.")
    if not isinstance(data["name"], str) or not data["name"]:
        raise RecipeError(f"{source}: `name` must be a non-empty string.")

    a = _check(data["acquire"], _ACQUIRE, "acquire", source, ("method", "receivers"))
    acquire = Acquire(
        method=_ident(a["method"], "acquire.method", source),
        receivers=tuple(r if r == "*" else _ident(r, "acquire.receivers", source) for r in a["receivers"]),
        arguments=a.get("arguments", 0),
        release=_ident(a.get("release", "close"), "acquire.release", source),
        rollback=_ident(a.get("rollback", "rollback"), "acquire.rollback", source),
        commit=_ident(a.get("commit", "commit"), "acquire.commit", source),
        binds=a.get("binds", True),
        with_is_migrated=a.get("with_is_migrated", False),
    )
    if not acquire.receivers:
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
        phases.append(Phase(p["number"], p["name"], priority,
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
        for imp in s.get("imports", []):
            if not re.match(r"(from\s+[\w.]+\s+)?import\s+\w", imp):
                raise RecipeError(f"{source}: `{where}.imports` has {imp!r}, not an import statement.")
        strategies[name] = Strategy(
            name=name, description=s.get("description", ""), kind=s["kind"],
            manager=_ident(s.get("manager", "_"), f"{where}.manager", source),
            method=_ident(s.get("method", acquire.method), f"{where}.method", source),
            imports=tuple(s.get("imports", [])),
            helper=_ident(s.get("helper", "_db_session"), f"{where}.helper", source),
            commits=s.get("commits", False), rolls_back=s.get("rolls_back", False),
            wraps=s.get("wraps"), shared=s.get("shared", False),
            needs_request=s.get("needs_request", False), needs_app=s.get("needs_app", False),
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

    phase_patterns = tuple((ph, tuple(glob_to_regex(g) for g in ph.paths)) for ph in phases)
    return Recipe(
        name=data["name"], description=data.get("description", ""), source=source,
        acquire=acquire, phases=tuple(phases), strategies=strategies, rules=tuple(rules),
        exclude_paths=exclude_paths,
        exclude_context_managers=ex.get("context_managers", True),
        _phase_patterns=phase_patterns,
    )


def builtin_names() -> list[str]:
    return sorted(p.stem.replace("_", "-") for p in BUILTIN_DIR.glob("*.toml"))


def load_recipe(name_or_path: str | None = None) -> Recipe:
    """Load a built-in recipe by name (`db-session`) or a TOML file by path."""
    spec = name_or_path or DEFAULT_RECIPE
    builtin = BUILTIN_DIR / (spec.replace("-", "_") + ".toml")
    path = builtin if "/" not in spec and builtin.is_file() else Path(spec)
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
    return parse_recipe(data, str(path) if path != builtin else f"built-in recipe {spec}")
