"""Settling a clean framework file in bulk, before a single cell is parsed.

The precise checks (``cells``, ``structure``) turn every cell into a string of its own: about a
second per 100,000 competencies. Most files a hook sees have no problem at all. For those, one
regular expression per header, compiled from the schema, decides the cell and row-type rules in C
and captures only what other rules need (ids, constrained values, references); the structure rules
then run on those few columns. A large file is read in two halves at once when a second core is
free.

The answer is "the rows are clean" or "don't know": on "don't know" the file goes through the
precise checks, the only code that reports a row's problems. (What the header lacks, columns that
rows of some type need, is reported for settled files too, by the one function both paths call,
``cells.absent_columns``, from the number of rows of each type.) So the acceptor may be stricter
than the rules (it wants lower-case v4 CTIDs as ``@id``, ``ceterms:ctid`` empty or the same,
quotes only where a comma or quote needs them, no spaces around ``|``) but never more lenient: a
differential test holds it to the precise checks' very problems on every file it settles.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import chain, compress
from operator import eq, itemgetter, lt
from urllib.parse import urlsplit

from competency_ci.frameworks import forked
from competency_ci.frameworks.checks.cells import (
    DESCRIPTION,
    NAME,
    V4_NIBBLES,
    absent_columns,
    requirements,
)
from competency_ci.frameworks.checks.header import check_header
from competency_ci.frameworks.checks.structure import CtidIndex
from competency_ci.frameworks.config import REGISTRIES
from competency_ci.frameworks.problems import Problem
from competency_ci.frameworks.table import Table, decode
from competency_ci.schema import COLLECTION, COMPETENCY, FRAMEWORK, Column, TemplateSchema

# One value as the acceptor allows it: no spaces around it, no formula, no `|`, no quote, comma
# or line break. A multi-valued cell is such values joined by a bare `|`. (Possessive `*+`: what
# follows a value is never a character of the class, so giving some back could not help.)
_PIECE = r'[^\s=,"|][^,"\r\n|]*+(?<!\s)'
# A quoted value, only when its comma or quote needs the quotes (so each value has one spelling
# and equal values are equal text), and without `|`: the same rules inside the quotes.
# `@id`: a value without upper-case letters (the schema's CTID pattern, checked next, allows
# nothing beyond ASCII, so this makes a lower-case CTID; upper case has notices of its own).
_ID = r'[^\s=,"|A-Z][^,"\r\n|A-Z]*+(?<!\s)'
_QUOTED = r'"(?=[^\s="|])(?=[^"\r\n]*(?:,|""))(?:[^"\r\n|]|"")*(?<!\s)"'
# Files at least this large are read in two halves in parallel (about 10,000 competencies).
PARALLEL_BYTES = 2_000_000
# Characters read per regex call: a file with a problem is given up at the chunk that has it.
CHUNK = 1_000_000


def _value(column: Column, kind: str | None = None) -> str | None:
    """A clean cell of the column; None when no value is clean (the descriptor's ``export`` says
    CE would not see it as written: the precise checks warn about it)."""
    loss = column.export_loss
    if loss is not None:
        if loss.dropped or not column.multiple:
            return None
        return rf"{_PIECE}(?:\|{_PIECE})+"  # several values: only one would change shape
    value = rf"{_PIECE}(?:\|{_PIECE})*" if column.is_multiple(kind) else _PIECE
    return rf"(?:{_QUOTED}|{value})"  # the quote first: one character settles which


# A registry URI is right or wrong by the configured environment, which the acceptor does not
# know: values naming a Credential Registry host, and any URI where only a CTID or a registry URI
# will do (``"registry": "required"``), are left to the precise checks (``checks/registry.py``).
_REGISTRY_HOSTS = "|".join(re.escape(urlsplit(url).netloc) for url in REGISTRIES.values())


def _quiet(column: Column) -> Callable[[str], object] | None:
    """The acceptor's test of a value: no rule of the column has anything to say about it."""
    quiet = column.quiet
    if column.kind != "ctid-or-uri" or column.references is not None or quiet is None:
        return quiet
    advice = column.advice
    base = advice[0] if advice is not None else column.pattern
    assert base is not None, "a reference column has a pattern"
    refuse = "(?i:http)" if column.registry == "required" else f"(?i:{_REGISTRY_HOSTS})"
    return re.compile(rf"(?!.*{refuse})(?:{base.pattern})").fullmatch


