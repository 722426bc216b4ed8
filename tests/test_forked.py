"""`forked`: pure work done by a forked child, its bytes collected through a pipe."""

from __future__ import annotations

import os
import threading
import time

import pytest

from competency_ci import forked

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")


def test_the_child_sends_back_what_its_work_returns() -> None:
    numbers = list(range(100_000))  # inherited, not copied through the pipe
    child = forked.start(lambda: str(sum(numbers)).encode())
    assert child.result() == b"4999950000"


def test_a_failing_child_gives_none() -> None:
    def fail() -> bytes:
        raise ValueError("no")

    assert forked.start(fail).result() is None
    assert forked.start(lambda: b"").result() is None


def test_a_cancelled_child_is_stopped_and_reaped() -> None:
    child = forked.start(lambda: time.sleep(30) or b"late")
    started = time.monotonic()
    child.cancel()
    assert time.monotonic() - started < 5
    with pytest.raises(ChildProcessError):
        os.waitpid(child.pid, os.WNOHANG)


def test_not_available_while_another_thread_runs() -> None:
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert forked.available() is False
    finally:
        stop.set()
        thread.join()
