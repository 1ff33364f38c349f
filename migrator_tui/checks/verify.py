"""Run the target project's tests on each per-file branch, each in a temporary git worktree.

For every file committed by the review, `git worktree add --detach <tmp> <tip>` checks the branch
tip out in a directory of its own (the user's working tree, index and HEAD are never touched), the
test command runs there through the shell, in a process group of its own, with a timeout, and the
worktree is removed again (`git worktree remove --force`, then `git worktree prune`) whatever
happens: a pass, a failure, a timeout (the whole process group is killed), an error, or Ctrl-C
(`KeyboardInterrupt` kills the running commands, removes every worktree, then propagates).

A result (`review.Verification`) records the tip sha it ran on, so a branch that moved since shows
as *outdated* (`badge`). The full output goes to `<state dir>/logs/<branch leaf>.log`.
`--baseline` runs the command once on the base commit: a file whose branch fails while the base
fails too is reported as "fails at base too" rather than blamed on the migration.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from migrator_tui.errors import MigratorError, RepositoryError
from migrator_tui.git import refnames
from migrator_tui.review.state import VERIFICATION_STATUSES, CoverageRun, ReviewState, Verification, utc_now

if TYPE_CHECKING:
    from migrator_tui.checks.coverage import Meter

STATUSES = VERIFICATION_STATUSES
#: `badge` values: a status, or "outdated" when the branch moved since the run.
OUTDATED = "outdated"
BASE = "base"
INTEGRATION = "integration"
#: Output kept in the state (the tail of the log), for a quick look without opening the log.
OUTPUT_TAIL_LINES = 20
OUTPUT_TAIL_CHARS = 2000
#: Seconds between SIGTERM and SIGKILL when a command is stopped.
KILL_GRACE = 3.0
#: Temporary worktree folders are `<tmp>/migrator-verify-<pid>-<random>`: the pid tells a folder of
#: a run that died (and never cleaned up) from one of a run in progress.
TREE_PREFIX = "migrator-verify-"
_TREE_NAME = re.compile(re.escape(TREE_PREFIX) + r"(\d+)-")
#: Environment variables that would point git commands of the tests at the user's repository.
_GIT_VARS = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR")


@dataclass(frozen=True, slots=True)
class Target:
    """One commit to test: a file's branch tip, the base, or the integration branch."""

    #: The file's path, or `BASE` / `INTEGRATION`.
    key: str
    label: str
    sha: str
    log_name: str

    @property
    def is_file(self) -> bool:
        return self.key not in (BASE, INTEGRATION)


@dataclass(frozen=True, slots=True)
class Outcome:
    target: Target
    verification: Verification


def badge(verification: Verification | None, tip: str | None) -> str | None:
    """What to show for a file: its status at `tip`, "outdated" if it ran on another sha, or None."""
    if verification is None:
        return None
    if tip is not None and verification.sha != tip:
        return OUTDATED
    return verification.status


def passed_at(verification: Verification | None, tip: str | None) -> bool:
    """The verification passed, on exactly this tip."""
    return verification is not None and tip is not None and verification.sha == tip \
        and verification.status == "passed"


def file_targets(state: ReviewState, tips: dict[str, str], only: Sequence[str] = ()) -> list[Target]:
    """The per-file branches to test: files the state records as committed whose branch exists.

    `only` keeps those paths; a path there without a branch is a `MigratorError`.
    """
    committed = sorted(p for p, f in state.files.items() if f.commit is not None and p in tips)
    if only:
        wanted = [p.strip("/") for p in only]
        missing = [p for p in wanted if p not in committed]
        if missing:
            raise MigratorError(f"{missing[0]} has no per-file branch to verify (commit it first).")
        committed = [p for p in committed if p in set(wanted)]
    out = []
    for path in committed:
        branch = refnames.branch_for(state.prefix, path)
        out.append(Target(path, branch, tips[path], f"{refnames.encode_leaf(path)}.log"))
    return out


def base_target(state: ReviewState) -> Target:
    return Target(BASE, f"base {state.base[:12]}", state.base, "@base.log")


def integration_target(branch: str, tip: str) -> Target:
    return Target(INTEGRATION, branch, tip, "@integration.log")


def tail(text: str) -> str:
    lines = text.splitlines()[-OUTPUT_TAIL_LINES:]
    return "\n".join(lines)[-OUTPUT_TAIL_CHARS:]


