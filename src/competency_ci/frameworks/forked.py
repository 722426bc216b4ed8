"""Work done beside us by a forked child process, to use a second core.

Only for pure work on data already in memory: the child inherits it without copying, runs one
function, sends back its bytes through a pipe and leaves with ``os._exit`` (no clean-up, no
buffers flushed twice). Where there is no ``fork``, one core, or another thread (a child would
inherit locks that thread may hold), ``available`` says so and the caller does the work itself.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable


def available() -> bool:
    if not hasattr(os, "fork") or threading.active_count() > 1:
        return False
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (cores or 1) >= 2


class Child:
    """A running child: ``result`` waits for its bytes, ``failed`` looks without waiting,
    ``cancel`` stops it."""

    def __init__(self, pid: int, readable: int) -> None:
        self.pid = pid
        self.readable = readable
        self.code: int | None = None  # its exit code, once it has ended

    def _ended(self, wait: bool) -> bool:
        if self.code is None:
            pid, status = os.waitpid(self.pid, 0 if wait else os.WNOHANG)
            if pid:
                self.code = os.waitstatus_to_exitcode(status)
        return self.code is not None

    def failed(self) -> bool:
        """Whether the child has already ended without a result (a look, no waiting)."""
        return self._ended(wait=False) and self.code != 0

    def result(self) -> bytes | None:
        """What the child sent; None when it failed."""
        try:
            with os.fdopen(self.readable, "rb") as incoming:
                data = incoming.read()
        finally:
            self._ended(wait=True)
        return data if self.code == 0 else None

    def cancel(self) -> None:
        if self.code is None:
            os.kill(self.pid, signal.SIGKILL)
        os.close(self.readable)
        self._ended(wait=True)


def start(work: Callable[[], bytes | None]) -> Child:
    """Run ``work`` in a forked child (call only when ``available()``); its None, or an
    exception, is a failure."""
    readable, writable = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(readable)
            data = work()
            if data is not None:
                with os.fdopen(writable, "wb") as out:
                    out.write(data)
                code = 0
        finally:
            os._exit(code)
    os.close(writable)
    return Child(pid, readable)