def _needs(column: Column, kind: str) -> bool:
    """Whether a row of this type must fill the column (a CTID ``@id`` stands in for ceterms:ctid)."""
    return kind in column.required_for and column.kind != "ctid"


@dataclass(frozen=True)
class Captured:
    """A constrained column whose values go to Python: its group in each branch that has it."""

    column: Column
    groups: tuple[tuple[int, int], ...]  # (branch, group)
    valid: Callable[[str], object]


@dataclass(frozen=True)
class RowPattern:
    """The regular expression for one header: a branch per row type, each settling the cell rules
    and requirements of that type. Group 0 is `@id`; the ``keys`` groups hold every other cell but
    ceterms:ctid, so together they are a row's duplicate key."""

    regex: re.Pattern[str]
    keys: tuple[int, ...]
    kinds: tuple[str, ...]  # the row type of each branch; the first needs no marker
    markers: tuple[int, ...]  # for the other branches: a group filled only when it matched
    captured: tuple[Captured, ...]
    texts: tuple[int, int, int] | None  # the framework branch, its name and description groups


_PATTERNS: dict[tuple[int, tuple[str, ...]], RowPattern | None] = {}


def row_pattern(header: tuple[str, ...], schema: TemplateSchema) -> RowPattern | None:
    """The acceptor for a header (compiled once per header and schema)."""
    key = (id(schema), header)
    if key not in _PATTERNS:
        _PATTERNS[key] = _compile(header, schema)
    return _PATTERNS[key]


def _compile(header: tuple[str, ...], schema: TemplateSchema) -> RowPattern | None:
    """None when the header has a column the schema does not know, does not start with `@id`
    (as CE's template does), or no row could be settled."""
    columns = [schema.get(name) for name in header]
    if None in columns:
        return None
    at = {c.kind: i for i, c in enumerate(columns) if c is not None}
    type_at = at.get("type")
    if at.get("id") != 0 or type_at is None:
        return None
    ctid_at = at.get("ctid")
    count = 0
    branches: list[list[str]] = []  # per branch: the cells after `@id`, ceterms:ctid left out
    kinds: list[str] = []
    markers: list[str] = []
    named: list[dict[int, str]] = []  # per branch: column position -> group name

    def group(body: str) -> tuple[str, str]:
        nonlocal count
        count += 1
        return f"(?P<g{count}>{body})", f"g{count}"

    # Competencies first: nearly every row is one, and a branch that fails costs a second look.
    # (A column the header lacks that a row type needs is one problem on the header, whatever the
    # rows hold: ``absent_columns``, from the rows of each type counted here.)
    for type_value, kind in sorted(schema.row_types.items(), key=lambda item: item[1] != COMPETENCY):
        named.append({})
        cells: list[str] = []
        for i, column in enumerate(columns[1:], start=1):
            assert column is not None
            if i == ctid_at:
                continue
            if i == type_at:
                cell = re.escape(type_value)
                if branches:
                    cell, marker = group(cell)
                    markers.append(marker)
            elif kind not in column.rows or (value := _value(column, kind)) is None:
                cell = ""  # a value here would not apply to the row, or not reach CE as written
            else:
                cell = value
                if column.validator is not None:
                    cell, named[-1][i] = group(cell)
                if not _needs(column, kind):
                    cell = f"(?:{cell})??"  # lazy: most optional cells are empty
            cells.append(cell)
        branches.append(cells)
        kinds.append(kind)
    if not branches:
        return None
    regex = re.compile(_row(branches, None if ctid_at is None else ctid_at - 1), re.MULTILINE)

    def number(name: str) -> int:
        return regex.groupindex[name] - 1

    captured = []
    for i, column in enumerate(columns):
        groups = tuple((b, number(g[i])) for b, g in enumerate(named) if i in g)
        valid = _quiet(column) if column is not None else None
        if groups and column is not None and valid is not None:
            captured.append(Captured(column, groups, valid))
    branch = kinds.index(FRAMEWORK) if FRAMEWORK in kinds else -1
    framework = named[branch] if branch >= 0 else {}
    texts = [framework.get(header.index(n)) if n in header else None for n in (NAME, DESCRIPTION)]
    return RowPattern(
        regex=regex,
        keys=tuple(number(k) for k in ("before", "after") if k in regex.groupindex),
        kinds=tuple(kinds),
        markers=tuple(map(number, markers)),
        captured=tuple(captured),
        texts=(branch, number(texts[0]), number(texts[1])) if texts[0] and texts[1] else None,
    )


