"""`forked`: pure work done by a forked child, its bytes collected through a pipe."""

from __future__ import annotations

import os
import threading
import time

import pytest

from competency_ci.frameworks import forked

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")


def test_the_child_sends_back_what_its_work_returns() -> None:
    numbers = list(range(100_000))  # inherited, not copied through the pipe
    child = forked.start(lambda: str(sum(numbers)).encode())
    assert child.result() == b"4999950000"


def test_a_failing_child_gives_none() -> None:
    def fail() -> bytes:
        raise ValueError("no")

    assert forked.start(fail).result() is None
    assert forked.start(lambda: None).result() is None
    assert forked.start(lambda: b"").result() == b""


def test_failed_looks_without_waiting() -> None:
    child = forked.start(lambda: None)
    deadline = time.monotonic() + 10
    while not child.failed():  # it ends on its own, soon
        assert time.monotonic() < deadline
        time.sleep(0.01)
    working = forked.start(lambda: time.sleep(30) or b"late")
    assert working.failed() is False
    working.cancel()
    assert child.result() is None


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
