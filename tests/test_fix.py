"""`fix`: each repair with exact before/after file contents, and the command's behaviour."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from competency_ci.frameworks.config import Config
from competency_ci.frameworks.fix import FixResult, Unreadable, fix_text
from competency_ci.frameworks.table import read_table
from competency_ci.frameworks.validate import check_table
from competency_ci.schema import load_schema
from conftest import SAMPLES

CTID = re.compile(r"ce-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
FW = "ce-4cd9ff53-294a-4ed6-a330-5c0870da315a"
C1 = "ce-f234c733-54ca-4645-8ff6-95165dcd0870"
C2 = "ce-80492c39-c0af-4041-adef-1e0a77e24156"
C3 = "ce-2506fbb8-c7c2-4b31-abf2-fb8669b6d83f"


def minted(n: int) -> str:
    return f"ce-00000000-0000-4000-8000-{n:012d}"


def sequence() -> Callable[[], str]:
    """A deterministic CTID generator: minted(1), minted(2), ..."""
    counter = itertools.count(1)
    return lambda: minted(next(counter))


def fix(text: str) -> FixResult:
    return fix_text(text, mint=sequence())


def test_mints_ctids_and_keeps_ceterms_ctid_equal() -> None:
    before = (
        "@id,@type,ceterms:ctid,ceasn:name,ceasn:competencyText,ceasn:isTopChildOf\n"
        f"{FW},ceasn:CompetencyFramework,{FW},Kitchen,,\n"
        f",ceasn:Competency,,,Wash hands.,{FW}\n"
        f",ceasn:Competency,{C2},,Store food.,{FW}\n"
        f"{C3},ceasn:Competency,,,Clean surfaces.,{FW}\n"
        f",ceasn:Competency,,,Label containers.,{FW}\n"
    )
    result = fix(before)
    assert result.text == (
        "@id,@type,ceterms:ctid,ceasn:name,ceasn:competencyText,ceasn:isTopChildOf\n"
        f"{FW},ceasn:CompetencyFramework,{FW},Kitchen,,\n"
        f"{minted(1)},ceasn:Competency,{minted(1)},,Wash hands.,{FW}\n"
        f"{C2},ceasn:Competency,{C2},,Store food.,{FW}\n"
        f"{C3},ceasn:Competency,{C3},,Clean surfaces.,{FW}\n"
        f"{minted(2)},ceasn:Competency,{minted(2)},,Label containers.,{FW}\n"
    )
    assert dict(result.changes) == {"missing-id": 2, "ctid-filled": 2}
    assert result.summary() == "minted 2 CTIDs, copied 2 CTIDs between @id and ceterms:ctid"


def test_existing_ctids_are_never_changed_whatever_their_form() -> None:
    # a v1 UUID, a URI id with its own ceterms:ctid, and a mismatch stay as they are (a URI id
    # without one gets a CTID of its own, and keeps the URI)
    before = (
        "@id,@type,ceterms:ctid,ceasn:name,ceasn:competencyText,ceasn:isTopChildOf\n"
        "ce-07c257d6-9119-11e8-b852-782bcb5df6ac,ceasn:CompetencyFramework,,Abilities,,\n"
        f"https://example.org/c/1,ceasn:Competency,{C1},,One,ce-07c257d6-9119-11e8-b852-782bcb5df6ac\n"
        f"https://example.org/c/2,ceasn:Competency,,,Two,ce-07c257d6-9119-11e8-b852-782bcb5df6ac\n"
        f"{C2},ceasn:Competency,{C3},,Three,ce-07c257d6-9119-11e8-b852-782bcb5df6ac\n"
    )
    result = fix(before)
    assert result.text == before.replace(
        "ceasn:CompetencyFramework,,", "ceasn:CompetencyFramework,ce-07c257d6-9119-11e8-b852-782bcb5df6ac,"
    ).replace("c/2,ceasn:Competency,,", "c/2,ceasn:Competency,ce-00000000-0000-4000-8000-000000000001,")
    assert result.summary() == (
        "copied 1 CTID between @id and ceterms:ctid, "
        "minted 1 CTID for a row whose @id is a URL (the URL is kept)"
    )


def test_temporary_keys_are_replaced_everywhere_in_the_file() -> None:
    before = (
        "@id,@type,ceterms:ctid,ceasn:name,ceasn:competencyText,ceasn:isTopChildOf,ceasn:isChildOf,"
        "ceasn:hasChild,ceasn:isPartOf\n"
        f"{FW},ceasn:CompetencyFramework,{FW},Kitchen,,,,,\n"
        f"new:safety,ceasn:Competency,,,Safety basics.,{FW},,new:hands | new:food,{FW}\n"
        "new:hands,ceasn:Competency,,,Wash hands.,,new:safety,,\n"
        f"new:food,ceasn:Competency,{C3},,Store food.,,new:safety,,\n"
    )
    result = fix(before)
    assert result.text == (
        "@id,@type,ceterms:ctid,ceasn:name,ceasn:competencyText,ceasn:isTopChildOf,ceasn:isChildOf,"
        "ceasn:hasChild,ceasn:isPartOf\n"
        f"{FW},ceasn:CompetencyFramework,{FW},Kitchen,,,,,\n"
        f"{minted(1)},ceasn:Competency,{minted(1)},,Safety basics.,{FW},,{minted(2)} | {C3},{FW}\n"
        f"{minted(2)},ceasn:Competency,{minted(2)},,Wash hands.,,{minted(1)},,\n"
        f"{C3},ceasn:Competency,{C3},,Store food.,,{minted(1)},,\n"
    )
    assert result.summary() == "replaced 3 temporary keys"


def test_a_temporary_key_held_by_two_rows_is_left_alone_and_reported() -> None:
    before = (
        "@id,@type,ceasn:name,ceasn:competencyText,ceasn:isTopChildOf,ceasn:isChildOf\n"
        f"{FW},ceasn:CompetencyFramework,Kitchen,,,\n"
        f"new:a,ceasn:Competency,,One,{FW},\n"
        f"new:a,ceasn:Competency,,Two,{FW},\n"
        "new:b,ceasn:Competency,,Three,,new:a\n"
    )
    result = fix(before)
    assert result.text == before.replace("new:b,", f"{minted(1)},")
    assert [(p.code, p.line, p.cell) for p in result.problems] == [
        ("duplicate-id", 3, None),
        ("duplicate-id", 4, None),
    ]
    assert [p.letter for p in result.problems] == ["A", "A"]


def test_template_rows_and_helper_column_are_removed() -> None:
    before = (
        ",@id,@type,ceasn:name,ceasn:competencyText,ceasn:isTopChildOf\n"
        "Sample,ce-sample,sample:CompetencyFramework,My framework,,\n"
        "Instructions,,INSTRUCTION: one row per competency,Name of the framework,Text,\n"
        f"Required,{FW},ceasn:CompetencyFramework,Kitchen,,\n"
        f'Required,{C1},ceasn:Competency,,"Wash hands, always.",{FW}\n'
    )
    result = fix(before)
    assert result.text == (
        "@id,@type,ceasn:name,ceasn:competencyText,ceasn:isTopChildOf\n"
        f"{FW},ceasn:CompetencyFramework,Kitchen,,\n"
        f'{C1},ceasn:Competency,,"Wash hands, always.",{FW}\n'
    )
    assert result.summary() == "removed 2 template rows, removed the helper column A"


def test_data_under_an_empty_column_a_header_is_not_taken_for_the_helper_column() -> None:
    before = f",@type,ceasn:competencyText\n{C1},ceasn:Competency,Wash hands.\n"
    assert fix(before).text == before


def test_rows_are_ordered_frameworks_and_parents_first_otherwise_kept() -> None:
    def row(ctid: str, kind: str, text: str, top: str = "", parent: str = "") -> str:
        return f"{ctid},ceasn:{kind},{text},{top},{parent}\n"

    header = "@id,@type,ceasn:competencyText,ceasn:isTopChildOf,ceasn:isChildOf\n"
    before = (
        header
        + row(C2, "Competency", "Child", parent=C1)
        + row(C1, "Competency", "Top", top=FW)
        + row(C3, "Competency", "Other top", top=FW)
        + row(FW, "CompetencyFramework", "")
    )
    result = fix(before)
    assert result.text == (
        header
        + row(FW, "CompetencyFramework", "")
        + row(C1, "Competency", "Top", top=FW)
        + row(C2, "Competency", "Child", parent=C1)
        + row(C3, "Competency", "Other top", top=FW)
    )
    assert result.summary() == "moved 2 rows"
    assert fix(result.text).text == result.text


def test_cycles_are_left_in_place_and_reported() -> None:
    header = "@id,@type,ceasn:competencyText,ceasn:isTopChildOf,ceasn:isChildOf\n"
    before = (
        header
        + f"{C1},ceasn:Competency,A,,{C2}\n"
        + f"{C3},ceasn:Competency,Below the loop,,{C1}\n"
        + f"{C2},ceasn:Competency,B,,{C1}\n"
        + f"{FW},ceasn:CompetencyFramework,,,\n"
    )
    result = fix(before)
    assert not result.changed
    assert result.text == before
    assert [(p.code, p.line, p.message) for p in result.problems] == [
        ("cycle", 2, "The parent chain loops back on itself: left in place: lines 2, 4")
    ]


def test_safe_normalisation() -> None:
    upper = FW.upper().replace("CE-", "ce-")
    before = (
        " @id ,@type,ceasn:name,ceasn:competencyText,ceasn:isTopChildOf,ceasn:hasChild\n"
        f"{upper},ceasn:CompetencyFramework,  Cafe\u0301 skills ,,,\n"
        "\n"
        ",,,,,\n"
        f"{C1.upper()}, ceasn:Competency,,Pour coffee.\t,{upper},{C2.upper()}|https://example.org/X\n"
        "  ,   ,,,,\n"
    )
    result = fix(before)
    assert result.text == (
        "@id,@type,ceasn:name,ceasn:competencyText,ceasn:isTopChildOf,ceasn:hasChild\n"
        f"{FW},ceasn:CompetencyFramework,Caf\u00e9 skills,,,\n"
        f"{C1},ceasn:Competency,,Pour coffee.,{FW},{C2}|https://example.org/X\n"
    )
    assert dict(result.changes) == {
        "column-spaces": 1,
        "cell-spaces": 5,
        "unicode-nfc": 1,
        "blank-row": 3,
        "ctid-uppercase": 4,
    }
    assert result.summary() == (
        "lower-cased 4 cells with CTIDs, dropped 3 blank rows, trimmed 1 column name, trimmed 5 cells,"
        " normalised 1 cell to Unicode NFC"
    )


def test_spreadsheet_file_keeps_bom_crlf_and_untouched_records_byte_for_byte() -> None:
    before = (
        "\ufeff@id,@type,ceasn:name,ceasn:description,ceasn:competencyText,ceasn:isTopChildOf\r\n"
        f'{FW},ceasn:CompetencyFramework,"Kitchen","Two lines:\r\nwash, then cook.",,\r\n'
        f',ceasn:Competency,,,"Wash hands\r\nbefore cooking. ",{FW}\r\n'
        "\r\n"
        f'"{C1}",ceasn:Competency,,,"Say ""please"".",{FW}\r\n'
    )
    result = fix(before)
    assert result.text == (
        "\ufeff@id,@type,ceasn:name,ceasn:description,ceasn:competencyText,ceasn:isTopChildOf\r\n"
        f'{FW},ceasn:CompetencyFramework,"Kitchen","Two lines:\r\nwash, then cook.",,\r\n'
        f'{minted(1)},ceasn:Competency,,,"Wash hands\r\nbefore cooking.",{FW}\r\n'
        f'"{C1}",ceasn:Competency,,,"Say ""please"".",{FW}\r\n'
    )
    assert result.summary() == "minted 1 CTID, dropped 1 blank row, trimmed 1 cell"


@pytest.mark.parametrize("end", ["", "\n"])
def test_final_newline_state_is_kept(end: str) -> None:
    before = f"@id,@type,ceasn:competencyText,ceasn:isTopChildOf\n,ceasn:Competency,X,{FW}{end}"
    assert fix(before).text == (
        f"@id,@type,ceasn:competencyText,ceasn:isTopChildOf\n{minted(1)},ceasn:Competency,X,{FW}{end}"
    )


def test_rows_with_too_many_or_too_few_cells_keep_every_cell() -> None:
    before = (
        "@id,@type,ceasn:competencyText,ceasn:isTopChildOf\n"
        f",ceasn:Competency,Extra,{FW},stray,cells\n"
        ",ceasn:Competency\n"
    )
    assert fix(before).text == (
        "@id,@type,ceasn:competencyText,ceasn:isTopChildOf\n"
        f"{minted(1)},ceasn:Competency,Extra,{FW},stray,cells\n"
        f"{minted(2)},ceasn:Competency\n"
    )


def test_nothing_to_fix_returns_the_text_unchanged_even_with_needless_quotes() -> None:
    before = (
        f'"@id","@type","ceasn:competencyText","ceasn:isTopChildOf"\n"{C1}","ceasn:Competency","X","{FW}"'
    )
    result = fix(before)
    assert result.text == before
    assert not result.changed
    assert result.summary() == ""


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("@id;@type;ceasn:name\nx;y;z\n", "not-comma-delimited"),
        ("", "empty-file"),
        ("name,size\nbig,3\n", "no-header"),
        ("\n\n@id,@type\n", "no-header"),
    ],
)
def test_unreadable_text_is_refused(text: str, code: str) -> None:
    with pytest.raises(Unreadable) as caught:
        fix(text)
    assert [p.code for p in caught.value.problems] == [code]


# --- the command ------------------------------------------------------------------------------

HIST = SAMPLES / "ce-minimum-data-hist101.csv"


def write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))
    return path


def test_cli_fixes_in_place_and_prints_one_line_per_file(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    needs = write(
        tmp_path / "hist.csv",
        "@id,@type,ceasn:competencyText,ceasn:isTopChildOf\r\n"
        f",ceasn:Competency,A,{FW}\r\n,ceasn:Competency,B,{FW}\r\n{FW},ceasn:CompetencyFramework,,\r\n",
    )
    clean = write(tmp_path / "clean.csv", HIST.read_text("utf-8"))
    code, out, err = run_cli("fix", str(needs), str(clean))
    assert (code, err) == (1, "")
    assert out == f"{needs}: minted 2 CTIDs, moved 1 row\n"
    text = needs.read_bytes().decode("utf-8")
    ids = [ctid for ctid in CTID.findall(text) if ctid != FW]
    assert len(ids) == 2 and len(set(ids)) == 2
    assert text == (
        "@id,@type,ceasn:competencyText,ceasn:isTopChildOf\r\n"
        f"{FW},ceasn:CompetencyFramework,,\r\n"
        f"{ids[0]},ceasn:Competency,A,{FW}\r\n{ids[1]},ceasn:Competency,B,{FW}\r\n"
    )
    assert clean.read_bytes() == HIST.read_bytes()
    assert run_cli("fix", str(needs), str(clean)) == (0, "", "")


def test_cli_check_and_diff_write_nothing(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    before = f"@id,@type,ceasn:competencyText,ceasn:isTopChildOf\n{C1},ceasn:Competency, A ,{FW}\n"
    path = write(tmp_path / "f.csv", before)
    assert run_cli("fix", "--check", str(path)) == (1, f"{path}: would fix: trimmed 1 cell\n", "")
    code, out, err = run_cli("fix", "--diff", str(path))
    assert (code, err) == (1, f"{path}: would fix: trimmed 1 cell\n")
    assert out == (
        f"--- a/{path}\n+++ b/{path}\n@@ -1,2 +1,2 @@\n"
        " @id,@type,ceasn:competencyText,ceasn:isTopChildOf\n"
        f"-{C1},ceasn:Competency, A ,{FW}\n"
        f"+{C1},ceasn:Competency,A,{FW}\n"
    )
    assert path.read_text("utf-8") == before


def test_cli_reports_unreadable_files_and_leaves_them_untouched(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"@id,@type,ceasn:name\n,ceasn:CompetencyFramework,Caf\xe9\n")
    other = write(tmp_path / "prices.csv", "item,price\ntea, 2\n")
    good = write(tmp_path / "good.csv", f"@id,@type,ceasn:competencyText\n,ceasn:Competency,{C1}\n")
    code, out, err = run_cli("fix", str(latin), str(other), str(good))
    assert code == 1  # problems found, as validate says (2 is only for unusable input)
    assert err == (
        f"{latin}:2: cannot fix: The file is not UTF-8: byte 0xE9 on line 2 is not UTF-8 (in Windows-1252"
        " it would be 'é': the file was probably saved as 'CSV (Comma delimited)') [not-utf8]\n"
        f"{other}:1: cannot fix: The first row is not a header of CTDL-ASN column names: no known column:"
        " not a framework CSV [no-header]\n"
    )
    assert out == f"{good}: minted 1 CTID\n"
    assert latin.read_bytes() == b"@id,@type,ceasn:name\n,ceasn:CompetencyFramework,Caf\xe9\n"
    assert other.read_text("utf-8") == "item,price\ntea, 2\n"


def test_cli_reports_what_it_left_alone(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    path = write(
        tmp_path / "loop.csv",
        f"@id,@type,ceasn:competencyText,ceasn:isChildOf\n{C1},ceasn:Competency,A,{C1}\n",
    )
    assert run_cli("fix", str(path)) == (
        0,
        f"{path}:2: left alone: The parent chain loops back on itself: left in place: line 2 [cycle]\n",
        "",
    )


def test_cli_fixes_the_framework_files_of_a_directory(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "nested").mkdir()
    needs = write(
        tmp_path / "nested" / "a.csv", f"@id,@type,ceasn:competencyText\n{C1.upper()},ceasn:Competency,A\n"
    )
    write(tmp_path / "b.csv", f"@id,@type,ceasn:competencyText\n{C2},ceasn:Competency,B\n")
    write(tmp_path / "notes.txt", "not a CSV\n")
    assert run_cli("fix", str(tmp_path)) == (1, f"{needs}: lower-cased 1 cell with CTIDs\n", "")
    assert needs.read_text("utf-8") == f"@id,@type,ceasn:competencyText\n{C1},ceasn:Competency,A\n"


def test_validate_sends_temporary_keys_to_fix_and_fix_clears_them() -> None:
    text = (
        "@id,@type,ceasn:competencyText,ceasn:isTopChildOf,ceasn:isChildOf\n"
        f"{FW},ceasn:CompetencyFramework,,,\n"
        f"new:top,ceasn:Competency,Top,{FW},\n"
        f"{C1},ceasn:Competency,Child,,new:top\n"
    )

    def temporary(text: str) -> list[tuple[int, str | None, str]]:
        table, _ = read_table("f.csv", text.encode())
        assert table is not None
        problems = check_table(table, load_schema(), Config(root=Path(".")))
        return [(p.line, p.cell, p.hint) for p in problems if p.code == "temporary-id"]

    assert temporary(text) == [
        (
            3,
            "A3",
            "Run `competency-ci fix`: it replaces the key with a minted CTID everywhere the file uses it.",
        )
    ]
    fixed = fix(text).text
    assert fixed == text.replace("new:top", minted(1))
    assert temporary(fixed) == []


# --- the samples ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(SAMPLES.rglob("*.csv")), ids=lambda p: p.name)
def test_samples_need_no_fix(path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    """CE's and CASS's own files are already in fix's normal form: `--check` and `--diff` are silent."""
    before = path.read_bytes()
    assert run_cli("fix", "--check", str(path)) == (0, "", "")
    assert run_cli("fix", "--diff", str(path)) == (0, "", "")
    assert fix_text(before.decode("utf-8")).text == before.decode("utf-8")
    assert path.read_bytes() == before
