"""`read_table` reads most files in one pass in C (one record per line, none blank) and the rest
record by record: both ways give the same table and problems, to the line."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from competency_ci.frameworks import table as table_module
from competency_ci.frameworks.table import read_table

# CSV-shaped text: the characters that matter to the reader, and a few others
TEXT = st.text(alphabet=st.sampled_from(list('ab ,"\n\r|=é\x00')), max_size=60)


def careful(data: bytes, monkeypatch: pytest.MonkeyPatch) -> object:
    with monkeypatch.context() as patch:
        patch.setattr(table_module, "_one_line_records", lambda text: None)
        return read_table("f.csv", data)


@settings(max_examples=800, deadline=None)
@given(text=TEXT)
def test_the_fast_read_is_the_careful_read(text: str) -> None:
    data = ("@id,@type,x\n" + text).encode()
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert read_table("f.csv", data) == careful(data, monkeypatch)


@pytest.mark.parametrize(
    "text,fast",
    [
        ("a,b\n1,2\n", True),
        ("a,b\r\n1,2\r\n", True),
        ("a,b\n1,2", True),
        ('a,b\n"1,x",2\n', True),
        ('a,b\n"1\nx",2\n', False),  # a cell across lines
        ("a,b\n\n1,2\n", False),  # a blank row
        ('a,b\n"1,2\n', False),  # a quote never closed
        ("a,b\r1,2\r", False),  # no line feed at all
    ],
)
def test_which_files_take_the_fast_read(text: str, fast: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    assert (table_module._one_line_records(text) is not None) is fast
    assert read_table("f.csv", text.encode()) == careful(text.encode(), monkeypatch)
