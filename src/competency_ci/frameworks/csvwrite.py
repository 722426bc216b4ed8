"""The framework model as a template CSV: how a published framework comes under version control.

Rows are written parents before children (as CASS's importer needs), identity as CTIDs, hierarchy
as ``isTopChildOf``/``isChildOf`` only (``hasChild``/``hasTopChild`` are ignored on import), and only
the columns that hold a value, in the template's order.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from competency_ci.frameworks.model import Competency, Framework, Value
from competency_ci.frameworks.template import template_columns
from competency_ci.schema import COMPETENCY, FRAMEWORK, TemplateSchema, load_schema

Row = dict[str, str]


def ordered(framework: Framework) -> list[Competency]:
    """The competencies in model order if every parent precedes its children, else depth first."""
    seen: set[int] = set()
    for comp in framework.competencies:
        if comp.parent is not None and id(comp.parent) not in seen:
            return list(_depth_first(framework.top))
        seen.add(id(comp))
    return list(framework.competencies)


def _depth_first(competencies: list[Competency]) -> Iterator[Competency]:
    """Pre-order, with an explicit stack: a chain thousands deep must not hit the recursion limit."""
    stack = list(reversed(competencies))
    while stack:
        comp = stack.pop()
        yield comp
        stack.extend(reversed(comp.children))


def framework_rows(frameworks: list[Framework], schema: TemplateSchema | None = None) -> list[Row]:
    """One row per framework and competency, keyed by column name (empty cells left out)."""
    schema = schema or load_schema()
    # URIs back to their short forms, but only those CASS's CSV importer knows (a column's advice
    # says which): the others stay URIs, so that a hand upload of the file keeps them
    shorten = {
        name: {
            uri: short
            for short, uri in column.vocabulary.items()
            if column.advice is None or column.advice[0].fullmatch(short)
        }
        for name, column in schema.columns.items()
        if column.vocabulary
    }
    sep = schema.separator

    def cells(properties: dict[str, Value]) -> Row:
        row: Row = {}
        for name, value in properties.items():
            short = shorten.get(name, {})
            items = [value] if isinstance(value, str) else value
            row[name] = sep.join(short.get(v, v) for v in items)
        return row

    rows: list[Row] = []
    for fw in frameworks:
        rows.append(_head(fw.id, schema.type_for(FRAMEWORK), fw.ctid) | cells(fw.properties))
        for comp in ordered(fw):
            row = _head(comp.id, schema.type_for(COMPETENCY), comp.ctid) | cells(comp.properties)
            if comp.parent is None:
                row["ceasn:isTopChildOf"] = fw.id
            else:
                row["ceasn:isChildOf"] = comp.parent.id
            rows.append(row)
    return rows


def _head(id_: str, type_: str, ctid: str) -> Row:
    row = {"@id": id_, "@type": type_}
    if ctid:
        row["ceterms:ctid"] = ctid
    return row


def to_csv(rows: list[Row], schema: TemplateSchema | None = None) -> str:
    """CSV text: the columns that hold a value, in the order of the template (``competency-ci
    template``: ``@id``, ``@type``, framework columns, competency columns), so that a converted file
    lines up with the template its authors filled in; LF line ends, one final newline."""
    schema = schema or load_schema()
    used = {name for row in rows for name, value in row.items() if value}
    header = [c.name for c in template_columns(schema, "all") if c.name in used]
    header += sorted(used - set(header))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(name, "") for name in header])
    return out.getvalue()
