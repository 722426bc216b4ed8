"""Long waits on the network are not silent: each retry says what failed, in words, and how long it
waits (on stderr, through ``http.progress``); the final error names the underlying reason."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from approval_fixtures import write_repository
from competency_ci.http import RemoteError, RetryPolicy, new_session, progress, send, set_progress
from servers.recording import Reply
from servers.registry import RegistryServer


@pytest.fixture
def lines() -> Iterator[list[str]]:
    seen: list[str] = []
    previous = set_progress(seen.append)
    yield seen
    set_progress(previous)


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def refused_url() -> str:
    """A loopback port nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/api/ping"


def test_connection_refused_is_named_on_each_retry_and_in_the_error(lines: list[str]) -> None:
    url, fake = refused_url(), FakeTime()
    with pytest.raises(RemoteError) as caught:
        send(new_session(), "GET", url, policy=RetryPolicy(attempts=3), sleep=fake.sleep, clock=fake.clock)
    assert lines == [
        f"GET {url}: connection refused, retrying in 1 s (attempt 2 of 3)",
        f"GET {url}: connection refused, retrying in 2 s (attempt 3 of 3)",
    ]
    assert str(caught.value) == f"GET {url}: gave up after 3 attempts in 3.0 s (3 × connection refused)"
    assert [a.reason for a in caught.value.attempts] == ["connection refused"] * 3


def test_a_budget_says_when_it_gives_up_and_short_waits_stay_quiet(lines: list[str]) -> None:
    url, fake = refused_url(), FakeTime()
    policy = RetryPolicy(attempts=100, first_delay=0.5, total=10.0)
    with pytest.raises(RemoteError) as caught:
        send(new_session(), "GET", url, policy=policy, sleep=fake.sleep, clock=fake.clock)
    assert lines == [  # 0.5 s is not worth a line; then 1, 2, 4 s; 8 s more would pass the limit
        f"GET {url}: connection refused, retrying in 1 s (attempt 3; giving up within 10 s)",
        f"GET {url}: connection refused, retrying in 2 s (attempt 4; giving up within 9 s)",
        f"GET {url}: connection refused, retrying in 4 s (attempt 5; giving up within 7 s)",
    ]
    assert str(caught.value) == (
        f"GET {url}: gave up after 5 attempts in 7.5 s (5 × connection refused): time limit reached"
    )


def test_http_statuses_are_counted_in_runs(lines: list[str]) -> None:
    fake = FakeTime()
    with RegistryServer("k" * 36) as registry:
        registry.force(Reply(503), Reply(503), Reply(500), Reply(503))
        with pytest.raises(RemoteError) as caught:
            send(
                new_session(),
                "GET",
                f"{registry.url}/graph/x",
                policy=RetryPolicy(attempts=4),
                sleep=fake.sleep,
                clock=fake.clock,
            )
    url = f"{registry.url}/graph/x"
    assert lines == [
        f"GET {url}: HTTP 503, retrying in 1 s (attempt 2 of 4)",
        f"GET {url}: HTTP 503, retrying in 2 s (attempt 3 of 4)",
        f"GET {url}: HTTP 500, retrying in 4 s (attempt 4 of 4)",
    ]
    assert str(caught.value) == f"GET {url}: gave up after 4 attempts in 7.0 s (2 × 503, 500, 503)"


def test_no_sink_no_output(capsys: pytest.CaptureFixture[str]) -> None:
    previous = set_progress(None)
    try:
        progress("batch 1 of 2 written")
    finally:
        set_progress(previous)
    assert capsys.readouterr() == ("", "")


def test_the_command_line_prints_progress_on_stderr(tmp_path: Path, run_cli: Any) -> None:
    with RegistryServer("k" * 36) as registry:
        config = write_repository(tmp_path, registry.url)
        registry.force(Reply(503, None, {"Retry-After": "1"}), Reply(503, None, {"Retry-After": "1"}))
        _, _, err = run_cli("status", "--config", str(config))
    shown = [line for line in err.splitlines() if line.startswith("competency-ci: ")]
    retry = (
        rf"competency-ci: GET {re.escape(registry.url)}/\S+: HTTP 503, retrying in 1 s \(attempt {{}} of 5\)"
    )
    assert len(shown) == 2
    assert re.fullmatch(retry.format(2), shown[0]) and re.fullmatch(retry.format(3), shown[1])


def test_a_publish_in_several_batches_says_how_far_it_is(tmp_path: Path, lines: list[str]) -> None:
    from competency_ci.frameworks.build import load_frameworks
    from competency_ci.frameworks.config import Config
    from competency_ci.sandbox import SandboxServer
    from competency_ci.targets.cass.client import CassClient
    from competency_ci.targets.cass.publish import publish_frameworks
    from publish_support import our_key
    from validate_support import FW, GOOD

    (tmp_path / "f.csv").write_text(GOOD)
    frameworks = load_frameworks(tmp_path / "f.csv", Config(root=tmp_path))
    with SandboxServer("127.0.0.1", 0) as sandbox:
        client = CassClient(sandbox.url, our_key(), timeout=10, batch_objects=2)
        result = publish_frameworks(frameworks, Config(root=tmp_path), sandbox.url, our_key(), client=client)
    assert result.ok
    assert result.frameworks[0].objects_written == 6  # the framework, 3 competencies, 2 relations
    # the framework object goes first on its own, then batches of two
    assert lines == [f"{FW}: {n} of 6 objects written" for n in (1, 3, 5, 6)]


@pytest.mark.parametrize(
    ("exc", "words"),
    [
        ("ConnectionError", "connection refused"),
        ("ConnectTimeout", "no connection within the time limit"),
        ("ReadTimeout", "no answer within the time limit"),
        ("ChunkedEncodingError", "the answer was cut off"),
        ("SSLError", "TLS certificate not trusted"),
        ("ConnectionError-dns", "host name not found"),
        ("ConnectionError-reset", "connection reset by the server"),
        ("ConnectionError-other", "ConnectionError"),
    ],
)
def test_reasons_in_words(exc: str, words: str) -> None:
    """The exceptions as requests raises them (their messages as urllib3 words them); only the fixed
    words come out, never the exception's own text (which may hold a URL)."""
    import requests

    from competency_ci.http import reason

    made = {
        "ConnectionError": requests.ConnectionError(
            "HTTPConnectionPool(host='127.0.0.1', port=9): Max retries exceeded with url: /api/ping "
            "(Caused by NewConnectionError(': Failed to establish a new connection: [Errno 111] "
            "Connection refused'))"
        ),
        "ConnectTimeout": requests.ConnectTimeout("timed out"),
        "ReadTimeout": requests.ReadTimeout("Read timed out. (read timeout=60)"),
        "ChunkedEncodingError": requests.exceptions.ChunkedEncodingError("IncompleteRead(10 bytes read)"),
        "SSLError": requests.exceptions.SSLError(
            "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"
        ),
        "ConnectionError-dns": requests.ConnectionError(
            "Failed to resolve 'cass.example.org' ([Errno -2] Name or service not known)"
        ),
        "ConnectionError-reset": requests.ConnectionError(
            "('Connection aborted.', ConnectionResetError(104, 'Connection reset by peer'))"
        ),
        "ConnectionError-other": requests.ConnectionError("https://user@cass.example.org/?key=secret"),
    }[exc]
    assert reason(made) == words
