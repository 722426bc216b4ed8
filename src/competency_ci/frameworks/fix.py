"""Repairing framework CSVs without guessing: the pure core of ``competency-ci fix``.

People edit frameworks in spreadsheets; ``fix`` does the repairs that have exactly one right
answer (mint CTIDs, resolve temporary keys, strip template leftovers, order rows parents-first,
trim, lower-case CTIDs, NFC) and leaves every other byte alone. A record whose cells it did not
change is written back exactly as it was read (quoting and embedded line breaks included); changed
records are written with minimal quoting, in the file's own line-ending style.
"""

from __future__ import annotations

import bisect
import csv
import heapq
import io
import re
import unicodedata
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from competency_ci.frameworks.checks import quote
from competency_ci.frameworks.checks.header import is_helper_column
from competency_ci.frameworks.codes import problem
from competency_ci.frameworks.problems import Problem
from competency_ci.frameworks.table import Table, read_table
from competency_ci.frameworks.validate import is_temporary_id
from competency_ci.schema import Column, TemplateSchema, load_schema

Mint = Callable[[], str]

# kinds of change, in the order they are reported: (singular, plural) message templates
CHANGES: dict[str, tuple[str, str]] = {
    "missing-id": ("minted {n} CTID", "minted {n} CTIDs"),
    "temporary-id": ("replaced {n} temporary key", "replaced {n} temporary keys"),
    "ctid-filled": (
        "copied {n} CTID between @id and ceterms:ctid",
        "copied {n} CTIDs between @id and ceterms:ctid",
    ),
    "ctid-column": ("added the ceterms:ctid column", "added the ceterms:ctid column"),
    "url-id": (
        "minted {n} CTID for a row whose @id is a URL (the URL is kept)",
        "minted {n} CTIDs for rows whose @id is a URL (the URLs are kept)",
    ),
    "ctid-uppercase": ("lower-cased {n} cell with CTIDs", "lower-cased {n} cells with CTIDs"),
    "filled-column": ("added {n} column to fill in", "added {n} columns to fill in"),
    "filled": (
        "filled {n} cell from the configured organization",
        "filled {n} cells from the configured organization",
    ),
    "vocabulary-uri": (
        "wrote {n} short form CASS's importer drops as its URI",
        "wrote {n} short forms CASS's importer drops as their URIs",
    ),
    "template-row": ("removed {n} template row", "removed {n} template rows"),
    "helper-column": ("removed the helper column A", "removed the helper column A"),
    "blank-row": ("dropped {n} blank row", "dropped {n} blank rows"),
    "column-spaces": ("trimmed {n} column name", "trimmed {n} column names"),
    "cell-spaces": ("trimmed {n} cell", "trimmed {n} cells"),
    "unicode-nfc": ("normalised {n} cell to Unicode NFC", "normalised {n} cells to Unicode NFC"),
    "forward-reference": ("moved {n} row", "moved {n} rows"),
}
ID_KINDS = frozenset({"id", "ctid", "ctid-or-uri"})


def new_ctid() -> str:
    """A fresh CTID: ``ce-`` + a lower-case UUID v4, as CE asks."""
    return f"ce-{uuid.uuid4()}"


class Unreadable(Exception):
    """The text cannot be parsed as a framework CSV; ``problems`` say why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(p.message for p in problems))


@dataclass
class FixResult:
    """The repaired text and what was done; ``problems`` are what fix found but left alone."""

    text: str
    changes: Counter[str] = field(default_factory=Counter)
    problems: list[Problem] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    def summary(self) -> str:
        """``minted 3 CTIDs, moved 2 rows``."""
        parts = []
        for kind, (one, many) in CHANGES.items():
            if n := self.changes.get(kind, 0):
                parts.append((one if n == 1 else many).format(n=n))
        return ", ".join(parts)


@dataclass
class _Row:
    cells: list[str]
    raw: str  # the record's text as read, without its line terminator
    line: int
    original: list[str]


def fix_text(
    text: str,
    schema: TemplateSchema | None = None,
    *,
    mint: Mint = new_ctid,
    path: str = "<text>",
    organization: str | None = None,
) -> FixResult:
    """Fix a whole file's text (a leading BOM is kept); raises Unreadable for unusable text."""
    table, problems = read_table(path, text.encode("utf-8", "surrogatepass"))
    if table is None:
        raise Unreadable(problems)
    return fix_table(table, schema, mint=mint, organization=organization)


