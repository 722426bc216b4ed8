"""`competency-ci template`: the columns of each tier, the helper rows, and that it validates."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from competency_ci.frameworks.codes import CODES
from competency_ci.frameworks.template import TEMPLATE_TIERS, instruction, template_columns
from competency_ci.schema import load_schema
from conftest import SAMPLES

MINIMUM = [
    "@id",
    "@type",
    "ceasn:name",
    "ceasn:description",
    "ceasn:inLanguage",
    "ceasn:publisherName",
    "ceasn:competencyText",
    "ceasn:isTopChildOf",
]
PUBLISHING = [
    "@id",
    "@type",
    "ceterms:ctid",
    "ceasn:name",
    "ceasn:description",
    "ceasn:inLanguage",
    "ceasn:publisher",
    "ceasn:publisherName",
    "ceasn:dateCreated",
    "ceasn:competencyText",
    "ceasn:isTopChildOf",
]
BENCHMARK = [
    "@id",
    "@type",
    "ceterms:ctid",
    "ceasn:name",
    "ceasn:description",
    "ceasn:inLanguage",
    "ceasn:publisher",
    "ceasn:publisherName",
    "ceasn:codedNotation",  # frameworks have one too (CTDL-ASN), so it sits with the framework columns
    "ceasn:license",
    "ceasn:publicationStatusType",
    "ceasn:source",
    "ceasn:dateCreated",
    "ceasn:competencyText",
    "ceasn:isTopChildOf",
    "ceasn:isChildOf",
    "ceasn:competencyLabel",
    "ceasn:competencyCategory",
    "ceasn:comment",
]


def rows_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.mark.parametrize(
    ("tier", "expected"),
    [("required", MINIMUM), ("required-if-available", PUBLISHING), ("benchmark", BENCHMARK)],
)
def test_header_per_tier(run_cli, tier: str, expected: list[str]) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli("template", "--tier", tier)
    assert (code, err) == (0, "")
    assert out == ",".join(expected) + "\n"


def test_required_tier_is_ce_minimum_data_template(run_cli) -> None:  # type: ignore[no-untyped-def]
    """Same columns as CE's own blank Minimum Data template (CASS reads columns by name, not order)."""
    code, out, _ = run_cli("template", "--tier", "required")
    ce = (SAMPLES / "templates" / "ce-minimum-data-template.csv").read_text("utf-8").split(",")
    assert code == 0
    assert out.rstrip("\n").split(",") == MINIMUM
    assert sorted(MINIMUM) == sorted(ce)


def test_default_tier_has_what_publishing_needs(run_cli) -> None:  # type: ignore[no-untyped-def]
    """CE's minimum data lacks ceasn:publisher and ceasn:dateCreated, which CE's publishing API
    requires: a filled-in minimum template is never clean (tests/test_template_filled.py)."""
    assert run_cli("template") == (0, ",".join(PUBLISHING) + "\n", "")


def test_all_tier_has_every_column_once_framework_columns_first(run_cli) -> None:  # type: ignore[no-untyped-def]
    schema = load_schema()
    code, out, _ = run_cli("template", "--tier", "all")
    header = rows_of(out)[0]
    assert code == 0
    # every column of framework files (collection columns are `template --collection`'s)
    assert sorted(header) == sorted(n for n, c in schema.columns.items() if c.rows - {"collection"})
    assert header[:2] == ["@id", "@type"]
    kinds = [("framework" in schema.columns[name].rows) for name in header[2:]]
    first_competency_only = kinds.index(False)
    assert all(kinds[:first_competency_only]) and not any(kinds[first_competency_only:])


def test_sample_and_instruction_rows(run_cli) -> None:  # type: ignore[no-untyped-def]
    schema = load_schema()
    code, out, _ = run_cli("template", "--tier", "required", "--with-sample", "--with-instructions")
    rows = rows_of(out)
    assert code == 0 and out.endswith("\n") and len(rows) == 3
    header, sample, guide = rows
    assert header == MINIMUM
    assert sample[1] == "sample: ceasn:Competency"
    for name, value in zip(header, sample, strict=True):
        if name != "@type":
            assert value == schema.columns[name].example
    assert guide[1] == (
        "instruction: Required in every row. Kind of row: ceasn:CompetencyFramework or ceasn:Competency"
        " (exact spelling)."
    )
    assert guide[header.index("ceasn:name")] == "Required for frameworks. Name of the competency framework."
    assert guide[header.index("ceasn:isTopChildOf")].startswith(
        "Minimum-data column, for competencies. For a top-level competency: the @id of its framework"
    )


