"""Header checks: unknown columns with did-you-mean, duplicates, spaces, missing id/type, helper column."""

from __future__ import annotations

import pytest

from competency_ci.frameworks.checks.header import is_helper_column
from competency_ci.frameworks.table import read_table
from competency_ci.schema import load_schema
from validate_support import GOOD, add_column, check, drop_column, found


def rename(text: str, old: str, new: str) -> str:
    header, rest = text.split("\n", 1)
    names = header.split(",")
    names[names.index(old)] = new
    return ",".join(names) + "\n" + rest


def hint(text: str, code: str) -> tuple[str, str]:
    p = next(p for p in check(text) if p.code == code)
    return p.message, p.hint


def test_unknown_column_without_suggestion() -> None:
    text = add_column(GOOD, "Notes", {3: "check with the chef"})
    assert found(text) == {("unknown-column", 1, "L")}
    message, fix = hint(text, "unknown-column")
    assert message == 'Unknown column: CASS would silently drop it: "Notes"'
    assert fix == "Rename it to a CTDL-ASN column (see the suggestion) or delete it."


@pytest.mark.parametrize(
    ("header", "meant"),
    [
        ("ceasn:CompetencyText", "ceasn:competencyText"),  # case
        ("Competency Text", "ceasn:competencyText"),  # the field's title
        ("competencyText", "ceasn:competencyText"),  # no prefix
        ("ceasn:competencyTxt", "ceasn:competencyText"),  # near spelling
    ],
)
def test_unknown_column_did_you_mean(header: str, meant: str) -> None:
    text = rename(GOOD, "ceasn:competencyText", header)
    assert found(text) == {("unknown-column", 1, "I"), ("missing-column", 1, None)}
    message, fix = hint(text, "unknown-column")
    assert message.endswith(f'"{header}" (did you mean {meant}?)')
    assert fix == f"Rename it to {meant}, or delete it."


def test_ctid_header_alias_gets_the_right_spelling() -> None:
    text = add_column(GOOD, "ceterms:CTID")
    assert found(text) == {("unknown-column", 1, "L")}
    assert hint(text, "unknown-column")[0].endswith("(did you mean ceterms:ctid?)")


def test_duplicate_column() -> None:
    text = add_column(add_column(GOOD, "ceasn:comment"), "ceasn:comment")
    assert found(text) == {("duplicate-column", 1, "M")}
    assert hint(text, "duplicate-column")[0].endswith("ceasn:comment is also column L")
    assert check(add_column(GOOD, "ceasn:comment")) == []


def test_column_spaces() -> None:
    text = rename(GOOD, "ceasn:competencyText", " ceasn:competencyText")
    assert found(text) == {("column-spaces", 1, "I")}


def test_missing_id_and_type_columns() -> None:
    assert found(drop_column(GOOD, "@id")) == {("missing-id-column", 1, None)}
    assert found(drop_column(GOOD, "@type")) == {("missing-type-column", 1, None)}


def test_no_known_column_means_no_header() -> None:
    text = GOOD.split("\n", 1)[1]  # the framework row is now the first row
    assert found(text) == {("no-header", 1, None)}


HELPER_EMPTY = "".join(f",{line}\n" for line in GOOD.splitlines())
HELPER_LABELS = (
    "Tier,"
    + GOOD.splitlines()[0]
    + "\n"
    + "".join(
        f"{label},{line}\n"
        for label, line in zip(
            ["Required", "Required if available", "Optional", "Recommended benchmark"],
            GOOD.splitlines()[1:],
            strict=True,
        )
    )
)


@pytest.mark.parametrize("text", [HELPER_EMPTY, HELPER_LABELS], ids=["empty-header", "labels"])
def test_helper_column(text: str) -> None:
    assert found(text) == {("helper-column", 1, "A")}
    table, _ = read_table("f.csv", text.encode())
    assert table is not None and is_helper_column(table, load_schema())


def test_a_notes_column_a_is_not_the_helper_column() -> None:
    text = (
        "Notes,"
        + GOOD.splitlines()[0]
        + "\n"
        + "".join(f"note {i},{line}\n" for i, line in enumerate(GOOD.splitlines()[1:]))
    )
    assert found(text) == {("unknown-column", 1, "A")}
    table, _ = read_table("f.csv", text.encode())
    assert table is not None and not is_helper_column(table, load_schema())
