"""The Registry Assistant client, Registry graph reads, the retry rule, and the Registry target."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from approval_fixtures import API_KEY, KITCHEN, KNIVES, ORG, SERVICE, write_repository
from competency_ci.frameworks.build import load_frameworks
from competency_ci.frameworks.config import Config, load_config
from competency_ci.frameworks.jsonld import framework_to_graph
from competency_ci.frameworks.model import Framework
from competency_ci.http import Attempt, Budget, RemoteError, RetryPolicy, new_session, retry_after, send
from competency_ci.targets.registry.client import (
    Assistant,
    AssistantResponse,
    RegistryError,
    RegistryReader,
    format_request,
)
from competency_ci.targets.registry.publish import plan_registry, publish_registry
from servers.recording import Reply
from servers.registry import RegistryServer

DRAFT = "ce-5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b"
# A framework our validator accepts with a warning, but CE's checks reject: no dateCreated. (Without
# a publisher our validator would refuse it already: CE's publishing API requires one.)
DRAFT_CSV = (
    "@id,@type,ceasn:name,ceasn:description,ceasn:inLanguage,ceasn:publisher,ceasn:publisherName,"
    "ceasn:competencyText,ceasn:isTopChildOf\n"
    f"{DRAFT},ceasn:CompetencyFramework,Draft Skills,Not finished yet.,en,{ORG},"
    "Riverside Community Kitchen,,\n"
    f"ce-6f7a8b9c-0d1e-4f2a-8b3c-4d5e6f7a8b9c,ceasn:Competency,,,,,,Something.,{DRAFT}\n"
)
CE_DRAFT_MESSAGES = ["A dateCreated must be provided for the competency framework."]


@pytest.fixture
def registry() -> Any:
    with RegistryServer(API_KEY) as server:
        yield server


def repository(
    root: Path, registry: RegistryServer, *, draft: bool = False
) -> tuple[Config, list[Framework]]:
    config = load_config(str(write_repository(root, registry.url)))
    if draft:
        (root / "frameworks" / "draft.csv").write_text(DRAFT_CSV, encoding="utf-8")
    files = sorted((root / "frameworks").glob("*.csv"))
    return config, [fw for path in files for fw in load_frameworks(path, config)]


def graph_of(config: Config, fw: Framework) -> dict[str, Any]:
    return framework_to_graph(fw, config.registry_url, config.language)


# --- the retry rule ----------------------------------------------------------------------------


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert retry_after("7") == 7.0
    assert retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490.0) == 0.0
    assert retry_after("soon") is None and retry_after(None) is None


def test_send_backs_off_exponentially_then_gives_an_exact_account(registry: RegistryServer) -> None:
    registry.force(Reply(503), Reply(500), Reply(429), Reply(502))
    waits: list[float] = []
    clock = iter(range(100))
    policy = RetryPolicy(attempts=4, first_delay=0.5, total=60)
    with pytest.raises(RemoteError) as caught:
        send(
            new_session(),
            "GET",
            f"{registry.url}/graph/x",
            policy=policy,
            sleep=waits.append,
            clock=lambda: float(next(clock)),
        )
    assert waits == [0.5, 1.0, 2.0]
    assert caught.value.attempts == [Attempt(503), Attempt(500), Attempt(429), Attempt(502)]
    assert str(caught.value) == (
        f"GET {registry.url}/graph/x: gave up after 4 attempts in 4.0 s (503, 500, 429, 502)"
    )


def test_send_honours_retry_after_and_stops_at_the_time_limit(registry: RegistryServer) -> None:
    registry.force(Reply(503, None, {"Retry-After": "20"}), Reply(503, None, {"Retry-After": "50"}))
    waits: list[float] = []
    now = [0.0]

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    with pytest.raises(RemoteError) as caught:
        send(
            new_session(),
            "GET",
            f"{registry.url}/graph/x",
            policy=RetryPolicy(total=40),
            sleep=sleep,
            clock=lambda: now[0],
        )
    assert waits == [20.0]  # the second wait (30 s, capped) would pass the 40 s limit
    assert str(caught.value) == (
        f"GET {registry.url}/graph/x: gave up after 2 attempts in 20.0 s (2 × 503): time limit reached"
    )


def test_send_retries_connection_failures() -> None:
    with RegistryServer(API_KEY) as gone:
        url = f"{gone.url}/graph/x"
    with pytest.raises(RemoteError) as caught:
        send(new_session(), "GET", url, policy=RetryPolicy(attempts=2), sleep=lambda s: None)
    assert caught.value.attempts == [Attempt(None, "ConnectionError")] * 2


def test_budget_is_shared_by_every_request() -> None:
    now = [0.0]
    budget = Budget(RetryPolicy(total=10, timeout=60), clock=lambda: now[0])
    now[0] = 4.0
    assert (budget.policy("GET", "u").total, budget.policy("GET", "u").timeout) == (6.0, 6.0)
    now[0] = 10.0
    with pytest.raises(RemoteError, match=r"^GET u: time limit reached before this request$"):
        budget.policy("GET", "u")


# --- Registry reads and the Assistant ----------------------------------------------------------


def test_read_graph_returns_the_live_graph_or_none(registry: RegistryServer, tmp_path: Path) -> None:
    config, frameworks = repository(tmp_path, registry)
    registry.make_live(graph_of(config, frameworks[0]))
    reader = RegistryReader(registry.url)
    assert reader.read_graph(KITCHEN) == graph_of(config, frameworks[0])
    assert reader.read_graph(KNIVES) is None
    registry.force(Reply(200, ["not", "a", "graph"]))
    with pytest.raises(RegistryError, match=r"/graph/ce-.*: HTTP 200, expected a JSON-LD graph$"):
        reader.read_graph(KITCHEN)


def test_publish_graph_sends_the_documented_request(registry: RegistryServer, tmp_path: Path) -> None:
    config, frameworks = repository(tmp_path, registry)
    graph = graph_of(config, frameworks[1])
    answer = Assistant(registry.assistant_url, API_KEY).publish_graph(KNIVES, ORG, graph)
    assert answer == AssistantResponse(
        successful=True,
        was_changed=True,
        messages=[],
        ctid=KNIVES,
        graph_url=f"{registry.url}/graph/{KNIVES}",
        envelope_url=f"{registry.url}/envelopes/{KNIVES[3:]}",
        payload=json.dumps(graph),
    )
    [request] = registry.requests
    assert (request.method, request.path) == ("POST", "/assistant/CompetencyFramework/publishGraph")
    assert request.body == {
        "CTID": KNIVES,
        "PublishForOrganizationIdentifier": ORG,
        "CompetencyFrameworkGraph": graph,
    }
    assert request.headers == {
        "Accept": "application/json",
        "Authorization": "ApiToken [valid]",
        "Content-Type": "application/json",
        "User-Agent": "competency-ci/0.1.0",
    }
    again = Assistant(registry.assistant_url, API_KEY).publish_graph(KNIVES, ORG, graph)
    assert (again.successful, again.was_changed) == (True, False)


def test_a_rejected_key_is_never_echoed(registry: RegistryServer, tmp_path: Path) -> None:
    wrong = "11111111-2222-4333-8444-555555555555"
    answer = Assistant(registry.assistant_url, wrong).publish_graph(KNIVES, ORG, {"@graph": []})
    assert (answer.successful, answer.status, answer.messages) == (False, 401, ["Error: invalid apiKey: ***"])
    assert registry.requests[0].headers["Authorization"] == "[invalid]"
    with pytest.raises(RegistryError, match=r"^no Registry API key: set CE_REGISTRY_API_KEY$"):
        Assistant(registry.assistant_url).publish_graph(KNIVES, ORG, {})


def test_format_request_is_derived_from_the_graph_by_one_rule(
    registry: RegistryServer, tmp_path: Path
) -> None:
    config, frameworks = repository(tmp_path, registry)
    request = format_request(graph_of(config, frameworks[1]), ORG, "en")
    res = f"{registry.url}/resources/"
    assert request == {
        "PublishForOrganizationIdentifier": ORG,
        "DefaultLanguage": "en",
        "CompetencyFramework": {
            "CTID": KNIVES,
            "name": "Knife Skills",
            "description": "Safe and efficient use of kitchen knives.",
            "inLanguage": ["en"],
            "publisher": [res + ORG],
            "publisherName": ["Riverside Community Kitchen"],
            "dateCreated": "2025-04-01",
            "hasTopChild": [res + "ce-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e"],
        },
        "Competencies": [
            {
                "CTID": "ce-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e",
                "competencyText": "Hold a chef's knife safely.",
                "isPartOf": res + KNIVES,
                "isTopChildOf": res + KNIVES,
                "hasChild": [res + "ce-2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f"],
            },
            {
                "CTID": "ce-2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f",
                "competencyText": "Use the claw grip when slicing.",
                "isPartOf": res + KNIVES,
                "isChildOf": [res + "ce-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e"],
            },
        ],
    }
    answer = Assistant(registry.assistant_url).format(request)
    assert (answer.successful, answer.messages) == (True, [])
    assert "Authorization" not in registry.requests[0].headers


# --- plan and publish (core) -------------------------------------------------------------------


def test_plan_checks_only_what_differs_with_ce_format(registry: RegistryServer, tmp_path: Path) -> None:
    config, frameworks = repository(tmp_path, registry, draft=True)
    registry.make_live(graph_of(config, frameworks[1]))  # kitchen, draft, knives, service: sorted by file
    items = plan_registry(frameworks, config, RegistryReader(registry.url), Assistant(registry.assistant_url))
    assert [(i.status.ctid, i.action, i.successful, i.messages) for i in items] == [
        (DRAFT, "create", False, CE_DRAFT_MESSAGES),
        (KITCHEN, "no change", True, []),
        (KNIVES, "create", True, []),
        (SERVICE, "create", True, []),
    ]
    assert [m for m, _ in registry.log()].count("POST") == 3


def test_publish_sends_what_differs_and_reports_ce_outcomes(registry: RegistryServer, tmp_path: Path) -> None:
    config, frameworks = repository(tmp_path, registry, draft=True)
    registry.make_live(graph_of(config, frameworks[1]))
    registry.owners[SERVICE] = "ce-99999999-9999-4999-8999-999999999999"
    result = publish_registry(
        frameworks, config, RegistryReader(registry.url), Assistant(registry.assistant_url, API_KEY)
    )
    assert [(f.status.ctid, f.outcome, f.messages) for f in result.frameworks] == [
        (DRAFT, "failed", CE_DRAFT_MESSAGES),
        (KITCHEN, "unchanged", []),
        (KNIVES, "written", []),
        (
            SERVICE,
            "failed",
            [
                "The CTID has been used previously by a different Owning Organization. "
                "You may need to contact Credential Engine to resolve this issue."
            ],
        ),
    ]
    assert (result.ok, result.exit_code) == (False, 3)
    publishes = [r.body["CTID"] for r in registry.requests if r.method == "POST"]
    assert publishes == [DRAFT, KNIVES, SERVICE]
    assert registry.live[KNIVES] == graph_of(config, frameworks[2])


# --- plan / publish --target registry (the commands) -------------------------------------------

PUBLISH_GRAPH = "/assistant/CompetencyFramework/publishGraph"


def cli_repository(root: Path, registry: RegistryServer, *, draft: bool = False) -> str:
    config = write_repository(root, registry.url)
    if draft:
        (root / "frameworks" / "draft.csv").write_text(DRAFT_CSV, encoding="utf-8")
    return str(config)


def line(path: str, name: str, ctid: str, what: str) -> str:
    return f"frameworks/{path}: {name} ({ctid}): {what}\n"


@pytest.fixture
def api_key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("CE_REGISTRY_API_KEY", API_KEY)
    return API_KEY


def test_plan_target_registry_uses_format_without_a_key(
    tmp_path: Path, registry: RegistryServer, run_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CE_REGISTRY_API_KEY", raising=False)
    config = cli_repository(tmp_path, registry, draft=True)
    code, out, err = run_cli("plan", "--target", "registry", "--config", config)
    assert (code, err) == (1, "")
    assert out == (
        line("draft.csv", "Draft Skills", DRAFT, "create; CE check FAILED")
        + "".join(f"  - {m}\n" for m in CE_DRAFT_MESSAGES)
        + line("kitchen.csv", "Safe Kitchen Practice", KITCHEN, "create; CE check: ok")
        + line("knives.csv", "Knife Skills", KNIVES, "create; CE check: ok")
        + line("service.csv", "Guest Service", SERVICE, "create; CE check: ok")
        + "4 framework(s): 4 to publish, 1 rejected by CE's checks\n"
    )
    posts = [r for r in registry.requests if r.method == "POST"]
    assert [r.route for r in posts] == ["/assistant/CompetencyFramework/format"] * 4
    assert all("Authorization" not in r.headers for r in posts)
    assert registry.live == {}


def test_publish_target_registry_publishes_then_changes_nothing(
    tmp_path: Path, registry: RegistryServer, run_cli: Any, api_key: str
) -> None:
    config = cli_repository(tmp_path, registry)
    result = tmp_path / "result.json"
    code, out, err = run_cli(
        "publish", "--target", "registry", "--config", config, "--result-file", str(result)
    )
    assert (code, err) == (0, "")
    assert out == (
        line("kitchen.csv", "Safe Kitchen Practice", KITCHEN, "published")
        + line("knives.csv", "Knife Skills", KNIVES, "published")
        + line("service.csv", "Guest Service", SERVICE, "published")
        + "Registry: 3 published, 0 unchanged, 0 not published, 0 not attempted\n"
    )
    record = json.loads(result.read_text("utf-8"))
    assert (record["target"], [f["outcome"] for f in record["frameworks"]]) == ("registry", ["written"] * 3)
    assert record["frameworks"][0]["url"] == f"{registry.url}/graph/{KITCHEN}"
    count = len(registry.requests)
    code, out, _ = run_cli("publish", "--target", "registry", "--config", config)
    assert code == 0
    assert out.endswith("Registry: 0 published, 3 unchanged, 0 not published, 0 not attempted\n")
    assert [m for m, _ in registry.log()[count:]] == ["GET", "GET", "GET"]  # live and current: nothing sent
    assert api_key not in out and all(api_key not in json.dumps(r.headers) for r in registry.requests)


def test_publish_target_registry_retries_a_503_and_reports_was_changed_false(
    tmp_path: Path, registry: RegistryServer, run_cli: Any, api_key: str
) -> None:
    config = cli_repository(tmp_path, registry)
    same = {
        "Successful": True,
        "WasChanged": False,
        "Messages": ["The data is the same as the last publish."],
    }
    registry.force(
        Reply(503, {"Message": "PUBLISH_LOCKED"}, {"Retry-After": "0"}), Reply(200, same), route=PUBLISH_GRAPH
    )
    code, out, err = run_cli("publish", "--target", "registry", "--config", config)
    assert (code, err) == (0, "")
    assert out == (
        line("kitchen.csv", "Safe Kitchen Practice", KITCHEN, "unchanged")
        + "  - The data is the same as the last publish.\n"
        + line("knives.csv", "Knife Skills", KNIVES, "published")
        + line("service.csv", "Guest Service", SERVICE, "published")
        + "Registry: 2 published, 1 unchanged, 0 not published, 0 not attempted\n"
    )
    posts = [(r.status, r.body["CTID"]) for r in registry.requests if r.method == "POST"]
    assert posts == [(503, KITCHEN), (200, KITCHEN), (200, KNIVES), (200, SERVICE)]


def test_publish_target_registry_surfaces_ce_messages_per_framework(
    tmp_path: Path, registry: RegistryServer, run_cli: Any, api_key: str
) -> None:
    config = cli_repository(tmp_path, registry, draft=True)
    code, out, err = run_cli("publish", "--target", "registry", "--config", config)
    assert code == 3
    assert out == (
        line("draft.csv", "Draft Skills", DRAFT, "NOT published")
        + "".join(f"  - {m}\n" for m in CE_DRAFT_MESSAGES)
        + line("kitchen.csv", "Safe Kitchen Practice", KITCHEN, "published")
        + line("knives.csv", "Knife Skills", KNIVES, "published")
        + line("service.csv", "Guest Service", SERVICE, "published")
    )
    assert err == (
        "Registry: 3 published, 0 unchanged, 1 not published, 0 not attempted\n"
        "Re-running is safe: publish compares with the live Registry and sends only what differs.\n"
    )
    assert DRAFT not in registry.live and len(registry.live) == 3


def test_publish_target_registry_stops_with_an_exact_account(
    tmp_path: Path, registry: RegistryServer, run_cli: Any, api_key: str
) -> None:
    config = cli_repository(tmp_path, registry)
    registry.force(*[Reply(503, None, {"Retry-After": "0"})] * 5, route=PUBLISH_GRAPH)
    code, out, err = run_cli("publish", "--target", "registry", "--config", config)
    assert code == 3
    url = registry.assistant_url + "/CompetencyFramework/publishGraph"
    gave_up = rf"POST {re.escape(url)}: gave up after 5 attempts in \d+\.\d s \(5 × 503\)"
    first, message = out.splitlines()
    assert first == line("kitchen.csv", "Safe Kitchen Practice", KITCHEN, "NOT published").rstrip()
    assert re.fullmatch(rf"  - {gave_up}", message)
    lines = err.splitlines()
    assert re.fullmatch(rf"publish stopped: {gave_up}", lines[0])
    assert lines[1:] == [
        f"  not attempted: frameworks/knives.csv: Knife Skills ({KNIVES})",
        f"  not attempted: frameworks/service.csv: Guest Service ({SERVICE})",
        "Registry: 0 published, 0 unchanged, 1 not published, 2 not attempted",
        "Re-running is safe: publish compares with the live Registry and sends only what differs.",
    ]


def test_publish_target_registry_needs_a_key_and_an_organization(
    tmp_path: Path, registry: RegistryServer, run_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CE_REGISTRY_API_KEY", raising=False)
    config = cli_repository(tmp_path, registry)
    code, out, err = run_cli("publish", "--target", "registry", "--config", config)
    assert (code, out) == (2, "")
    assert err == (
        "competency-ci publish: configuration error: "
        "publishing to the Registry needs the organization's API key in $CE_REGISTRY_API_KEY\n"
    )
    text = Path(config).read_text("utf-8")
    Path(config).write_text("".join(ln for ln in text.splitlines(True) if not ln.startswith("organization")))
    code, _, err = run_cli("plan", "--target", "registry", "--config", config)
    assert code == 2
    assert err.endswith("set `organization` in the configuration\n")
    assert registry.requests == []


def test_an_answer_that_is_not_the_assistants_is_an_error(registry: RegistryServer) -> None:
    with pytest.raises(RegistryError) as caught:
        Assistant(registry.url + "/elsewhere").format({})
    assert str(caught.value) == (
        f"POST {registry.url}/elsewhere/CompetencyFramework/format: "
        "HTTP 404, not a Registry Assistant response"
    )
