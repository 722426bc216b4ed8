"""Large frameworks to the Registry: a timeout sized to the payload, no second copy sent while the
first may still succeed (the Registry's /graph/{ctid} is read instead), progress lines. Against
tests/servers/registry.py on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from approval_fixtures import API_KEY, KITCHEN, KNIVES, SERVICE, write_repository
from competency_ci.frameworks.build import load_frameworks
from competency_ci.frameworks.config import load_config
from competency_ci.http import Budget, RetryPolicy, set_progress
from competency_ci.targets.registry.client import Assistant, RegistryReader, publish_timeout
from competency_ci.targets.registry.publish import FAILED, WRITTEN, publish_entries, read_live
from servers.registry import RegistryServer

PUBLISH_GRAPH = "/assistant/CompetencyFramework/publishGraph"


@pytest.fixture
def registry() -> Any:
    with RegistryServer(API_KEY) as server:
        yield server


def test_timeout_grows_with_the_payload_to_ces_30_minutes() -> None:
    assert publish_timeout(0) == 60.0
    assert publish_timeout(500_000) == 930.0  # halfway to 1 MB: halfway to 30 minutes
    assert publish_timeout(1_000_000) == 1800.0  # CE's server allows itself 30 minutes from 1 MB
    assert publish_timeout(20_000_000) == 1800.0


def entries(root: Path, registry: RegistryServer) -> tuple[Any, list[Any], RegistryReader, Assistant]:
    config = load_config(str(write_repository(root, registry.url)))
    frameworks = [
        fw for p in sorted((root / "frameworks").glob("*.csv")) for fw in load_frameworks(p, config)
    ]
    budget = Budget(RetryPolicy(total=600.0))
    reader = RegistryReader(config.registry_url, budget=budget)
    return (
        config,
        read_live(frameworks, config, reader),
        reader,
        Assistant(config.assistant_url, API_KEY, budget=budget),
    )


def publish_posts(registry: RegistryServer) -> list[tuple[int, str]]:
    return [(r.status, r.body["CTID"]) for r in registry.requests if r.route == PUBLISH_GRAPH]


def test_a_lost_answer_is_read_back_not_sent_again(tmp_path: Path, registry: RegistryServer) -> None:
    config, live, reader, assistant = entries(tmp_path, registry)
    registry.lose_answers, registry.slow_reads = 1, 2  # CE finishes after the gateway gave up
    lines: list[str] = []
    previous = set_progress(lines.append)
    try:
        result = publish_entries(live, config, assistant, reader=reader, poll=0.01)
    finally:
        set_progress(previous)
    assert [f.outcome for f in result.frameworks] == [WRITTEN] * 3 and result.ok
    # each framework sent once: the 504 is not answered with a second copy
    assert publish_posts(registry) == [(504, KITCHEN), (200, KNIVES), (200, SERVICE)]
    reads = [r.route for r in registry.requests if r.route == f"/graph/{KITCHEN}"]
    assert len(reads) == 1 + 3  # read_live, then two reads that still show nothing, then the new version
    assert result.frameworks[0].messages == [
        "the Assistant's answer was lost (HTTP 504); "
        "the Registry shows this version published (read 3 time(s))"
    ]
    reading = f"{KITCHEN}: the answer was lost; the Registry does not show this version yet, reading again"
    assert lines == [f"{reading} in 0.01 s"] * 2  # a small framework is sent without a line


def test_an_answer_still_outstanding_when_time_runs_out_is_not_resent(
    tmp_path: Path, registry: RegistryServer
) -> None:
    config, live, reader, assistant = entries(tmp_path, registry)
    registry.lose_answers, registry.slow_reads = 1, 10_000  # CE is still working on it
    assistant.budget.end = assistant.budget.clock() + 5.0  # little time left: the reads stop
    result = publish_entries(live[:1], config, assistant, reader=reader, poll=10.0)
    (outcome,) = result.frameworks
    assert outcome.outcome == FAILED and not result.ok and result.exit_code == 3
    assert publish_posts(registry) == [(504, KITCHEN)]  # sent once, never again
    assert outcome.messages == [
        "the Assistant's answer was lost (HTTP 504) and the Registry does not show this version after 1 "
        "read(s); CE may still be publishing it (up to 30 minutes), so it was not sent again. Re-run "
        "later: publish compares with the live Registry and sends it only if it is still not there"
    ]


def test_a_refused_connection_is_retried_a_503_too(tmp_path: Path, registry: RegistryServer) -> None:
    """What surely did not start on the server is retried as before (http.send replay=False)."""
    from servers.recording import Reply

    config, live, reader, assistant = entries(tmp_path, registry)
    registry.force(Reply(503, {"Message": "PUBLISH_LOCKED"}, {"Retry-After": "0"}), route=PUBLISH_GRAPH)
    result = publish_entries(live[:1], config, assistant, reader=reader, poll=0.01)
    assert result.ok and publish_posts(registry) == [(503, KITCHEN), (200, KITCHEN)]


def test_a_large_framework_is_sent_with_progress_and_a_sized_timeout(
    tmp_path: Path, registry: RegistryServer
) -> None:
    import json

    config, live, _, assistant = entries(tmp_path, registry)
    graph = json.loads(json.dumps(live[0].graph))
    graph["@graph"][0]["ceasn:description"] = {"en-us": "x" * 400_000}
    body = {"CTID": KITCHEN, "PublishForOrganizationIdentifier": config.organization}
    size = len(json.dumps({**body, "CompetencyFrameworkGraph": graph}, ensure_ascii=False).encode())
    lines: list[str] = []
    previous = set_progress(lines.append)
    try:
        answer = assistant.publish_graph(KITCHEN, str(config.organization), graph)
    finally:
        set_progress(previous)
    assert answer.successful
    assert lines == [  # the budget (600 s) is shorter than CE may take: it says so
        f"{KITCHEN}: a framework this large can take CE up to {publish_timeout(size):.0f} s, but the "
        "time limit leaves 600 s (raise --timeout)",
        f"{KITCHEN}: sending 3 node(s), {size / 1e6:.1f} MB, to the Registry Assistant; "
        "waiting up to 600 s for its answer",
    ]
    assert publish_timeout(size) > 700  # not the 60 s every request had before
