"""Publishing through a fault-injecting proxy: retries, lost answers read back, exact accounts,
and re-runs that converge. (The full matrix of lost requests and answers: test_publish_converge.py.)

The client runs on a fake clock (``sleep`` advances it), so backoff and the time limit are exact
and the tests never wait.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from competency_ci.frameworks.config import Config
from competency_ci.frameworks.model import Framework
from competency_ci.sandbox import SandboxServer
from competency_ci.targets.cass.client import CassClient, Timeouts
from competency_ci.targets.cass.publish import PublishResult, account, publish_frameworks
from publish_support import (
    FW,
    FW2,
    framework_rows,
    load,
    our_key,
    private_pem,
    second_framework_rows,
    snapshot,
    uri,
    write_csv,
)
from servers.faulty_cass import Fault, FaultyCass

FW3 = "ce-30000000-0000-4000-8000-000000000000"
F3 = "ce-f3000000-0000-4000-8000-0000000000f3"
SMALL = 2500  # postMaxSize that splits the four-competency framework into several multiPuts


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def frameworks(tmp_path: Path) -> list[Framework]:
    return [
        *load(write_csv(tmp_path / "a.csv", second_framework_rows())),
        *load(write_csv(tmp_path / "b.csv", framework_rows())),
        *load(write_csv(tmp_path / "c.csv", second_framework_rows(FW3, F3, "Third"))),
    ]


def proxied(faults: list[Fault], post_max_size: int = SMALL) -> tuple[FaultyCass, SandboxServer]:
    proxy = FaultyCass(faults)
    sandbox = SandboxServer("127.0.0.1", 0, post_max_size=post_max_size, base_url=proxy.url)
    proxy.upstream = sandbox.url
    return proxy.start(), sandbox.start()


@pytest.fixture
def clean_state(frameworks: list[Framework]) -> dict[str, Any]:
    """What a fault-free run leaves on a server."""
    with SandboxServer("127.0.0.1", 0, post_max_size=SMALL) as sandbox:
        assert publish_frameworks(frameworks, Config(root=Path(".")), sandbox.url, our_key(), timeout=30).ok
        return snapshot(sandbox)


@pytest.fixture
def faulty(request: pytest.FixtureRequest) -> Iterator[tuple[FaultyCass, SandboxServer]]:
    proxy, sandbox = proxied(request.param)
    yield proxy, sandbox
    proxy.stop()
    sandbox.stop()


def run(
    proxy: FaultyCass, frameworks: list[Framework], timeout: float = 10.0
) -> tuple[PublishResult, FakeTime]:
    fake = FakeTime()
    client = CassClient(proxy.url, our_key(), timeout=timeout, sleep=fake.sleep, clock=fake.clock)
    result = publish_frameworks(frameworks, Config(root=Path(".")), proxy.url, our_key(), client=client)
    return result, fake


def statuses(result: PublishResult) -> list[tuple[str, str]]:
    return [(f.name, f.status) for f in result.frameworks]


ALL_WRITTEN = [("Second", "written"), ("Test Framework", "written"), ("Third", "written")]


@pytest.mark.parametrize(
    "faulty",
    [[Fault("multiGet", "status", 429, retry_after="7"), Fault("multiPut", "status", 503, first=2, times=2)]],
    indirect=True,
)
def test_429_and_503_are_retried_with_backoff(
    faulty: Any, frameworks: list[Framework], clean_state: Any
) -> None:
    proxy, sandbox = faulty
    result, fake = run(proxy, frameworks)
    assert result.ok and statuses(result) == ALL_WRITTEN
    assert fake.sleeps == [7.0, 0.5, 1.0]  # Retry-After honoured, then exponential backoff
    bulk = [line for line in proxy.log if "/repo/" in line]
    assert bulk[:6] == [
        "POST sky/repo/multiGet [11]: injected 429",
        "POST sky/repo/multiGet [11]: forwarded 200",
        "POST sky/repo/multiPut [1]: forwarded 200",  # Second's framework object
        "POST sky/repo/multiPut [1]: injected 503",  # its competency: 503 means not started
        "POST sky/repo/multiPut [1]: injected 503",
        "POST sky/repo/multiPut [1]: forwarded 200",
    ]
    assert snapshot(sandbox) == clean_state


def puts_seen_by(sandbox: SandboxServer) -> int:
    return sum(1 for r in sandbox.request_log if r.path == "/api/sky/repo/multiPut")


def puts_sent(proxy: FaultyCass) -> int:
    return sum(1 for line in proxy.log if "multiPut" in line)


@pytest.mark.parametrize("faulty", [[Fault("multiPut", "drop", first=3)]], indirect=True)
def test_lost_answer_is_read_back_and_not_sent_again(
    faulty: Any, frameworks: list[Framework], clean_state: Any
) -> None:
    """The server wrote Test Framework's framework object; its answer is lost. A second copy could
    race the first: publish reads back, sees it written, and goes on."""
    proxy, sandbox = faulty
    result, fake = run(proxy, frameworks)
    assert result.ok and statuses(result) == ALL_WRITTEN
    bulk = [line for line in proxy.log if "/repo/" in line]
    assert bulk[3:6] == [
        "POST sky/repo/multiPut [1]: dropped after forwarding (200)",
        "POST sky/repo/multiGet [1]: forwarded 200",  # read back: it is there
        "POST sky/repo/multiPut [3]: forwarded 200",  # so the next batch follows, no resend
    ]
    assert fake.sleeps == [] and puts_seen_by(sandbox) == puts_sent(proxy)  # each reached it once
    assert snapshot(sandbox) == clean_state


@pytest.mark.parametrize("faulty", [[Fault("multiPut", "drop", first=3, forward=False)]], indirect=True)
def test_request_lost_before_the_server_is_read_back_then_resent(
    faulty: Any, frameworks: list[Framework], clean_state: Any
) -> None:
    proxy, sandbox = faulty
    result, _ = run(proxy, frameworks)
    assert result.ok and statuses(result) == ALL_WRITTEN
    bulk = [line for line in proxy.log if "/repo/" in line]
    assert bulk[3:6] == [
        "POST sky/repo/multiPut [1]: dropped before the server",
        "POST sky/repo/multiGet [1]: forwarded 200",  # read back: not there
        "POST sky/repo/multiPut [1]: forwarded 200",  # so it is sent again, once
    ]
    assert puts_seen_by(sandbox) == puts_sent(proxy) - 1  # all but the one lost on the way
    assert snapshot(sandbox) == clean_state


@pytest.mark.parametrize("faulty", [[Fault("multiPut", "status", 504, first=3)]], indirect=True)
def test_gateway_timeout_on_a_write_is_read_back_not_retried(
    faulty: Any, frameworks: list[Framework], clean_state: Any
) -> None:
    """A gateway's 504 says nothing about the server behind it: the write is read back, then only
    what is missing is sent (here everything: the proxy answered without forwarding)."""
    proxy, sandbox = faulty
    result, fake = run(proxy, frameworks)
    assert result.ok and statuses(result) == ALL_WRITTEN
    bulk = [line for line in proxy.log if "/repo/" in line]
    assert bulk[3:6] == [
        "POST sky/repo/multiPut [1]: injected 504",
        "POST sky/repo/multiGet [1]: forwarded 200",
        "POST sky/repo/multiPut [1]: forwarded 200",
    ]
    assert fake.sleeps == []  # no backoff: a read-back, not a retry
    assert snapshot(sandbox) == clean_state


@pytest.mark.parametrize(
    "faulty", [[Fault("multiPut", "stall", first=3, contains="Competency", stall=1.5)]], indirect=True
)
def test_slow_write_is_never_sent_twice(faulty: Any, frameworks: list[Framework], clean_state: Any) -> None:
    """A multiPut whose answer comes after the client's timeout (the 91-second multiPut): no second
    copy while the first may still run; publish reads back and sends only what is missing."""
    proxy, sandbox = faulty
    client = CassClient(proxy.url, our_key(), timeout=30, timeouts=Timeouts(connect=1.0, base=0.3, per_mb=0))
    result = publish_frameworks(frameworks, Config(root=Path(".")), proxy.url, our_key(), client=client)
    assert result.ok and statuses(result) == ALL_WRITTEN
    (stalled,) = [i for i, line in enumerate(proxy.log) if "stalled" in line]
    count = proxy.log[stalled].split("[", 1)[1].split("]")[0]
    assert proxy.log[stalled] == f"POST sky/repo/multiPut [{count}]: stalled after forwarding (200)"
    assert proxy.log[stalled + 1] == f"POST sky/repo/multiGet [{count}]: forwarded 200"  # read back
    assert puts_seen_by(sandbox) == puts_sent(proxy)  # every batch reached the server exactly once
    assert snapshot(sandbox) == clean_state


def test_requests_are_bounded_and_their_timeouts_grow_with_the_payload() -> None:
    from competency_ci.targets.cass.client import batches, json_size

    assert Timeouts().read(0, 0) == 20.0
    assert Timeouts().read(1_000, 900_000) == pytest.approx(20.0 + 20.0 + 9.0)
    objects = [{"@id": f"x{i}", "text": "y" * 100} for i in range(2_500)]
    assert [len(b) for b in batches(objects, 10**9)] == [1_000, 1_000, 500]  # by count
    by_bytes = list(batches(objects, 50_000))
    assert sum(len(b) for b in by_bytes) == 2_500
    for batch, following in itertools.pairwise(by_bytes):  # each as full as it may be
        assert json_size(batch) < 50_000 <= json_size([*batch, following[0]])


@pytest.mark.parametrize("faulty", [[Fault("multiPut", "status", 500, first=3, times=None)]], indirect=True)
def test_persistent_500_gives_an_exact_account_and_a_rerun_converges(
    faulty: Any, frameworks: list[Framework], clean_state: Any
) -> None:
    proxy, sandbox = faulty
    result, fake = run(proxy, frameworks, timeout=5.0)
    assert result.exit_code == 3
    assert statuses(result) == [
        ("Second", "written"),
        ("Test Framework", "failed"),
        ("Third", "not attempted"),
    ]
    failed = result.frameworks[1]
    assert failed.objects_written == 0
    assert failed.message.endswith(
        "time limit reached; read back from the server: 0 of 7 object(s) are written, "
        "not including the framework object"
    )
    last_500 = max(i for i, line in enumerate(proxy.log) if "injected 500" in line)
    assert proxy.log[last_500 + 1] == "POST sky/repo/multiGet [7]: forwarded 200"  # the read-back
    assert fake.sleeps == [0.5, 1.0, 2.0]  # the next wait (4 s) would pass the 5 s limit
    assert result.error == (
        f"POST {proxy.url}sky/repo/multiPut: gave up after 4 attempts in 3.5 s (4 × 500): time limit reached"
    )
    text = account(result)
    assert text.splitlines()[0] == f"publish stopped: {result.error}"
    assert f"  written: {frameworks[0].path}: Second ({FW2})" in text
    assert f"  NOT written: {frameworks[1].path}: Test Framework ({FW}): " in text
    assert f"  not attempted: {frameworks[2].path}: Third ({FW3}): stopped before this framework" in text
    assert text.endswith(
        "Re-running is safe: publish reads what the server holds and writes only what still differs.\n"
    )
    assert uri(FW) not in snapshot(sandbox)

    proxy.faults.clear()
    again, _ = run(proxy, frameworks)
    assert statuses(again) == [("Second", "unchanged"), ("Test Framework", "written"), ("Third", "written")]
    assert snapshot(sandbox) == clean_state


@pytest.mark.parametrize("faulty", [[Fault("multiPut", "omit", first=2)]], indirect=True)
def test_object_omitted_from_the_answer_is_reported_and_a_rerun_converges(
    faulty: Any, frameworks: list[Framework], clean_state: Any
) -> None:
    proxy, sandbox = faulty
    result, _ = run(proxy, frameworks)
    assert result.exit_code == 3 and result.error is None
    assert statuses(result) == [("Second", "failed"), ("Test Framework", "written"), ("Third", "written")]
    omitted = next(line for line in proxy.log if "omitted" in line).rsplit(" ", 1)[1]
    assert omitted == uri("ce-e0000000-0000-4000-8000-00000000000e")
    assert result.frameworks[0].message == (
        f"the server did not save 1 object(s) ({omitted}): not an owner, or rejected by the server: "
        "1 of 2 object(s) are written, including the framework object"
    )
    again, _ = run(proxy, frameworks)
    assert again.ok
    assert snapshot(sandbox) == clean_state


@pytest.mark.parametrize("faulty", [[Fault("multiPut", "status", 503, times=None)]], indirect=True)
def test_cli_exit_3_with_the_account(
    faulty: Any, run_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy, sandbox = faulty
    (tmp_path / ".git").mkdir()
    write_csv(tmp_path / "frameworks" / "b.csv", framework_rows())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CASS_KEY", private_pem(our_key()))
    code, out, err = run_cli("publish", "--server", proxy.url, "--timeout", "0.8", "frameworks")
    assert code == 3
    assert out.startswith(f"Plan for {proxy.url}\n")
    lines = err.splitlines()
    assert lines[0].startswith(
        f"publish stopped: POST {proxy.url}sky/repo/multiPut: gave up after 2 attempts"
    )
    assert lines[1].startswith(f"  NOT written: frameworks/b.csv: Test Framework ({FW}): POST ")
    assert (
        lines[2]
        == "Re-running is safe: publish reads what the server holds and writes only what still differs."
    )
    assert sandbox.writes() == []


EXPIRED = "A Signature is Expired. My time is 1700000000000 and the signature expires at 1699999999999"


@pytest.mark.parametrize("faulty", [[Fault("multiPut", "status", 419, body=EXPIRED)]], indirect=True)
def test_expired_signature_is_named_and_not_retried(faulty: Any, frameworks: list[Framework]) -> None:
    proxy, sandbox = faulty
    result, fake = run(proxy, frameworks)
    assert result.error == (
        "the signature expired: this machine's clock and the server's differ, or requests took too long "
        f"(HTTP 419: {EXPIRED})"
    )
    assert statuses(result) == [
        ("Second", "failed"),
        ("Test Framework", "not attempted"),
        ("Third", "not attempted"),
    ]
    assert fake.sleeps == [] and [line for line in proxy.log if "multiPut" in line] == [
        "POST sky/repo/multiPut [1]: injected 419"
    ]
    assert sandbox.writes() == []


def test_server_clock_far_ahead_is_absorbed_by_the_ping_offset(frameworks: list[Framework]) -> None:
    """Sheets expire by the server's clock (§2.2): an hour of skew must not cause 419s."""
    import time

    with SandboxServer("127.0.0.1", 0, clock=lambda: int(time.time() * 1000) + 3_600_000) as sandbox:
        result = publish_frameworks(frameworks, Config(root=Path(".")), sandbox.url, our_key(), timeout=30)
        assert result.ok and statuses(result) == ALL_WRITTEN


def test_unreachable_server_gives_up_within_the_time_limit(frameworks: list[Framework]) -> None:
    fake = FakeTime()
    client = CassClient("http://127.0.0.1:9/api/", our_key(), timeout=2.0, sleep=fake.sleep, clock=fake.clock)
    result = publish_frameworks(frameworks, Config(root=Path(".")), client.server, our_key(), client=client)
    assert result.exit_code == 3
    assert result.error == (
        "GET http://127.0.0.1:9/api/ping: gave up after 3 attempts in 1.5 s "
        "(3 × connection refused): time limit reached"
    )
    assert fake.sleeps == [0.5, 1.0]
    assert [f.status for f in result.frameworks] == ["not attempted"] * 3
    assert (
        account(result).splitlines()[1]
        == f"  not attempted: {frameworks[0].path}: Second ({FW2}): nothing was read or written"
    )
