"""Issue 12's rules, each as the cell its problem names: (file, line, column letter, header, code).

GOOD (validate_support) is the passing neighbour of every case: lines 1 header, 2 framework,
3-5 competencies; columns A @id, B @type, C name, D description, E inLanguage, F publisher,
G publisherName, H dateCreated, I competencyText, J isTopChildOf, K isChildOf.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from competency_ci.frameworks.build import load_frameworks
from competency_ci.frameworks.config import REGISTRIES, Config, parse_config
from competency_ci.frameworks.csvwrite import framework_rows, to_csv
from competency_ci.frameworks.diff import diff_frameworks, property_changes
from competency_ci.frameworks.fix import fix_text
from competency_ci.frameworks.jsonld import framework_to_graph, graph_to_frameworks
from competency_ci.frameworks.normal import normal
from competency_ci.schema import load_schema
from competency_ci.targets.registry.status import State, compare, statements
from validate_support import C1, C2, FW, GOOD, ORG, add_column, check, drop_column, set_cell

SANDBOX, PRODUCTION = REGISTRIES["sandbox"], REGISTRIES["production"]
AUD = "https://credreg.net/ctdl/vocabs/audLevel/"


def cells(text: str, config: Config | None = None) -> set[tuple[str, int, str | None, str | None, str]]:
    return {(p.path, p.line, p.letter, p.column, p.code) for p in check(text, config)}


def production(root: Path = Path(".")) -> Config:
    return parse_config({"registry": "production"}, root)


# --- tiers --------------------------------------------------------------------------------------


def test_publisher_is_required_for_publishing() -> None:
    """The Registry Assistant refuses a framework without a publisher: an error, on the cell or
    (column absent) on the header."""
    assert cells(set_cell(GOOD, 2, "ceasn:publisher", "")) == {
        ("f.csv", 2, "F", "ceasn:publisher", "required-missing")
    }
    problems = check(drop_column(GOOD, "ceasn:publisher"))
    assert [(p.line, p.code, p.level.value, p.message) for p in problems] == [
        (
            1,
            "missing-column",
            "error",
            "A column that some rows require is missing: there is no ceasn:publisher column (1 row needs it)",
        )
    ]


def test_publisher_name_is_recommended_not_required() -> None:
    assert check(set_cell(GOOD, 2, "ceasn:publisherName", "")) == []
    assert check(drop_column(GOOD, "ceasn:publisherName")) == []


def test_a_framework_without_competencies_is_an_error() -> None:
    other = "ce-7d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"
    text = GOOD + f"{other},ceasn:CompetencyFramework,Other,Another framework,en,{ORG},,2025-03-14,,,\n"
    problems = [p for p in check(text) if p.code == "empty-framework"]
    assert [(p.line, p.letter, p.column, p.level.value) for p in problems] == [(6, "A", "@id", "error")]


# --- ranges -------------------------------------------------------------------------------------


def test_date_created_is_a_date_and_a_date_time_is_a_warning() -> None:
    text = set_cell(GOOD, 2, "ceasn:dateCreated", "2025-03-14T10:00:00Z")
    (problem,) = check(text)
    assert (problem.line, problem.letter, problem.column, problem.code, problem.level.value) == (
        2,
        "H",
        "ceasn:dateCreated",
        "date-has-time",
        "warning",
    )
    assert problem.message.endswith('"2025-03-14T10:00:00Z"')
    assert cells(set_cell(GOOD, 2, "ceasn:dateCreated", "2025-03-14T")) == {
        ("f.csv", 2, "H", "ceasn:dateCreated", "bad-date")
    }


@pytest.mark.parametrize("name", ["ceasn:dateModified", "ceasn:dateValidFrom", "ceasn:dateValidUntil"])
def test_date_times_take_a_bare_date_too(name: str) -> None:
    for value in ("2025-03-14", "2025-03-14T10:00:00Z", "2025-03-14T10:00:00.5+02:00"):
        assert check(add_column(GOOD, name, {2: value})) == [], value
    assert cells(add_column(GOOD, name, {2: "14 March 2025"})) == {("f.csv", 2, "L", name, "bad-datetime")}


def test_date_copyrighted_is_a_string_such_as_2017() -> None:
    for value in ("2017", "©2017", "2017-2024"):
        assert check(add_column(GOOD, "ceasn:dateCopyrighted", {2: value})) == [], value


# --- vocabularies -------------------------------------------------------------------------------

UNKNOWN_TO_CASS = ["EarlyChildhood", "LowerSecondary", "Primary", "RemedialLevel", "UpperSecondary"]


def test_all_19_audience_levels_are_accepted() -> None:
    levels = load_schema().columns["ceasn:educationLevelType"].vocabulary
    assert len(levels) == 19
    known = "|".join(n for n in levels if n not in UNKNOWN_TO_CASS)
    assert check(add_column(GOOD, "ceasn:educationLevelType", {2: known, 3: AUD + "Primary"})) == []


def test_a_short_form_cass_drops_is_a_warning_that_fix_repairs() -> None:
    text = add_column(GOOD, "ceasn:educationLevelType", {3: "BeginnerLevel|Primary"})
    (problem,) = check(text)
    assert (problem.path, problem.line, problem.letter, problem.column, problem.code) == (
        "f.csv",
        3,
        "L",
        "ceasn:educationLevelType",
        "vocabulary-unknown-to-cass",
    )
    assert problem.message.endswith('"Primary" in "BeginnerLevel|Primary"')
    assert problem.hint == f"Write {AUD}Primary; `competency-ci fix` does it."
    fixed = fix_text(text)
    assert fixed.changes["vocabulary-uri"] == 1
    assert list(csv.reader(io.StringIO(fixed.text)))[2][-1] == f"BeginnerLevel|{AUD}Primary"
    assert check(fixed.text) == []


def test_convert_writes_levels_cass_does_not_know_as_uris(tmp_path: Path) -> None:
    text = add_column(GOOD, "ceasn:educationLevelType", {3: "BeginnerLevel|Primary"})
    path = tmp_path / "f.csv"
    path.write_text(text, encoding="utf-8")
    (framework,) = load_frameworks(path, Config(root=tmp_path))
    graph = framework_to_graph(framework, SANDBOX)
    assert graph["@graph"][1]["ceasn:educationLevelType"] == [AUD + "BeginnerLevel", AUD + "Primary"]
    back = to_csv(framework_rows(graph_to_frameworks(graph).frameworks))
    assert f"BeginnerLevel|{AUD}Primary" in back


def test_concept_uris_compare_equal_in_both_published_forms() -> None:
    credreg = "http://credreg.net/ctdlasn/vocabs/publicationStatus/Published"
    for form in (
        "http://purl.org/ctdlasn/vocabs/publicationStatus/Published",
        "https://purl.org/ctdlasn/vocabs/publicationStatus/Published",
        "https://credreg.net/ctdlasn/vocabs/publicationStatus/Published",
    ):
        assert normal(form) == credreg
    assert normal("https://purl.org/ctdl/vocabs/audLevel/Primary") == AUD + "Primary"
    assert normal("https://example.org/vocabs/publicationStatus/Published").startswith("https://example.org")
    old = {"ceasn:publicationStatusType": credreg, "ceasn:educationLevelType": [AUD + "Primary"]}
    new = {
        "ceasn:publicationStatusType": "https://purl.org/ctdlasn/vocabs/publicationStatus/Published",
        "ceasn:educationLevelType": ["https://purl.org/ctdl/vocabs/audLevel/Primary"],
    }
    assert property_changes(old, new) == []
    assert [c.name for c in property_changes(old, {**new, "ceasn:publicationStatusType": "x"})] == [
        "ceasn:publicationStatusType"
    ]


def test_ctids_inside_uris_compare_lower_cased() -> None:
    upper = f"{PRODUCTION}/resources/ce-{ORG[3:].upper()}"
    assert normal(upper) == f"{PRODUCTION}/resources/{ORG}"
    ours = {"@graph": [{"@id": f"{SANDBOX}/resources/{FW}", "ceasn:publisher": [upper]}]}
    live = {"@graph": [{"@id": f"{SANDBOX}/resources/{FW}", "ceasn:publisher": [upper.lower()]}]}
    assert statements(ours) == statements(live)
    assert compare(FW, "n", "p", "u", ours, live).state is State.CURRENT


def test_diff_sees_no_change_in_another_form(tmp_path: Path) -> None:
    old = add_column(GOOD, "ceasn:publicationStatusType", {2: "Published", 3: "Draft"})
    new = add_column(
        GOOD,
        "ceasn:publicationStatusType",
        {2: "https://purl.org/ctdlasn/vocabs/publicationStatus/Published", 3: "Published"},
    )
    paths = []
    for name, text in (("old.csv", old), ("new.csv", new)):
        paths.append(tmp_path / name)
        paths[-1].write_text(text, encoding="utf-8")
    before, after = (load_frameworks(p, Config(root=tmp_path)) for p in paths)
    (result,) = diff_frameworks(before, after)
    assert result.properties == []
    assert [(c.item.ctid, c.names) for c in result.changed] == [(C1, ["ceasn:publicationStatusType"])]


# --- domains ------------------------------------------------------------------------------------


def test_new_domains_apply() -> None:
    text = add_column(GOOD, "ceasn:codedNotation", {2: "HIST-101", 3: "1.1"})
    text = add_column(text, "ceasn:license", {3: "https://creativecommons.org/licenses/by/4.0/"})
    text = add_column(text, "ceasn:alignFrom", {3: C2})
    text = add_column(text, "ceasn:alignTo", {3: "https://example.org/competencies/x"})
    text = add_column(text, "ceasn:rightsHolder", {2: f"{ORG}|{FW}"})
    assert check(text) == []


def test_a_competency_has_one_author() -> None:
    text = add_column(
        GOOD, "ceasn:author", {2: "History Department|Faculty", 3: "History Department|Faculty"}
    )
    assert cells(text) == {("f.csv", 3, "L", "ceasn:author", "pipe-in-single-value")}


def test_a_competency_author_is_a_string_in_the_graph(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text(add_column(GOOD, "ceasn:author", {2: "A|B", 3: "C"}), encoding="utf-8")
    (framework,) = load_frameworks(path, Config(root=tmp_path))
    nodes = framework_to_graph(framework, SANDBOX)["@graph"]
    assert (nodes[0]["ceasn:author"], nodes[1]["ceasn:author"]) == (["A", "B"], "C")


# --- references and the registry environment ------------------------------------------------------


def test_a_production_uri_in_a_sandbox_repository_is_an_error() -> None:
    text = set_cell(GOOD, 2, "ceasn:publisher", f"{PRODUCTION}/resources/{ORG}")
    text = add_column(text, "ceasn:exactAlignment", {3: f"{PRODUCTION}/resources/{C2}"})
    problems = check(text)
    assert {(p.path, p.line, p.letter, p.column, p.code) for p in problems} == {
        ("f.csv", 2, "F", "ceasn:publisher", "wrong-registry"),
        ("f.csv", 3, "L", "ceasn:exactAlignment", "wrong-registry"),
    }
    assert problems[0].message.endswith(
        f"is on the production registry, but this repository publishes to sandbox ({SANDBOX})"
    )
    assert problems[0].hint == (
        f"Write the CTID {ORG}: the publishing API makes it the URI of the environment it publishes to "
        "(or set `registry: production` if this repository publishes there)."
    )
    assert check(text, production()) == []


def test_a_sandbox_uri_in_a_production_repository_is_an_error() -> None:
    text = set_cell(GOOD, 2, "ceasn:publisher", f"{SANDBOX}/resources/{ORG}|{ORG}")
    assert check(text) == []
    assert cells(text, production()) == {("f.csv", 2, "F", "ceasn:publisher", "wrong-registry")}


def test_registry_columns_take_only_a_ctid_or_a_registry_uri() -> None:
    text = set_cell(GOOD, 2, "ceasn:publisher", "https://example.org/our-college")
    text = add_column(text, "ceasn:creator", {3: "https://example.org/dept"})
    assert cells(text) == {
        ("f.csv", 2, "F", "ceasn:publisher", "not-registry-uri"),
        ("f.csv", 3, "L", "ceasn:creator", "not-registry-uri"),
    }
    # other reference columns may name any resource, but not one of the other environment
    assert check(add_column(GOOD, "ceasn:exactAlignment", {3: "https://asn.example.org/S1"})) == []


def test_a_custom_registry_is_not_checked() -> None:
    custom = parse_config({"registry": "http://127.0.0.1:9999"}, Path("."))
    text = set_cell(GOOD, 2, "ceasn:publisher", f"{PRODUCTION}/resources/{ORG}")
    assert check(text, custom) == []


def test_template_rows_and_unknown_types_are_not_checked_again() -> None:
    text = set_cell(GOOD, 5, "@type", "sample: competency")
    text = add_column(text, "ceasn:exactAlignment", {5: f"{PRODUCTION}/resources/{C2}"})
    assert {p.code for p in check(text)} == {"template-row"}


# --- new columns ----------------------------------------------------------------------------------

NEW = {
    "ceterms:occupationType": {2: "https://www.onetonline.org/link/summary/15-1252.00"},
    "socList": {2: "15-1252.00|29-1141", 3: "15-1252.00"},
    "naicsList": {2: "5415"},
    "cipList": {3: "11.0701"},
    "ceterms:latestVersion": {2: FW},
    "ceterms:versionCode": {2: "2.1"},
    "ceasn:sourceDocumentation": {3: "https://example.org/catalog.pdf"},
    "ceasn:repositoryDate": {2: "2025-03-01"},
    "ceasn:isVersionOf": {4: C1},
    "asn:hasProgressionLevel": {3: ORG},
    "ceasn:substantiatingOccupation": {3: ORG},
}


def with_new_columns() -> str:
    text = GOOD
    for name, values in NEW.items():
        text = add_column(text, name, values)
    return text


def test_new_columns_validate_and_reach_the_graph(tmp_path: Path) -> None:
    text = with_new_columns()
    # valid; only what CASS's export would not show CE as written is warned about (the export facts)
    assert cells(text) == {
        ("f.csv", 2, "S", "ceasn:repositoryDate", "not-shown-by-ce"),
        ("f.csv", 3, "U", "asn:hasProgressionLevel", "reshaped-by-ce"),
    }
    path = tmp_path / "f.csv"
    path.write_text(text, encoding="utf-8")
    (framework,) = load_frameworks(path, Config(root=tmp_path))
    fw, c1 = framework_to_graph(framework, SANDBOX)["@graph"][:2]
    alignment = "ceterms:CredentialAlignmentObject"
    onet = "https://www.onetcenter.org/taxonomy.html"
    assert fw["ceterms:occupationType"] == [
        {"@type": alignment, "ceterms:targetNode": "https://www.onetonline.org/link/summary/15-1252.00"},
        *(
            {
                "@type": alignment,
                "ceterms:codedNotation": code,
                "ceterms:framework": onet,
                "ceterms:frameworkName": {"en": "O*NET-SOC"},
            }
            for code in ("15-1252.00", "29-1141")
        ),
    ]
    assert fw["ceterms:industryType"][0]["ceterms:codedNotation"] == "5415"
    assert c1["ceterms:instructionalProgramType"][0]["ceterms:codedNotation"] == "11.0701"
    assert fw["ceterms:latestVersion"] == f"{SANDBOX}/resources/{FW}"
    assert (fw["ceterms:versionCode"], fw["ceasn:repositoryDate"]) == ("2.1", "2025-03-01")
    assert c1["asn:hasProgressionLevel"] == [f"{SANDBOX}/resources/{ORG}"]
    assert "socList" not in fw and "naicsList" not in fw


def test_new_columns_survive_csv_to_graph_to_csv(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text(with_new_columns(), encoding="utf-8")
    (framework,) = load_frameworks(path, Config(root=tmp_path))
    graph = json.loads(json.dumps(framework_to_graph(framework, SANDBOX)))
    read = graph_to_frameworks(graph)
    assert read.notes == []
    rows = list(csv.DictReader(io.StringIO(to_csv(framework_rows(read.frameworks)))))
    for name, values in NEW.items():
        for line, value in values.items():
            assert rows[line - 2][name] == value, (name, line)


def test_invalid_codes_are_bad_values() -> None:
    assert cells(add_column(GOOD, "socList", {2: "15-1252.00|1512"})) == {
        ("f.csv", 2, "L", "socList", "bad-value")
    }


# --- fix fills the publisher ----------------------------------------------------------------------


def test_fix_fills_an_empty_publisher_from_the_organization() -> None:
    text = set_cell(GOOD, 2, "ceasn:publisher", "")
    assert fix_text(text).changes["filled"] == 0  # no organization configured: left for the validator
    fixed = fix_text(text, organization=ORG.upper().replace("CE-", "ce-"))
    assert (fixed.changes["filled"], fixed.changes["filled-column"]) == (1, 0)
    assert fixed.text == GOOD
    assert fix_text(text, organization="not a ctid").changes["filled"] == 0


def test_fix_adds_the_publisher_column(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "f.csv"
    path.write_text(drop_column(GOOD, "ceasn:publisher"), encoding="utf-8")
    (tmp_path / ".competency-ci.yaml").write_text(f"organization: {ORG}\n", encoding="utf-8")
    code, out, _ = run_cli("fix", "--config", str(tmp_path / ".competency-ci.yaml"), str(path))
    assert code == 1
    assert "added 1 column to fill in, filled 1 cell from the configured organization" in out
    assert path.read_text("utf-8") == GOOD
