"""Row checks: every cell against its column's rule, requirements by row type, and row identity.

One rule per header cell is compiled from the schema once per table; the loop over records then
does as little as possible per cell (empty cells cost one test), because a pre-commit hook must
feel instant on large frameworks.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import compress

from competency_ci.checks import quote
from competency_ci.checks.header import Header
from competency_ci.codes import problem
from competency_ci.problems import Problem
from competency_ci.schema import FRAMEWORK, Column, TemplateSchema
from competency_ci.table import Record, Table

# The @type CASS accepts only in its separate collection import (csv-template.md §2.2).
COLLECTION_TYPE = "ceterms:Collection"
CTID_PREFIX = "ce-"


def is_temporary_id(value: str) -> bool:
    """A non-empty `@id` that CASS would refuse (neither ``http...`` nor ``ce-...``): for us a
    temporary key that `fix` replaces. ``CE-...`` is a CTID in the wrong case, not a key."""
    value = value.strip()
    return bool(value) and not value.startswith("http") and value[:3].lower() != CTID_PREFIX


def _looks_like_ctid(value: str) -> bool:
    return value[:3].lower() == CTID_PREFIX


@dataclass(slots=True)
class CellRule:
    """What to check in one header cell's column, compiled from its schema Column."""

    index: int
    header: str
    column: Column
    valid: Callable[[str], object] | None
    single: bool
    reference: bool


@dataclass(slots=True)
class RowInfo:
    """What the structure checks need to know about a data row."""

    record: Record
    pos: int
    id: str
    ctid: str | None
    ctid_index: int | None
    kind: str | None
    temporary: bool
    refs: list[tuple[CellRule, tuple[str, ...]]] = field(default_factory=list)

    @property
    def linked(self) -> bool:
        """Whether the row names a parent or framework at all (even one that does not resolve)."""
        return any(rule.single for rule, _ in self.refs)


def compile_rules(table: Table, header: Header) -> list[CellRule]:
    rules = []
    for index, column in enumerate(header.columns):
        if column is None:
            continue
        if column.enum is not None:
            valid: Callable[[str], object] | None = frozenset(column.enum).__contains__
        elif column.pattern is not None:
            valid = column.pattern.fullmatch
        else:
            valid = None
        rules.append(
            CellRule(
                index=index,
                header=table.header[index],
                column=column,
                valid=valid,
                single=not column.multiple,
                reference=column.references is not None,
            )
        )
    return rules


def _case_slip(value: str, allowed: list[str]) -> str | None:
    lowered = value.lower()
    return next((a for a in allowed if a.lower() == lowered), None)


def diagnose(column: Column, piece: str) -> tuple[str, str]:
    """Code and detail for a (trimmed) value that fails the column's constraint."""
    kind = column.kind
    shown = quote(piece)
    if kind == "id":
        if is_temporary_id(piece):
            return "temporary-id", shown
        return ("bad-ctid" if _looks_like_ctid(piece) else "bad-uri"), shown
    if kind == "ctid":
        return "bad-ctid", shown
    if kind in ("uri", "ctid-or-uri"):
        return ("bad-ctid" if _looks_like_ctid(piece) else "bad-uri"), shown
    if kind == "date":
        return "bad-date", shown
    if kind == "datetime":
        return "bad-datetime", shown
    if kind == "language":
        return "bad-language", shown
    if kind == "vocabulary":
        allowed = list(column.vocabulary)
        right = _case_slip(piece, allowed)
        if right:
            return "unknown-vocabulary", f"{shown} (the spelling is {right})"
        return "unknown-vocabulary", f"{shown}; use one of {', '.join(allowed)} or a full URI"
    if kind == "type":
        allowed = list(column.enum or ())
        right = _case_slip(piece, allowed)
        if right:
            return "unknown-type", f"{shown} (the spelling is {right})"
        if piece == COLLECTION_TYPE:
            return "unknown-type", f"{shown}: collection CSVs are not supported, only frameworks"
        return "unknown-type", f"{shown}; use {' or '.join(allowed)}"
    return "bad-value", shown


