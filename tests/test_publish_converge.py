"""A publish that fails anywhere is repaired by the next run (issue 11 §4): the fault matrix.

One edit of a published framework (texts changed, a competency and its relation removed, one moved,
new ones added) is published through a fault-injecting proxy with a batch size of two, so the run
makes six writes: two batches of changed objects, the ``multiDelete``, the framework object, two
batches of new objects. Each write in turn is lost before the server sees it, or its answer is lost
after the server acted (the connection dropped, or the answer cut half-way), and then either
nothing else goes wrong, or every later write is lost, or the server is gone. Whatever happened,
re-running reaches the state a clean publish leaves in a fresh sandbox, compared object by object,
and a further run has nothing to do. The account of a failed run says what the server holds,
read back when it can be.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from competency_ci.frameworks.config import Config
from competency_ci.frameworks.model import Framework
from competency_ci.sandbox import SandboxServer
from competency_ci.targets.cass.client import CassClient
from competency_ci.targets.cass.mapping import relation_id
from competency_ci.targets.cass.publish import PublishResult, publish_frameworks
from publish_support import (
    FW,
    FW2,
    A,
    B,
    C,
    D,
    framework_rows,
    load,
    our_key,
    second_framework_rows,
    snapshot,
    uri,
    write_csv,
)
from servers.faulty_cass import Fault, FaultyCass

E = "ce-e1000000-0000-4000-8000-0000000000e1"
G = "ce-91000000-0000-4000-8000-000000000091"
BATCH = 2


def edited_rows() -> list[str]:
    """A, B, D changed; C (and C->A) removed; D moved under B; E (under A) and G (top) new."""
    rows = framework_rows(texts={A: "Alpha 2", B: "Bravo 2", D: "Delta 2"}, parents={D: B}, order=(A, B, D))
    return [*rows, f"{E},ceasn:Competency,,,,,Echo,,,{A}", f"{G},ceasn:Competency,,,,,Golf,,{FW},"]


class FakeTime:
    """Backoff waits advance a fake clock: retries are exact and cost no real time."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def client_for(url: str) -> CassClient:
    fake = FakeTime()
    return CassClient(url, our_key(), timeout=10, sleep=fake.sleep, clock=fake.clock, batch_objects=BATCH)


def publish(url: str, frameworks: list[Framework]) -> PublishResult:
    return publish_frameworks(frameworks, Config(root=Path(".")), url, our_key(), client=client_for(url))


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Framework]]:
    root = tmp_path_factory.mktemp("converge")
    return {
        "before": load(write_csv(root / "before.csv", framework_rows())),
        "after": load(write_csv(root / "after.csv", edited_rows())),
    }


@pytest.fixture(scope="module")
def clean(files: dict[str, list[Framework]]) -> dict[str, dict[str, Any]]:
    """What publishing the edited file into a fresh sandbox leaves."""
    with SandboxServer("127.0.0.1", 0) as sandbox:
        assert publish(sandbox.url, files["after"]).ok
        return snapshot(sandbox)


@pytest.fixture
def proxied(files: dict[str, list[Framework]]) -> Iterator[tuple[FaultyCass, SandboxServer]]:
    """The first version published cleanly through the proxy (ids carry the proxy's base)."""
    proxy = FaultyCass([])
    sandbox = SandboxServer("127.0.0.1", 0, base_url=proxy.url)
    proxy.upstream = sandbox.url
    proxy.start(), sandbox.start()
    assert publish(proxy.url, files["before"]).ok
    yield proxy, sandbox
    proxy.stop()
    sandbox.stop()


# The six writes of the edit, in order: (route, objects it carries, what it is).
WRITES = [
    ("multiPut", 2, "changed objects, batch 1 (A, B)"),
    ("multiPut", 1, "changed objects, batch 2 (D)"),
    ("multiDelete", 2, "what left (C, C->A)"),
    ("multiPut", 1, "the framework object"),
    ("multiPut", 2, "new objects, batch 1 (E, G)"),
    ("multiPut", 2, "new objects, batch 2 (D->B, E->A)"),
]
LOSSES = {  # how the write is lost
    "before": {"action": "drop", "forward": False},  # the server never sees it
    "after": {"action": "drop", "forward": True},  # the server acts; the connection drops
    "cut": {"action": "cut"},  # the server acts; its answer is cut off half-way
}
THEN = [None, "writes_down", "down"]  # nothing else; every later write lost; the server gone


