"""The schema descriptor: valid for frictionless, complete, and what ``load_schema()`` reads."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import pytest

from competency_ci.frameworks.codes import CODES
from competency_ci.schema import COLLECTION, COMPETENCY, FRAMEWORK, TIERS, descriptor_path, load_schema
from conftest import EXAMPLES, SAMPLES
from frictionless_helpers import copy_with_package, frictionless_cli

DESCRIPTOR: dict[str, Any] = json.loads(Path(descriptor_path()).read_text("utf-8"))
FIELDS: list[dict[str, Any]] = DESCRIPTOR["resources"][0]["schema"]["fields"]
ROW_TYPES = {FRAMEWORK, COMPETENCY, COLLECTION}
VALUE_KINDS = {
    "ctid",
    "ctid-or-uri",
    "uri",
    "date",
    "datetime",
    "language",
    "vocabulary",
    "text",
    "number",
    "code",
}
KINDS = {"id", "type", *VALUE_KINDS}
JSONLD = {
    "string",
    "languageMap",
    "languageMapList",
    "list",
    "uri",
    "uriList",
    "versionIdentifier",
    "alignmentList",
    "alignmentCode",
}
CI_KEYS = {
    "rows",
    "members",
    "tier",
    "kind",
    "multiple",
    "requiredFor",
    "vocabulary",
    "references",
    "jsonld",
    "cass",
    "export",
}
# the schema engineer's rule properties (issue 12): each rule cites its public source
CI_KEYS |= {"source", "advice", "singleFor", "registry", "fill", "vocabularyAliases", "alignment"}


def header(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return next(csv.reader(handle))


def test_descriptor_is_a_valid_data_package() -> None:
    from frictionless import Package

    report = Package.validate_descriptor(descriptor_path())
    assert report.valid, [error.message for error in report.errors]
    package = Package(descriptor_path())
    assert [f.name for f in package.resources[0].schema.fields] == [f["name"] for f in FIELDS]


def test_every_field_is_documented_and_typed() -> None:
    names = [f["name"] for f in FIELDS]
    assert len(names) == len(set(names))
    for field in FIELDS:
        for key in ("name", "title", "description", "example"):
            assert isinstance(field.get(key), str), (field["name"], key)
            assert field[key].strip() == field[key] != "", (field["name"], key)
        assert field["type"] == "string", field["name"]
        assert set(field.get("constraints", {})) <= {"required", "unique", "pattern", "enum"}, field["name"]


@pytest.mark.parametrize("field", FIELDS, ids=[f["name"] for f in FIELDS])
def test_competency_ci_properties_have_valid_values(field: dict[str, Any]) -> None:
    ci = field["competencyCi"]
    assert set(ci) <= CI_KEYS
    rows = ci["rows"]
    assert rows and set(rows) <= ROW_TYPES and len(rows) == len(set(rows))
    assert ci["tier"] in TIERS
    assert ci["kind"] in KINDS
    assert isinstance(ci["multiple"], bool)
    for row_type, level in ci.get("requiredFor", {}).items():
        assert row_type in rows and level in ("required", "required-if-available")
    if "references" in ci:
        assert ci["references"] in ROW_TYPES and ci["kind"] == "ctid-or-uri"
    if "jsonld" in ci:
        assert ci["jsonld"] in JSONLD
    if "vocabulary" in ci:
        assert ci["kind"] == "vocabulary"
        assert all(re.fullmatch(r"https?://\S+/" + re.escape(k), v) for k, v in ci["vocabulary"].items())
    sources = ci.get("source", [])
    for source in [sources] if isinstance(sources, str) else sources:
        assert re.fullmatch(r"https://(github\.com|credreg\.net)/\S+", source), source
    rule_keys = {"advice", "singleFor", "registry", "fill", "vocabularyAliases", "alignment"}
    if rule_keys & set(ci):
        assert sources, f"{field['name']}: a rule without its source"
    if "advice" in ci:  # the advised form is a valid form: the advice only narrows the constraint
        column = load_schema().columns[field["name"]]
        assert ci["advice"]["code"] in CODES and column.advice is not None
        assert column.is_valid(field["example"]) and column.advice[0].fullmatch(field["example"])
    if "singleFor" in ci:
        assert ci["multiple"] and set(ci["singleFor"]) < set(rows)
    if "registry" in ci:
        assert ci["registry"] == "required" and ci["kind"] == "ctid-or-uri"
    if "fill" in ci:
        assert ci["fill"] == "organization" and ci["kind"] == "ctid-or-uri" and ci.get("requiredFor")
    if "vocabularyAliases" in ci:
        assert ci["kind"] == "vocabulary" and all(a.endswith("/") for a in ci["vocabularyAliases"])
    if "alignment" in ci or ci.get("jsonld") == "alignmentCode":
        assert ci["jsonld"] == "alignmentCode"
        assert set(ci["alignment"]) == {"property", "framework", "frameworkName"}
        assert ci["alignment"]["property"] in {f["name"] for f in FIELDS}


def test_rules_that_are_not_about_one_column_cite_their_sources() -> None:
    sources = DESCRIPTOR["competencyCi"]["ruleSources"]
    assert set(sources) <= set(CODES) and {"empty-framework", "wrong-registry", "not-registry-uri"} <= set(
        sources
    )


def test_package_level_properties() -> None:
    ci = DESCRIPTOR["competencyCi"]
    assert ci["rowTypes"] == {
        "ceasn:CompetencyFramework": FRAMEWORK,
        "ceasn:Competency": COMPETENCY,
        "ceterms:Collection": COLLECTION,
    }
    assert ci["templateRowPrefixes"] == ["sample", "instruction"]
    assert ci["multiValueSeparator"] == "|"
    type_field = next(f for f in FIELDS if f["name"] == "@type")
    assert type_field["constraints"]["enum"] == list(ci["rowTypes"])


def test_tiers_are_ce_templates() -> None:
    """required = CE's Minimum Data template; benchmark = the extra columns of CE's Benchmark example."""
    tiers = {
        f["name"]: f["competencyCi"]["tier"] for f in FIELDS if f["competencyCi"]["rows"] != [COLLECTION]
    }
    minimum = header(SAMPLES / "templates" / "ce-minimum-data-template.csv")
    benchmark = header(SAMPLES / "ce-benchmark-onet-abilities.csv")
    assert {n for n, t in tiers.items() if t == "required"} == set(minimum)
    assert {n for n, t in tiers.items() if t == "required-if-available"} == {
        "ceterms:ctid",
        "ceasn:publisher",
        "ceasn:dateCreated",
    }
    assert {n for n, t in tiers.items() if t == "benchmark"} == set(benchmark) - set(minimum)


def test_collection_columns_and_tiers() -> None:
    """Collection rows (CASS's collection import) have columns of their own, CTDL ``ceterms:`` terms."""
    tiers = {f["name"]: f["competencyCi"]["tier"] for f in FIELDS if COLLECTION in f["competencyCi"]["rows"]}
    assert tiers == {
        "@id": "required",
        "@type": "required",
        "ceterms:ctid": "required-if-available",
        "ceterms:name": "required",
        "ceterms:description": "required-if-available",
        "ceterms:inLanguage": "benchmark",
        "ceterms:keyword": "optional",
        "ceterms:hasMember": "required",
    }
    members = [f["name"] for f in FIELDS if f["competencyCi"].get("members")]
    assert members == ["ceterms:hasMember"]


def test_row_requirements() -> None:
    """CE's publishing API refuses a framework without a publisher (an error); nothing requires
    publisherName (recommended: CE's Minimum Data template has it)."""
    required = {
        (f["name"], row, level)
        for f in FIELDS
        for row, level in f["competencyCi"].get("requiredFor", {}).items()
    }
    assert required == {
        ("ceterms:ctid", FRAMEWORK, "required"),
        ("ceterms:ctid", COMPETENCY, "required"),
        ("ceterms:ctid", COLLECTION, "required"),
        ("ceterms:name", COLLECTION, "required"),
        ("ceterms:description", COLLECTION, "required-if-available"),
        ("ceterms:hasMember", COLLECTION, "required"),
        ("ceasn:name", FRAMEWORK, "required"),
        ("ceasn:description", FRAMEWORK, "required"),
        ("ceasn:inLanguage", FRAMEWORK, "required"),
        ("ceasn:publisher", FRAMEWORK, "required"),
        ("ceasn:dateCreated", FRAMEWORK, "required-if-available"),
        ("ceasn:competencyText", COMPETENCY, "required"),
    }
    table_required = [f["name"] for f in FIELDS if f.get("constraints", {}).get("required")]
    assert table_required == ["@id", "@type"]


@pytest.mark.parametrize("field", FIELDS, ids=[f["name"] for f in FIELDS])
def test_example_satisfies_constraints(field: dict[str, Any]) -> None:
    """Examples are valid values; a pattern allows ``|`` exactly when the column is multi-valued."""
    column = load_schema().columns[field["name"]]
    assert column.is_valid(field["example"])
    if column.pattern is not None:
        joined = f"{field['example']}|{field['example']}"
        assert (column.pattern.fullmatch(joined) is not None) == column.multiple
    for short in column.vocabulary:
        assert column.is_valid(short)


def test_load_schema_agrees_with_the_descriptor() -> None:
    schema = load_schema()
    assert list(schema.columns) == [f["name"] for f in FIELDS]
    for field in FIELDS:
        column = schema.columns[field["name"]]
        ci = field["competencyCi"]
        constraints = field.get("constraints", {})
        assert (column.title, column.description, column.example) == (
            field["title"],
            field["description"],
            field["example"],
        )
        assert column.rows == frozenset(ci["rows"])
        assert (column.tier, column.kind, column.multiple) == (ci["tier"], ci["kind"], ci["multiple"])
        assert column.required_for == ci.get("requiredFor", {})
        assert column.vocabulary == ci.get("vocabulary", {})
        assert (column.references, column.jsonld) == (ci.get("references"), ci.get("jsonld"))
        assert column.format == field.get("format")
        assert column.table_required == constraints.get("required", False)
        assert column.enum == (tuple(constraints["enum"]) if "enum" in constraints else None)
        assert (column.pattern.pattern if column.pattern else None) == constraints.get("pattern")
        assert column.extra == ci
    assert schema.row_types == DESCRIPTOR["competencyCi"]["rowTypes"]
    assert schema.separator == "|"


def test_keys_are_the_identity_rules_table_schema_can_express() -> None:
    """`@id` is unique, and each single-valued reference column is a foreign key to `@id`.

    Foreign keys restate part of ``competencyCi.references`` (Table Schema compares whole cells, so
    multi-valued references and the target's row type stay ours); this test keeps the two in step.
    """
    unique = [f["name"] for f in FIELDS if f.get("constraints", {}).get("unique")]
    assert unique == ["@id"]
    keys = DESCRIPTOR["resources"][0]["schema"]["foreignKeys"]
    single_references = [
        f["name"] for f in FIELDS if "references" in f["competencyCi"] and not f["competencyCi"]["multiple"]
    ]
    assert keys == [{"fields": [name], "reference": {"fields": ["@id"]}} for name in single_references]
    assert single_references == ["ceasn:isTopChildOf", "ceasn:isChildOf", "ceasn:isPartOf"]


def test_in_tier_is_cumulative() -> None:
    schema = load_schema()
    sizes = [len(schema.in_tier(t)) for t in (*TIERS[:3], "all")]
    # collection columns (2 required, 1 required-if-available, 1 benchmark) count too
    assert sizes == [8 + 2, 11 + 3, 19 + 4, len(FIELDS)]


EXAMPLE_FILES = sorted(EXAMPLES.glob("*.csv"))


@pytest.mark.parametrize("example", EXAMPLE_FILES, ids=[p.name for p in EXAMPLE_FILES])
def test_frictionless_cli_finds_examples_valid(example: Path, tmp_path: Path) -> None:
    """`frictionless validate` with our descriptor, as a user would run it, accepts our examples."""
    report = frictionless_cli(copy_with_package(example, tmp_path))
    assert report["valid"] is True, report["tasks"][0]["errors"]
    task = report["tasks"][0]
    assert task["labels"] == header(example)
    assert task["stats"]["rows"] == sum(1 for _ in csv.reader(example.open(encoding="utf-8"))) - 1


def test_frictionless_cli_reports_a_bad_cell(tmp_path: Path) -> None:
    """The same run flags a bad cell, so the test above is not vacuous."""
    source = EXAMPLES / "minimal.csv"
    rows = list(csv.reader(source.open(encoding="utf-8", newline="")))
    rows[1][rows[0].index("ceasn:dateCreated")] = "2025-13-01"
    bad = tmp_path / "bad.csv"
    with bad.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    from frictionless_helpers import package_for

    report = frictionless_cli(package_for(bad))
    errors = report["tasks"][0]["errors"]
    assert [(e["type"], e["rowNumber"], e.get("fieldName")) for e in errors] == [
        ("constraint-error", 2, "ceasn:dateCreated")
    ]


def test_frictionless_cli_reports_duplicate_ids_and_dangling_references(tmp_path: Path) -> None:
    source = EXAMPLES / "hierarchy.csv"
    rows = list(csv.reader(source.open(encoding="utf-8", newline="")))
    header = rows[0]
    rows[3][header.index("@id")] = rows[2][header.index("@id")]
    rows[5][header.index("ceasn:isChildOf")] = "ce-00000000-0000-4000-8000-000000000000"
    bad = tmp_path / "bad.csv"
    with bad.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    from frictionless_helpers import package_for

    errors = frictionless_cli(package_for(bad))["tasks"][0]["errors"]
    found = [(e["type"], e["rowNumber"], e.get("fieldName") or e["fieldNames"][0]) for e in errors]
    # Row 4 lost its own @id, so its child (row 5) now points nowhere too.
    assert found == [
        ("unique-error", 4, "@id"),
        ("foreign-key", 5, "ceasn:isChildOf"),
        ("foreign-key", 6, "ceasn:isChildOf"),
    ]