def fix_table(
    table: Table,
    schema: TemplateSchema | None = None,
    *,
    mint: Mint = new_ctid,
    organization: str | None = None,
) -> FixResult:
    """Fix a table read by ``read_table``; the result's text is the whole file (BOM included).

    ``organization``: the configured organization's CTID, which fills the columns the descriptor
    fills from it (``"fill": "organization"``: ``ceasn:publisher``) on the rows that need them."""
    schema = schema or load_schema()
    changes: Counter[str] = Counter()
    header, rows, blank = _records(table.text)
    changes["blank-row"] += blank
    raw_header = header.raw
    drop_helper = is_helper_column(table, schema)
    if drop_helper:
        changes["helper-column"] = 1
        for row in [header, *rows]:
            del row.cells[:1]
    names = _clean_header(header.cells, changes)
    if not any(name in schema.columns for name in names):
        detail = "no known column: not a framework CSV"
        raise Unreadable([problem("no-header", table.path, table.header_line, detail=detail)])
    for row in rows:
        row.cells = [_clean_cell(cell, changes) for cell in row.cells]
    kept: list[_Row] = []
    type_col = _position(names, schema, "type")
    for row in rows:
        if not any(row.cells):
            changes["blank-row"] += 1
        elif type_col is not None and schema.is_template_row(_get(row, type_col)):
            changes["template-row"] += 1
        else:
            kept.append(row)
    problems = _fix_ids(names, kept, schema, mint, changes, table.path)
    _fill(names, kept, schema, organization, changes)
    _vocabulary_uris(names, kept, schema, changes)
    order, cycle_problems = _order(names, kept, schema, table.path)
    problems += cycle_problems
    changes["forward-reference"] = len(order) - _longest_increasing(order)
    changes = +changes  # drop zero counts
    if not changes:
        return FixResult(("\ufeff" if table.bom else "") + table.text, changes, problems)
    lines = [raw_header if names == header.original and not drop_helper else _serialize(names)]
    for i in order:
        row = kept[i]
        lines.append(row.raw if row.cells == row.original and not drop_helper else _serialize(row.cells))
    text = table.newline.join(lines) + (table.newline if table.final_newline else "")
    return FixResult(("\ufeff" if table.bom else "") + text, changes, problems)


def _records(text: str) -> tuple[_Row, list[_Row], int]:
    """Header, data records with their raw text, and the number of blank records skipped."""
    lines = list(io.StringIO(text, newline=""))
    reader = csv.reader(iter(lines), strict=False)
    rows: list[_Row] = []
    blank = 0
    start = 0
    for cells in reader:
        end = reader.line_num
        raw = lines[start] if end == start + 1 else "".join(lines[start:end])
        # the record's own line terminator (a physical line has exactly one, at its end)
        raw = raw[:-2] if raw.endswith("\r\n") else raw[:-1] if raw.endswith(("\n", "\r")) else raw
        if not any(cells):
            blank += 1
        else:
            rows.append(_Row(list(cells), raw, start + 1, list(cells)))
        start = end
    # read_table has already refused a file whose first row is blank or that has no header
    return rows[0], rows[1:], blank


def _clean_header(cells: list[str], changes: Counter[str]) -> list[str]:
    names = list(cells)
    for i, name in enumerate(cells):
        normal = unicodedata.normalize("NFC", name)
        trimmed = normal.strip()
        if trimmed != normal and trimmed in names:
            continue  # trimming would make a duplicate column: left for the validator to report
        if normal != name:
            changes["unicode-nfc"] += 1
        if trimmed != normal:
            changes["column-spaces"] += 1
        names[i] = trimmed
    return names


def _clean_cell(cell: str, changes: Counter[str]) -> str:
    normal = cell
    if not cell.isascii() and not unicodedata.is_normalized("NFC", cell):
        normal = unicodedata.normalize("NFC", cell)
        changes["unicode-nfc"] += 1
    trimmed = normal.strip()
    if trimmed != normal:
        changes["cell-spaces"] += 1
    return trimmed


def _column(schema: TemplateSchema, kind: str) -> Column:
    """The column of a kind that has exactly one (``id``, ``type``, ``ctid``)."""
    return next(c for c in schema.columns.values() if c.kind == kind)


