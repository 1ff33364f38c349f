"""The values a recipe is made of: what to acquire, phases, strategies, rules."""

from __future__ import annotations

from dataclasses import dataclass, field

from migrator_tui.recipe.globs import Glob, compile_glob

STRATEGY_KINDS = ("with", "admin_route", "service", "service_helper", "receiver_with", "bare_with", "begin")
#: Kinds whose context manager is built from the occurrence's own acquire (no manager name).
RECEIVER_KINDS = ("receiver_with", "bare_with", "begin")
#: `Acquire.arguments` for "any number of arguments".
ANY_ARGUMENTS = -1
PRIORITIES = ("high", "medium", "low")


@dataclass(frozen=True, slots=True)
class Acquire:
    #: `<receiver>.<method>(...)`; "" when only `calls` are acquires
    method: str
    receivers: tuple[str, ...]
    #: an exact count, or ANY_ARGUMENTS
    arguments: int = 0
    release: str = "close"
    rollback: str = "rollback"
    commit: str = "commit"
    #: False: the acquire is a statement of its own (`lock.acquire()`), the resource is the receiver.
    binds: bool = True
    #: True: `with <receiver>.<method>() as x:` is already the target form, not an occurrence.
    with_is_migrated: bool = False
    #: callees whose calls acquire too: a bare name matches by its last part (`SessionLocal`),
    #: a dotted one through the file's imports (`sqlite3.connect`)
    calls: tuple[str, ...] = ()
    #: calls of a name the same file binds to what one of these returns (`sessionmaker`)
    factories: tuple[str, ...] = ()
    #: only acquires released in their scope are occurrences; the others are listed as excluded
    closed_only: bool = False
    #: the acquired object holds nothing until its first use (a SQLAlchemy Session opens no
    #: connection before its first query): an exception before any use leaves nothing open
    lazy: bool = False

    @property
    def any_receiver(self) -> bool:
        return "*" in self.receivers

    @property
    def label(self) -> str:
        """How output names the acquire: `db_manager.get_session()`, `SessionLocal()`,
        `sqlite3.connect()`, `SessionLocal() / sessionmaker-made()`."""
        names = []
        if self.method:
            receiver = self.receivers[0] if self.receivers and not self.any_receiver else "<x>"
            names.append(f"{receiver}.{self.method}()")
        names.extend(f"{c}()" for c in self.calls[:2])
        if len(self.calls) > 2:
            names.append("…")
        elif self.factories and not names:
            names.append(f"<what {self.factories[0]}() makes>()")
        return " / ".join(names)


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
    #: `receiver_with` only: the acquire is wrapped in this call (`contextlib.closing`)
    wrapper: str | None = None
    #: `package>=version` the target form needs (`sqlalchemy>=1.4`: a Session's own `with`)
    requires: str | None = None

    def imported_modules(self) -> set[str]:
        """Top-level modules the strategy's `imports` name."""
        out = set()
        for line in self.imports:
            words = line.split()
            if len(words) >= 2 and words[0] in ("from", "import"):
                out.add(words[1].split(".")[0].rstrip(","))
        return out


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
    #: what messages call the acquired object ("session", "connection")
    noun: str = "session"
    _phase_patterns: tuple[tuple[Phase, tuple[Glob, ...]], ...] = field(
        default=(), repr=False, compare=False
    )

    def phase_of(self, path: str) -> Phase | None:
        """The phase whose globs match the repository-relative POSIX `path`, if any."""
        for phase, patterns in self._phase_patterns:
            if any(p.match(path) for p in patterns):
                return phase
        return None

    def is_excluded(self, path: str) -> bool:
        return any(compile_glob(g).match(path) for g in self.exclude_paths)

    @property
    def watched_names(self) -> tuple[str, ...]:
        """Names whose reads decide a rule (`reads = [...]`)."""
        return tuple(sorted({n for r in self.rules for n in r.reads}))
