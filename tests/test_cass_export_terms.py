"""The descriptor's ``export`` facts (what CASS's CTDL-ASN export makes of each column) hold together,
and every claim they cite from CASS's term map and context is what those files say.

The cross-checks read the real files CASS's export loads (``cass2ceasnTerms.json``,
``cass2ceasn.json``) and the CTDL-ASN context it compacts against, from the reference folder beside
the checkout; they skip, saying so, when it is absent (the project does not ship those files).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from competency_ci.schema import Column, load_schema
from conftest import reference

SCHEMA = load_schema()
COLUMNS = list(SCHEMA.columns.values())
FORMS = {
    "as-sent",
    "single",
    "strings",
    "language-map",
    "language-map-list",
    "language-map-single-when-one",
    "identifier-value",
    "single-when-one",
    "dropped",
}
# ceasn.js competencyPromise renames two terms of a competency after the term map: what the term map
# gives is not what CE sees for these two (`c["ceasn:competencyText"] = c["ceasn:name"]`, and
# `c["ceasn:comment"] = c["ceasn:description"]`).
COMPETENCY_RENAMES = {"ceasn:name": "ceasn:competencyText", "ceasn:description": "ceasn:comment"}
# the prefixes ceasn.js stripNonCe keeps (every other key is deleted)
KEPT = ("ceasn:", "ceterms:", "asn:", "@")


def load(relative: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(reference(relative).read_text("utf-8"))
    return data


@pytest.fixture(scope="module")
def terms() -> dict[str, str]:
    return load("cass-export/cass2ceasnTerms.json")


@pytest.fixture(scope="module")
def context() -> dict[str, Any]:
    return dict(load("cass-export/cass2ceasn.json")["@context"])


@pytest.fixture(scope="module")
def ctdl() -> dict[str, Any]:
    return dict(load("ctdl-schema/ctdlasn-context.json")["@context"])


# --- the facts hold together (no reference data needed) ----------------------------------------


@pytest.mark.parametrize("column", COLUMNS, ids=[c.name for c in COLUMNS])
def test_every_column_states_what_ce_sees(column: Column) -> None:
    assert "export" in column.extra, f"{column.name}: no competencyCi.export (null when not sent)"
    fact = column.extra["export"]
    if fact is None:
        assert column.extra.get("cass") in (None, "owner"), column.name
        return
    assert set(fact) <= {"term", "form", "reason", "source"} and {"term", "form", "source"} <= set(fact)
    assert fact["form"] in FORMS
    assert (fact["term"] is None) == (fact["form"] == "dropped")
    assert fact["source"].strip()
    changed = fact["term"] is None or fact["form"].endswith("single-when-one")
    assert bool(fact.get("reason")) == changed, f"{column.name}: a reason exactly when CE's view changes"
    # the mapping's container decides the form CE gets: text is language-tagged, identifiers objects
    if fact["form"].startswith("language-map"):
        assert column.jsonld in ("languageMap", "languageMapList"), column.name
    if column.jsonld in ("languageMap", "languageMapList"):
        assert fact["form"].startswith("language-map"), column.name
    assert (fact["form"] == "identifier-value") == (column.jsonld == "versionIdentifier")


def test_the_package_names_its_export_sources() -> None:
    assert SCHEMA.descriptor["competencyCi"]["cassExportSources"] == [
        "https://schema.cassproject.org/0.4/jsonld1.1/cass2ceasnTerms",
        "https://schema.cassproject.org/0.4/jsonld1.1/cass2ceasn.json",
        "https://credreg.net/ctdlasn/schema/context/json",
        "https://github.com/cassproject/CASS/blob/master/src/main/server/cartridge/adapter/ceasn.js",
    ]


# --- every claim against CASS's files ---------------------------------------------------------


def exported(column: Column) -> list[tuple[Column, dict[str, Any]]]:
    fact = column.extra.get("export")
    return [(column, fact)] if isinstance(fact, dict) else []


EXPORTED = [pair for column in COLUMNS for pair in exported(column)]


def clauses(source: str) -> list[str]:
    return [c.strip() for c in source.split(";")]


@pytest.mark.parametrize(("column", "fact"), EXPORTED, ids=[c.name for c, _ in EXPORTED])
def test_cited_term_map_and_context_entries_are_what_the_files_say(
    column: Column, fact: dict[str, Any], terms: dict[str, str], context: dict[str, Any]
) -> None:
    for clause in clauses(fact["source"]):
        if clause.startswith("cass2ceasnTerms.json "):
            pairs = re.findall(r"([\w:@]+) -> ([\w:@]+)", clause)
            assert pairs, clause
            for before, after in pairs:
                assert terms.get(before) == after, f"{column.name}: {clause}"
        elif clause.startswith("cass2ceasn.json "):
            match = re.match(r"cass2ceasn\.json (\S+)(?: \(([^)]*)\))?", clause)
            assert match, clause
            key, note = match.groups()
            assert key in context, f"{column.name}: {key} is not in cass2ceasn.json"
            entry = context[key]
            if note == "@id" or (note or "").startswith("xsd:"):
                assert entry.get("@type") == note, f"{column.name}: {clause}"
            elif note and note.startswith("@language "):
                assert entry.get("@language") == note.split()[1], f"{column.name}: {clause}"
        elif clause.startswith("not in cass2ceasn.json"):
            assert fact["term"] not in context, f"{column.name}: {clause}"


@pytest.mark.parametrize(("column", "fact"), EXPORTED, ids=[c.name for c, _ in EXPORTED])
def test_the_term_ce_gets_follows_from_the_term_map(
    column: Column, fact: dict[str, Any], terms: dict[str, str], context: dict[str, Any], ctdl: dict[str, Any]
) -> None:
    """A column sent as a CASS property reaches the claimed term: renamed by the term map (and, for a
    competency's name and description, by ceasn.js), kept by stripNonCe, and defined for CE."""
    cass, term = column.extra.get("cass"), fact["term"]
    if term is not None and not term.startswith("@"):
        assert term in ctdl, f"{column.name}: {term} is not a CTDL-ASN term"
    if not isinstance(cass, str):
        return  # identity, hierarchy and relations: ceasn.js builds them (see the source)
    renamed = terms.get(cass, cass)
    if column.rows == {"competency"}:
        renamed = COMPETENCY_RENAMES.get(renamed, renamed)
    assert renamed.startswith(KEPT), f"{column.name}: {cass} -> {renamed} would be deleted by stripNonCe"
    if term is None:
        return
    assert renamed == term, f"{column.name}: CASS sends {cass}, the term map makes it {renamed}, not {term}"
    own = context.get(terms.get(cass, cass), {})
    theirs = ctdl[term]
    if fact["form"].startswith("language-map"):
        # tagged values compact into CE's language map whatever default cass2ceasn.json gives
        assert theirs.get("@container") == "@language", column.name
        assert "@type" not in own, column.name
    elif fact["form"] != "identifier-value":
        # a plain value lands on CE's term only when both contexts give it the same datatype (or
        # ceasn.js sets the term itself afterwards, as it does the CTID)
        same = own.get("@type") == theirs.get("@type")
        assert same or "getGuid" in fact["source"], f"{column.name}: {own} vs {theirs}"


def test_the_dates_ce_sees_are_the_ceasn_ones(terms: dict[str, str], context: dict[str, Any]) -> None:
    """What the mapping no longer sends: schema:dateCreated / schema:dateModified have no rename in
    the term map, so stripNonCe deletes them (they stay CASS's own record timestamps)."""
    for name in ("schema:dateCreated", "schema:dateModified"):
        assert name not in terms and name not in context
    for name in ("ceasn:dateCreated", "ceasn:dateModified", "ceasn:dateValidFrom", "ceasn:dateValidUntil"):
        assert SCHEMA.columns[name].extra["cass"] == name and name in context


def test_weight_cannot_reach_ce(context: dict[str, Any], ctdl: dict[str, Any]) -> None:
    """The drop the descriptor records: cass2ceasn.json gives ceasn:weight no datatype, CE's context
    makes it xsd:float, so neither a string nor a number compacts to the term."""
    assert context["ceasn:weight"] == {"@id": "ceasn:weight"}
    assert ctdl["ceasn:weight"] == {"@type": "xsd:float"}
    assert SCHEMA.columns["ceasn:weight"].extra["export"]["term"] is None


def test_the_export_types_framework_and_competency(terms: dict[str, str]) -> None:
    assert terms["Framework"] == "ceasn:CompetencyFramework" and terms["Competency"] == "ceasn:Competency"
    assert list(SCHEMA.row_types) == ["ceasn:CompetencyFramework", "ceasn:Competency"]
