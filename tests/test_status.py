"""`status`: graph comparison (pure), rendering, and the command against a Registry test server."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from approval_fixtures import API_KEY, KITCHEN, KNIVES, ORG, ORGANIZATION, SERVICE, write_repository
from competency_ci.frameworks.build import load_frameworks
from competency_ci.frameworks.config import load_config
from competency_ci.frameworks.jsonld import framework_to_graph
from competency_ci.targets.registry.status import (
    FrameworkStatus,
    State,
    compare,
    render_json,
    render_markdown,
    render_text,
    statements,
)
from servers.recording import Reply
from servers.registry import RegistryServer

HOLD = "ce-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e"
R = "https://sandbox.credentialengineregistry.org/resources/"
GRAPH: dict[str, Any] = {
    "@context": "https://credreg.net/ctdlasn/schema/context/json",
    "@id": "https://sandbox.credentialengineregistry.org/graph/ce-1",
    "@graph": [
        {
            "@id": R + "ce-1",
            "@type": "ceasn:CompetencyFramework",
            "ceasn:name": {"en-US": "Knives"},
            "ceasn:inLanguage": ["en", "fr"],
            "ceasn:hasTopChild": [R + "c1", R + "c2"],
        },
        {"@id": R + "c1", "@type": "ceasn:Competency", "ceasn:competencyText": {"en-us": "Hold"}},
        {"@id": R + "c2", "@type": "ceasn:Competency", "ceasn:competencyText": {"en-us": "Slice"}},
    ],
}


def test_statements_ignore_key_order_list_order_and_language_tag_case() -> None:
    shuffled = {
        "@graph": [
            {"ceasn:competencyText": {"EN-US": "Slice"}, "@type": "ceasn:Competency", "@id": R + "c2"},
            {
                "ceasn:hasTopChild": [R + "c2", R + "c1"],
                "ceasn:inLanguage": ["fr", "en"],
                "ceasn:name": {"en-us": "Knives"},
                "@type": "ceasn:CompetencyFramework",
                "@id": R + "ce-1",
            },
            {"@type": "ceasn:Competency", "@id": R + "c1", "ceasn:competencyText": {"en-us": "Hold"}},
        ],
        "@id": "https://elsewhere.example/graph/ce-1",
        "@context": "https://credreg.net/ctdlasn/schema/context/json",
    }
    assert statements(shuffled) == statements(GRAPH)
    assert (R + "ce-1", "ceasn:name", "Knives", "@lang:en-us") in statements(GRAPH)
    assert len(statements(GRAPH)) == 10


def test_statements_compare_embedded_nodes_whole() -> None:
    def with_identifier(code: str) -> dict[str, Any]:
        node = {"@type": "ceterms:IdentifierValue", "ceterms:identifierValueCode": code}
        return {"@graph": [{"@id": R + "c1", "ceasn:versionIdentifier": [node]}]}

    assert statements(with_identifier("1.0")) == statements(with_identifier("1.0"))
    assert statements(with_identifier("1.0")) != statements(with_identifier("2.0"))


def test_compare_classifies_not_live_current_and_outdated() -> None:
    url = "https://sandbox.credentialengineregistry.org/graph/ce-1"
    assert compare("ce-1", "Knives", "k.csv", url, GRAPH, None).state is State.NOT_LIVE
    live = copy.deepcopy(GRAPH)
    live["@graph"].reverse()
    assert compare("ce-1", "Knives", "k.csv", url, GRAPH, live).state is State.CURRENT
    live["@graph"][0]["ceasn:competencyText"] = {"en-us": "Slice thinly"}
    result = compare("ce-1", "Knives", "k.csv", url, GRAPH, live)
    assert result == FrameworkStatus(
        "ce-1",
        "Knives",
        "k.csv",
        State.OUTDATED,
        url,
        only_in_repository=1,
        only_in_registry=1,
        examples=[
            "+ c2 ceasn:competencyText 'Slice' (en-us)",
            "- c2 ceasn:competencyText 'Slice thinly' (en-us)",
        ],
    )


RESULTS = [
    FrameworkStatus("ce-a", "A | B", "a.csv", State.CURRENT, "https://r/graph/ce-a"),
    FrameworkStatus("ce-b", "B", "b.csv", State.OUTDATED, "https://r/graph/ce-b", 2, 1, ["+ x", "- y"]),
    FrameworkStatus("ce-c", "C", "c.csv", State.NOT_LIVE, "https://r/graph/ce-c"),
]


def test_render_text() -> None:
    assert render_text(RESULTS) == (
        "a.csv: A | B (ce-a): live and current\n"
        "  live at https://r/resources/ce-a; the Credential Finder shows it about 30 minutes after it is "
        "published\n"
        "b.csv: B (ce-b): live, older than the repository (awaiting approval of the latest change)\n"
        "  2 statement(s) only in the repository, 1 only in the Registry (https://r/graph/ce-b)\n"
        "    + x\n"
        "    - y\n"
        "c.csv: C (ce-c): not yet live\n"
        "3 framework(s): 1 live and current, 1 awaiting approval of a change, 1 not yet live\n"
    )


def test_render_markdown_escapes_cells() -> None:
    assert render_markdown(RESULTS) == (
        "## Credential Registry status\n\n"
        "| | Framework | CTID | Status | File |\n"
        "|---|---|---|---|---|\n"
        "| ✅ | A \\| B | `ce-a` | [live and current](https://r/resources/ce-a) | `a.csv` |\n"
        "| ⏳ | B | `ce-b` | [live, older than the repository (awaiting approval of the latest change)]"
        "(https://r/resources/ce-b) | `b.csv` |\n"
        "| ⬜ | C | `ce-c` | not yet live | `c.csv` |\n\n"
        "3 framework(s): 1 live and current, 1 awaiting approval of a change, 1 not yet live.\n\n"
        "A framework that has just gone live: the Credential Finder shows it about 30 minutes after it is "
        "published.\n"
    )


def test_render_json() -> None:
    data = json.loads(render_json(RESULTS))
    assert data["waiting"] is True
    assert data["frameworks"][1] == {
        "ctid": "ce-b",
        "name": "B",
        "path": "b.csv",
        "state": "outdated",
        "graph_url": "https://r/graph/ce-b",
        "only_in_repository": 2,
        "only_in_registry": 1,
        "examples": ["+ x", "- y"],
        "waiting_for_organization": False,
    }


# --- the command ------------------------------------------------------------------------------


@pytest.fixture
def registry() -> Any:
    with RegistryServer(API_KEY) as server:
        yield server


def repository_graphs(config_path: Path) -> dict[str, dict[str, Any]]:
    config = load_config(str(config_path))
    graphs = {}
    for path in sorted((config.root / "frameworks").glob("*.csv")):
        for fw in load_frameworks(path, config):
            graphs[fw.ctid] = framework_to_graph(fw, config.registry_url, config.language)
    return graphs


def test_status_shows_the_mix_and_exit_code(tmp_path: Path, registry: Any, run_cli: Any) -> None:
    config = write_repository(tmp_path, registry.url)
    graphs = repository_graphs(config)
    registry.make_live(graphs[KITCHEN])
    older = copy.deepcopy(graphs[KNIVES])
    older["@graph"][1]["ceasn:competencyText"] = {"en": "Hold a knife."}
    registry.make_live(older)
    registry.make_live(ORGANIZATION)

    code, out, err = run_cli("status", "--config", str(config))
    assert (code, err) == (0, "")
    assert out == (
        f"frameworks/kitchen.csv: Safe Kitchen Practice ({KITCHEN}): live and current\n"
        f"  live at {registry.url}/resources/{KITCHEN}; the Credential Finder shows it about 30 minutes "
        "after it is published\n"
        f"frameworks/knives.csv: Knife Skills ({KNIVES}): live, older than the repository "
        "(awaiting approval of the latest change)\n"
        f"  1 statement(s) only in the repository, 1 only in the Registry ({registry.url}/graph/{KNIVES})\n"
        f'    + {HOLD} ceasn:competencyText "Hold a chef\'s knife safely." (en)\n'
        f"    - {HOLD} ceasn:competencyText 'Hold a knife.' (en)\n"
        f"frameworks/service.csv: Guest Service ({SERVICE}): not yet live\n"
        "3 framework(s): 1 live and current, 1 awaiting approval of a change, 1 not yet live\n"
    )
    assert registry.log() == [("GET", f"/graph/{c}") for c in (KITCHEN, KNIVES, SERVICE, ORG)]
    assert registry.requests[0].headers["Accept"] == "application/json"
    assert run_cli("status", "--config", str(config), "--exit-code")[0] == 1

    registry.make_live(graphs[KNIVES])
    registry.make_live(graphs[SERVICE])
    code, out, _ = run_cli("status", "--config", str(config), "--exit-code", "--format", "json")
    assert code == 0
    assert [(f["ctid"], f["state"]) for f in json.loads(out)["frameworks"]] == [
        (KITCHEN, "current"),
        (KNIVES, "current"),
        (SERVICE, "current"),
    ]


def test_status_retries_a_503_then_reports(tmp_path: Path, registry: Any, run_cli: Any) -> None:
    config = write_repository(tmp_path, registry.url)
    registry.force(Reply(503, {"error": "PUBLISH_LOCKED"}, {"Retry-After": "0"}))
    code, out, _ = run_cli("status", "--config", str(config))
    assert code == 0
    assert out.endswith(
        "3 framework(s): 0 live and current, 0 awaiting approval of a change, 3 not yet live "
        "(3 waiting for the organization to be published)\n"
    )
    assert registry.log() == [("GET", f"/graph/{c}") for c in (KITCHEN, KITCHEN, KNIVES, SERVICE, ORG)]
    assert [r.status for r in registry.requests] == [503, 404, 404, 404, 404]


def test_status_says_frameworks_wait_for_the_organization(
    tmp_path: Path, registry: Any, run_cli: Any
) -> None:
    config = write_repository(tmp_path, registry.url)
    registry.make_live(repository_graphs(config)[KITCHEN])
    code, out, err = run_cli("status", "--config", str(config))
    assert (code, err) == (0, "")
    waiting = (
        "not yet live, waiting for the organization: frameworks cannot be approved until the organization "
        "is approved and published (Approve my Organization, on the My Organization tab of the Publisher)"
    )
    assert out == (
        f"frameworks/kitchen.csv: Safe Kitchen Practice ({KITCHEN}): live and current\n"
        f"  live at {registry.url}/resources/{KITCHEN}; the Credential Finder shows it about 30 minutes "
        "after it is published\n"
        f"frameworks/knives.csv: Knife Skills ({KNIVES}): {waiting}\n"
        f"frameworks/service.csv: Guest Service ({SERVICE}): {waiting}\n"
        "3 framework(s): 1 live and current, 0 awaiting approval of a change, 2 not yet live "
        "(2 waiting for the organization to be published)\n"
    )
    assert registry.log() == [("GET", f"/graph/{c}") for c in (KITCHEN, KNIVES, SERVICE, ORG)]
    code, out, _ = run_cli("status", "--config", str(config), "--format", "json")
    assert [(f["ctid"], f["waiting_for_organization"]) for f in json.loads(out)["frameworks"]] == [
        (KITCHEN, False),
        (KNIVES, True),
        (SERVICE, True),
    ]
    registry.make_live(ORGANIZATION)
    _, out, _ = run_cli("status", "--config", str(config))
    assert f"frameworks/knives.csv: Knife Skills ({KNIVES}): not yet live\n" in out


def test_status_gives_up_with_an_exact_account(tmp_path: Path, registry: Any, run_cli: Any) -> None:
    config = write_repository(tmp_path, registry.url)
    registry.force(*[Reply(503, None, {"Retry-After": "0"})] * 5)
    code, out, err = run_cli("status", "--config", str(config))
    assert (code, out) == (3, "")
    head, _, tail = err.partition(" in ")
    assert head == f"error: GET {registry.url}/graph/{KITCHEN}: gave up after 5 attempts"
    assert re.fullmatch(r"\d+\.\d s \(5 × 503\)\n", tail)
    assert registry.log() == [("GET", f"/graph/{KITCHEN}")] * 5


def test_status_refuses_an_unusable_timeout(tmp_path: Path, registry: Any, run_cli: Any) -> None:
    config = write_repository(tmp_path, registry.url)
    code, out, err = run_cli("status", "--config", str(config), "--timeout", "0")
    assert (code, out) == (2, "")
    assert (
        err == "competency-ci status: configuration error: --timeout: expected a positive number of seconds\n"
    )


def test_ignore_property_leaves_a_publisher_added_value_out(
    tmp_path: Path, registry: Any, run_cli: Any
) -> None:
    config = write_repository(tmp_path, registry.url)
    graphs = repository_graphs(config)
    for graph in graphs.values():
        stamped = copy.deepcopy(graph)
        stamped["@graph"][0]["ceasn:dateModified"] = "2026-01-02T03:04:05Z"
        registry.make_live(stamped)
    code, out, _ = run_cli("status", "--config", str(config), "--exit-code")
    assert code == 1 and out.count("live, older than the repository") == 3
    code, out, _ = run_cli(
        "status", "--config", str(config), "--exit-code", "--ignore-property", "ceasn:dateModified"
    )
    assert code == 0
    assert out.endswith(
        "3 framework(s): 3 live and current, 0 awaiting approval of a change, 0 not yet live\n"
    )