@dataclass(frozen=True)
class Case:
    write: int  # 1-based index into WRITES
    loss: str
    then: str | None

    def __str__(self) -> str:
        return f"write{self.write}-{self.loss}-{self.then or 'once'}"


CASES = [
    Case(w, loss, then)
    for w, loss, then in itertools.product(range(1, 7), LOSSES, THEN)
    if loss != "cut" or then is None  # a cut answer is a lost one: the client's other error path, once
]


def test_the_edit_makes_the_six_writes(
    proxied: tuple[FaultyCass, SandboxServer], files: dict[str, list[Framework]], clean: Any
) -> None:
    proxy, sandbox = proxied
    proxy.arm([])
    result = publish(proxy.url, files["after"])
    assert result.ok and result.frameworks[0].message == "4 created, 4 updated, 2 deleted"
    writes = [line for line in proxy.log if "multiPut" in line or "multiDelete" in line]
    assert writes == [f"POST sky/repo/{route} [{n}]: forwarded 200" for route, n, _ in WRITES]
    assert snapshot(sandbox) == clean
    assert sorted(clean) == sorted(
        [uri(A), uri(B), uri(D), uri(E), uri(G), uri(FW)]
        + [relation_id("BASE/", uri(c), uri(p), "narrows") for c, p in ((B, A), (D, B), (E, A))]
    )


def planned() -> list[str]:
    """The objects the edit writes, as ``snapshot`` names them."""
    rels = [relation_id("BASE/", uri(c), uri(p), "narrows") for c, p in ((D, B), (E, A))]
    return [uri(A), uri(B), uri(D), uri(FW), uri(E), uri(G), *rels]


REMOVED = [uri(C), relation_id("BASE/", uri(C), uri(A), "narrows")]


def repaired_within_the_run(case: Case) -> bool:
    """One loss is repaired by reading back; so is a last write that acted before writes stopped."""
    return case.then is None or (case.then == "writes_down" and case.loss != "before" and case.write == 6)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_every_lost_request_or_answer_is_repaired(
    case: Case,
    proxied: tuple[FaultyCass, SandboxServer],
    files: dict[str, list[Framework]],
    clean: dict[str, Any],
) -> None:
    proxy, sandbox = proxied
    proxy.arm([Fault("multiPut|multiDelete", first=case.write, then=case.then, **LOSSES[case.loss])])
    first = publish(proxy.url, files["after"])
    fr = first.frameworks[0]
    if repaired_within_the_run(case):
        assert first.ok, fr.message
        assert snapshot(sandbox) == clean
    else:
        assert first.exit_code == 3 and fr.status == "failed"
        held = snapshot(sandbox)
        written = sum(1 for i in planned() if held.get(i) == clean[i])
        deleted = sum(1 for i in REMOVED if i not in held)
        if case.then == "down":  # nothing can be read back: only what the server confirmed counts
            assert "could not read back what the server holds" in fr.message
            assert fr.objects_written <= written
        else:  # the account is what the server holds, read back
            assert "; read back from the server: " in fr.message
            assert fr.message.endswith(
                f": {written} of 8 object(s) are written, "
                f"{'including' if held.get(uri(FW)) == clean[uri(FW)] else 'not including'} "
                f"the framework object; {deleted} of 2 removed item(s) are deleted"
            )
    proxy.arm([])
    again = publish(proxy.url, files["after"])
    assert again.ok, again.frameworks[0].message
    assert snapshot(sandbox) == clean
    proxy.arm([])
    last = publish(proxy.url, files["after"])
    assert last.plan is not None and last.plan.empty
    assert [line for line in proxy.log if "multiPut" in line or "multiDelete" in line] == []


def test_a_lost_answer_is_read_back_and_the_account_says_what_the_server_holds(
    proxied: tuple[FaultyCass, SandboxServer], files: dict[str, list[Framework]]
) -> None:
    """Every write from the framework object on acts, but no answer comes back: each is read back,
    found written, and the run succeeds with every write sent exactly once."""
    proxy, sandbox = proxied
    proxy.arm([Fault("multiPut|multiDelete", "drop", first=4, times=None)])
    result = publish(proxy.url, files["after"])
    assert result.ok
    writes = [line for line in proxy.log if "sky/repo" in line]
    assert writes[-6:] == [
        "POST sky/repo/multiPut [1]: dropped after forwarding (200)",
        "POST sky/repo/multiGet [1]: forwarded 200",
        "POST sky/repo/multiPut [2]: dropped after forwarding (200)",
        "POST sky/repo/multiGet [2]: forwarded 200",
        "POST sky/repo/multiPut [2]: dropped after forwarding (200)",
        "POST sky/repo/multiGet [2]: forwarded 200",
    ]
    assert sum(1 for r in sandbox.request_log if r.path == "/api/sky/repo/multiPut") == 4 + 5