def is_ctid_v4(ctid: str) -> bool:
    """UUID version nibble 4 and RFC 4122 variant (``ce-xxxxxxxx-xxxx-4xxx-[89ab]xxx-...``)."""
    return ctid[17] == "4" and ctid[22] in "89abAB"


def _transpose(records: list[Record], width: int) -> list[tuple[str, ...]]:
    """The table by column (short rows padded, long rows cut): checks run column by column."""
    if not records:
        return [() for _ in range(width)]
    rows = (r.cells if len(r.cells) == width else (r.cells + [""] * width)[:width] for r in records)
    return list(zip(*rows, strict=True))


class RowChecker:
    """Checks the records of one table; ``run`` returns problems and the rows for structure checks.

    Works column by column: one compiled rule per column, applied to its non-empty cells only.
    """

    def __init__(self, table: Table, schema: TemplateSchema, header: Header) -> None:
        self.table = table
        self.schema = schema
        self.header = header
        self.rules = compile_rules(table, header)
        self.problems: list[Problem] = []
        self.separator = schema.separator
        by_kind = {c.kind: c for c in schema.columns.values() if c.kind in ("id", "type", "ctid")}
        self.id_index = header.position(by_kind["id"].name)
        self.type_index = header.position(by_kind["type"].name)
        self.ctid_column = by_kind["ctid"]
        self.ctid_index = header.position(self.ctid_column.name)
        pattern = self.ctid_column.pattern
        assert pattern is not None, "the ctid column needs a pattern"
        self.is_ctid = pattern.fullmatch
        self.columns = _transpose(table.records, len(table.header))
        self.kinds: list[str | None] = []
        self.skip: set[int] = set()
        self.temporary_keys = self._temporary_keys()
        # Requirements per row type: (column, position or None when absent from the header, tier).
        self.required: dict[str, list[tuple[Column, int | None, str]]] = {}
        for column in schema.columns.values():
            for row_type, tier in column.required_for.items():
                self.required.setdefault(row_type, []).append((column, header.position(column.name), tier))
        self.absent: Counter[tuple[str, str]] = Counter()

    def _temporary_keys(self) -> frozenset[str]:
        if self.id_index is None:
            return frozenset()
        values = (v.strip() for v in self.columns[self.id_index] if v)
        return frozenset(v for v in values if is_temporary_id(v))

    def emit(
        self, code: str, record: Record, index: int | None, detail: str = "", hint: str | None = None
    ) -> None:
        column = None if index is None else self.table.header[index]
        self.problems.append(
            problem(
                code,
                self.table.path,
                record.line,
                detail=detail,
                hint=hint,
                row=record.row,
                column=column,
                index=index,
            )
        )

    def run(self) -> tuple[list[Problem], list[RowInfo]]:
        if self.type_index is None:
            return self.problems, []
        self._types()
        refs: dict[int, list[tuple[CellRule, tuple[str, ...]]]] = {}
        for rule in self.rules:
            self._column(rule, refs)
        self._requirements()
        rows = self._identities(refs)
        self._report_absent()
        return self.problems, rows

    def _types(self) -> None:
        """Each row's type; template rows are reported once and skipped by every other check."""
        assert self.type_index is not None
        records, index = self.table.records, self.type_index
        row_type, kinds = self.schema.row_types.get, self.kinds
        for pos, value in enumerate(self.columns[index]):
            text = value.strip()
            kind = row_type(text)
            if kind is None:
                if not text:
                    self.emit("missing-type", records[pos], index)
                elif self.schema.is_template_row(text):
                    self.emit("template-row", records[pos], index, quote(text))
                    self.skip.add(pos)
            kinds.append(kind)

    def _column(self, rule: CellRule, refs: dict[int, list[tuple[CellRule, tuple[str, ...]]]]) -> None:
        """Check the non-empty cells of one column; collect reference values per row."""
        records, kinds, skip, sep = self.table.records, self.kinds, self.skip, self.separator
        i, column, valid, single, reference = rule.index, rule.column, rule.valid, rule.single, rule.reference
        applies = column.rows
        everywhere = applies.issuperset(self.schema.row_types.values())
        cells = self.columns[i]
        for pos, value in compress(enumerate(cells), cells):
            if skip and pos in skip:
                continue
            text = value.strip()
            # str.strip returns the same object when there is nothing to strip
            if text is not value and text != value:
                self.emit("cell-spaces", records[pos], i, quote(value))
                if not text:
                    continue
            if text[0] == "=":
                self.emit("formula", records[pos], i, quote(text))
            if not everywhere:
                kind = kinds[pos]
                if kind is not None and kind not in applies:
                    rows = " and ".join(sorted(applies))
                    self.emit(
                        "not-applicable", records[pos], i, f"{column.name} applies to {rows} rows, not {kind}"
                    )
                    continue
            if single and sep in text:
                if reference and column.references == kinds[pos]:
                    self.emit("multiple-parents", records[pos], i, quote(text))
                else:
                    self.emit("pipe-in-single-value", records[pos], i, quote(text))
                if reference:  # still resolved, so that the row's place in the hierarchy is known
                    pieces = tuple(p for p in (s.strip() for s in text.split(sep)) if p)
                    refs.setdefault(pos, []).append((rule, pieces))
                continue
            bad: set[str] = set()
            if valid is not None and not valid(text):
                bad = self._diagnose(records[pos], rule, text)
            elif not single and sep in text and any(not p.strip() for p in text.split(sep)):
                self.emit("empty-piece", records[pos], i, quote(text))
            if reference:
                pieces = (text,) if rule.single else tuple(p.strip() for p in text.split(sep))
                refs.setdefault(pos, []).append((rule, tuple(p for p in pieces if p and p not in bad)))

    def _diagnose(self, record: Record, rule: CellRule, text: str) -> set[str]:
        """Report what is wrong with a value that fails its column's constraint; returns the bad pieces."""
        column = rule.column
        pieces = [p.strip() for p in text.split(self.separator)] if not rule.single else [text]
        bad = [p for p in pieces if p and not column.is_valid(p)]
        if rule.reference:
            bad = [p for p in bad if p not in self.temporary_keys]
        if any(not p for p in pieces):
            self.emit("empty-piece", record, rule.index, quote(text))
        for piece in dict.fromkeys(bad):
            code, detail = diagnose(column, piece)
            if len(pieces) > 1:
                detail += f" in {quote(text)}"
            self.emit(code, record, rule.index, detail)
        return set(bad)

    def _requirements(self) -> None:
        """Columns a row type needs (absent columns are counted and reported once, on the header)."""
        records, kinds, skip = self.table.records, self.kinds, self.skip
        for kind, needs in self.required.items():
            positions = [pos for pos, k in enumerate(kinds) if k == kind and pos not in skip]
            for column, index, tier in needs:
                cells = self.columns[index] if index is not None else None
                for pos in positions:
                    if cells is not None:
                        value = cells[pos]
                        if value and value.strip():
                            continue
                    if column.kind == "ctid" and self._ctid_not_needed(pos):
                        continue
                    if index is None:
                        self.absent[column.name, tier] += 1
                        continue
                    code = "required-missing" if tier == "required" else "required-if-available-missing"
                    self.emit(code, records[pos], index, f"{column.name} on a {kind} row")

    def _ctid_not_needed(self, pos: int) -> bool:
        """`ceterms:ctid` is satisfied by a CTID in `@id`. Only a URL `@id` needs it: a missing,
        temporary or malformed `@id` is reported itself (and `fix` mints a CTID for it)."""
        if self.id_index is None:
            return True
        value = self.columns[self.id_index][pos].strip()
        return not value.startswith("http")

    def _report_absent(self) -> None:
        table = self.table
        for (name, tier), count in sorted(self.absent.items()):
            code = "missing-column" if tier == "required" else "required-if-available-missing"
            rows = "1 row needs it" if count == 1 else f"{count} rows need it"
            self.problems.append(
                problem(
                    code,
                    table.path,
                    table.header_line,
                    detail=f"there is no {name} column ({rows})",
                    hint=f"Add a {name} column and fill it in.",
                    row=1,
                )
            )

    def _identities(self, refs: dict[int, list[tuple[CellRule, tuple[str, ...]]]]) -> list[RowInfo]:
        """Each row's `@id` and CTID (``ceterms:ctid``, else a CTID-shaped `@id`), with their checks."""
        id_index, ctid_index, is_ctid = self.id_index, self.ctid_index, self.is_ctid
        empty = ("",) * len(self.table.records)
        ids = self.columns[id_index] if id_index is not None else empty
        ctids = self.columns[ctid_index] if ctid_index is not None else empty
        rows = []
        for pos, record in enumerate(self.table.records):
            if pos in self.skip:
                continue
            id_value, ctid_value = ids[pos].strip(), ctids[pos].strip()
            if id_index is not None and not id_value:
                self.emit("missing-id", record, id_index)
            id_ctid = id_value if is_ctid(id_value) else None
            own_ctid = ctid_value if ctid_value and is_ctid(ctid_value) else None
            if own_ctid and id_ctid and own_ctid.lower() != id_ctid.lower():
                self.emit(
                    "ctid-mismatch", record, ctid_index, f"{quote(own_ctid)} but @id is {quote(id_ctid)}"
                )
            ctid = own_ctid or id_ctid
            # the common case, one lower-case v4 CTID, is decided here without a call
            if ctid is not None and not (ctid == id_value and ctid.islower() and is_ctid_v4(ctid)):
                self._ctid_form(record, own_ctid, id_ctid)
            rows.append(
                RowInfo(
                    record=record,
                    pos=pos,
                    id=id_value,
                    ctid=ctid.lower() if ctid else None,
                    ctid_index=ctid_index if own_ctid else (id_index if id_ctid else None),
                    kind=self.kinds[pos],
                    temporary=is_temporary_id(id_value),
                    refs=refs.get(pos, []),
                )
            )
        return rows

    def _ctid_form(self, record: Record, own_ctid: str | None, id_ctid: str | None) -> None:
        """Upper case and non-v4 CTIDs: notices, once per distinct spelling in the row."""
        shown = [(own_ctid, self.ctid_index)] if own_ctid else []
        if id_ctid and id_ctid != own_ctid:
            shown.append((id_ctid, self.id_index))
        for value, index in shown:
            assert value is not None
            if value != value.lower():
                self.emit("ctid-uppercase", record, index, quote(value))
            if not is_ctid_v4(value):
                self.emit("ctid-not-v4", record, index, quote(value))


def check_rows(table: Table, schema: TemplateSchema, header: Header) -> tuple[list[Problem], list[RowInfo]]:
    return RowChecker(table, schema, header).run()


def check_description(table: Table, rows: list[RowInfo], header: Header) -> list[Problem]:
    """A framework description that only repeats its name (CE asks for a real description)."""
    name_i, desc_i = header.position("ceasn:name"), header.position("ceasn:description")
    if name_i is None or desc_i is None:
        return []
    found = []
    for info in rows:
        if info.kind != FRAMEWORK:
            continue
        record = info.record
        name = record.get(name_i).strip()
        if name and name == record.get(desc_i).strip():
            found.append(
                problem(
                    "description-equals-name",
                    table.path,
                    record.line,
                    detail=quote(name),
                    row=record.row,
                    column=table.header[desc_i],
                    index=desc_i,
                )
            )
    return found