def _row(branches: list[list[str]], ctid_at: int | None) -> str:
    """``@id``, the branches' cells, and ceterms:ctid (before cell ``ctid_at`` of the branches)
    empty or the same as ``@id``. The cells before and after ceterms:ctid are one group each (the
    duplicate key leaves the CTID out); a branch chosen before it is held to after it by a
    conditional on an empty group that marks the branch."""
    cut = len(branches[0]) if ctid_at is None else ctid_at
    parts = [rf"^(?P<id>{_ID})"]
    chosen = False
    for name, segments in (("before", [b[:cut] for b in branches]), ("after", [b[cut:] for b in branches])):
        if name == "after" and ctid_at is not None:
            parts.append(",(?:(?P=id))?")
        if not segments[0]:
            continue
        if chosen:  # the branch taken before ceterms:ctid
            body = ",".join(segments[0])
            for b in range(len(segments) - 1, 0, -1):
                body = f"(?(b{b}){','.join(segments[b])}|{body})"
        else:
            body = "|".join(
                (f"(?P<b{b}>)" if b else "") + ",".join(cells) for b, cells in enumerate(segments)
            )
            chosen = True
        parts.append(f",(?P<{name}>{body})")
    parts.append(r"\r?$")
    return "".join(parts)


# --- reading -------------------------------------------------------------------------------------


@dataclass
class Part:
    """What the global rules need from a run of rows that passed every rule of its own."""

    ids: list[str]
    keys: list[int]  # hash of each row's duplicate key
    minority: dict[str, list[int]]  # row type -> rows, for the types of the later branches
    references: list[tuple[Column, list[int], list[str]]]  # column, rows, values
    distinct: set[int] | None = field(default=None, repr=False)  # the keys as a set (not sent)
    by_id: dict[str, int] | None = field(default=None, repr=False)  # its rows by @id (not sent)

    def pack(self) -> bytes:
        """For the trip between processes: lists as joined text and machine integers (no value
        holds a line break), which is several times quicker than pickling the lists."""
        import pickle  # only the two-halves path needs these: not on a hook's start-up
        from array import array

        return pickle.dumps(
            (
                "\n".join(self.ids),
                array("q", self.keys).tobytes(),
                self.minority,
                [(c.name, array("q", r).tobytes(), "\n".join(v)) for c, r, v in self.references],
            )
        )

    @classmethod
    def unpack(cls, data: bytes, schema: TemplateSchema) -> Part:
        import pickle
        from array import array

        ids, keys, minority, references = pickle.loads(data)

        def numbers(raw: bytes) -> list[int]:
            return array("q", raw).tolist()

        def texts(joined: str) -> list[str]:
            return joined.split("\n") if joined else []

        return cls(
            texts(ids),
            numbers(keys),
            minority,
            [(schema.columns[name], numbers(rows), texts(values)) for name, rows, values in references],
        )


def _matches(
    body: str, start: int, end: int, regex: re.Pattern[str], abort: Callable[[], bool] | None
) -> list[tuple[str, ...]] | None:
    """The rows of ``body[start:end]`` (whole lines) when every line is a clean row; read a chunk
    at a time, so that a bad line, or ``abort``, ends the reading early."""
    found: list[tuple[str, ...]] = []
    while start < end:
        stop = body.find("\n", min(start + CHUNK, end) - 1, end) + 1 or end
        rows = regex.findall(body, start, stop)
        if len(rows) != body.count("\n", start, stop) + (body[stop - 1] != "\n"):
            return None  # some line is not a clean row
        if abort is not None and abort():
            return None
        found += rows
        start = stop
    return found or None