def test_writes_lost_before_the_server_give_an_exact_account(
    proxied: tuple[FaultyCass, SandboxServer], files: dict[str, list[Framework]]
) -> None:
    proxy, _ = proxied
    proxy.arm([Fault("multiPut|multiDelete", "drop", forward=False, first=4, times=None)])
    result = publish(proxy.url, files["after"])
    fr = result.frameworks[0]
    assert result.error is not None and result.error.startswith(
        f"POST {proxy.url}sky/repo/multiPut: gave up after 1 attempt in "
    )
    assert fr.message == (
        f"{result.error}; read back from the server: 3 of 8 object(s) are written, "
        "not including the framework object; 2 of 2 removed item(s) are deleted"
    )
    # the framework object was tried three times (sent, read back, resent twice), then given up
    assert [line for line in proxy.log if "dropped" in line] == [
        "POST sky/repo/multiPut [1]: dropped before the server"
    ] * 3


def test_objects_left_behind_by_earlier_versions_are_found_by_search(
    proxied: tuple[FaultyCass, SandboxServer], tmp_path: Path
) -> None:
    """Before this order of writes, a lost multiDelete after the framework write left C and C->A
    on the server, listed by nothing: the framework's own list no longer names them. The search for
    our relations touching the framework's competencies finds C->A, and through it C."""
    proxy, sandbox = proxied
    client = client_for(proxy.url)
    client.ping()
    stored = client.multi_get([uri(FW)])[uri(FW)]
    c_a = relation_id(proxy.url, uri(C), uri(A), "narrows")
    rewritten = {
        **stored,
        "competency": [i for i in stored["competency"] if i != uri(C)],
        "relation": [i for i in stored["relation"] if i != c_a],
    }
    assert client.multi_put([rewritten]) == {uri(FW)}  # what the old order wrote before its delete
    without_c = load(write_csv(tmp_path / "fw.csv", framework_rows(order=(A, B, D))))
    proxy.arm([])
    result = publish(proxy.url, without_c)
    assert result.ok and result.frameworks[0].message == "2 deleted"
    assert result.plan is not None
    assert [(c.action, c.id, c.reasons) for c in result.plan.frameworks[0].changes] == [
        ("delete", c_a, ("left behind by an earlier run: no framework lists it",)),
        ("delete", uri(C), ("left behind by an earlier run: no framework lists it",)),
    ]
    with SandboxServer("127.0.0.1", 0) as fresh:
        assert publish(fresh.url, without_c).ok
        assert snapshot(sandbox) == snapshot(fresh)


def test_objects_another_framework_lists_are_not_left_behind(
    proxied: tuple[FaultyCass, SandboxServer], tmp_path: Path
) -> None:
    """C, no longer in FW, is listed by a second framework on the server: it stays."""
    proxy, sandbox = proxied
    client = client_for(proxy.url)
    client.ping()
    stored = client.multi_get([uri(FW)])[uri(FW)]
    c_a = relation_id(proxy.url, uri(C), uri(A), "narrows")
    other = load(write_csv(tmp_path / "other.csv", second_framework_rows()))
    assert publish(proxy.url, other).ok
    second = client.multi_get([uri(FW2)])[uri(FW2)]
    client.multi_put([{**second, "competency": [*second["competency"], uri(C)], "relation": [c_a]}])
    kept = [i for i in stored["relation"] if i != c_a]
    client.multi_put(
        [{**stored, "competency": [i for i in stored["competency"] if i != uri(C)], "relation": kept}]
    )
    result = publish(proxy.url, load(write_csv(tmp_path / "fw.csv", framework_rows(order=(A, B, D)))))
    assert result.ok and result.frameworks[0].message == "no changes"
    assert {uri(C), c_a.replace(proxy.url, "BASE/")} <= set(snapshot(sandbox))
