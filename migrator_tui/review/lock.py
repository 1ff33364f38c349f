"""One review at a time: a lock file holding its owner's pid, host and start time.

The file is created with O_CREAT|O_EXCL and, while held, also carries an exclusive `flock`, which
the kernel releases when the owner dies (even by SIGKILL). A lock file whose flock can be taken is
therefore stale: its owner is gone, and the new owner takes it over in place. A lock held by a live
process raises `StateError` naming its pid. Locks written on another host are never taken over.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import fcntl
import json
import os
import socket
from pathlib import Path

from migrator_tui.errors import StateError


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (one of another user counts as alive).

    A zombie (killed, not yet reaped by its parent) is dead: where the process that adopts orphans
    is slow to reap them, or never does (a container's own init), a killed run stays a zombie.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return not fh.read().rpartition(b")")[2].lstrip().startswith(b"Z")
    except FileNotFoundError:  # reaped meanwhile; or no /proc at all (macOS): trust kill()
        return not os.path.isdir("/proc/self")
    except OSError:
        return True


class ReviewLock:
    """An exclusive lock on one review; use as a context manager or call `acquire`/`release`."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._fd: int | None = None
        #: Set after `acquire` when a stale lock was taken over: the dead owner's record.
        self.took_over: dict[str, object] | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> ReviewLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(20):
            fd = self._try_create()
            if fd is None:
                fd = self._try_take_over()
            if fd is not None:
                self._fd = fd
                self._write_owner(fd)
                return self
        raise StateError(f"Could not take the review lock {self.path} (it keeps changing hands).")

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        os.close(fd)

    def __enter__(self) -> ReviewLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()

    # -- internals ---------------------------------------------------------------------------

    def _try_create(self) -> int | None:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            # Someone judged our fresh, still empty file stale and took it: they win.
            os.close(fd)
            return None
        return fd

    def _try_take_over(self) -> int | None:
        try:
            fd = os.open(self.path, os.O_RDWR)
        except FileNotFoundError:
            return None  # released meanwhile: try creating again
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = _read_owner(fd)
            os.close(fd)
            self._raise_held(owner)
        # We hold the flock: is this still the file at our path (not one unlinked by a release)?
        try:
            same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
        except FileNotFoundError:
            same = False
        if not same:
            os.close(fd)
            return None
        owner = _read_owner(fd)
        if owner.get("host") not in (None, socket.gethostname()):
            os.close(fd)
            self._raise_held(owner)
        pid = owner.get("pid")
        if isinstance(pid, int) and pid != os.getpid() and pid_alive(pid) and owner.get("flock") is not True:
            # Written by a version without flock and its owner still runs: respect it.
            os.close(fd)
            self._raise_held(owner)
        self.took_over = owner
        return fd

    def _raise_held(self, owner: dict[str, object]) -> None:
        pid = owner.get("pid", "unknown")
        host = owner.get("host")
        since = owner.get("started")
        where = f" on {host}" if host and host != socket.gethostname() else ""
        when = f" since {since}" if since else ""
        raise StateError(
            f"Another review holds the lock {self.path} (pid {pid}{where}{when}); "
            "finish or quit it first, or delete the lock file if that process is gone."
        )

    def _write_owner(self, fd: int) -> None:
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "flock": True,
        }
        data = json.dumps(record).encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)
        os.fsync(fd)


def _read_owner(fd: int) -> dict[str, object]:
    try:
        data = os.pread(fd, 4096, 0)
        owner = json.loads(data.decode("utf-8")) if data else {}
    except (OSError, ValueError):
        return {}
    return owner if isinstance(owner, dict) else {}
