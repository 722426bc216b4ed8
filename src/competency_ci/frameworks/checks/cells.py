"""Row checks: every cell against its column's rule, requirements by row type, and row identity.

One rule per header cell is compiled from the schema once per table, and the checks run column
by column over the non-empty cells only: a column whose values are all clean is settled by a few
passes that run in C, so a pre-commit hook feels instant even on large frameworks.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import compress, repeat
from operator import and_, contains, eq, is_, methodcaller, not_, or_

from competency_ci.frameworks.checks import cell_problem, quote
from competency_ci.frameworks.checks.header import Header
from competency_ci.frameworks.codes import problem
from competency_ci.frameworks.problems import Problem
from competency_ci.frameworks.table import Record, Table
from competency_ci.schema import COMPETENCY, FRAMEWORK, Column, ExportFact, TemplateSchema

# The @type of a collection row, which CASS imports in a separate mode (csv-template.md §2.2).
COLLECTION_TYPE = "ceterms:Collection"
CTID_PREFIX = "ce-"
# A framework's name and description (CE asks for a description that says more than the name).
NAME, DESCRIPTION = "ceasn:name", "ceasn:description"


def is_temporary_id(value: str) -> bool:
    """A non-empty `@id` that CASS would refuse (neither ``http...`` nor ``ce-...``): for us a
    temporary key that `fix` replaces. ``CE-...`` and ``HTTP...`` are a CTID and a URI in the
    wrong case (reported as malformed), not keys."""
    value = value.strip()
    return bool(value) and value[:4].lower() != "http" and value[:3].lower() != CTID_PREFIX


def _looks_like_ctid(value: str) -> bool:
    return value[:3].lower() == CTID_PREFIX


@dataclass(slots=True)
class CellRule:
    """What to check in one header cell's column, compiled from its schema Column."""

    index: int
    header: str
    column: Column
    valid: Callable[[str], object] | None
    quiet: Callable[[str], object] | None  # valid and as the column's advice wants it
    single: bool
    reference: bool
    loss: ExportFact | None  # the column's values may not reach CE as written (descriptor ``export``)


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


# The values of each reference column, by row position (pieces of multi-valued cells, minus the
# ones already reported as malformed).
References = list[tuple[CellRule, dict[int, tuple[str, ...]]]]


