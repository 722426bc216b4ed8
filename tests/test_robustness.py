"""Robustness: whatever bytes arrive, validation reports problems with locations and never raises.

Property-based (hypothesis): random bytes, and random CSV-shaped text built from real column names
and junk, with quotes, ``|``, line breaks (LF, CR, CRLF), BOMs, NULs and bytes that are not UTF-8.
Both the pure core (``read_table`` + ``check_table``) and the whole command (``main``) run on each.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from competency_ci.cli.main import main
from competency_ci.frameworks.checks import bulk
from competency_ci.frameworks.config import Config
from competency_ci.frameworks.problems import Problem
from competency_ci.frameworks.table import read_table
from competency_ci.frameworks.validate import check_table, validate_paths
from competency_ci.schema import load_schema

SCHEMA = load_schema()
NAMES = list(SCHEMA.columns)
VALUES = [
    *(c.example for c in SCHEMA.columns.values()),
    *SCHEMA.row_types,
    "sample",
    "Instruction: fill in",
    "ce-1234",
    "CE-8503CDE5-7F91-46A2-B225-9B453D1E0AFD",
    "new-key",
    "=SUM(A1:A2)",
    "a||b",
    "|",
    " padded ",
    "",
]
JUNK = st.text(alphabet=st.sampled_from(list('ab ,;"|\t\n\r\x00\ufeff\u00e9—')), max_size=12)
SETTINGS = settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One directory (with an empty configuration, so no repository files are indexed) for all examples."""
    directory = tmp_path_factory.mktemp("robust")
    (directory / ".competency-ci.yaml").write_text("", encoding="utf-8")
    return directory


def quote_cell(cell: str, style: int) -> str:
    if style == 0:
        return cell  # raw, possibly breaking the CSV shape: that is the point
    return '"' + cell.replace('"', '""' if style == 1 else '"') + '"'


@st.composite
def csv_shaped(draw: st.DrawFn) -> bytes:
    cell = st.one_of(st.sampled_from(VALUES), JUNK)
    header = draw(st.lists(st.one_of(st.sampled_from(NAMES), JUNK), min_size=1, max_size=8))
    width = len(header)
    body = st.lists(st.lists(cell, min_size=max(0, width - 2), max_size=width + 2), max_size=6)
    rows = [header, *draw(body)]
    styles = st.integers(0, 2)
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = newline.join(",".join(quote_cell(c, draw(styles)) for c in row) for row in rows)
    if draw(st.booleans()):
        text += newline
    data = text.encode("utf-8")
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    if draw(st.integers(0, 4)) == 0 and data:
        at = draw(st.integers(0, len(data) - 1))
        data = data[:at] + draw(st.sampled_from([b"\xff", b"\xe9", b"\xc3", b"\x00"])) + data[at:]
    return data


def physical_lines(data: bytes) -> int:
    return data.count(b"\n") + data.count(b"\r") + 1


def assert_located(problems: list[Problem], data: bytes) -> None:
    for p in problems:
        assert 1 <= p.line <= physical_lines(data), p
        assert p.row is None or p.row >= 1, p
        assert (p.column is None) == (p.index is None), p


def check_everything(data: bytes, workdir: Path) -> None:
    # The pure core.
    table, problems = read_table("x.csv", data)
    if table is not None:
        problems += check_table(table, SCHEMA, Config(root=workdir))
    assert_located(problems, data)
    # The bulk acceptor settles a file only when the precise checks find nothing in it.
    assert bulk.settle("x.csv", data, SCHEMA) is None or problems == []
    # The file-level API, on a real file.
    path = workdir / "x.csv"
    path.write_bytes(data)
    config = Config(root=workdir)
    result = validate_paths([str(path)], config)
    assert_located(result.problems, data)
    assert result.exit_code() in (0, 1, 2)
    # The command, in-process, in every output format.
    for fmt in ("text", "json", "github"):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(
                ["validate", "--config", str(workdir / ".competency-ci.yaml"), "--format", fmt, str(path)]
            )
        assert code in (0, 1, 2), (code, err.getvalue())
        assert "Traceback" not in err.getvalue()
        if fmt == "json":
            report = json.loads(out.getvalue())
            assert all(p["line"] >= 1 for p in report["problems"])
            assert code == (1 if any(p["level"] == "error" for p in report["problems"]) else 0)


@SETTINGS
@given(data=st.binary(max_size=600))
def test_random_bytes_never_raise(workdir: Path, data: bytes) -> None:
    check_everything(data, workdir)


@SETTINGS
@given(data=csv_shaped())
def test_random_csv_shaped_text_never_raises(workdir: Path, data: bytes) -> None:
    check_everything(data, workdir)


@pytest.mark.parametrize(
    ("data", "found"),
    [
        (b"", [("empty-file", 1, None)]),
        (b"\x00\x00\x00", [("no-header", 1, None)]),
        (b"@id|@type|ceasn:name\n", [("not-comma-delimited", 1, None)]),
        (b"@id,@type\n\xff\xfe,x\n", [("not-utf8", 2, None)]),
        (b"a,b\n1,2,3\n", [("too-many-cells", 2, None), ("no-header", 1, None)]),
        (
            b"\xef\xbb\xbf@id,@type\r\nce-1,ceasn:Competency\r\n\r\n",
            [
                ("blank-row", 3, None),
                ("missing-column", 1, None),
                ("bad-ctid", 2, "A2"),
                ("orphan-competency", 2, "A2"),
            ],
        ),
    ],
)
def test_edge_inputs_are_reported_with_a_line(
    workdir: Path, data: bytes, found: list[tuple[str, int, str | None]]
) -> None:
    """A few fixed inputs, so the properties above are anchored to known outcomes."""
    table, problems = read_table("x.csv", data)
    if table is not None:
        problems += check_table(table, SCHEMA, Config(root=workdir))
    assert [(p.code, p.line, p.cell) for p in problems] == found
