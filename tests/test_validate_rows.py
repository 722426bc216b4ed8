"""Row checks: each failing fixture asserts exact (code, line, column letter); GOOD is the passing
neighbour of all of them (lines: 1 header, 2 framework, 3-5 competencies C1 > C2 > C3)."""

from __future__ import annotations

import pytest

from validate_support import C1, C2, C3, FW, GOOD, ORG, add_column, check, drop_column, found, set_cell

V1 = "ce-07c257d6-9119-11e8-b852-782bcb5df6ac"  # a version-1 UUID, as in O*NET's published CTIDs
OTHER = "ce-2f3e4d5c-6b7a-4c8d-9e0f-a1b2c3d4e5f6"
UPPER_C1 = "ce-" + C1[3:].upper()


def test_good_framework_is_clean() -> None:
    assert check(GOOD) == []


CASES = {
    "formula": (set_cell(GOOD, 3, "ceasn:competencyText", "=A1&B1"), {("formula", 3, "I")}),
    "cell-spaces": (set_cell(GOOD, 3, "ceasn:competencyText", " Wash hands "), {("cell-spaces", 3, "I")}),
    "cell-spaces-type": (set_cell(GOOD, 4, "@type", "ceasn:Competency "), {("cell-spaces", 4, "B")}),
    "cell-spaces-only": (set_cell(GOOD, 3, "ceasn:inLanguage", "  "), {("cell-spaces", 3, "E")}),
    "missing-type": (set_cell(GOOD, 3, "@type", ""), {("missing-type", 3, "B")}),
    "unknown-type": (set_cell(GOOD, 3, "@type", "ceasn:Skill"), {("unknown-type", 3, "B")}),
    "missing-id": (set_cell(GOOD, 5, "@id", ""), {("missing-id", 5, "A")}),
    "bad-ctid-id": (set_cell(GOOD, 5, "@id", "ce-1234"), {("bad-ctid", 5, "A")}),
    "bad-ctid-upper-prefix": (set_cell(GOOD, 5, "@id", "CE-" + C3[3:]), {("bad-ctid", 5, "A")}),
    "bad-uri-upper-scheme": (
        set_cell(GOOD, 5, "@id", "HTTPS://example.org/c3"),
        {("bad-uri", 5, "A")},
    ),
    "bad-uri-id": (
        set_cell(GOOD, 5, "@id", "https://example.org/a b"),
        {("bad-uri", 5, "A"), ("missing-ctid", 5, "A")},
    ),
    "ctid-uppercase": (GOOD.replace(C1, UPPER_C1), {("ctid-uppercase", 3, "A")}),
    "ctid-not-v4": (GOOD.replace(C1, V1), {("ctid-not-v4", 3, "A")}),
    "required-missing-competency": (
        set_cell(GOOD, 4, "ceasn:competencyText", ""),
        {("required-missing", 4, "I")},
    ),
    "required-missing-framework": (set_cell(GOOD, 2, "ceasn:name", ""), {("required-missing", 2, "C")}),
    "publisher-cell": (  # CE's publishing API refuses a framework without a publisher
        set_cell(GOOD, 2, "ceasn:publisher", ""),
        {("required-missing", 2, "F")},
    ),
    "date-with-time": (  # CE's publishing API keeps only the date of dateCreated
        set_cell(GOOD, 2, "ceasn:dateCreated", "2025-03-14T10:00:00Z"),
        {("date-has-time", 2, "H")},
    ),
    "required-if-available-column": (
        drop_column(GOOD, "ceasn:dateCreated"),
        {("required-if-available-missing", 1, None)},
    ),
    "missing-column": (drop_column(GOOD, "ceasn:competencyText"), {("missing-column", 1, None)}),
    "not-applicable": (set_cell(GOOD, 3, "ceasn:name", "Hands"), {("not-applicable", 3, "C")}),
    "pipe-in-single-value": (
        set_cell(GOOD, 2, "ceasn:name", "Kitchen|Cooking"),
        {("pipe-in-single-value", 2, "C")},
    ),
    "pipe-in-framework-reference": (
        set_cell(GOOD, 3, "ceasn:isTopChildOf", f"{FW}|{FW}"),
        {("pipe-in-single-value", 3, "J")},
    ),
    "empty-piece-pattern": (set_cell(GOOD, 2, "ceasn:inLanguage", "en||fr"), {("empty-piece", 2, "E")}),
    "empty-piece-text": (
        set_cell(GOOD, 2, "ceasn:publisherName", "Riverside Kitchen|"),
        {("empty-piece", 2, "G")},
    ),
    "bad-uri": (set_cell(GOOD, 2, "ceasn:publisher", "www.example.org"), {("bad-uri", 2, "F")}),
    "bad-uri-piece": (set_cell(GOOD, 2, "ceasn:publisher", f"{ORG}|example"), {("bad-uri", 2, "F")}),
    "bad-ctid-reference": (set_cell(GOOD, 2, "ceasn:publisher", "ce-42"), {("bad-ctid", 2, "F")}),
    "bad-date": (set_cell(GOOD, 2, "ceasn:dateCreated", "14/03/2025"), {("bad-date", 2, "H")}),
    "bad-language": (set_cell(GOOD, 2, "ceasn:inLanguage", "English"), {("bad-language", 2, "E")}),
    "description-equals-name": (
        set_cell(GOOD, 2, "ceasn:description", "Kitchen"),
        {("description-equals-name", 2, "D")},
    ),
    "bad-datetime": (
        add_column(GOOD, "ceasn:dateModified", {2: "2025-03-14 10:00"}),
        {("bad-datetime", 2, "L")},
    ),
    "bad-value": (add_column(GOOD, "ceasn:weight", {3: "heavy"}), {("bad-value", 3, "L")}),
    "unknown-vocabulary": (
        add_column(GOOD, "ceasn:educationLevelType", {2: "Beginner"}),
        {("unknown-vocabulary", 2, "L")},
    ),
    "bad-ctid-column": (add_column(GOOD, "ceterms:ctid", {3: "ce-xyz"}), {("bad-ctid", 3, "L")}),
    "ctid-mismatch": (add_column(GOOD, "ceterms:ctid", {3: OTHER}), {("ctid-mismatch", 3, "L")}),
    "ctid-equal-to-id-but-for-case": (
        add_column(GOOD, "ceterms:ctid", {3: UPPER_C1}),
        {("ctid-uppercase", 3, "L")},
    ),
}