def _read_part(
    body: str,
    start: int,
    end: int,
    first_row: int,
    pattern: RowPattern,
    settled_id: re.Pattern[str],
    abort: Callable[[], bool] | None = None,
    keep: list[object] | None = None,
) -> Part | None:
    """The rows of ``body[start:end]`` (whole lines), numbered from ``first_row``. ``keep``
    receives the matches, for a process that ends without freeing them one by one."""
    found = _matches(body, start, end, pattern.regex, abort)
    if keep is not None:
        keep.append(found)
    if found is None:
        return None
    n = len(found)
    ids = list(map(itemgetter(0), found))
    if not all(map(settled_id.fullmatch, ids)):
        return None
    keys = list(map(hash, map(itemgetter(*pattern.keys), found)))
    distinct = set(keys)
    if len(distinct) != n:
        return None  # two rows alike but for their ids (or a rare hash collision)
    rows = range(first_row, first_row + n)
    # rows of the later branches (few: frameworks), by position in this part
    local = [list(compress(range(n), map(itemgetter(m), found))) for m in pattern.markers]
    minority = {kind: [first_row + p for p in at] for kind, at in zip(pattern.kinds[1:], local, strict=True)}
    references = []
    for captured in pattern.captured:
        reference = captured.column.references is not None
        present: list[int] = []
        filled: list[str] = []
        for branch, group in captured.groups:
            if branch == 0:
                values = list(map(itemgetter(group), found))
                if reference:
                    present += compress(rows, values)
                filled += compress(values, values)
            else:
                for p in local[branch - 1]:
                    if found[p][group]:
                        present.append(first_row + p)
                        filled.append(found[p][group])
        # references repeat (a parent has many children): each distinct one is checked once
        if not all(map(captured.valid, set(filled) if reference else filled)):
            return None
        if reference:
            references.append((captured.column, present, filled))
    if pattern.texts is not None:  # a framework description that only repeats its name
        branch, name, description = pattern.texts
        for row in map(found.__getitem__, local[branch - 1]) if branch else found:
            if row[name] and row[name] == row[description]:
                return None
    return Part(ids, keys, minority, references, distinct)


