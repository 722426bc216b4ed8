"""`validate` and `fix` agree on every file: 2 only for unusable input (a path that does not exist or
cannot be read, a directory without framework files); a file that exists but is no usable CSV is a
problem found, with its location (1). Workbooks saved under a .csv name are recognised."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from competency_ci.frameworks.table import read_table, workbook_kind
from validate_support import GOOD


def xlsx() -> bytes:
    """A workbook as Excel lays out its zip (content types, then the package parts under xl/)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        z.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships/>')
        z.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook/>')
        z.writestr("xl/worksheets/sheet1.xml", '<?xml version="1.0"?><worksheet/>')
    return out.getvalue()


def ods() -> bytes:
    """An OpenDocument spreadsheet: its first entry, stored, is the mimetype."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED)
        z.writestr("content.xml", '<?xml version="1.0"?><office:document-content/>', zipfile.ZIP_DEFLATED)
    return out.getvalue()


XLS = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504  # a Compound File Binary header block

# name -> (bytes, validate's exit code, fix's exit code, the problem code both report)
CASES: dict[str, tuple[bytes, int, int, str | None]] = {
    "clean": (GOOD.encode(), 0, 0, None),
    "fixable": (GOOD.replace("Wash hands", "Wash hands ").encode(), 0, 1, None),  # fix changes it
    "windows-1252": (
        "@id,@type,ceasn:name\n,ceasn:CompetencyFramework,Café\n".encode("cp1252"),
        1,
        1,
        "not-utf8",
    ),
    "utf-16": ("@id,@type\n".encode("utf-16"), 1, 1, "not-utf8"),
    "xlsx": (xlsx(), 1, 1, "workbook-not-csv"),
    "xls": (XLS, 1, 1, "workbook-not-csv"),
    "ods": (ods(), 1, 1, "workbook-not-csv"),
    "empty": (b"", 1, 1, "empty-file"),
    "blank lines": (b"  \n\n", 1, 1, "empty-file"),
    "semicolons": (b"@id;@type;ceasn:name\nx;y;z\n", 1, 1, "not-comma-delimited"),
    "unclosed quote": (b'@id,@type,ceasn:name\n"x,ceasn:CompetencyFramework,z\n', 1, 1, "malformed-csv"),
    "blank first row": (b"\n@id,@type\n", 1, 1, "no-header"),
    "no CTDL-ASN column": (b"item,price\ntea, 2\n", 1, 1, "no-header"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_validate_and_fix_agree(tmp_path: Path, run_cli, name: str) -> None:  # type: ignore[no-untyped-def]
    data, validate_code, fix_code, code = CASES[name]
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    validated = run_cli("validate", str(path))
    assert validated[0] == validate_code
    assert run_cli("fix", "--check", str(path))[0] == fix_code
    fixed = run_cli("fix", str(path))
    assert fixed[0] == fix_code
    if code is not None:
        assert f"error [{code}]" in validated[1]
        assert fixed[2].startswith(f"{path}:") and fixed[2].rstrip().endswith(f"[{code}]")
        assert path.read_bytes() == data  # left untouched


@pytest.mark.parametrize("command", ["validate", "fix"])
def test_unusable_input_exits_2_in_both(tmp_path: Path, run_cli, command: str) -> None:  # type: ignore[no-untyped-def]
    assert run_cli(command, str(tmp_path / "missing.csv"))[0] == 2
    (tmp_path / "empty").mkdir()
    assert run_cli(command, str(tmp_path / "empty"))[0] == 2


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file whatever its mode")
@pytest.mark.parametrize("command", ["validate", "fix"])
def test_an_unreadable_file_exits_2_in_both(tmp_path: Path, run_cli, command: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "f.csv"
    path.write_text(GOOD)
    path.chmod(0)
    try:
        assert run_cli(command, str(path))[0] == 2
    finally:
        path.chmod(0o644)


def test_a_workbook_is_named_and_the_hint_says_how_to_save_csv_utf8(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "kitchen.csv"
    path.write_bytes(xlsx())
    code, out, err = run_cli("validate", str(path))
    assert (code, err) == (1, "")
    assert out.splitlines() == [
        f"{path}:1: error [workbook-not-csv] The file is a spreadsheet workbook, not CSV: it is an Excel"
        " workbook (.xlsx)",
        "    hint: Open it in the spreadsheet program and save it as CSV: in Excel, File > Save As > "
        "'CSV UTF-8 (Comma delimited) (*.csv)'; in LibreOffice Calc, File > Save As > 'Text CSV (.csv)' "
        "with 'Unicode (UTF-8)' and comma; in Google Sheets, File > Download > "
        "'Comma-separated values (.csv)'.",
        "1 error, 0 warnings, 0 notices in 1 file",
    ]
    assert "1252" not in out


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (xlsx(), "an Excel workbook (.xlsx)"),
        (ods(), "an OpenDocument spreadsheet (.ods)"),
        (XLS, "an Excel 97-2003 workbook (.xls)"),
        (b"PK\x03\x04\x14\x00" + b"\x00" * 40, "a zip archive, as workbooks are (.xlsx, .ods, .numbers)"),
        (GOOD.encode(), None),
        (b"PK,@id\n", None),  # a CSV may start with the letters PK
    ],
)
def test_workbook_kind(data: bytes, kind: str | None) -> None:
    assert workbook_kind(data) == kind
    table, problems = read_table("f.csv", data)
    assert (table is None) == (kind is not None)
    if kind is not None:
        assert [(p.code, p.line) for p in problems] == [("workbook-not-csv", 1)]
