"""File-level problems and robust reading (BOM, CRLF, quoted cells spanning lines), through the
validator, with exact lines."""

from __future__ import annotations

from validate_support import C2, FW, GOOD, check, found, set_cell


def test_bom_and_crlf_file_is_clean() -> None:
    data = b"\xef\xbb\xbf" + GOOD.replace("\n", "\r\n").encode()
    assert check(data) == []


def test_lines_after_a_multi_line_cell_are_physical_lines() -> None:
    text = set_cell(GOOD, 3, "ceasn:competencyText", "Wash hands:\nsoap,\nwater")
    text = text.replace("Use a towel", "=towel")
    data = b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode()
    (p,) = check(data)
    assert (p.code, p.line, p.row, p.cell) == ("formula", 7, 5, "I5")


def test_not_utf8_names_the_line() -> None:
    data = GOOD.replace("Dry hands", "Dry h\xe4nds").encode("cp1252")
    assert found(data) == {("not-utf8", 4, None)}
    (p,) = check(data)
    assert "byte 0xE4 on line 4 is not UTF-8" in p.message


def test_not_comma_delimited() -> None:
    assert found(GOOD.replace(",", ";")) == {("not-comma-delimited", 1, None)}


def test_empty_file() -> None:
    assert found("") == {("empty-file", 1, None)}
    assert found("\n\n") == {("empty-file", 1, None)}


def test_blank_row() -> None:
    text = GOOD.replace(f"{C2},", f"\n{C2},")
    assert found(text) == {("blank-row", 4, None)}
    assert found(GOOD.replace(f"{C2},", f",,,,,,,,,,\n{C2},")) == {("blank-row", 4, None)}


def test_one_final_line_break_is_normal_but_two_make_a_blank_row() -> None:
    assert check(GOOD.rstrip("\n")) == []
    assert found(GOOD + "\n") == {("blank-row", 6, None)}


def test_too_many_and_too_few_cells() -> None:
    assert found(GOOD.replace(f"Wash hands,{FW},\n", f"Wash hands,{FW},,\n")) == {("too-many-cells", 3, None)}
    assert found(GOOD.replace(f"Wash hands,{FW},\n", f"Wash hands,{FW}\n")) == {("too-few-cells", 3, None)}


def test_unclosed_quote_is_reported_where_it_opens() -> None:
    text = GOOD.replace("Dry hands", '"Dry hands')
    assert found(text) == {("malformed-csv", 4, None)}
    (p,) = check(text)
    assert "opened in the row starting on line 4 is never closed" in p.message


def test_text_after_a_closing_quote_is_malformed() -> None:
    text = GOOD.replace("Dry hands", '"Dry" hands')
    assert found(text) == {("malformed-csv", 4, None)}
    assert found(GOOD.replace("Dry hands", 'Dry 5" hands')) == set()
