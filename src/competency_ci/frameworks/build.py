"""Building the framework model from a validated table.

The model is built only from a table without errors: the validator decides what is valid, and this
module refuses anything else (``InvalidFrameworks``) instead of guessing. Which columns are
structure (identity and hierarchy) and which are properties, how values split and which short
forms expand all come from the schema descriptor.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import cast

from competency_ci.frameworks.codes import problem
from competency_ci.frameworks.config import Config
from competency_ci.frameworks.model import Competency, Framework, Value
from competency_ci.frameworks.problems import Level, Problem
from competency_ci.frameworks.table import Record, Table, read_table
from competency_ci.frameworks.validate import apply_levels, check_table
from competency_ci.schema import COLLECTION, COMPETENCY, FRAMEWORK, Column, TemplateSchema, load_schema

STRUCTURE_KINDS = frozenset({"id", "type", "ctid"})


class InvalidFrameworks(Exception):
    """The table has errors, so no model is built; ``problems`` says why (errors first)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        errors = [p for p in problems if p.level is Level.ERROR]
        first = errors[0] if errors else (problems[0] if problems else None)
        where = f": {first.path}:{first.line}: {first.message}" if first else ""
        super().__init__(f"{len(errors)} error(s){where}")

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level is Level.ERROR]


@cache
def ctid_pattern() -> re.Pattern[str]:
    """The descriptor's CTID pattern (the ``ctid`` column's), the one definition of a CTID."""
    column = next(c for c in load_schema().columns.values() if c.kind == "ctid")
    assert column.pattern is not None
    return column.pattern


def is_ctid(value: str) -> bool:
    return ctid_pattern().fullmatch(value) is not None


def is_structure(column: Column) -> bool:
    """Identity and hierarchy columns: they become the model's links, not properties."""
    return column.kind in STRUCTURE_KINDS or column.references is not None


def parse_value(column: Column, cell: str, separator: str = "|") -> Value | None:
    """A cell as the model holds it: trimmed, split if multi-valued, short forms expanded."""
    cell = cell.strip()
    if not cell:
        return None
    if column.multiple:
        values = [_normalise(column, piece.strip()) for piece in cell.split(separator)]
        values = [v for v in values if v]
        return values or None
    return _normalise(column, cell)


def _normalise(column: Column, value: str) -> str:
    if column.vocabulary and value in column.vocabulary:
        return column.vocabulary[value]
    if column.kind in ("ctid", "ctid-or-uri") and is_ctid(value):
        return value.lower()
    return value


def build_frameworks(
    table: Table, schema: TemplateSchema, config: Config, *, read_problems: list[Problem] | None = None
) -> list[Framework]:
    """The frameworks of a table, or ``InvalidFrameworks`` if the validator reports errors.

    ``read_problems``: what reading the file reported (they count too).
    """
    problems = (read_problems or []) + check_table(table, schema, config)
    if any(p.level is Level.ERROR for p in problems):
        raise InvalidFrameworks(_errors_first(problems))
    return assemble(table, schema)


def load_frameworks(path: str | Path, config: Config, *, data: bytes | None = None) -> list[Framework]:
    """Read, check and build one file (``data`` given when the bytes come from elsewhere, e.g. git).

    Raises ``OSError`` when the file cannot be read and ``InvalidFrameworks`` when it has errors.
    """
    name = str(path)
    raw = Path(path).read_bytes() if data is None else data
    table, read_problems = read_table(name, raw)
    read_problems = apply_levels(read_problems, config)
    if table is None:
        raise InvalidFrameworks(_errors_first(read_problems))
    return build_frameworks(table, load_schema(), config, read_problems=read_problems)


def _errors_first(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (-p.level.rank, p.line))


class _Row:
    """A data row while the model is assembled: its object and its raw references."""

    __slots__ = ("obj", "record", "refs", "row_type")

    def __init__(self, record: Record, row_type: str, obj: Framework | Competency) -> None:
        self.record = record
        self.row_type = row_type
        self.obj = obj
        self.refs: dict[str, str] = {}