def compile_rules(table: Table, header: Header) -> list[CellRule]:
    rules = []
    for index, column in enumerate(header.columns):
        if column is None:
            continue
        rules.append(
            CellRule(
                index=index,
                header=table.header[index],
                column=column,
                valid=column.validator,
                quiet=column.quiet,
                single=not column.multiple,
                reference=column.references is not None,
                loss=column.export_loss,
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
        framework_types = [t for t in allowed if t != COLLECTION_TYPE]
        return "unknown-type", f"{shown}; use {' or '.join(framework_types)}"
    return "bad-value", shown


# The UUID version nibble (4) and RFC 4122 variant nibble (8, 9, a, b) of a CTID-shaped value
# (``ce-xxxxxxxx-xxxx-4xxx-[89ab]xxx-...``); the shape itself is the schema's CTID pattern.
V4_NIBBLES = re.compile(r".{17}4.{4}[89abAB]")


def is_ctid_v4(ctid: str) -> bool:
    return V4_NIBBLES.match(ctid) is not None


def _transpose(records: list[Record], width: int) -> list[tuple[str, ...]]:
    """The table by column (short rows padded, long rows cut): checks run column by column."""
    if not records:
        return [() for _ in range(width)]
    rows = [r.cells for r in records]
    if any(map(width.__ne__, map(len, rows))):
        rows = [cells if len(cells) == width else (cells + [""] * width)[:width] for cells in rows]
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
        self.required = requirements(schema, header)
        self.counts: dict[str, int] = {}  # rows of each type (template rows left out)

    def emit(
        self, code: str, record: Record, index: int | None, detail: str = "", hint: str | None = None
    ) -> None:
        self.problems.append(cell_problem(code, self.table, record, index, detail, hint))

    def run(self) -> tuple[list[Problem], list[RowInfo], References]:
        if self.type_index is None:
            return self.problems, [], []
        self._types()
        refs: References = []
        for rule in self.rules:
            values: dict[int, tuple[str, ...]] = {}
            self._column(rule, values)
            if rule.reference:
                refs.append((rule, values))
        self._requirements()
        rows = self._identities()
        self._report_absent()
        return self.problems, rows, refs

    def _types(self) -> None:
        """Each row's type; template rows are reported once and skipped by every other check."""
        assert self.type_index is not None
        records, index = self.table.records, self.type_index
        texts = list(map(str.strip, self.columns[index]))
        self.kinds = kinds = list(map(self.schema.row_types.get, texts))
        for pos in compress(range(len(kinds)), map(is_, kinds, repeat(None))):
            text = texts[pos]
            if not text:
                self.emit("missing-type", records[pos], index)
            elif self.schema.is_template_row(text):
                self.emit("template-row", records[pos], index, quote(text))
                self.skip.add(pos)

    def _column(self, rule: CellRule, refs: dict[int, tuple[str, ...]]) -> None:
        """Check the non-empty cells of one column; collect its reference values by row.

        A column whose every value is clean (the usual case) is decided by a few passes that run
        in C (``map`` over the values); otherwise each cell goes through ``_cell``.
        """
        cells = self.columns[rule.index]
        positions = list(compress(range(len(cells)), cells))
        if not positions:
            return
        values = list(compress(cells, cells))
        if rule.loss is not None:
            self._export_loss(rule, rule.loss, positions, values)
        if self._clean(rule, positions, values):
            if rule.reference:
                refs.update(zip(positions, zip(values), strict=True))
            return
        # Only the cells that fail the same tests, one by one, go through `_cell`.
        for pos, value, quiet in zip(positions, values, self._quiet(rule, positions, values), strict=True):
            if not quiet:
                self._cell(rule, pos, value, refs)
            elif rule.reference:
                refs[pos] = (value,)

    def _clean(self, rule: CellRule, positions: list[int], values: list[str]) -> bool:
        """Whether no value of the column can have a problem (then no per-cell work is needed)."""
        if self.skip:
            return False
        # str.strip returns the very same object when there is nothing to strip
        if not all(map(is_, map(str.strip, values), values)):
            return False
        # a formula or a separator anywhere: two searches of the values joined (a value that
        # holds the joint itself only sends the column to the per-cell tests)
        joined = "\x00".join(values)
        if joined.startswith("=") or "\x00=" in joined or self.separator in joined:
            return False
        applies = rule.column.rows
        # (a row of unknown type has no applicability to break: `_cell` skips that test for it)
        if not applies.issuperset(self.schema.row_types.values()) and not applies.issuperset(
            filter(None, map(self.kinds.__getitem__, positions))
        ):
            return False
        return rule.quiet is None or all(map(rule.quiet, values))

    def _quiet(self, rule: CellRule, positions: list[int], values: list[str]) -> list[bool]:
        """Per cell, the tests of `_clean`: True when `_cell` would have nothing to say about it
        (and its one value is the reference, if the column is one)."""
        applies = rule.column.rows
        kinds = map(self.kinds.__getitem__, positions)
        tests: list[Iterator[object]] = [
            map(is_, map(str.strip, values), values),
            map(not_, map(methodcaller("startswith", "="), values)),
            map(not_, map(contains, values, repeat(self.separator))),
            (kind is None or kind in applies for kind in kinds),
        ]
        if rule.quiet is not None:
            tests.append(map(rule.quiet, values))
        quiet = list(map(all, zip(*tests, strict=True)))
        if self.skip:  # template rows: `_cell` skips them
            quiet = [q and pos not in self.skip for q, pos in zip(quiet, positions, strict=True)]
        return quiet

    def _export_loss(self, rule: CellRule, fact: ExportFact, positions: list[int], values: list[str]) -> None:
        """A warning on each cell whose value CE will not see as written (the descriptor says why)."""
        records, kinds, applies, sep = self.table.records, self.kinds, rule.column.rows, self.separator
        code = fact.problem_code
        for pos, value in zip(positions, values, strict=True):
            kind = kinds[pos]
            if pos in self.skip or (kind is not None and kind not in applies):
                continue  # a template row, or a value that is ignored anyway (not-applicable)
            count = 1 if rule.single else sum(1 for piece in value.split(sep) if piece.strip())
            if count and fact.loses(count):
                self.emit(code, records[pos], rule.index, f"{rule.column.name}: {fact.reason}")

    def _cell(self, rule: CellRule, pos: int, value: str, refs: dict[int, tuple[str, ...]]) -> None:
        """Every check on one non-empty cell."""
        if pos in self.skip:
            return
        record, i, column, sep = self.table.records[pos], rule.index, rule.column, self.separator
        text = value.strip()
        if text != value:
            self.emit("cell-spaces", record, i, quote(value))
            if not text:
                return
        if text[0] == "=":
            self.emit("formula", record, i, quote(text))
        kind = self.kinds[pos]
        if kind is not None and kind not in column.rows:
            rows = " and ".join(sorted(column.rows))
            self.emit("not-applicable", record, i, f"{column.name} applies to {rows} rows, not {kind}")
            return
        if (rule.single or kind in column.single_for) and sep in text:
            if column.references == COMPETENCY:  # the one parent of a competency
                self.emit("multiple-parents", record, i, quote(text))
            else:
                self.emit("pipe-in-single-value", record, i, quote(text))
            if rule.reference:  # still resolved, so that the row's place in the hierarchy is known
                refs[pos] = tuple(p for p in (s.strip() for s in text.split(sep)) if p)
            return
        bad: set[str] = set()
        if rule.valid is not None and not rule.valid(text):
            bad = self._diagnose(record, rule, text)
        elif not rule.single and sep in text and any(not p.strip() for p in text.split(sep)):
            self.emit("empty-piece", record, i, quote(text))
        elif column.advice is not None and not column.advice[0].fullmatch(text):
            self._advise(record, rule, text)
        if rule.reference:
            pieces = (text,) if rule.single else tuple(p.strip() for p in text.split(sep))
            refs[pos] = tuple(p for p in pieces if p and p not in bad)

    def _diagnose(self, record: Record, rule: CellRule, text: str) -> set[str]:
        """Report what is wrong with a value that fails its column's constraint; returns the bad pieces."""
        column = rule.column
        pieces = [p.strip() for p in text.split(self.separator)] if not rule.single else [text]
        invalid = [p for p in pieces if p and not column.is_valid(p)]
        # a reference may name a temporary key (`fix` replaces it everywhere): whether a row holds
        # that key is the structure check's question (dangling-reference), not a malformed value
        bad = [p for p in invalid if not is_temporary_id(p)] if rule.reference else invalid
        if not all(pieces):
            self.emit("empty-piece", record, rule.index, quote(text))
        elif not invalid:
            bad = [text]  # every piece passes alone, so the cell as a whole is what fails
        for piece in dict.fromkeys(bad):
            code, detail = diagnose(column, piece)
            if len(pieces) > 1:
                detail += f" in {quote(text)}"
            self.emit(code, record, rule.index, detail)
        return set(bad)

    def _advise(self, record: Record, rule: CellRule, text: str) -> None:
        """A valid value that is not in the form the column's advice asks for (one problem per piece)."""
        column = rule.column
        assert column.advice is not None
        pattern, code = column.advice
        pieces = [text] if rule.single else [p.strip() for p in text.split(self.separator)]
        for piece in dict.fromkeys(p for p in pieces if p and not pattern.fullmatch(p)):
            detail = quote(piece) + (f" in {quote(text)}" if len(pieces) > 1 else "")
            uri = column.vocabulary.get(piece)
            hint = f"Write {uri}; `competency-ci fix` does it." if uri else None
            self.emit(code, record, rule.index, detail, hint)

    def _requirements(self) -> None:
        """Columns a row type needs (absent columns are counted and reported once, on the header)."""
        records, kinds, skip = self.table.records, self.kinds, self.skip
        n = len(kinds)
        for kind, needs in self.required.items():
            positions = list(compress(range(n), map(eq, kinds, repeat(kind))))
            if skip:
                positions = [pos for pos in positions if pos not in skip]
            self.counts[kind] = len(positions)
            for column, index, tier in needs:
                if index is None and column.kind != "ctid":
                    continue  # counted by `absent_columns`
                missing = positions
                if index is not None:
                    cells = self.columns[index]
                    missing = list(
                        compress(positions, map(not_, map(str.strip, map(cells.__getitem__, positions))))
                    )
                if column.kind == "ctid":
                    for pos in self._ctid_needed(missing):
                        self._missing_ctid(records[pos], index)
                    continue
                code = "required-missing" if tier == "required" else "required-if-available-missing"
                for pos in missing:
                    self.emit(code, records[pos], index, f"{column.name} on a {kind} row")

    def _missing_ctid(self, record: Record, index: int | None) -> None:
        """A URL `@id` and no `ceterms:ctid`: nothing to publish the row under (the CTID is its
        identity at CE and in CASS). Reported on the ctid cell, or on `@id` without the column."""
        assert self.id_index is not None
        shown = quote(record.get(self.id_index).strip())
        detail = f"@id {shown} is not a CTID and ceterms:ctid is empty"
        if index is None:
            detail = f"@id {shown} is not a CTID and there is no ceterms:ctid column"
        self.emit("missing-ctid", record, self.id_index if index is None else index, detail)

    def _ctid_needed(self, positions: list[int]) -> list[int]:
        """The rows without a CTID whose `@id` does not stand in for one: `ceterms:ctid` is
        satisfied by a CTID in `@id`. Only a URL `@id` needs it: a missing, temporary or malformed
        `@id` is reported itself (and `fix` mints a CTID for it)."""
        if self.id_index is None:
            return []
        ids = self.columns[self.id_index]
        url = methodcaller("startswith", "http")
        return list(compress(positions, map(url, map(str.strip, map(ids.__getitem__, positions)))))

    def _report_absent(self) -> None:
        self.problems += absent_columns(self.table.path, self.table.header_line, self.required, self.counts)

    def _identities(self) -> list[RowInfo]:
        """Each row's `@id` and CTID (``ceterms:ctid``, else a CTID-shaped `@id`), with their checks.

        Rows whose `@id` is a lower-case v4 CTID (and whose ``ceterms:ctid`` is empty or the same)
        are settled in bulk; the others one by one.
        """
        id_index, ctid_index, skip, records = self.id_index, self.ctid_index, self.skip, self.table.records
        n = len(records)
        ids = list(map(str.strip, self.columns[id_index])) if id_index is not None else [""] * n
        ctids = list(map(str.strip, self.columns[ctid_index])) if ctid_index is not None else None
        # settled: a CTID (schema pattern) in lower case with v4 nibbles: nothing to report
        settled = list(
            map(
                and_,
                map(bool, map(self.is_ctid, ids)),
                map(and_, map(eq, ids, map(str.lower, ids)), map(bool, map(V4_NIBBLES.match, ids))),
            )
        )
        if ctids is not None:
            settled = list(map(and_, settled, map(or_, map(eq, ctids, ids), map(not_, ctids))))
            where = [ctid_index if c else id_index for c in ctids]
        else:
            where = [id_index] * n
        keys: list[str | None] = list(ids)
        temporary = [False] * n
        for pos in compress(range(n), map(not_, settled)):
            if skip and pos in skip:
                continue
            keys[pos], where[pos], temporary[pos] = self._identity(
                records[pos], ids[pos], ctids[pos] if ctids else ""
            )
        rows = list(map(RowInfo, records, range(n), ids, keys, where, self.kinds, temporary))
        return [r for r in rows if r.pos not in skip] if skip else rows

    def _identity(
        self, record: Record, id_value: str, ctid_value: str
    ) -> tuple[str | None, int | None, bool]:
        """(lower-case CTID, cell it comes from, temporary key?) of a row, reporting what is off."""
        id_index, ctid_index, is_ctid = self.id_index, self.ctid_index, self.is_ctid
        if not id_value and id_index is not None:
            self.emit("missing-id", record, id_index)
        id_ctid = id_value if is_ctid(id_value) else None
        own_ctid = ctid_value if ctid_value and is_ctid(ctid_value) else None
        if own_ctid and id_ctid and own_ctid.lower() != id_ctid.lower():
            self.emit("ctid-mismatch", record, ctid_index, f"{quote(own_ctid)} but @id is {quote(id_ctid)}")
        ctid = own_ctid or id_ctid
        if ctid is None:
            return None, None, id_ctid is None and is_temporary_id(id_value)
        self._ctid_form(record, own_ctid, id_ctid)
        return ctid.lower(), (ctid_index if own_ctid else id_index), False

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


Requirements = dict[str, list[tuple[Column, int | None, str]]]


def requirements(schema: TemplateSchema, header: Header) -> Requirements:
    """Per row type, the columns it needs: (column, position or None when absent from the header,
    tier)."""
    required: Requirements = {}
    for column in schema.columns.values():
        for row_type, tier in column.required_for.items():
            required.setdefault(row_type, []).append((column, header.position(column.name), tier))
    return required


def absent_columns(path: str, line: int, required: Requirements, counts: dict[str, int]) -> list[Problem]:
    """One problem on the header per column that rows need but the header lacks (``counts``: rows
    of each type). A CTID ``@id`` stands in for ceterms:ctid, so that one is a row's business."""
    absent: Counter[tuple[str, str]] = Counter()
    for kind, needs in required.items():
        for column, index, tier in needs:
            if index is None and column.kind != "ctid" and counts.get(kind):
                absent[column.name, tier] += counts[kind]
    found = []
    for (name, tier), count in sorted(absent.items()):
        code = "missing-column" if tier == "required" else "required-if-available-missing"
        rows = "1 row needs it" if count == 1 else f"{count} rows need it"
        found.append(
            problem(
                code,
                path,
                line,
                detail=f"there is no {name} column ({rows})",
                hint=f"Add a {name} column and fill it in.",
                row=1,
            )
        )
    return found


def check_rows(
    table: Table, schema: TemplateSchema, header: Header
) -> tuple[list[Problem], list[RowInfo], References]:
    return RowChecker(table, schema, header).run()


def check_description(table: Table, rows: list[RowInfo], header: Header) -> list[Problem]:
    """A framework description that only repeats its name (CE asks for a real description)."""
    name_i, desc_i = header.position(NAME), header.position(DESCRIPTION)
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
