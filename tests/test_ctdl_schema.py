"""Every CTDL column of the template schema agrees with CE's published schema (tests/data/ctdl):
the row types it applies to are the property's domain among the two competency classes, its value
kind fits the property's range, and it is a language map exactly when the context says so.

The CSV-only columns (``@id``, ``@type``, ``owner``, and the code lists ``socList``, ``naicsList``,
``cipList`` that the Registry Assistant and CASS take under those names) are not CTDL properties.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest

from competency_ci.schema import COLLECTION, COMPETENCY, FRAMEWORK, Column, load_schema
from conftest import DATA

CTDL = DATA / "ctdl"
CLASSES = {
    FRAMEWORK: "ceasn:CompetencyFramework",
    COMPETENCY: "ceasn:Competency",
    COLLECTION: "ceterms:Collection",
}
# range -> the value kinds (and JSON-LD forms) a column may have for it
KIND_FOR_RANGE = {
    "rdf:langString": {"text"},
    "xsd:string": {"text", "ctid"},
    "xsd:date": {"date"},
    "xsd:dateTime": {"datetime"},
    "xsd:anyURI": {"uri"},
    "xsd:float": {"number"},
    "xsd:language": {"language"},
    "xsd:boolean": {"boolean"},
    "skos:Concept": {"vocabulary", "ctid-or-uri"},
}
SCHEMA = load_schema()
CTDL_COLUMNS = [c for c in SCHEMA.columns.values() if ":" in c.name and not c.name.startswith("@")]


@cache
def published() -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Every node of both schema files by ``@id``, and both contexts merged (CTDL-ASN wins)."""
    nodes: dict[str, dict[str, Any]] = {}
    context: dict[str, Any] = {}
    for name in ("ctdl", "ctdlasn"):
        graph = json.loads((CTDL / f"{name}-schema.json").read_text("utf-8"))["@graph"]
        nodes.update({n["@id"]: n for n in graph})
        context.update(json.loads((CTDL / f"{name}-context.json").read_text("utf-8"))["@context"])
    return nodes, context


def domain(name: str) -> set[str]:
    """Our row types among the property's domain (a property's domainIncludes or a class's domainFor)."""
    nodes, _ = published()
    classes = set(nodes[name].get("schema:domainIncludes", []))
    classes |= {c for c in CLASSES.values() if name in nodes[c].get("meta:domainFor", [])}
    return {row for row, cls in CLASSES.items() if cls in classes}


def test_every_ctdl_column_is_a_published_property() -> None:
    nodes, _ = published()
    assert len(CTDL_COLUMNS) == 80 + 5  # five collection columns
    assert [c.name for c in CTDL_COLUMNS if nodes.get(c.name, {}).get("@type") != "rdf:Property"] == []


@pytest.mark.parametrize("column", CTDL_COLUMNS, ids=[c.name for c in CTDL_COLUMNS])
def test_column_agrees_with_the_published_schema(column: Column) -> None:
    nodes, context = published()
    node = nodes[column.name]
    # among framework files' row types exactly; a collection column must be a Collection property
    # (not every Collection property is a column of collection files)
    assert set(column.rows) - {COLLECTION} == domain(column.name) - {COLLECTION}, "domain"
    assert COLLECTION not in column.rows or COLLECTION in domain(column.name), "collection domain"
    ranges = set(node.get("schema:rangeIncludes", []))
    term = context.get(column.name, {})
    language_map = isinstance(term, dict) and term.get("@container") == "@language"
    assert (column.jsonld in ("languageMap", "languageMapList")) == language_map, "language map"
    assert language_map == (ranges == {"rdf:langString"}), "a language map holds language strings"
    if column.jsonld == "versionIdentifier":
        assert ranges == {"ceterms:IdentifierValue"}
    elif column.jsonld == "alignmentList":
        assert "ceterms:CredentialAlignmentObject" in ranges
    elif len(ranges) == 1 and next(iter(ranges)) in KIND_FOR_RANGE:
        assert column.kind in KIND_FOR_RANGE[next(iter(ranges))], f"range {ranges}"
    else:  # classes of resources (competencies, organizations, ...): referenced by CTID or URI
        assert column.kind == "ctid-or-uri", f"range {ranges}"
    iri = isinstance(term, dict) and term.get("@type") == "@id"
    assert iri == (
        column.kind in ("uri", "ctid-or-uri", "vocabulary")
        or column.jsonld == "alignmentList"
        or column.jsonld == "versionIdentifier"
    ), "IRI values"


def test_the_check_fails_on_a_wrong_domain() -> None:
    """The cross-check is not vacuous: a column said to apply to the wrong row type disagrees."""
    assert domain("ceasn:competencyText") == {COMPETENCY}
    assert domain("ceasn:codedNotation") == {FRAMEWORK, COMPETENCY}
    assert domain("ceasn:rights") == {FRAMEWORK}


def test_audience_levels_are_the_published_scheme() -> None:
    """educationLevelType's vocabulary is the whole audLevel: scheme (19 concepts)."""
    nodes, _ = published()
    levels = sorted(k.split(":", 1)[1] for k, n in nodes.items() if k.startswith("audLevel:"))
    assert len(levels) == 19
    assert sorted(SCHEMA.columns["ceasn:educationLevelType"].vocabulary) == levels
    statuses = sorted(k.split(":", 1)[1] for k in nodes if k.startswith("publicationStatus:"))
    assert sorted(SCHEMA.columns["ceasn:publicationStatusType"].vocabulary) == statuses