def _position(names: list[str], schema: TemplateSchema, kind: str) -> int | None:
    name = _column(schema, kind).name
    return names.index(name) if name in names else None


def _get(row: _Row, index: int | None) -> str:
    return row.cells[index] if index is not None and index < len(row.cells) else ""


def _set(row: _Row, index: int | None, value: str) -> bool:
    """Set a cell that exists (a short row is never padded); whether it did."""
    if index is None or index >= len(row.cells):
        return False
    row.cells[index] = value
    return True


@dataclass
class _Ids:
    """Where a file keeps identities: ``@id``, ``ceterms:ctid``, and every id or reference column."""

    id: int | None
    ctid: int | None
    columns: list[int]
    ctid_re: re.Pattern[str]
    separator: str

    @classmethod
    def of(cls, names: list[str], schema: TemplateSchema) -> _Ids:
        pattern = _column(schema, "ctid").pattern
        assert pattern is not None
        columns = [i for i, n in enumerate(names) if (c := schema.get(n)) is not None and c.kind in ID_KINDS]
        id_, ctid = _position(names, schema, "id"), _position(names, schema, "ctid")
        return cls(id_, ctid, columns, pattern, schema.separator)

    def is_ctid(self, value: str) -> bool:
        return self.ctid_re.fullmatch(value) is not None

    def rewrite(self, row: _Row, replace: Callable[[str], str]) -> int:
        """Apply ``replace`` to every ``|`` piece of the id columns (spaces around pieces kept);
        returns the number of cells changed."""
        changed = 0
        for i in self.columns:
            value = _get(row, i)
            if not value:
                continue
            pieces = value.split(self.separator)
            for k, piece in enumerate(pieces):
                core = piece.strip()
                if core:
                    lead = piece[: len(piece) - len(piece.lstrip())]
                    pieces[k] = lead + replace(core) + piece[len(lead) + len(core) :]
            new = self.separator.join(pieces)
            if new != value:
                _set(row, i, new)
                changed += 1
        return changed


def _fix_ids(
    names: list[str], rows: list[_Row], schema: TemplateSchema, mint: Mint, changes: Counter[str], path: str
) -> list[Problem]:
    """Lower-case CTIDs, replace temporary keys, mint missing ids, keep ``ceterms:ctid`` in step."""
    ids = _Ids.of(names, schema)

    def lower_ctid(core: str) -> str:
        return core.lower() if ids.is_ctid(core.lower()) else core

    for row in rows:
        changes["ctid-uppercase"] += ids.rewrite(row, lower_ctid)
    if ids.id is None:
        return []
    problems = _replace_temporary_keys(ids, rows, mint, changes, path, names)
    ids = _mint_for_urls(ids, names, rows, schema, mint, changes)
    assert ids.id is not None
    for row in rows:
        id_, ctid = _get(row, ids.id), _get(row, ids.ctid)
        if not id_ and ids.is_ctid(ctid):
            changes["ctid-filled"] += _set(row, ids.id, ctid)
        elif not id_ and ids.id < len(row.cells):
            minted = mint()
            _set(row, ids.id, minted)
            changes["missing-id"] += 1
            if not ctid:
                _set(row, ids.ctid, minted)
        elif not ctid and ids.is_ctid(id_):
            changes["ctid-filled"] += _set(row, ids.ctid, id_)
    return problems


def _fill(
    names: list[str],
    rows: list[_Row],
    schema: TemplateSchema,
    organization: str | None,
    changes: Counter[str],
) -> None:
    """Fill the empty required cells the descriptor fills from the configured organization
    (adding the column, after its nearest predecessor in the descriptor, when the file has none)."""
    ctid = _column(schema, "ctid").pattern
    if organization is None or ctid is None or not ctid.fullmatch(organization):
        return
    type_col = _position(names, schema, "type")
    if type_col is None:
        return
    order = list(schema.columns)
    for column in schema.columns.values():
        if column.fill != "organization":
            continue
        needy = [
            r
            for r in rows
            if schema.row_type(_get(r, type_col)) in column.required_for
            and (column.name not in names or not _get(r, names.index(column.name)))
        ]
        if not needy:
            continue
        if column.name not in names:
            before = [n for n in order[: order.index(column.name)] if n in names]
            at = names.index(before[-1]) + 1 if before else len(names)
            width = len(names)
            names.insert(at, column.name)
            for row in rows:
                if len(row.cells) == width:  # a ragged row stays as it is (the validator reports it)
                    row.cells.insert(at, "")
            changes["filled-column"] += 1
        index = names.index(column.name)
        for row in needy:
            changes["filled"] += _set(row, index, organization.lower())


