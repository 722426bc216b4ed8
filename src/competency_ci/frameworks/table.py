"""Reading a framework CSV into a Table, reporting shape problems instead of raising.

Strict where CASS is strict (comma delimiter, UTF-8 with or without BOM); every record keeps the
physical line it starts on, because quoted cells may span lines.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property

from competency_ci.frameworks.codes import problem
from competency_ci.frameworks.problems import Problem

csv.field_size_limit(sys.maxsize)

_OTHER_DELIMITERS = {";": "semicolon", "\t": "tab", "|": "pipe"}


@dataclass(slots=True)
class Record:
    """One data row: ``line`` is the physical line it starts on, ``row`` its spreadsheet row."""

    line: int
    row: int
    cells: list[str]

    def get(self, index: int) -> str:
        return self.cells[index] if index < len(self.cells) else ""


@dataclass
class Table:
    """A framework CSV as read: its header and its records, with their line numbers."""

    path: str
    header: list[str]
    records: list[Record]
    header_line: int = 1
    bom: bool = False
    newline: str = "\n"
    final_newline: bool = False
    text: str = field(default="", repr=False)
    index: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not self.index:
            for i, name in enumerate(self.header):
                self.index.setdefault(name, i)

    def col(self, name: str) -> int | None:
        return self.index.get(name)

    @cached_property
    def lines(self) -> list[str]:
        """The physical lines (split once: a report may ask for thousands of columns)."""
        return self.text.splitlines()

    def char_column(self, line: int, index: int) -> int:
        """1-based character column where cell ``index`` starts on physical ``line`` (for GitHub)."""
        lines = self.lines
        if not 1 <= line <= len(lines):
            return 1
        text = lines[line - 1]
        if line == 1 and text.startswith("\ufeff"):
            text = text[1:]
        field_no, quoted = 0, False
        if index == 0:
            return 1
        for pos, ch in enumerate(text):
            if ch == '"':
                quoted = not quoted
            elif ch == "," and not quoted:
                field_no += 1
                if field_no == index:
                    return pos + 2
        return 1


_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Compound File Binary: Excel 97-2003 .xls
_ZIP = b"PK\x03\x04"


def workbook_kind(data: bytes) -> str | None:
    """What kind of workbook the bytes are, by their magic bytes (None: not a workbook). An .xlsx
    is a zip archive with an ``xl/`` folder, an .ods one whose ``mimetype`` entry says so; without
    this check their bytes are misread as a Windows-1252 text."""
    if data.startswith(_OLE):
        return "an Excel 97-2003 workbook (.xls)"
    if not data.startswith(_ZIP):
        return None
    if b"application/vnd.oasis.opendocument.spreadsheet" in data[:200]:
        return "an OpenDocument spreadsheet (.ods)"
    if b"xl/" in data:
        return "an Excel workbook (.xlsx)"
    return "a zip archive, as workbooks are (.xlsx, .ods, .numbers)"


def decode(path: str, data: bytes) -> tuple[str | None, bool, list[Problem]]:
    """UTF-8 text (BOM removed), whether there was a BOM, and an encoding problem if any."""
    kind = workbook_kind(data)
    if kind is not None:
        return None, False, [problem("workbook-not-csv", path, 1, detail=f"it is {kind}")]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return (
            None,
            False,
            [problem("not-utf8", path, 1, detail="the file is UTF-16 (Excel's 'Unicode Text')")],
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        byte = data[exc.start]
        detail = f"byte 0x{byte:02X} on line {line} is not UTF-8"
        try:
            guess = data[exc.start : exc.start + 1].decode("cp1252")
            detail += (
                f" (in Windows-1252 it would be {guess!r}: the file was probably saved as"
                " 'CSV (Comma delimited)')"
            )
        except UnicodeDecodeError:
            pass
        return None, False, [problem("not-utf8", path, line, detail=detail)]
    bom = text.startswith("\ufeff")
    return (text[1:] if bom else text), bom, []


def _delimiter_problem(path: str, first_line: str) -> Problem | None:
    unquoted = first_line
    if '"' in first_line:
        parts = first_line.split('"')
        unquoted = "".join(parts[::2])
    commas = unquoted.count(",")
    for delimiter, name in _OTHER_DELIMITERS.items():
        if unquoted.count(delimiter) > commas:
            return problem("not-comma-delimited", path, 1, detail=f"the header is {name}-delimited")
    return None


def _lines(text: str) -> Iterator[str]:
    """The text's lines with their endings (CR LF stays whole): csv.reader over these needs far
    less memory than over a StringIO, which holds a 4-byte-per-character copy of the file."""
    parts = text.split("\n")
    last = parts.pop()
    for part in parts:
        yield part + "\n"
    if last:
        yield last


def _one_line_records(text: str) -> list[list[str]] | None:
    """The records, when each is one line of its own and none is blank (most files); otherwise,
    or on any CSV error, None: the reader below then says where and what."""
    if "\n" not in text:
        return None
    parts = text.split("\n")
    if not parts[-1]:
        parts.pop()
    reader = csv.reader(parts, strict=True)
    try:
        rows = list(reader)
    except csv.Error:
        return None
    # (a quoted cell that spans lines makes fewer records than lines; `any`: no blank record)
    if not rows or reader.line_num != len(rows) or not all(map(any, rows)):
        return None
    return rows


def _simple_table(path: str, text: str, rows: list[list[str]], bom: bool, newline: str) -> Table:
    """The table of one-line records (record ``k`` is line and spreadsheet row ``k + 1``)."""
    numbers = range(2, len(rows) + 1)
    return Table(
        path=path,
        header=rows[0],
        records=list(map(Record, numbers, numbers, rows[1:])),
        bom=bom,
        newline=newline,
        final_newline=text.endswith(("\n", "\r")),
        text=text,
    )


def _ragged(path: str, rows: list[list[str]]) -> list[Problem]:
    """Records with more or fewer cells than the header (of one-line records)."""
    width = len(rows[0])
    if all(map(width.__eq__, map(len, rows))):
        return []
    found = []
    for line, cells in enumerate(rows[1:], start=2):
        if len(cells) != width:
            code = "too-many-cells" if len(cells) > width else "too-few-cells"
            detail = f"{len(cells)} cells, header has {width}"
            found.append(problem(code, path, line, row=line, detail=detail))
    return found


def read_table(path: str, data: bytes) -> tuple[Table | None, list[Problem]]:
    """Parse ``data``; returns (None, problems) when the file cannot be used at all."""
    text, bom, problems = decode(path, data)
    if text is None:
        return None, problems
    if not text.strip():
        return None, [problem("empty-file", path, 1)]
    newline = "\r\n" if "\r\n" in text else ("\r" if "\r" in text and "\n" not in text else "\n")
    first_line = text.split("\n", 1)[0]
    delimiter_issue = _delimiter_problem(path, first_line)
    if delimiter_issue:
        return None, [delimiter_issue]

    simple = _one_line_records(text)
    if simple is not None:  # the usual file: the same rows, in one pass in C
        return _simple_table(path, text, simple, bom, newline), problems + _ragged(path, simple)

    lines = _lines(text) if "\n" in text else io.StringIO(text, newline="")
    # strict: an unterminated quote or text after a closing quote is reported where it starts,
    # instead of silently swallowing the rest of the file into one cell.
    reader = csv.reader(lines, strict=True)
    header: list[str] | None = None
    header_line = 1
    records: list[Record] = []
    row = 1
    start = 1
    try:
        for cells in reader:
            end = reader.line_num
            if not cells or not (cells[0] or any(cells)):
                if header is None:
                    problems.append(problem("no-header", path, start))
                    return None, problems
                problems.append(problem("blank-row", path, start, row=row + 1))
                row += 1
                start = end + 1
                continue
            if header is None:
                header, header_line = cells, start
            else:
                row += 1
                records.append(Record(start, row, cells))
                if len(cells) != len(header):
                    code = "too-many-cells" if len(cells) > len(header) else "too-few-cells"
                    problems.append(
                        problem(
                            code, path, start, row=row, detail=f"{len(cells)} cells, header has {len(header)}"
                        )
                    )
            start = end + 1
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            detail = f"a quoted cell opened in the row starting on line {start} is never closed"
            line = start
        else:
            detail = f"{exc} on line {reader.line_num}: quote the whole cell and double any quote inside it"
            line = reader.line_num or start
        problems.append(problem("malformed-csv", path, line, detail=detail))
        return None, problems
    if header is None:
        return None, [*problems, problem("empty-file", path, 1)]
    table = Table(
        path=path,
        header=header,
        records=records,
        header_line=header_line,
        bom=bom,
        newline=newline,
        final_newline=text.endswith(("\n", "\r")),
        text=text,
    )
    return table, problems
