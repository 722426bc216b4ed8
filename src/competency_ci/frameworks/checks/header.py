"""Header checks: which column each header cell is, and what is wrong with the header row."""

from __future__ import annotations

from dataclasses import dataclass, field

from competency_ci.frameworks.checks import quote
from competency_ci.frameworks.codes import problem
from competency_ci.frameworks.problems import Problem, column_letter
from competency_ci.frameworks.table import Table
from competency_ci.schema import Column, TemplateSchema

# The labels CE's template puts in its helper column A (one per row, saying what the row/tier is).
HELPER_LABELS = (
    "required",
    "required if available",
    "recommended benchmark",
    "benchmark",
    "optional",
    "sample",
    "instruction",
)


@dataclass
class Header:
    """The header resolved against the schema: ``columns[i]`` is the Column of cell ``i``, or None
    when the cell is not a usable column (unknown, duplicate, or the helper column)."""

    columns: list[Column | None]
    helper: bool = False
    positions: dict[str, int] = field(default_factory=dict)

    def position(self, name: str) -> int | None:
        return self.positions.get(name)


def _looks_like_label(value: str) -> bool:
    lowered = value.strip().lower()
    return any(lowered.startswith(label) for label in HELPER_LABELS)


def is_helper_column(table: Table, schema: TemplateSchema | None = None) -> bool:
    """Whether column A is the template's helper column (CE says to delete it before upload).

    It is when every value in it is one of the template's guidance labels ("Required",
    "Recommended benchmark", "Sample", ...) and its header is empty (then it may also be empty)
    or no known column. Data under an empty header is not the helper's: `fix` deletes the helper.
    """
    if not table.header:
        return False
    name = table.header[0].strip()
    if name:
        if schema is None:
            from competency_ci.schema import load_schema

            schema = load_schema()
        if name in schema.columns:
            return False  # decided by the header alone: column A's values are never read
    values = [v for v in (r.get(0) for r in table.records) if v.strip()]
    if not name:
        return all(_looks_like_label(v) for v in values)
    return bool(values) and all(_looks_like_label(v) for v in values)


def suggest(name: str, schema: TemplateSchema) -> str | None:
    """The column a user probably meant: same name in another case, a field title, a name without
    its prefix, or a near spelling."""
    lowered = name.strip().lower()
    if not lowered:
        return None
    for column in schema.columns.values():
        if column.name.lower() == lowered or column.title.lower() == lowered:
            return column.name
    for column in schema.columns.values():
        if column.name.split(":", 1)[-1].lower() == lowered.split(":", 1)[-1]:
            return column.name
    import difflib  # only for an unknown column: off the start-up path

    by_lower = {c.name.lower(): c.name for c in schema.columns.values()}
    close = difflib.get_close_matches(lowered, list(by_lower), n=1, cutoff=0.8)
    return by_lower[close[0]] if close else None


def check_header(table: Table, schema: TemplateSchema) -> tuple[Header, list[Problem]]:
    path, line = table.path, table.header_line
    problems: list[Problem] = []
    helper = is_helper_column(table, schema)
    columns: list[Column | None] = []
    positions: dict[str, int] = {}
    for i, raw in enumerate(table.header):
        name = raw.strip()
        if i == 0 and helper:
            problems.append(
                problem(
                    "helper-column",
                    path,
                    line,
                    detail=f"column A is {quote(raw)}",
                    row=1,
                    column=raw,
                    index=0,
                )
            )
            columns.append(None)
            continue
        if raw != name:
            problems.append(
                problem("column-spaces", path, line, detail=quote(raw), row=1, column=raw, index=i)
            )
        column = schema.get(name)
        if column is None:
            guess = suggest(name, schema)
            detail = quote(raw) + (f" (did you mean {guess}?)" if guess else "")
            hint = f"Rename it to {guess}, or delete it." if guess else None
            problems.append(
                problem("unknown-column", path, line, detail=detail, hint=hint, row=1, column=raw, index=i)
            )
        elif name in positions:
            other = positions[name]
            problems.append(
                problem(
                    "duplicate-column",
                    path,
                    line,
                    detail=f"{name} is also column {column_letter(other)}",
                    row=1,
                    column=raw,
                    index=i,
                )
            )
            column = None
        else:
            positions[name] = i
        columns.append(column)
    if not positions:
        return Header(columns, helper, positions), [
            problem("no-header", path, line, detail="no known column")
        ]
    for kind, code in (("id", "missing-id-column"), ("type", "missing-type-column")):
        if not any(c.kind == kind and c.name in positions for c in schema.columns.values()):
            problems.append(problem(code, path, line, row=1))
    return Header(columns, helper, positions), problems