def _vocabulary_uris(
    names: list[str], rows: list[_Row], schema: TemplateSchema, changes: Counter[str]
) -> None:
    """Short forms that are valid but that CASS's CSV importer would drop (the column's advice
    refuses them) become the vocabulary URI they stand for."""
    for i, name in enumerate(names):
        column = schema.get(name)
        if column is None or not column.vocabulary or column.advice is None:
            continue
        advice = column.advice[0]
        for row in rows:
            value = _get(row, i)
            if not value:
                continue
            pieces = value.split(schema.separator)
            new = [
                column.vocabulary.get(p.strip(), p)
                if p.strip() in column.vocabulary and not advice.fullmatch(p.strip())
                else p
                for p in pieces
            ]
            if new != pieces:
                changes["vocabulary-uri"] += sum(1 for a, b in zip(pieces, new, strict=True) if a != b)
                _set(row, i, schema.separator.join(new))


def _is_url_id(value: str) -> bool:
    """An `@id` that is a URL, not a CTID: the row needs its CTID in ``ceterms:ctid`` (the URL
    stays, since other rows and CASS name the row by it)."""
    return value.startswith("http")


def _mint_for_urls(
    ids: _Ids, names: list[str], rows: list[_Row], schema: TemplateSchema, mint: Mint, changes: Counter[str]
) -> _Ids:
    """Mint a CTID for each row whose `@id` is a URL and that has none, adding the ceterms:ctid
    column (after `@type`, as in CE's template) when the file has none. Returns the new layout."""
    assert ids.id is not None
    needy = [r for r in rows if _is_url_id(_get(r, ids.id)) and not _get(r, ids.ctid)]
    if not needy:
        return ids
    if ids.ctid is None:
        type_at = _position(names, schema, "type")
        at = (type_at if type_at is not None else ids.id) + 1
        names.insert(at, _column(schema, "ctid").name)
        for row in rows:
            if len(row.cells) >= at:  # a short row stays short (the validator reports it)
                row.cells.insert(at, "")
        changes["ctid-column"] = 1
        ids = _Ids.of(names, schema)
    for row in needy:
        changes["url-id"] += _set(row, ids.ctid, mint())
    return ids


def _replace_temporary_keys(
    ids: _Ids, rows: list[_Row], mint: Mint, changes: Counter[str], path: str, names: list[str]
) -> list[Problem]:
    """Give each temporary key a CTID (the row's own ``ceterms:ctid``, else a minted one) and
    replace it everywhere in the file. A key held by several rows is ambiguous: left alone."""
    assert ids.id is not None
    holders: dict[str, list[_Row]] = {}
    for row in rows:
        key = _get(row, ids.id)
        # CTIDs were lower-cased first, so an upper-case CTID is no key; a key with `|` in it
        # cannot be told from two references, so it is left for the validator to report
        if is_temporary_id(key) and ids.separator not in key:
            holders.setdefault(key, []).append(row)
    problems: list[Problem] = []
    keys: dict[str, str] = {}
    renamed: list[_Row] = []
    for key, owners in holders.items():
        if len(owners) > 1:
            detail = (
                f"temporary key {quote(key)} is on {len(owners)} rows: fix cannot tell which one is meant"
            )
            for row in owners:
                problems.append(
                    problem("duplicate-id", path, row.line, detail=detail, column=names[ids.id], index=ids.id)
                )
            continue
        own = _get(owners[0], ids.ctid)
        keys[key] = own if ids.is_ctid(own) else mint()
        renamed.append(owners[0])
    changes["temporary-id"] += len(keys)
    if keys:
        for row in rows:
            ids.rewrite(row, lambda core: keys.get(core, core))
    for row in renamed:
        if not _get(row, ids.ctid):
            _set(row, ids.ctid, _get(row, ids.id))
    return problems


