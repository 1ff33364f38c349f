"""Run a generated module, original or rewritten, against the fakes and record what happened."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from behaviour.fakes import (
    CURRENT,
    DB_MANAGER,
    FAILURES,
    DetachedInstanceError,
    Failures,
    FakeObj,
    SessionDatabaseError,
    World,
    module_namespace,
)
from migrator_tui.recipe import load_recipe
from migrator_tui.rewrite import FileAnalysis
from migrator_tui.rewrite.proposal import Choice, Proposal
from migrator_tui.scan import spec_for
from migrator_tui.scan.classify import scan_source

RECIPE = load_recipe(None)
SPEC = spec_for(RECIPE)
PATH = "items.py"
MODES = ("ok", "early", "raise")
#: Strategies whose rewrite resolves the manager through `current_app` and falls back outside it.
FALLBACK_KINDS = ("service", "service_helper")

Entry = Callable[[int, str], Any]


@dataclass(frozen=True)
class Config:
    mode: str
    failures: Failures
    in_app: bool = True

    @property
    def label(self) -> str:
        return f"mode={self.mode} {self.failures.label}{'' if self.in_app else ' outside-app'}"


def configs(strategy_kind: str) -> list[Config]:
    """Every run of one (program, strategy): modes × failures (× outside the app for services)."""
    apps = (True, False) if strategy_kind in FALLBACK_KINDS else (True,)
    return [Config(m, f, a) for a in apps for f in FAILURES for m in MODES]


@dataclass(frozen=True)
class Observation:
    """What the caller and the database saw in one run."""

    events: tuple[tuple[Any, ...], ...]  # during the call
    outcome: tuple[Any, ...]  # ("return", value) or ("raise", type, wrapped type, message)
    post_read: str | None  # reading `.name` of the returned object: ok / refresh / detached
    teardown: tuple[tuple[Any, ...], ...]  # at the request's teardown


def analyse(source: str) -> tuple[FileAnalysis, str]:
    """The engine's analysis of a one-occurrence module, found by the scanner as `scan` would."""
    found = scan_source(PATH, source.encode(), source, SPEC, None)
    if len(found.occurrences) != 1:
        raise AssertionError(f"expected one occurrence, scan found {found.occurrences} ({found.skipped})")
    occ = found.occurrences[0]
    return FileAnalysis(source, [occ], RECIPE), occ.id


def proposals(fa: FileAnalysis, occ_id: str) -> list[Proposal]:
    """The default proposal and one per alternative strategy."""
    first = fa.summary(occ_id)
    return [first, *(fa.summary(occ_id, s) for s in first.alternatives)]


def rewrite(fa: FileAnalysis, occ_id: str, strategy: str) -> str:
    return fa.apply({occ_id: Choice(strategy)})


def load(source: str) -> Entry:
    ns = module_namespace("generated")
    exec(compile(source, "<generated>", "exec"), ns)
    if "ItemService" in ns:
        service = ns["ItemService"]
        if hasattr(service, "entry"):
            return lambda item_id, mode: service(DB_MANAGER).entry(item_id, mode)
        return lambda item_id, mode: service(DB_MANAGER).op(item_id, mode)
    return ns.get("entry", ns["op"])  # type: ignore[no-any-return]


def describe(value: Any) -> Any:
    if isinstance(value, FakeObj):
        return ("obj", object.__getattribute__(value, "_label"))
    if isinstance(value, list | tuple):
        return ("list", tuple(describe(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple(sorted((k, describe(v)) for k, v in value.items())))
    return value


def describe_exc(exc: BaseException) -> tuple[Any, ...]:
    cause = exc.__cause__ if isinstance(exc, SessionDatabaseError) else None
    inner = cause if cause is not None else exc
    return ("raise", type(exc).__name__, type(cause).__name__ if cause else None, str(inner))


def _returned_object(value: Any) -> FakeObj | None:
    if isinstance(value, FakeObj):
        return value
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list | tuple) else ()
    return next((v for v in items if isinstance(v, FakeObj)), None)


def observe(entry: Entry, config: Config) -> Observation:
    """Call the function as a request would: the call, a read of the returned object, the teardown."""
    world = World(failures=config.failures, in_app=config.in_app)
    CURRENT.world = world
    value = None
    try:
        value = entry(7, config.mode)
        outcome: tuple[Any, ...] = ("return", describe(value))
    except Exception as exc:
        outcome = describe_exc(exc)
    called = len(world.trace)
    post = None
    target = _returned_object(value)
    if target is not None:
        try:
            target.name  # noqa: B018 - the read is the point
            post = world.trace[-1][3]
        except DetachedInstanceError:
            post = "detached"
    read = len(world.trace)
    world.end_request()
    return Observation(tuple(world.trace[:called]), outcome, post, tuple(world.trace[read:]))
