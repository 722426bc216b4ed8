"""The validator's checks, one module per layer: header, cells (row by row), structure (across rows).

Every check reads its rules from the template schema (``competency_ci.schema``); none keeps its own
list of columns, patterns or vocabularies.
"""

from __future__ import annotations

import json

from competency_ci.frameworks.codes import problem
from competency_ci.frameworks.problems import Problem
from competency_ci.frameworks.table import Record, Table


def quote(value: str, limit: int = 80) -> str:
    """A value as shown in messages: quoted, escapes visible, long values shortened."""
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return json.dumps(value, ensure_ascii=False)


def cell_problem(
    code: str, table: Table, record: Record, index: int | None, detail: str = "", hint: str | None = None
) -> Problem:
    """A problem located at one record's cell (or the whole record when ``index`` is None)."""
    return problem(
        code,
        table.path,
        record.line,
        detail=detail,
        hint=hint,
        row=record.row,
        column=None if index is None else table.header[index],
        index=index,
    )