def _order(
    names: list[str], rows: list[_Row], schema: TemplateSchema, path: str
) -> tuple[list[int], list[Problem]]:
    """A stable topological order: frameworks before their competencies, parents before children.

    Only the single-valued references (``isTopChildOf``, ``isChildOf``, ``isPartOf``) point up the
    tree; the multi-valued ones (``hasTopChild``, ``hasChild``) point down and CASS ignores them.
    Among the rows that may come next, the one that was earliest goes first, so an already
    ordered file keeps its order. Edges inside a cycle are ignored: those rows keep their places.
    """
    id_col = _position(names, schema, "id")
    up_cols = [
        i
        for i, n in enumerate(names)
        if (c := schema.get(n)) is not None and c.references is not None and not c.multiple
    ]
    if id_col is None or not up_cols:
        return list(range(len(rows))), []
    owners: dict[str, list[int]] = {}
    for r, row in enumerate(rows):
        owners.setdefault(_get(row, id_col), []).append(r)
    targets = {key: rs[0] for key, rs in owners.items() if key and len(rs) == 1}
    deps: list[list[int]] = []
    for row in rows:
        found: list[int] = []
        for i in up_cols:
            for piece in _get(row, i).split(schema.separator):
                t = targets.get(piece.strip())
                if t is not None and t not in found:
                    found.append(t)
        deps.append(found)

    order = _stable_topological(deps)
    if len(order) == len(rows):
        return order, []
    component = _components(deps)  # some rows wait on a cycle: find the cycles, ignore their edges
    members: dict[int, list[int]] = {}
    for r, comp in enumerate(component):
        members.setdefault(comp, []).append(r)
    problems = []
    for r, comp in enumerate(component):
        group = members[comp]
        if group[0] == r and (len(group) > 1 or r in deps[r]):
            lines = ", ".join(str(rows[m].line) for m in group)
            where = f"line {lines}" if len(group) == 1 else f"lines {lines}"
            problems.append(problem("cycle", path, rows[r].line, detail=f"left in place: {where}"))
    acyclic = [[t for t in found if component[t] != component[r]] for r, found in enumerate(deps)]
    return _stable_topological(acyclic), problems


def _stable_topological(deps: list[list[int]]) -> list[int]:
    """Kahn's algorithm taking the earliest ready row first; rows waiting on a cycle are left out."""
    waiting = [len(found) for found in deps]
    dependents: list[list[int]] = [[] for _ in deps]
    for r, found in enumerate(deps):
        for t in found:
            dependents[t].append(r)
    ready = [r for r, n in enumerate(waiting) if not n]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        r = heapq.heappop(ready)
        order.append(r)
        for d in dependents[r]:
            waiting[d] -= 1
            if not waiting[d]:
                heapq.heappush(ready, d)
    return order


def _components(deps: list[list[int]]) -> list[int]:
    """Strongly connected components (iterative Tarjan): a component id per node."""
    n = len(deps)
    index = [-1] * n
    low = [0] * n
    on_stack = [False] * n
    component = [-1] * n
    stack: list[int] = []
    counter = 0
    for root in range(n):
        if index[root] != -1:
            continue
        work = [(root, 0)]
        while work:
            node, pos = work.pop()
            if pos == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack[node] = True
            for k in range(pos, len(deps[node])):
                nxt = deps[node][k]
                if index[nxt] == -1:
                    work.append((node, k + 1))
                    work.append((nxt, 0))
                    break
                if on_stack[nxt]:
                    low[node] = min(low[node], index[nxt])
            else:
                if low[node] == index[node]:
                    while True:
                        member = stack.pop()
                        on_stack[member] = False
                        component[member] = node
                        if member == node:
                            break
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
    return component


def _longest_increasing(order: list[int]) -> int:
    """Length of the longest increasing run-free subsequence: the rows that did not have to move."""
    tails: list[int] = []
    for value in order:
        k = bisect.bisect_left(tails, value)
        if k == len(tails):
            tails.append(value)
        else:
            tails[k] = value
    return len(tails)


def _serialize(cells: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(cells)
    line = buffer.getvalue()[:-2]
    if line.startswith("\ufeff"):
        # a cell that begins with U+FEFF stays quoted: bare at the start of the file it would be read
        # back as a byte-order mark, and the cell would lose it
        line = f'"{cells[0]}"' + line[len(cells[0]) :]  # unquoted, so the line starts with the cell
    return line
