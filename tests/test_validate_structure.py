"""Structure checks: identities, references, hierarchy, frameworks, duplicate rows."""

from __future__ import annotations

from competency_ci.frameworks.checks.structure import CtidIndex
from validate_support import C1, C2, C3, FW, GOOD, HEADER, ORG, add_column, check, found, set_cell

C4 = "ce-7d6c5b4a-3f2e-4d1c-8b0a-9f8e7d6c5b56"
FW2 = "ce-8e7f6a5b-4c3d-4e2f-9a1b-0c9d8e7f6a67"
FRAMEWORK2 = f"{FW2},ceasn:CompetencyFramework,Bakery,Safe baking,en,{ORG},Riverside Kitchen,2025-03-14,,,"


def lines(text: str) -> list[str]:
    return text.rstrip("\n").split("\n")


def with_lines(*rows: str) -> str:
    return "\n".join(rows) + "\n"


def detail(text: str, code: str) -> tuple[str, str]:
    p = next(p for p in check(text) if p.code == code)
    return p.message, p.hint


def test_duplicate_id() -> None:
    text = set_cell(GOOD, 5, "@id", C2)
    assert found(text) == {("duplicate-id", 5, "A")}
    assert detail(text, "duplicate-id")[0].endswith(f'"{C2}" is also row 4 (line 4)')


def test_duplicate_ctid_in_the_file() -> None:
    text = set_cell(GOOD, 5, "@id", "ce-" + C2[3:].upper())
    assert found(text) == {("duplicate-ctid", 5, "A"), ("ctid-uppercase", 5, "A")}


def test_duplicate_ctid_in_the_ctid_column() -> None:
    urls = GOOD.replace(C2, "https://example.org/c2").replace(C3, "https://example.org/c3")
    text = add_column(urls, "ceterms:ctid", {4: C2, 5: C2})
    assert found(text) == {("duplicate-ctid", 5, "L")}
    assert check(add_column(urls, "ceterms:ctid", {4: C2, 5: C3})) == []


def test_duplicate_ctid_in_another_file() -> None:
    index = CtidIndex()
    index.add(C1, "frameworks/other.csv", 7)
    index.add(C2, "f.csv", 4)  # the file's own entries never count
    assert found(GOOD, index=index) == {("duplicate-ctid", 3, "A")}
    p = next(p for p in check(GOOD, index=index))
    assert p.message.endswith(f'"{C1}" is also in frameworks/other.csv:7')


def test_dangling_reference() -> None:
    text = set_cell(GOOD, 5, "ceasn:isChildOf", C4)
    assert found(text) == {("dangling-reference", 5, "K")}
    message, hint = detail(text, "dangling-reference")
    assert message.endswith(f'"{C4}" is the @id of no row')
    assert hint == "Use the `@id` of a row in this file, written exactly as that row's `@id`."


def test_dangling_reference_hint_names_the_row_in_the_other_form() -> None:
    url = f"https://credentialengineregistry.org/resources/{C2}"
    text = set_cell(GOOD, 5, "ceasn:isChildOf", url)
    assert found(text) == {("dangling-reference", 5, "K")}
    assert detail(text, "dangling-reference")[1] == (
        f'Row 4 (line 4) has this CTID, but its @id is "{C2}": write the reference exactly as that '
        "row's @id (CASS matches references to @id as written)."
    )
    # and the other way round: a CTID reference to a row whose @id is a URL
    urls = add_column(GOOD.replace(C1, "https://example.org/c1"), "ceterms:ctid", {3: C1})
    text = set_cell(urls, 4, "ceasn:isChildOf", C1)
    assert found(text) == {("dangling-reference", 4, "K")}
    assert '@id is "https://example.org/c1"' in detail(text, "dangling-reference")[1]


def test_has_child_pieces_must_resolve_but_may_point_down() -> None:
    good = add_column(GOOD, "ceasn:hasChild", {3: C2, 4: C3})
    assert check(good) == []
    bad = add_column(GOOD, "ceasn:hasChild", {3: f"{C2}|{C4}"})
    assert found(bad) == {("dangling-reference", 3, "L")}
    wrong = add_column(GOOD, "ceasn:hasTopChild", {2: f"{C1}|{FW}"})
    assert found(wrong) == {("reference-wrong-type", 2, "L")}


