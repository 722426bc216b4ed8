"""Round trips: CSV -> JSON-LD -> CSV keeps the cells; JSON-LD -> CSV -> JSON-LD keeps the triples.

Triples are compared with rdflib. The remote CTDL-ASN context is never fetched: each document's
``@context`` is replaced by a local one built from the schema descriptor's ``jsonld`` containers.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from rdflib import Dataset, Graph
from rdflib.compare import graph_diff, to_isomorphic

from competency_ci.frameworks.build import load_frameworks
from competency_ci.frameworks.config import REGISTRIES, Config
from competency_ci.frameworks.csvwrite import framework_rows, to_csv
from competency_ci.frameworks.jsonld import framework_to_graph, graph_to_frameworks, registry_base, unwrap
from competency_ci.schema import load_schema
from conftest import EXAMPLES, SAMPLES

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # rdflib's own JSON-LD parser

CONTAINERS = {
    "languageMap": {"@container": "@language"},
    "languageMapList": {"@container": "@language"},
    "uri": {"@type": "@id"},
    "uriList": {"@type": "@id"},
}


def local_context() -> dict[str, Any]:
    """A stand-in for https://credreg.net/ctdlasn/schema/context/json, from our descriptor."""
    context: dict[str, Any] = {
        "ceasn": "https://purl.org/ctdlasn/terms/",
        "ceterms": "https://purl.org/ctdl/terms/",
        "asn": "http://purl.org/ASN/schema/core/",
        "ceterms:identifierTypeName": {"@container": "@language"},
        "ceterms:identifierType": {"@type": "@id"},
    }
    for name, column in load_schema().columns.items():
        if column.jsonld in CONTAINERS:
            context[name] = CONTAINERS[column.jsonld]
    return context


def triples(document: dict[str, Any]) -> Graph:
    """The document's triples (the named graph's name is compared separately)."""
    local = dict(document, **{"@context": local_context()})
    dataset = Dataset()
    dataset.parse(data=json.dumps(local), format="json-ld")
    graph = Graph()
    for s, p, o, _ in dataset.quads():
        graph.add((s, p, o))
    return graph


def assert_same_triples(expected: dict[str, Any], actual: dict[str, Any]) -> None:
    a, b = to_isomorphic(triples(expected)), to_isomorphic(triples(actual))
    _, only_expected, only_actual = graph_diff(a, b)
    assert (sorted(only_expected), sorted(only_actual)) == ([], [])
    assert len(a) == len(b) > 0


def csv_cells(text: str) -> list[dict[str, str]]:
    return [{k: v for k, v in row.items() if v} for row in csv.DictReader(io.StringIO(text))]


@pytest.mark.parametrize(
    ("sample", "base"),
    [
        ("onet-basic-skills.ctdlasn.json", "https://www.onetcenter.org/ctdlasn"),
        ("ivytech-hosp229.registry-envelope.json", "https://credentialengineregistry.org"),
    ],
)
def test_published_graph_survives_csv(sample: str, base: str, tmp_path: Path) -> None:
    original = json.loads((SAMPLES / sample).read_text("utf-8"))
    graph = unwrap(original)
    assert registry_base(graph["@graph"][0]) == base
    read = graph_to_frameworks(original)
    assert read.notes == []
    path = tmp_path / "framework.csv"
    path.write_text(to_csv(framework_rows(read.frameworks)), encoding="utf-8")
    # both graphs are production data (their publisher is a production registry URI): a repository
    # that publishes them is configured for production (a production URI in a sandbox repository is
    # an error, CredentialRegistry#566)
    production = Config(root=tmp_path, registry="production", registry_url=REGISTRIES["production"])
    (framework,) = load_frameworks(path, production)
    again = framework_to_graph(framework, base, "en-US")
    assert again["@id"] == graph["@id"]
    assert [n["@id"] for n in again["@graph"]] == [n["@id"] for n in graph["@graph"]]
    assert_same_triples(graph, again)


def test_a_changed_graph_is_not_the_same_triples() -> None:
    original = json.loads((SAMPLES / "onet-basic-skills.ctdlasn.json").read_text("utf-8"))
    changed = json.loads(json.dumps(original))
    changed["@graph"][1]["ceasn:competencyLabel"]["en-us"] = "Contents"
    with pytest.raises(AssertionError):
        assert_same_triples(original, changed)


@pytest.mark.parametrize("name", ["minimal.csv", "hierarchy.csv"])
def test_example_cells_survive_jsonld(name: str, tmp_path: Path) -> None:
    path = EXAMPLES / name
    frameworks = load_frameworks(path, Config(root=tmp_path))
    graphs = [framework_to_graph(fw, "https://sandbox.credentialengineregistry.org") for fw in frameworks]
    back = [fw for g in graphs for fw in graph_to_frameworks(json.loads(json.dumps(g))).frameworks]
    before = csv_cells(path.read_text("utf-8"))
    after = csv_cells(to_csv(framework_rows(back)))
    # Documented normalisation: the CTID column is always written (here it repeats @id).
    for row in before:
        row.setdefault("ceterms:ctid", row["@id"])
    assert after == before