PASSING = {
    "formula-inside-text": set_cell(GOOD, 3, "ceasn:competencyText", "Wash hands = clean hands"),
    "spaces-around-pieces": set_cell(GOOD, 2, "ceasn:inLanguage", "en | fr"),
    "language-region": set_cell(GOOD, 2, "ceasn:inLanguage", "en-US"),
    "uri-publisher": set_cell(
        GOOD, 2, "ceasn:publisher", f"https://sandbox.credentialengineregistry.org/resources/{ORG}|{ORG}"
    ),
    "datetime": add_column(GOOD, "ceasn:dateModified", {2: "2025-03-14T10:00:00.5+02:00"}),
    "weight": add_column(GOOD, "ceasn:weight", {3: "-1.5"}),  # sent typed, it reaches CE
    "vocabulary-short-forms": add_column(
        GOOD, "ceasn:educationLevelType", {2: "BeginnerLevel|https://example.org/level", 3: "SecondaryLevel"}
    ),
    "ctid-equal-to-id": add_column(GOOD, "ceterms:ctid", {3: C1}),
    "url-id-with-ctid": add_column(
        set_cell(GOOD.replace(C2, "https://example.org/c2"), 4, "@id", "https://example.org/c2"),
        "ceterms:ctid",
        {4: C2},
    ),
    "publication-status": add_column(GOOD, "ceasn:publicationStatusType", {2: "Published"}),
    "description-differs": set_cell(GOOD, 2, "ceasn:description", "Kitchen work"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_failing_fixture(name: str) -> None:
    text, expected = CASES[name]
    assert found(text) == expected


@pytest.mark.parametrize("name", list(PASSING))
def test_passing_neighbour(name: str) -> None:
    assert check(PASSING[name]) == []


def message(text: str, code: str) -> str:
    return next(p.message for p in check(text) if p.code == code)


def test_messages_name_the_value() -> None:
    assert message(CASES["bad-uri-piece"][0], "bad-uri") == (f'Not a valid URI: "example" in "{ORG}|example"')
    assert message(CASES["bad-date"][0], "bad-date") == 'Not a valid date: "14/03/2025"'
    assert message(CASES["ctid-mismatch"][0], "ctid-mismatch") == (
        f'`ceterms:ctid` differs from the CTID in `@id`: "{OTHER}" but @id is "{C1}"'
    )
    assert message(CASES["not-applicable"][0], "not-applicable").endswith(
        "ceasn:name applies to framework rows, not competency"
    )
    assert message(CASES["required-if-available-column"][0], "required-if-available-missing").endswith(
        "there is no ceasn:dateCreated column (1 row needs it)"
    )
    assert message(drop_column(GOOD, "ceasn:competencyText"), "missing-column").endswith(
        "there is no ceasn:competencyText column (3 rows need it)"
    )


def test_vocabulary_message_lists_short_forms_or_names_the_spelling() -> None:
    listed = message(CASES["unknown-vocabulary"][0], "unknown-vocabulary")
    assert listed.startswith(
        'Value not in the vocabulary: CASS silently drops it: "Beginner"; use one of AdvancedLevel,'
    )
    assert listed.endswith("UpperDivisionLevel, UpperSecondary or a full URI")
    slip = add_column(GOOD, "ceasn:publicationStatusType", {2: "published"})
    assert found(slip) == {("unknown-vocabulary", 2, "L")}
    assert message(slip, "unknown-vocabulary").endswith('"published" (the spelling is Published)')


def test_unknown_type_messages() -> None:
    assert message(set_cell(GOOD, 3, "@type", "ceasn:competency"), "unknown-type").endswith(
        '"ceasn:competency" (the spelling is ceasn:Competency)'
    )
    # a collection row in a framework file: CASS imports the file as frameworks (own code, cell B3)
    collection = found(set_cell(GOOD, 3, "@type", "ceterms:Collection"))
    assert ("collection-mixed", 3, "B") in collection
    assert not any(code == "unknown-type" for code, _, _ in collection)
    assert message(CASES["unknown-type"][0], "unknown-type").endswith(
        '"ceasn:Skill"; use ceasn:CompetencyFramework or ceasn:Competency'
    )


@pytest.mark.parametrize("label", ["sample competency", "INSTRUCTIONS: one row per competency", "Sample"])
def test_template_rows_are_reported_once_and_skipped(label: str) -> None:
    row = f",{label},Name goes here,,english,,,someday,=x,nowhere,"
    text = GOOD.replace("\n", f"\n{row}\n", 1)
    problems = check(text)
    assert {(p.code, p.line, p.letter, p.level.value) for p in problems} == {
        ("template-row", 2, "B", "notice")
    }


def test_temporary_key_is_an_error_that_points_to_fix_and_may_be_referenced() -> None:
    text = GOOD.replace(C2, "new:dry-hands")
    problems = check(text)
    assert {(p.code, p.line, p.letter) for p in problems} == {("temporary-id", 4, "A")}
    assert "competency-ci fix" in problems[0].hint


def test_temporary_keys_may_be_referenced_in_multi_valued_reference_columns() -> None:
    text = add_column(GOOD.replace(C2, "new:dry").replace(C3, "new:towel"), "ceasn:hasChild", {3: "new:dry"})
    text = set_cell(text, 4, "ceasn:hasChild", "new:towel|new:dry-more")
    assert found(text) == {
        ("temporary-id", 4, "A"),
        ("temporary-id", 5, "A"),
        ("dangling-reference", 4, "L"),  # new:dry-more is no row's key
    }


def test_uppercase_ctid_in_both_columns_is_reported_once() -> None:
    text = add_column(GOOD.replace(C1, UPPER_C1), "ceterms:ctid", {3: UPPER_C1})
    assert found(text) == {("ctid-uppercase", 3, "L")}


def test_non_v4_ctid_is_a_notice() -> None:
    (p,) = check(CASES["ctid-not-v4"][0])
    assert p.level.value == "notice"
    assert p.message == f'The CTID is not a version-4 UUID: "{V1}"'


def test_a_row_of_unknown_type_keeps_its_place_in_the_hierarchy() -> None:
    # C2 (between C1 and C3) has a case slip in its type: only that is reported
    assert found(set_cell(GOOD, 4, "@type", "ceasn:competency")) == {("unknown-type", 4, "B")}
    assert found(set_cell(GOOD, 4, "ceasn:isChildOf", f"{C1}|{C1}")) == {("multiple-parents", 4, "K")}


def test_a_reference_to_a_temporary_key_that_no_row_holds_is_dangling() -> None:
    text = GOOD.replace(f"Wash hands,{FW},", "Wash hands,new:kitchen,")
    empty, p = check(text)  # the framework's only top competency now points elsewhere
    assert (empty.code, empty.line) == ("empty-framework", 2)
    assert (p.code, p.line, p.letter, p.column) == ("dangling-reference", 3, "J", "ceasn:isTopChildOf")
    assert '"new:kitchen"' in p.message
