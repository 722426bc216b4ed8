"""Collection checks: a file of ``ceterms:Collection`` rows, and what their members name.

CASS's CSV importer has a separate collection mode (``CTDLASNCSVImport.js`` l.768-1244): it reads
a file as frameworks when the file has a framework row, as collections otherwise, so the two never
share a file; a competency row in collection mode becomes a new competency outside any framework.
A member (a value of a column whose descriptor says ``"members": "competency"``) is a competency of
a framework in this repository (its CTID, or its row's ``@id``) or a URI of the configured
Credential Registry; the repository's competencies come in as a ``MemberIndex``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from competency_ci.frameworks.checks import cell_problem, quote
from competency_ci.frameworks.checks.cells import RowInfo
from competency_ci.frameworks.checks.header import Header
from competency_ci.frameworks.problems import Problem
from competency_ci.frameworks.table import Table
from competency_ci.schema import COLLECTION, COMPETENCY, FRAMEWORK, Column, TemplateSchema


@dataclass
class MemberIndex:
    """What the repository's framework files define: lower-case CTID -> row type, and URL ``@id``
    -> row type (``where`` says in which file and line, for messages)."""

    ctids: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)
    where: dict[str, tuple[str, int]] = field(default_factory=dict)
    ctid_of: dict[str, str] = field(default_factory=dict)  # URL @id -> the row's CTID

    def add(self, row_type: str, path: str, line: int, ctid: str | None, id_: str) -> None:
        if ctid:
            self.ctids.setdefault(ctid.lower(), row_type)
            self.where.setdefault(ctid.lower(), (path, line))
        if id_.startswith("http"):
            self.ids.setdefault(id_, row_type)
            self.where.setdefault(id_, (path, line))
            if ctid:
                self.ctid_of.setdefault(id_, ctid.lower())

    def kind(self, value: str, is_ctid: bool) -> str | None:
        return self.ctids.get(value.lower()) if is_ctid else self.ids.get(value)


def member_columns(schema: TemplateSchema) -> list[Column]:
    """The columns whose values are a collection's members (descriptor ``members``)."""
    return [c for c in schema.columns.values() if c.extra.get("members")]


def is_collection_file(kinds: list[str | None]) -> bool:
    """CASS's choice of import mode: collections when there is a collection row and no framework."""
    return COLLECTION in kinds and FRAMEWORK not in kinds


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def check_collections(
    table: Table,
    schema: TemplateSchema,
    header: Header,
    rows: list[RowInfo],
    ctid: re.Pattern[str],
    registries: dict[str, str],
    members: MemberIndex | None,
) -> list[Problem]:
    """Mixed files, competency rows in collection files, and members that do not resolve
    (``members`` None: the caller has no view of the repository, so membership is not checked)."""
    kinds = [info.kind for info in rows]
    if COLLECTION not in kinds:
        return []
    type_index = next((header.position(c.name) for c in schema.columns.values() if c.kind == "type"), None)
    problems: list[Problem] = []
    if FRAMEWORK in kinds:
        for info in rows:
            if info.kind == COLLECTION:
                detail = "this file has framework rows, so CASS imports it as frameworks and skips this row"
                problems.append(cell_problem("collection-mixed", table, info.record, type_index, detail))
        return problems
    for info in rows:
        if info.kind == COMPETENCY:
            detail = f"{quote(info.id)} in a file of collections"
            problems.append(cell_problem("collection-competency-row", table, info.record, type_index, detail))
    hosts = {_host(url) for url in registries.values()}
    for column in member_columns(schema):
        index = header.position(column.name)
        if index is None:
            continue
        for info in rows:
            if info.kind != COLLECTION:
                continue
            problems += _members(table, info, index, column, ctid, hosts, members, schema.separator)
    return problems


def _members(
    table: Table,
    info: RowInfo,
    index: int,
    column: Column,
    ctid: re.Pattern[str],
    hosts: set[str],
    members: MemberIndex | None,
    separator: str,
) -> list[Problem]:
    record = info.record
    cell = record.get(index)
    pieces = [p.strip() for p in cell.split(separator)]
    problems: list[Problem] = []
    seen: set[str] = set()
    for piece in pieces:
        if not piece or not column.is_valid(piece):
            continue  # empty pieces and malformed values are the cell checks' to report
        is_ctid = ctid.fullmatch(piece) is not None
        key = piece.lower() if is_ctid else piece
        if key in seen:
            problems.append(cell_problem("duplicate-member", table, record, index, quote(piece)))
            continue
        seen.add(key)
        if members is None or (not is_ctid and _host(piece) in hosts):
            continue  # a registry URI (the other environment's is `wrong-registry`)
        kind = members.kind(piece, is_ctid)
        if kind is None:
            detail = f"{quote(piece)} is in no framework file of this repository"
            problems.append(cell_problem("unresolved-member", table, record, index, detail))
        elif kind != COMPETENCY:
            path, line = members.where[key]
            detail = f"{quote(piece)} is a {kind} ({path}:{line})"
            problems.append(cell_problem("member-not-competency", table, record, index, detail))
    return problems