class _Resolver:
    """Finds reference targets the way CASS does: the identical (trimmed) text of the target's ``@id``."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.by_id: dict[str, _Row] = {}

    def add(self, id_: str, row: _Row) -> None:
        self.by_id.setdefault(id_, row)

    def target(self, row: _Row, column: str, want: str) -> _Row | None:
        value = row.refs.get(column)
        if value is None:
            return None
        found = self.by_id.get(value)
        if found is None or found.row_type != want:
            code = "dangling-reference" if found is None else "reference-wrong-type"
            raise self.invalid(code, row, detail=value)
        return found

    def invalid(self, code: str, row: _Row, detail: str = "") -> InvalidFrameworks:
        record = row.record
        return InvalidFrameworks([problem(code, self.path, record.line, row=record.row, detail=detail)])


def assemble(table: Table, schema: TemplateSchema) -> list[Framework]:
    """Build the model from a table the validator passed.

    Structural impossibilities (a reference to nothing, a competency outside any framework) still
    raise ``InvalidFrameworks`` rather than produce a half-built model, in case a rule was set off.
    """
    path = table.path
    id_col, type_col = table.col("@id"), table.col("@type")
    if id_col is None or type_col is None:
        missing = "missing-id-column" if id_col is None else "missing-type-column"
        raise InvalidFrameworks([problem(missing, path, table.header_line)])
    ctid_col = table.col("ceterms:ctid")
    order = {name: i for i, name in enumerate(schema.columns)}
    known = sorted(
        ((i, schema.columns[name]) for name, i in table.index.items() if name in schema.columns),
        key=lambda ic: order[ic[1].name],
    )
    # (index, column, plain): plain single values need only trimming (the common case, kept fast)
    props = [(i, c, _is_plain(c)) for i, c in known if not is_structure(c)]
    refs = [(i, c) for i, c in known if c.references is not None]
    separator = schema.separator

    resolver = _Resolver(path)
    frameworks: list[Framework] = []
    competencies: list[_Row] = []
    for record in table.records:
        type_value = record.get(type_col).strip()
        row_type = schema.row_type(type_value)
        if row_type is None and schema.is_template_row(type_value):
            continue
        id_ = record.get(id_col).strip()
        if row_type is None or not id_:
            code = "missing-id" if row_type is not None else "unknown-type"
            raise InvalidFrameworks([problem(code, path, record.line, row=record.row)])
        if row_type == COLLECTION:
            continue  # a collection file's rows: `frameworks.collection` builds them
        ctid = record.get(ctid_col).strip() if ctid_col is not None else ""
        if not ctid and is_ctid(id_):
            ctid = id_
        properties: dict[str, Value] = {}
        cells, width = record.cells, len(record.cells)
        for i, column, plain in props:
            if i < width and cells[i]:
                value = cells[i].strip() if plain else parse_value(column, cells[i], separator)
                if value:
                    properties[column.name] = value
        obj: Framework | Competency
        if row_type == FRAMEWORK:
            obj = Framework(ctid.lower(), id_, record.line, path, properties)
            frameworks.append(obj)
        else:
            obj = Competency(ctid.lower(), id_, record.line, properties)
        row = _Row(record, row_type, obj)
        for i, column in refs:
            if i < width and cells[i]:
                value = cells[i].strip()
                if value:
                    row.refs[column.name] = value
        if row_type == COMPETENCY:
            competencies.append(row)
        resolver.add(id_, row)

    for row in competencies:
        parent = resolver.target(row, "ceasn:isChildOf", COMPETENCY)
        if parent is not None:
            comp, parent_comp = cast(Competency, row.obj), cast(Competency, parent.obj)
            comp.parent = parent_comp
            parent_comp.children.append(comp)
    for row in competencies:
        comp = cast(Competency, row.obj)
        parent_fw = comp.parent.framework if comp.parent is not None else None
        own = "ceasn:isPartOf" in row.refs or "ceasn:isTopChildOf" in row.refs
        if parent_fw is not None and not own:
            comp.framework = parent_fw  # parents come first: their framework is known
        else:
            comp.framework = _framework_of(row, resolver)
        comp.framework.competencies.append(comp)
    return frameworks


def _is_plain(column: Column) -> bool:
    return not (column.multiple or column.vocabulary or column.kind in ("ctid", "ctid-or-uri"))


def _framework_of(row: _Row, resolver: _Resolver) -> Framework:
    """``isPartOf``, else ``isTopChildOf``, else the nearest ancestor's (cycle-safe)."""
    current: _Row | None = row
    visited: set[int] = set()
    while current is not None:
        if id(current) in visited:
            raise resolver.invalid("cycle", row)
        visited.add(id(current))
        for column in ("ceasn:isPartOf", "ceasn:isTopChildOf"):
            found = resolver.target(current, column, FRAMEWORK)
            if found is not None:
                assert isinstance(found.obj, Framework)
                return found.obj
        current = resolver.target(current, "ceasn:isChildOf", COMPETENCY)
    raise resolver.invalid("orphan-competency", row)