def test_instructions_without_sample_are_row_2(run_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run_cli("template", "--tier", "required-if-available", "--with-instructions")
    rows = rows_of(out)
    assert code == 0 and len(rows) == 2
    assert rows[1][1].startswith("instruction: ")
    assert rows[1][PUBLISHING.index("ceterms:ctid")] == (
        "Required for frameworks and competencies. Credential Transparency Identifier:"
        " ce- followed by a UUID, 39 characters, lower case."
    )


def test_instructions_are_short_and_plain() -> None:
    schema = load_schema()
    for column in template_columns(schema, "all"):
        text = instruction(column)
        assert len(text) <= 160 and "`" not in text, column.name
    long = instruction(schema.columns["@id"])
    assert long.endswith("…") and len(long) == 160


def test_unknown_tier_is_a_usage_error(run_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli("template", "--tier", "gold")
    assert code == 2 and out == ""
    assert "invalid choice: 'gold'" in err
    with pytest.raises(ValueError, match="unknown tier 'gold'"):
        template_columns(load_schema(), "gold")


def test_output_file_and_no_clobber(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "new.csv"
    code, out, err = run_cli("template", "-o", str(target))
    assert (code, out) == (0, "")
    assert err == f"wrote {target} (required-if-available columns)\n"
    assert target.read_bytes() == (",".join(PUBLISHING) + "\n").encode()
    target.write_text("keep me\n", encoding="utf-8")
    code, out, err = run_cli("template", "--tier", "all", "-o", str(target))
    assert code == 2 and out == ""
    assert err == f"competency-ci template: {target} exists; use --force to overwrite it\n"
    assert target.read_text("utf-8") == "keep me\n"
    code, _, _ = run_cli("template", "--tier", "benchmark", "--force", "-o", str(target))
    assert code == 0 and target.read_text("utf-8") == ",".join(BENCHMARK) + "\n"


def test_output_folder_is_created(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "frameworks" / "new" / "t.csv"
    code, out, err = run_cli("template", "-o", str(target))
    assert (code, out, err) == (0, "", f"wrote {target} (required-if-available columns)\n")
    assert target.read_bytes() == (",".join(PUBLISHING) + "\n").encode()


def test_unwritable_output_is_exit_2(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "a-file").write_text("x", encoding="utf-8")
    target = tmp_path / "a-file" / "t.csv"
    code, out, err = run_cli("template", "-o", str(target))
    assert code == 2 and out == ""
    assert err == f"competency-ci template: cannot write {target}: File exists\n"


@pytest.mark.parametrize("tier", TEMPLATE_TIERS)
def test_header_only_template_validates_clean(run_cli, tmp_path: Path, tier: str) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / f"{tier}.csv"
    assert run_cli("template", "--tier", tier, "-o", str(target))[0] == 0
    code, out, err = run_cli("validate", "--format", "json", str(target))
    assert (code, err) == (0, "")
    assert json.loads(out)["problems"] == []


@pytest.mark.parametrize("tier", TEMPLATE_TIERS)
def test_template_with_helper_rows_validates_with_notices_only(run_cli, tmp_path: Path, tier: str) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / f"{tier}.csv"
    assert (
        run_cli("template", "--tier", tier, "--with-sample", "--with-instructions", "-o", str(target))[0] == 0
    )
    code, out, _ = run_cli("validate", "--format", "json", str(target))
    found = [(p["code"], p["level"], p["cell"]) for p in json.loads(out)["problems"]]
    assert code == 0
    assert found == [("template-row", "notice", "B2"), ("template-row", "notice", "B3")]


def test_sample_values_pass_their_columns_checks(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The sample row split into a framework row and a competency row: no value is reported."""
    schema = load_schema()
    code, out, _ = run_cli("template", "--tier", "all", "--with-sample")
    header, sample = rows_of(out)
    rows = [header]
    for row_type, type_value in (
        ("framework", "ceasn:CompetencyFramework"),
        ("competency", "ceasn:Competency"),
    ):
        row = [v if row_type in schema.columns[n].rows else "" for n, v in zip(header, sample, strict=True)]
        row[1] = type_value
        rows.append(row)
    target = tmp_path / "sample.csv"
    with target.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    code, out, _ = run_cli("validate", "--format", "json", str(target))
    # (what CE will show of a value, not its form: the CE-view warnings the export facts give)
    ce_view = {"not-shown-by-ce", "reshaped-by-ce"}
    groups = {CODES[p["code"]].group for p in json.loads(out)["problems"] if p["code"] not in ce_view}
    assert code == 1
    # One sample row serves both row types, so its ids collide and its references point nowhere:
    # structure findings only, none about a header, a row's requirements or any value's form.
    assert groups == {"structure"}
