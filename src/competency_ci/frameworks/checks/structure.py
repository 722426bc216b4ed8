"""Structure checks: identities, references and the hierarchy, across the rows of a file (and the
CTIDs of the other framework files of the repository).

CASS imports row by row, so a reference must name a row above it, in exactly the form of that
row's `@id`; every competency must reach a framework through `isTopChildOf`/`isPartOf` or its
parent chain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from operator import attrgetter, itemgetter

from competency_ci.frameworks.checks import cell_problem, quote
from competency_ci.frameworks.checks.cells import CellRule, References, RowInfo
from competency_ci.frameworks.problems import Problem
from competency_ci.frameworks.table import Table
from competency_ci.schema import COMPETENCY, FRAMEWORK


@dataclass
class CtidIndex:
    """The CTIDs of every framework file in the repository: lower-case CTID -> [(path, line)].

    pre-commit hands the hook a batch of files, so duplicates across files are found through this
    index rather than through the files being validated.
    """

    entries: dict[str, list[tuple[str, int]]] = field(default_factory=dict)

    def add(self, ctid: str, path: str, line: int) -> None:
        self.entries.setdefault(ctid.lower(), []).append((path, line))

    def elsewhere(self, ctid: str, path: str) -> list[tuple[str, int]]:
        return [entry for entry in self.entries.get(ctid, ()) if entry[0] != path]


def _where(info: RowInfo) -> str:
    return f"row {info.record.row} (line {info.record.line})"


class StructureChecker:
    def __init__(
        self,
        table: Table,
        rows: list[RowInfo],
        refs: References,
        id_index: int | None,
        ctid_column: int | None,
        ctid_search: re.Pattern[str],
        index: CtidIndex | None,
    ) -> None:
        self.table = table
        self.rows = rows
        self.refs = refs
        self.at = {info.pos: info for info in rows}
        # rows that name a parent or framework at all (even one that does not resolve)
        self.linked = {pos for rule, values in refs if rule.single for pos in values}
        self.id_index = id_index
        self.ctid_column = ctid_column
        self.ctid_search = ctid_search
        self.index = index
        self.problems: list[Problem] = []
        self.by_id: dict[str, RowInfo] = {}
        self.by_ctid: dict[str, RowInfo] = {}

    def emit(self, code: str, info: RowInfo, index: int | None, detail: str, hint: str | None = None) -> None:
        self.problems.append(cell_problem(code, self.table, info.record, index, detail, hint))

    def run(self) -> list[Problem]:
        self._identities()
        parents, links = self._references()
        framework_of, cyclic = self._hierarchy(parents)
        self._frameworks(links, framework_of, cyclic)
        self._duplicate_rows()
        return self.problems

    def _identities(self) -> None:
        rows = self.rows
        ids, ctids = list(map(attrgetter("id"), rows)), list(map(attrgetter("ctid"), rows))
        if (
            all(ids)
            and None not in ctids
            and len(set(ids)) == len(ids) == len(set(ctids))
            and not (self.index is not None and self.index.entries)
        ):  # the usual case, with nothing to report: the lookups in two C calls
            self.by_id = dict(zip(ids, rows, strict=True))
            self.by_ctid = {ctid: info for ctid, info in zip(ctids, rows, strict=True) if ctid is not None}
            return
        for info in self.rows:
            duplicate_id = False
            if info.id:
                first = self.by_id.setdefault(info.id, info)
                if first is not info:
                    duplicate_id = True
                    self.emit(
                        "duplicate-id", info, self.id_index, f"{quote(info.id)} is also {_where(first)}"
                    )
            if info.ctid is None:
                continue
            first = self.by_ctid.setdefault(info.ctid, info)
            if first is not info and not (duplicate_id and info.id.lower() == info.ctid):
                self.emit(
                    "duplicate-ctid", info, info.ctid_index, f"{quote(info.ctid)} is also {_where(first)}"
                )
            elif self.index is not None and self.index.entries:
                others = self.index.elsewhere(info.ctid, self.table.path)
                if others:
                    path, line = others[0]
                    self.emit(
                        "duplicate-ctid",
                        info,
                        info.ctid_index,
                        f"{quote(info.ctid)} is also in {path}:{line}",
                    )

    def _dangling_hint(self, value: str) -> str | None:
        """When the target exists in the other form (CTID vs URL), name the row and its `@id`."""
        match = self.ctid_search.search(value)
        target = self.by_ctid.get(match.group(0).lower()) if match else None
        if target is None or not target.id:
            return None
        return (
            f"{_where(target).capitalize()} has this CTID, but its @id is {quote(target.id)}: "
            "write the reference exactly as that row's @id (CASS matches references to @id as written)."
        )

    def _references(self) -> tuple[dict[int, RowInfo], dict[int, list[tuple[CellRule, RowInfo]]]]:
        """Resolve references; returns each row's parent and its framework links (column, target)."""
        parents: dict[int, RowInfo] = {}
        links: dict[int, list[tuple[CellRule, RowInfo]]] = {}
        for rule, column_values in self.refs:
            wanted = rule.column.references
            # A single-valued reference names the row's parent or framework: CASS needs it above.
            upward = rule.single
            for pos, values in column_values.items():
                info = self.at[pos]
                for value in values:
                    target = self.by_id.get(value)
                    if target is None:
                        self.emit(
                            "dangling-reference",
                            info,
                            rule.index,
                            f"{quote(value)} is the @id of no row",
                            hint=self._dangling_hint(value),
                        )
                        continue
                    if target.kind is not None and target.kind != wanted:
                        self.emit(
                            "reference-wrong-type",
                            info,
                            rule.index,
                            f"{quote(value)} is {_where(target)}, a {target.kind}, not a {wanted}",
                        )
                        continue
                    if not upward:
                        continue
                    if target.pos > info.pos:
                        self.emit(
                            "forward-reference",
                            info,
                            rule.index,
                            f"{quote(value)} is {_where(target)}, below this row",
                        )
                    if wanted == COMPETENCY:  # a single competency reference: the parent
                        parents[info.pos] = target
                    else:
                        links.setdefault(info.pos, []).append((rule, target))
        return parents, links

    def _hierarchy(self, parents: dict[int, RowInfo]) -> tuple[dict[int, RowInfo | None], set[int]]:
        """Each competency's parent chain: report cycles (once, at their first row) and return the
        chain each row hangs from (its topmost ancestor, or None inside a cycle)."""
        top_of: dict[int, RowInfo | None] = {}
        cyclic: set[int] = set()
        if all(parent.pos < pos for pos, parent in parents.items()):
            # every parent above its child (the usual file): no loop, and one pass down the rows
            # finds each row's topmost ancestor
            for info in self.rows:
                parent = parents.get(info.pos)
                top_of[info.pos] = info if parent is None else top_of[parent.pos]
            return top_of, cyclic
        for info in self.rows:
            if info.kind != COMPETENCY or info.pos in top_of:
                continue
            path: list[RowInfo] = []
            on_path: set[int] = set()
            current: RowInfo | None = info
            while current is not None and current.pos not in top_of:
                if current.pos in on_path:
                    cycle = path[path.index(current) :]
                    first = min(cycle, key=lambda r: r.pos)
                    rule_index = next(
                        (
                            r.index
                            for r, values in self.refs
                            if r.single and r.column.references == COMPETENCY and first.pos in values
                        ),
                        None,
                    )
                    members = ", ".join(str(r.record.row) for r in sorted(cycle, key=lambda r: r.pos))
                    self.emit("cycle", first, rule_index, f"rows {members} form a loop of parents")
                    for member in cycle:
                        top_of[member.pos] = None
                        cyclic.add(member.pos)
                    break
                on_path.add(current.pos)
                path.append(current)
                current = parents.get(current.pos)
            base: RowInfo | None = top_of[current.pos] if current is not None else None
            for node in reversed(path):
                if node.pos in cyclic:
                    base = None
                    continue
                top = base if node.pos in parents else node
                top_of[node.pos] = top
                base = top
        return top_of, cyclic

    def _frameworks(
        self,
        links: dict[int, list[tuple[CellRule, RowInfo]]],
        top_of: dict[int, RowInfo | None],
        cyclic: set[int],
    ) -> None:
        """Which framework each competency reaches; orphans, disagreements and empty frameworks."""
        used: set[int] = set()
        for info in self.rows:
            if info.kind != COMPETENCY:
                continue
            if info.pos in cyclic:
                used.update(target.pos for _, target in links.get(info.pos, []))
                continue
            top = top_of.get(info.pos)
            top_links = links.get(top.pos, []) if top is not None else []
            framework = top_links[0][1] if top_links else None
            if framework is not None:
                used.add(framework.pos)
            for rule, target in links.get(info.pos, []):
                used.add(target.pos)
                if framework is not None and target is not framework:
                    self.emit(
                        "framework-mismatch",
                        info,
                        rule.index,
                        f"{rule.column.name} names {_where(target)}, but the row belongs to the framework in "
                        f"{_where(framework)}",
                    )
            if framework is None and info.pos not in self.linked:
                self.emit(
                    "orphan-competency",
                    info,
                    self.id_index,
                    f"{quote(info.id)} has no parent and no framework",
                )
        for info in self.rows:
            if info.kind == FRAMEWORK and info.pos not in used:
                self.emit("empty-framework", info, self.id_index, f"{quote(info.id)} has no competencies")

    def _duplicate_rows(self) -> None:
        """Rows equal in every cell but `@id` and `ceterms:ctid` (CASS's duplicate detector)."""
        width = len(self.table.header)
        keep = [i for i in range(width) if i not in (self.id_index, self.ctid_column)]
        if not keep:
            return
        values = itemgetter(*keep)  # one C call per row; ragged rows are padded first

        def key(info: RowInfo) -> object:
            cells = info.record.cells
            return values(cells if len(cells) >= width else cells + [""] * width)

        records = list(map(attrgetter("record.cells"), self.rows))
        if all(map(width.__le__, map(len, records))):  # no short row to pad: one C pass
            hashes = list(map(hash, map(values, records)))
        else:
            hashes = list(map(hash, map(key, self.rows)))
        if len(set(hashes)) == len(hashes):
            return
        # Keyed by hash only (a large table's keys would double its memory); equal hashes are
        # compared in full before anything is reported.
        seen: dict[int, RowInfo] = {}
        for info in self.rows:
            first = seen.setdefault(hash(key(info)), info)
            if first is not info and key(first) == key(info):
                self.emit("duplicate-row", info, self.id_index, f"same values as {_where(first)}")


def check_structure(
    table: Table,
    rows: list[RowInfo],
    refs: References,
    id_index: int | None,
    ctid_column: int | None,
    ctid_search: re.Pattern[str],
    index: CtidIndex | None = None,
) -> list[Problem]:
    return StructureChecker(table, rows, refs, id_index, ctid_column, ctid_search, index).run()