def _read_parts(
    body: str, start: int, pattern: RowPattern, settled_id: re.Pattern[str], schema: TemplateSchema
) -> list[Part] | None:
    """The rows of ``body[start:]``; a large file is read in two halves at once, the second by a
    forked child."""
    size = len(body)
    cut = body.find("\n", (start + size) // 2) + 1
    if size - start < PARALLEL_BYTES or not 0 < cut < size or not forked.available():
        part = _read_part(body, start, size, 0, pattern, settled_id)
        return None if part is None else [part]

    kept: list[object] = []  # the child's objects, never freed one by one: it leaves by os._exit

    def second_half() -> bytes | None:
        part = _read_part(body, cut, size, body.count("\n", start, cut), pattern, settled_id, keep=kept)
        kept.append(part)
        return None if part is None else part.pack()

    child = forked.start(second_half)
    first = _read_part(body, start, cut, 0, pattern, settled_id, abort=child.failed)
    if first is None:  # the precise checks will read the file: the other half is moot
        child.cancel()
        return None
    first.by_id = dict(zip(first.ids, range(len(first.ids)), strict=True))  # while the child works
    data = child.result()
    return None if data is None else [first, Part.unpack(data, schema)]


# --- the rules across rows -----------------------------------------------------------------------


def _settled(parts: list[Part], pattern: RowPattern) -> tuple[list[str], dict[str, int]] | None:
    """The rows' CTIDs and the number of rows of each type when ids, references and the hierarchy
    are clean, else None."""
    ids = list(chain.from_iterable(p.ids for p in parts))
    n = len(ids)
    by_id = parts[0].by_id or dict(zip(parts[0].ids, range(len(parts[0].ids)), strict=True))
    for part in parts[1:]:
        by_id.update(zip(part.ids, range(len(by_id), len(by_id) + len(part.ids)), strict=True))
    if len(by_id) != n or not _distinct_keys(parts):
        return None
    majority = pattern.kinds[0]
    minority = {k: set(chain.from_iterable(p.minority[k] for p in parts)) for k in pattern.kinds[1:]}
    others = set().union(*minority.values())
    columns: dict[str, tuple[Column, list[int], list[str]]] = {}
    for part in parts:
        for column, rows, values in part.references:
            _, all_rows, all_values = columns.setdefault(column.name, (column, [], []))
            all_rows += rows
            all_values += values
    parents: tuple[list[int], list[int]] = ([], [])
    links: list[tuple[list[int], list[int]]] = []  # per one-valued framework reference column
    for column, rows, values in columns.values():
        pieces: Iterable[str] = values
        if column.multiple:
            pieces = [p for value in values for p in value.split("|")]
        found = list(map(by_id.get, pieces))
        if None in found:
            return None
        targets: list[int] = found  # type: ignore[assignment]
        if column.references == majority:
            if not others.isdisjoint(targets):
                return None
        elif not minority.get(column.references or "", set()).issuperset(targets):
            return None
        if column.multiple:
            continue
        if not all(map(lt, targets, rows)):
            return None  # a parent or framework below its row
        if column.references == COMPETENCY:
            parents = (rows, targets)
        else:
            links.append((rows, targets))
    competencies = n - len(others) if majority == COMPETENCY else len(minority.get(COMPETENCY, ()))
    frameworks = set(range(n)) - others if majority == FRAMEWORK else minority.get(FRAMEWORK, set())
    if not _hierarchy_clean(n, competencies, frameworks, parents, links):
        return None
    counts = {kind: len(rows) for kind, rows in minority.items()}
    counts[majority] = n - len(others)
    return ids, counts


def _distinct_keys(parts: list[Part]) -> bool:
    """No two rows alike but for their ids, across parts (each part checked its own)."""
    seen = parts[0].distinct if parts[0].distinct is not None else set(parts[0].keys)
    for part in parts[1:]:
        if not seen.isdisjoint(part.keys):
            return False
        if part is not parts[-1]:
            seen.update(part.keys)
    return True


def _hierarchy_clean(
    n: int,
    competencies: int,
    frameworks: set[int],
    parents: tuple[list[int], list[int]],
    links: list[tuple[list[int], list[int]]],
) -> bool:
    """Every competency reaches a framework (the first link of its topmost ancestor) and agrees
    with its own links, and every framework has competencies. Parents are above their children,
    so one pass down the rows settles it, and there can be no loop."""
    reached: list[int | None] = [None] * n  # the framework each competency hangs from
    for rows, targets in reversed(links):  # the first link wins
        for row, target in zip(rows, targets, strict=True):
            reached[row] = target
    for row, parent in zip(*parents, strict=True):
        reached[row] = reached[parent]
    if reached.count(None) != n - competencies:
        return False  # a competency that reaches no framework
    if not all(all(map(eq, map(reached.__getitem__, rows), targets)) for rows, targets in links):
        return False
    return frameworks.issubset(reached)  # no framework without competencies


# --- the file ------------------------------------------------------------------------------------


@dataclass
class Settled:
    """A file whose rows are clean on their own: its CTIDs (by row) are all the cross-file check
    still needs, and its bytes are kept for whoever wants the table. ``problems``: what its header
    lacks (columns its rows need), exactly as the precise checks report it."""

    path: str
    data: bytes = field(repr=False)
    ctids: list[str] = field(repr=False)
    problems: list[Problem] = field(default_factory=list)

    def clashes(self, index: CtidIndex) -> bool:
        """Whether another framework file of the repository has one of these CTIDs."""
        entries = index.entries
        if not entries:
            return False
        shared = entries.keys() & set(self.ctids)
        return any(p != self.path for c in shared for p, _ in entries[c])

    def add_to(self, index: CtidIndex) -> None:
        for line, ctid in enumerate(self.ctids, start=2):  # one line per row, below the header
            index.add(ctid, self.path, line)


def _settled_id(schema: TemplateSchema) -> re.Pattern[str]:
    """A CTID by the schema's pattern with version-4 nibbles (in lower case, it is an ``@id`` with
    nothing to report)."""
    ctid = next(c for c in schema.columns.values() if c.kind == "ctid")
    assert ctid.pattern is not None
    return re.compile(rf"(?={V4_NIBBLES.pattern})(?:{ctid.pattern.pattern})")


def settle(path: str, data: bytes, schema: TemplateSchema) -> Settled | None:
    """The file settled as clean, or None when the precise checks must decide."""
    text, _, problems = decode(path, data)
    if text is None or problems:
        return None
    if any(kind == COLLECTION and value in text for value, kind in schema.row_types.items()):
        return None  # collection files: membership and mixing rules are the precise checks' alone
    start = text.find("\n") + 1
    first = text[: start - 1].removesuffix("\r")
    if not start or start == len(text) or '"' in first:
        return None
    header = first.split(",")
    resolved, header_problems = check_header(Table(path, header, []), schema)
    if header_problems:
        return None
    pattern = row_pattern(tuple(header), schema)
    if pattern is None:
        return None
    # The rows make a million short-lived objects and no cycles: the cyclic collector would only
    # walk them again and again.
    collecting = gc.isenabled()
    gc.disable()
    try:
        parts = _read_parts(text, start, pattern, _settled_id(schema), schema)
        rows = None if parts is None else _settled(parts, pattern)
    finally:
        if collecting:
            gc.enable()
    if rows is None:
        return None
    ids, counts = rows
    return Settled(path, data, ids, absent_columns(path, 1, requirements(schema, resolved), counts))
