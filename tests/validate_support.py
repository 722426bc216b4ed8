"""Helpers for the validator tests: a small valid framework and a way to check CSV text."""

from __future__ import annotations

from pathlib import Path

from competency_ci.frameworks.checks.structure import CtidIndex
from competency_ci.frameworks.config import Config
from competency_ci.frameworks.problems import Problem
from competency_ci.frameworks.table import read_table
from competency_ci.frameworks.validate import check_table
from competency_ci.schema import load_schema

# Lower-case version-4 CTIDs, fixed so that expected messages can name them.
FW = "ce-5f0c7a52-3b1d-4e8a-9c2f-1d7e6b4a8c01"
C1 = "ce-0a9e3c1b-7d24-4f6e-8b15-c3d2e1f0a912"
C2 = "ce-6b2d4f8e-1c3a-4d5b-a7e9-0f1e2d3c4b23"
C3 = "ce-9c8b7a6d-5e4f-4a3b-b2c1-d0e9f8a7b634"
ORG = "ce-3e4f5a6b-7c8d-4e9f-8a0b-1c2d3e4f5a45"

HEADER = (
    "@id,@type,ceasn:name,ceasn:description,ceasn:inLanguage,ceasn:publisher,ceasn:publisherName,"
    "ceasn:dateCreated,ceasn:competencyText,ceasn:isTopChildOf,ceasn:isChildOf"
)
#        A   B     C     D            E        F          G              H            I              J    K
GOOD = (
    f"{HEADER}\n"
    f"{FW},ceasn:CompetencyFramework,Kitchen,Safe kitchen work,en,{ORG},Riverside Kitchen,2025-03-14,,,\n"
    f"{C1},ceasn:Competency,,,,,,,Wash hands,{FW},\n"
    f"{C2},ceasn:Competency,,,,,,,Dry hands,,{C1}\n"
    f"{C3},ceasn:Competency,,,,,,,Use a towel,,{C2}\n"
)


def check(
    text: str | bytes, config: Config | None = None, index: CtidIndex | None = None, path: str = "f.csv"
) -> list[Problem]:
    data = text.encode() if isinstance(text, str) else text
    table, problems = read_table(path, data)
    if table is not None:
        problems += check_table(table, load_schema(), config or Config(root=Path(".")), index=index)
    return problems


def found(text: str | bytes, **kwargs: object) -> set[tuple[str, int, str | None]]:
    """(code, physical line, column letter) of every problem."""
    return {(p.code, p.line, p.letter) for p in check(text, **kwargs)}  # type: ignore[arg-type]


def replace_line(text: str, line: int, new: str) -> str:
    lines = text.split("\n")
    lines[line - 1] = new
    return "\n".join(lines)


def _rows(text: str) -> list[list[str]]:
    import csv
    import io

    return list(csv.reader(io.StringIO(text, newline="")))


def _text(rows: list[list[str]]) -> str:
    import csv
    import io

    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def drop_column(text: str, name: str) -> str:
    rows = _rows(text)
    i = rows[0].index(name)
    return _text([r[:i] + r[i + 1 :] for r in rows])


def add_column(text: str, name: str, values: dict[int, str] | None = None) -> str:
    """Append a column; ``values`` maps physical line (of a one-line-per-row text) to the cell."""
    values = values or {}
    rows = _rows(text)
    return _text([[*rows[0], name]] + [[*r, values.get(n, "")] for n, r in enumerate(rows[1:], start=2)])


def set_cell(text: str, line: int, column: str, value: str) -> str:
    rows = _rows(text)
    rows[line - 1][rows[0].index(column)] = value
    return _text(rows)