class Runner:
    """Runs a command in temporary worktrees of one repository; `cancel()` stops everything."""

    def __init__(self, root: Path, command: str, *, timeout: float, log_dir: Path,
                 meter: Meter | None = None) -> None:
        self.root = Path(root)
        self.command = command
        self.timeout = timeout
        self.log_dir = Path(log_dir)
        #: `--coverage`: measures the runs of the targets it `wants` (see `checks.coverage`).
        self.meter = meter
        self._lock = threading.Lock()
        self._git_lock = threading.Lock()
        self._procs: set[subprocess.Popen[bytes]] = set()
        self._worktrees: set[Path] = set()
        self._cancelled = threading.Event()

    # -- git worktrees ---------------------------------------------------------------------

    def _git(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(["git", *args], cwd=self.root, capture_output=True, check=False,
                              env=_clean_env())

    def _add_worktree(self, sha: str) -> Path:
        # the folder's unique name is also the worktree's name in the git directory
        tree = Path(tempfile.mkdtemp(prefix=f"{TREE_PREFIX}{os.getpid()}-"))
        with self._lock:
            self._worktrees.add(tree)
        with self._git_lock:  # git's worktree bookkeeping is not safe against concurrent changes
            proc = self._git("worktree", "add", "--detach", "--quiet", str(tree), sha)
        if proc.returncode != 0:
            reason = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise RepositoryError(f"git worktree add failed: {reason[-1] if reason else 'no message'}.")
        return tree

    def remove_worktree(self, tree: Path) -> None:
        """Remove one worktree and its temporary folder (also when git no longer knows it)."""
        with self._git_lock:
            self._git("worktree", "remove", "--force", str(tree))
        shutil.rmtree(tree, ignore_errors=True)
        with self._lock:
            self._worktrees.discard(tree)

    def cleanup(self) -> None:
        """Remove every worktree still present, then let git forget the missing ones."""
        with self._lock:
            left = list(self._worktrees)
        for tree in left:
            self.remove_worktree(tree)
        with self._git_lock:
            self._git("worktree", "prune")

    # -- processes -------------------------------------------------------------------------

    def cancel(self) -> None:
        """Start no new run and kill the process group of every running one."""
        self._cancelled.set()
        with self._lock:
            procs = list(self._procs)
        for proc in procs:
            _kill_group(proc, grace=0.5)

    def run(self, target: Target) -> Verification:
        """Test one target; never raises for the command's failure (only for Ctrl-C)."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / target.log_name
        started = utc_now()
        t0 = time.monotonic()
        status = "error"
        tree: Path | None = None
        measured: CoverageRun | None = None
        meter = self.meter if self.meter is not None and self.meter.wants(target.key) else None
        log_path.unlink(missing_ok=True)
        with open(log_path, "ab") as log:
            log.write(f"$ {self.command}\n# {target.label} at {target.sha}\n".encode())
            log.flush()
            try:
                if self._cancelled.is_set():
                    log.write(b"# cancelled before it started\n")
                    raise _Cancelled
                tree = self._add_worktree(target.sha)
                if meter is None:
                    status = self._execute(tree, log)
                else:
                    folder = meter.run_folder(target.key, Path(target.log_name).stem)
                    log.write(f"# under coverage: data in {folder}\n".encode())
                    log.flush()
                    status = self._execute(tree, log, meter.environment(folder, tree, _clean_env()))
                    if status in ("passed", "failed"):
                        measured = meter.read(target.key, folder, tree)
                    else:
                        measured = CoverageRun(error=f"the tests did not run to their end ({status}).")
                    if measured.error:
                        log.write(f"# no coverage: {measured.error}\n".encode())
            except _Cancelled:
                status = "error"
            except (OSError, MigratorError) as exc:
                log.write(f"# could not run: {exc}\n".encode())
                status = "error"
            finally:
                if tree is not None:
                    self.remove_worktree(tree)
            seconds = round(time.monotonic() - t0, 3)
            log.write(f"# {status} after {seconds:.1f}s\n".encode())
        text = log_path.read_text("utf-8", "replace")
        if meter is not None and measured is None:
            measured = CoverageRun(error="the tests could not be run.")
        return Verification(status=status, command=self.command, sha=target.sha, time=started,
                            seconds=seconds, output=tail(text), log=str(log_path), coverage=measured)

    def _execute(self, tree: Path, log: BinaryIO, env: dict[str, str] | None = None) -> str:
        proc = subprocess.Popen(self.command, shell=True, cwd=tree, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True,
                                env=env if env is not None else _clean_env())
        with self._lock:
            self._procs.add(proc)
        try:
            if self._cancelled.is_set():
                _kill_group(proc, grace=0.5)
                raise _Cancelled
            try:
                code = proc.wait(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                _kill_group(proc, grace=KILL_GRACE)
                log.write(f"\n# timed out after {self.timeout:g}s: process group killed\n".encode())
                return "timeout"
            if self._cancelled.is_set():
                raise _Cancelled
            status = exit_status(self.command, code)
            if status == "error":
                log.write(f"\n# exit code {code}: pytest did not run the tests (interrupted, internal or "
                          "usage error, or no tests collected)\n".encode())
            return status
        finally:
            with self._lock:
                self._procs.discard(proc)


class _Cancelled(Exception):
    pass


#: pytest's exit codes for a run that did not test anything properly (interrupted, internal error,
#: usage error, no tests collected): the environment is broken, not the migration.
PYTEST_ERROR_CODES = frozenset({2, 3, 4, 5})
_PYTEST = re.compile(r"(^|[\s/;&|(])(py\.test|pytest)(\s|$)|-m\s+pytest\b")


def exit_status(command: str, code: int) -> str:
    """passed / failed / error for a test command's exit code: pytest's codes 2–5 are "error"."""
    if code == 0:
        return "passed"
    if code in PYTEST_ERROR_CODES and _PYTEST.search(command):
        return "error"
    return "failed"


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in _GIT_VARS}


def _kill_group(proc: subprocess.Popen[bytes], *, grace: float) -> None:
    """SIGTERM the process group, SIGKILL it after `grace` seconds, and reap the leader."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=grace)
            if sig == signal.SIGTERM:
                # the leader is gone; make sure nothing of its group outlives it
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
            return
        except subprocess.TimeoutExpired:
            continue
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace)


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP arrived: handled like Ctrl-C (commands killed, worktrees removed)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def signals_as_interrupt() -> Iterator[None]:
    """While the block runs, SIGTERM and SIGHUP raise `Terminated` in the main thread, so they
    unwind like Ctrl-C: the running commands are killed, the worktrees removed, the lock released."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: object) -> None:
        raise Terminated(signum)

    wanted = [s for s in (signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None]
    previous = {s: signal.signal(s, handler) for s in wanted}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def prune_dead_runs(root: Path) -> list[str]:
    """Remove the worktrees and temporary folders of verify runs that died without cleaning up
    (killed with SIGKILL, the machine lost power); returns the folders removed.

    Only `migrator-verify-<pid>-*` folders whose process no longer exists are touched.
    """
    from migrator_tui.review.lock import pid_alive

    def dead(path: str) -> bool:
        m = _TREE_NAME.match(os.path.basename(path))
        return m is not None and not pid_alive(int(m.group(1)))

    removed: list[str] = []
    env = _clean_env()
    listing = subprocess.run(["git", "worktree", "list", "--porcelain", "-z"], cwd=root, capture_output=True,
                             check=False, env=env)
    for field in listing.stdout.decode("utf-8", "surrogateescape").split("\0"):
        if field.startswith("worktree ") and dead(field[len("worktree "):]):
            path = field[len("worktree "):]
            _kill_orphans(path)
            subprocess.run(["git", "worktree", "remove", "--force", path], cwd=root, capture_output=True,
                           check=False, env=env)
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    tmp = tempfile.gettempdir()
    with contextlib.suppress(OSError):
        for entry in os.scandir(tmp):
            if entry.is_dir(follow_symlinks=False) and dead(entry.path) and entry.path not in removed:
                _kill_orphans(entry.path)
                shutil.rmtree(entry.path, ignore_errors=True)
                removed.append(entry.path)
    subprocess.run(["git", "worktree", "prune"], cwd=root, capture_output=True, check=False, env=env)
    return removed


def _kill_orphans(folder: str) -> None:
    """Kill the process groups still running in `folder`, the worktree of a verify run that died:
    its test commands were started in sessions of their own, so nothing else stopped them. Only
    where `/proc` tells each process's working directory (Linux); elsewhere nothing is killed."""
    real = os.path.realpath(folder)
    try:
        pids = [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return
    groups: set[int] = set()
    for pid in pids:
        try:
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            continue
        if pid != os.getpid() and (cwd == real or cwd.startswith(real + os.sep)):
            with contextlib.suppress(OSError):
                groups.add(os.getpgid(pid))
    for group in groups - {os.getpgrp()}:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGKILL)


def run_all(runner: Runner, targets: Iterable[Target], *, jobs: int = 2,
            on_result: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Run every target, `jobs` at a time; `on_result` is called in this thread as each ends.

    On `KeyboardInterrupt` (or any exception from `on_result`) the running commands are killed, the
    worktrees removed, and the exception propagates. Worktrees are always removed and pruned.
    """
    outcomes: list[Outcome] = []
    pool = ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="migrator-verify")
    try:
        pending: dict[Future[Verification], Target] = {pool.submit(runner.run, t): t for t in targets}
        while pending:
            # a timeout, so that a Ctrl-C the kernel hands to a worker thread is noticed here soon
            done, _ = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: pending[f].key):
                target = pending.pop(future)
                outcome = Outcome(target, future.result())
                outcomes.append(outcome)
                if on_result is not None:
                    on_result(outcome)
    except BaseException:
        runner.cancel()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        runner.cleanup()
    return outcomes