def test_reference_wrong_type() -> None:
    assert found(set_cell(GOOD, 5, "ceasn:isChildOf", FW)) == {("reference-wrong-type", 5, "K")}
    text = set_cell(GOOD, 3, "ceasn:isTopChildOf", C2)
    # the framework loses its only top competency
    assert found(text) == {("reference-wrong-type", 3, "J"), ("empty-framework", 2, "A")}


def test_forward_reference() -> None:
    rows = lines(GOOD)
    text = with_lines(rows[0], rows[1], rows[2], rows[4], rows[3])
    assert found(text) == {("forward-reference", 4, "K")}
    assert detail(text, "forward-reference")[0].endswith(f'"{C2}" is row 5 (line 5), below this row')


def test_framework_after_its_competencies() -> None:
    rows = lines(GOOD)
    text = with_lines(rows[0], rows[2], rows[1], rows[3], rows[4])
    assert found(text) == {("forward-reference", 2, "J")}


def test_multiple_parents() -> None:
    text = set_cell(GOOD, 5, "ceasn:isChildOf", f"{C2}|{C1}")
    assert found(text) == {("multiple-parents", 5, "K")}


def test_cycle_is_reported_once_at_its_first_row() -> None:
    text = set_cell(GOOD, 4, "ceasn:isChildOf", C3)  # C2 -> C3 -> C2
    assert found(text) == {("cycle", 4, "K"), ("forward-reference", 4, "K")}
    assert detail(text, "cycle")[0].endswith("rows 4, 5 form a loop of parents")
    three = set_cell(
        set_cell(GOOD, 3, "ceasn:isChildOf", C3), 3, "ceasn:isTopChildOf", ""
    )  # C1 > C3 > C2 > C1
    assert found(three) == {("cycle", 3, "K"), ("forward-reference", 3, "K"), ("empty-framework", 2, "A")}
    itself = set_cell(GOOD, 5, "ceasn:isChildOf", C3)
    assert found(itself) == {("cycle", 5, "K")}


def test_orphan_competency() -> None:
    text = GOOD + f"{C4},ceasn:Competency,,,,,,,Lonely,,\n"
    assert found(text) == {("orphan-competency", 6, "A")}


def test_framework_mismatch() -> None:
    rows = lines(add_column(GOOD, "ceasn:isPartOf", {5: FW2}))
    text = with_lines(
        rows[0],
        rows[1],
        FRAMEWORK2 + ",",
        rows[2],
        rows[3],
        rows[4],
        f"{C4},ceasn:Competency,,,,,,,Knead,{FW2},,",
    )
    assert found(text) == {("framework-mismatch", 6, "L")}
    assert detail(text, "framework-mismatch")[0].endswith(
        "ceasn:isPartOf names row 3 (line 3), but the row belongs to the framework in row 2 (line 2)"
    )
    agreeing = with_lines(*rows[:-1], rows[-1].replace(FW2, FW))
    assert check(agreeing) == []


def test_is_part_of_alone_attaches_a_competency() -> None:
    text = add_column(set_cell(GOOD, 3, "ceasn:isTopChildOf", ""), "ceasn:isPartOf", {3: FW})
    assert check(text) == []


def test_empty_framework() -> None:
    text = GOOD.replace("\n", "\n" + FRAMEWORK2 + "\n", 1)
    assert found(text) == {("empty-framework", 2, "A")}


def test_duplicate_row() -> None:
    text = set_cell(set_cell(GOOD, 5, "ceasn:competencyText", "Dry hands"), 5, "ceasn:isChildOf", C1)
    assert found(text) == {("duplicate-row", 5, "A")}
    assert detail(text, "duplicate-row")[0].endswith("same values as row 4 (line 4)")


def test_header_constant_matches_fixture() -> None:
    assert GOOD.startswith(HEADER + "\n")
