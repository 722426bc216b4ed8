"""Differential test: our validator and frictionless, reading the same descriptor, agree cell for cell.

The corpus is seeded random mutations of our examples (plus one row pair per row type that fills
every column with its descriptor example): cells replaced with bad CTIDs, non-URIs, bad dates,
language codes and vocabulary values, wrong or empty ``@id``/``@type``, ``|`` and empty pieces,
formulas, quotes and line breaks, valid values, and values moved from other cells; one file in
five is saved the way Excel does (BOM, CRLF).

What is compared: the cells, as (spreadsheet row, column), where frictionless reports a
``constraint-error``, ``type-error``, ``unique-error`` or ``foreign-key`` error and the cells where
our validator reports one of ``SCHEMA_CODES``, the codes that are Table Schema rules (pattern,
enum, required, unique, foreign keys) in our terms. ``dangling-reference`` counts only in the
foreign-key columns: Table Schema compares whole cells, so the multi-valued reference columns
(``hasChild``, ``hasTopChild``) have no foreign key and their references are checked by us alone.
frictionless's ``rowNumber`` counts records with the header as row 1, like our ``Problem.row``
(not the physical ``line``: the corpus has cells that span lines).

Domain (where the two engines are meant to agree; the mutations stay inside it):
* no value gets surrounding whitespace: our validator trims cells as CASS does (and reports
  ``cell-spaces``), frictionless matches patterns on the raw cell;
* no ``@type`` starts with ``sample``/``instruction``: our validator skips template rows as CASS
  does, frictionless checks them;
* values go only into columns that apply to the row's type (when the type is known): elsewhere
  our validator reports ``not-applicable`` (the value is ignored), a row-type rule Table Schema
  cannot express, and does not check the value's form;
* no reference equals a temporary ``@id`` (neither URI nor CTID) of the file: our validator
  lets such a key through because ``fix`` replaces it everywhere with a minted CTID.
"""

from __future__ import annotations

import csv
import io
import random
import uuid
from dataclasses import dataclass
from pathlib import Path

from frictionless import Dialect, Resource, Schema

from competency_ci.frameworks.config import Config
from competency_ci.frameworks.problems import Problem
from competency_ci.frameworks.table import read_table
from competency_ci.frameworks.validate import check_table, is_temporary_id
from competency_ci.schema import COMPETENCY, FRAMEWORK, TemplateSchema, load_schema
from conftest import EXAMPLES

# Our codes for a value that breaks a Table Schema constraint of its column, and which constraint:
SCHEMA_CODES = {
    "missing-id": "required (@id)",
    "missing-type": "required (@type)",
    "unknown-type": "enum (@type)",
    "temporary-id": "pattern (@id: neither URI nor CTID)",
    "bad-ctid": "pattern",
    "bad-uri": "pattern",
    "bad-date": "pattern",
    "bad-datetime": "pattern",
    "bad-language": "pattern",
    "bad-value": "pattern",
    "unknown-vocabulary": "pattern (short forms or a URI)",
    "pipe-in-single-value": "pattern (a single-valued column's pattern excludes `|`)",
    "multiple-parents": "pattern (`isChildOf` is single-valued)",
    "empty-piece": "pattern (a multi-valued column's pattern has no empty pieces)",
    "duplicate-id": "unique (@id)",
    "dangling-reference": "foreign key (single-valued reference columns)",
}
FILES_PER_BASE = 62
SEED = 20261128

BAD_VALUES = [
    "ce-1234",
    "ce-8503cde5-7f91-46a2-b225-9b453d1e0afZ",
    "CE-8503cde5-7f91-46a2-b225-9b453d1e0afd",
    "ce-8503cde57f9146a2b2259b453d1e0afd",
    "8503cde5-7f91-46a2-b225-9b453d1e0afd",
    "www.example.org/x",
    "ftp://example.org/x",
    "http://exa mple.org",
    "http://",
    "example",
    "2024-13-01",
    "01/05/2024",
    "2024-5-1",
    "2024",
    "2024-05-01T25:00:00Z",
    "2024-05-01 12:00",
    "english",
    "e",
    "en_US",
    "en-",
    "draft",
    "Retired",
    "Beginner",
    "beginnerlevel",
    "ceasn:competency",
    "Competency",
    "ceterms:Collection",
    "skos:Concept",
    "=1+1",
    '=HYPERLINK("https://example.org")',
    "1,5",
    "abc",
    "a~b~c~d",
    "~x",
    "-----BEGIN PUBLIC KEY-----a.b-----END PUBLIC KEY-----",
    "line one\nline two",
    'He said "hi", then left',
    "Ünïcödé — text",
    "",
]
GOOD_VALUES = [
    "https://example.org/x",
    "http://credreg.net/ctdlasn/vocabs/publicationStatus/Draft",
    "en-US|fr",
    "2025-01-02",
    "2025-01-02T03:04:05Z",
    "-0.5",
    "v1~~https://example.org/scheme",
    "ceasn:Competency",
    "ceasn:CompetencyFramework",
]


# One targeted mutation per mapped code (on the all-columns base: row 2 framework, row 3
# competency), so every mapping is exercised whatever the random corpus draws.
TARGETED = [
    [(2, "@id", "")],
    [(3, "@type", "")],
    [(3, "@type", "ceasn:competency")],
    [(2, "@id", "new-framework")],
    [(2, "ceterms:ctid", "ce-1234")],
    [(2, "ceasn:license", "www.example.org/license")],
    [(2, "ceasn:dateCreated", "2024-13-01")],
    [(3, "ceasn:dateModified", "2024-05-01T25:00:00Z")],
    [(2, "ceasn:inLanguage", "english")],
    [(3, "ceasn:weight", "0,5")],
    [(2, "ceasn:publicationStatusType", "Retired")],
    [(2, "ceasn:name", "History|Civics")],
    [
        (
            3,
            "ceasn:isChildOf",
            "ce-b5e7ea9f-854c-49c0-9e62-f5e49e3bb602|ce-d034c905-2347-4b5f-868a-eb330a802da0",
        )
    ],
    [(3, "ceasn:conceptKeyword", "history||civics")],
    # A cell spanning lines above a finding: rows and physical lines differ from there on.
    [(2, "ceasn:description", "Line one.\nLine two."), (3, "@type", "Competency")],
]


@dataclass
class Outcome:
    name: str
    mismatches: list[str]
    codes: set[str]
    multiline_rows: bool


def read_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def write_rows(rows: list[list[str]], newline: str = "\n", bom: bool = False) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator=newline).writerows(rows)
    return (b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode("utf-8")


def all_columns_base(schema: TemplateSchema) -> list[list[str]]:
    """Every column, one framework row and one competency row filled with the descriptor's examples."""
    header = list(schema.columns)
    rows = [header]
    for row_type in (FRAMEWORK, COMPETENCY):
        row = [c.example if row_type in c.rows else "" for c in schema.columns.values()]
        row[header.index("@type")] = schema.type_for(row_type)
        rows.append(row)
    return rows


class Mutator:
    def __init__(self, schema: TemplateSchema, rng: random.Random) -> None:
        self.schema = schema
        self.rng = rng
        self.id_name = next(n for n, c in schema.columns.items() if c.kind == "id")
        self.type_name = next(n for n, c in schema.columns.items() if c.kind == "type")

    def ctid(self) -> str:
        value = "ce-" + str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        return value.upper() if self.rng.random() < 0.2 else value

    def value(self, rows: list[list[str]], name: str, current: str) -> str:
        rng = self.rng
        column = self.schema.columns[name]
        roll = rng.random()
        if roll < 0.2 and current:
            return rng.choice([f"{current}|{current}", f"{current}|", f"|{current}", f"{current}||{current}"])
        if roll < 0.3:
            return rng.choice([column.example, *column.vocabulary, self.ctid()])
        if roll < 0.4 and len(column.example) > 2:
            # A near miss: the column's own example with one inner character replaced.
            at = rng.randrange(1, len(column.example) - 1)
            return column.example[:at] + rng.choice(" !~:|/,") + column.example[at + 1 :]
        if roll < 0.6:
            return rng.choice([cell for row in rows[1:] for cell in row])
        return rng.choice(BAD_VALUES + GOOD_VALUES)

    def row_type(self, rows: list[list[str]], r: int) -> str | None:
        return self.schema.row_type(rows[r][rows[0].index(self.type_name)])

    def mutate(self, base: list[list[str]]) -> list[list[str]]:
        rng = self.rng
        while True:
            rows = [list(row) for row in base]
            header = rows[0]
            # One target in four is an identity cell (@id, @type): they have the most rules.
            identity = [header.index(self.id_name), header.index(self.type_name)]
            targets = [
                (
                    rng.randrange(1, len(rows)),
                    rng.choice(identity) if rng.random() < 0.25 else rng.randrange(len(header)),
                )
                for _ in range(rng.randint(1, 3))
            ]
            # @type first, so that the other values go into columns that apply to the final type.
            targets.sort(key=lambda t: header[t[1]] != self.type_name)
            for r, i in targets:
                name = header[i]
                kind = self.row_type(rows, r)
                if kind is not None and kind not in self.schema.columns[name].rows:
                    continue
                value = self.value(rows, name, rows[r][i])
                if name == self.type_name and self.schema.is_template_row(value):
                    continue
                rows[r][i] = value
            if self.in_domain(rows):
                return rows

    def in_domain(self, rows: list[list[str]]) -> bool:
        header = rows[0]
        id_i = header.index(self.id_name)
        temporary = {row[id_i] for row in rows[1:] if row[id_i] and not row[id_i].startswith(("http", "ce-"))}
        for row in rows[1:]:
            kind = self.schema.row_type(row[header.index(self.type_name)])
            for name, value in zip(header, row, strict=True):
                column = self.schema.columns[name]
                if value != value.strip():
                    return False
                if value and kind is not None and kind not in column.rows:
                    return False
                pieces = {p.strip() for p in value.split("|")}
                if column.references and pieces & temporary:
                    return False
                # a multi-valued reference (no foreign key) holding a non-URI, non-CTID value: ours
                # takes it for a temporary key that names no row (dangling-reference, not counted
                # there), Table Schema for a pattern error
                if column.references and column.multiple and any(map(is_temporary_id, pieces)):
                    return False
        return True


def ours(path: Path, schema: TemplateSchema) -> tuple[list[Problem], list[Problem]]:
    """Our findings that Table Schema rules correspond to, and all our findings."""
    table, problems = read_table(path.name, path.read_bytes())
    assert table is not None and problems == [], problems
    found = check_table(table, schema, Config(root=path.parent))
    keys = {f for key in schema.descriptor["resources"][0]["schema"]["foreignKeys"] for f in key["fields"]}
    compared = [
        p for p in found if p.code in SCHEMA_CODES and (p.code != "dangling-reference" or p.column in keys)
    ]
    assert all(p.row is not None and p.column is not None for p in compared)
    return compared, found


class Frictionless:
    """frictionless with our descriptor's schema and dialect, split in two runs for speed.

    frictionless copies the whole resource, schema included, for every self-referencing foreign
    key, which costs more than validating a small file. So the foreign keys run on their own,
    with just the fields they involve; every other rule runs without them. Each rule applies to
    each row independently, so the union of the two runs is what one run would report.
    """

    def __init__(self, schema: TemplateSchema) -> None:
        resource = schema.descriptor["resources"][0]
        table_schema = resource["schema"]
        keys = table_schema["foreignKeys"]
        involved = {f for key in keys for f in (*key["fields"], *key["reference"]["fields"])}
        self.dialect = Dialect.from_descriptor(resource["dialect"])
        self.schemas = [
            Schema.from_descriptor({**table_schema, "foreignKeys": []}),
            Schema.from_descriptor(
                {
                    **table_schema,
                    "fields": [f for f in table_schema["fields"] if f["name"] in involved],
                }
            ),
        ]

    def cells(self, path: Path) -> set[tuple[int, str]]:
        cells = set()
        for schema in self.schemas:
            resource = Resource(
                path=path.name,
                basepath=str(path.parent),
                schema=schema,
                dialect=self.dialect,
                format="csv",
                encoding="utf-8",
            )
            for error in resource.validate(limit_errors=100_000).tasks[0].errors:
                assert error.type in ("constraint-error", "type-error", "unique-error", "foreign-key"), error
                field = error.field_names[0] if error.type == "foreign-key" else error.field_name
                cells.add((error.row_number, field))
        return cells


def run_corpus(base_name: str, base: list[list[str]], directory: Path, rng: random.Random) -> Outcome:
    schema = load_schema()
    frictionless = Frictionless(schema)
    mutator = Mutator(schema, rng)
    outcome = Outcome(base_name, [], set(), False)
    corpus = [mutator.mutate(base) for _ in range(FILES_PER_BASE)]
    if base_name == "all-columns":
        for changes in TARGETED:
            rows = [list(r) for r in base]
            for row, name, value in changes:
                rows[row - 1][base[0].index(name)] = value
            assert mutator.in_domain(rows)
            corpus.append(rows)
    for n, rows in enumerate(corpus):
        path = directory / f"{base_name}-{n:03d}.csv"
        # Files saved by Excel ("CSV UTF-8") have a BOM and CRLF line breaks.
        excel = rng.random() < 0.2
        path.write_bytes(write_rows(rows, "\r\n" if excel else "\n", bom=excel))
        compared, problems = ours(path, schema)
        our_cells = {(p.row, p.column) for p in compared}
        their_cells = frictionless.cells(path)
        outcome.codes |= {p.code for p in compared}
        outcome.multiline_rows |= any(p.line != p.row for p in problems if p.row is not None)
        for row, name in sorted(our_cells ^ their_cells):
            side = "only ours" if (row, name) in our_cells else "only frictionless"
            value = rows[row - 1][rows[0].index(name)]
            codes = [p.code for p in problems if (p.row, p.column) == (row, name)]
            outcome.mismatches.append(f"{path.name} row {row} {name} = {value!r}: {side} {codes}")
    return outcome


def test_validator_agrees_with_frictionless_cell_for_cell(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    bases = {p.stem: read_rows(p.read_text("utf-8")) for p in sorted(EXAMPLES.glob("*.csv"))}
    bases["all-columns"] = all_columns_base(load_schema())
    outcomes = [run_corpus(name, base, tmp_path, rng) for name, base in bases.items()]

    assert [m for o in outcomes for m in o.mismatches] == []
    # The corpus is large and varied enough to exercise every mapped code and multi-line cells.
    assert len(list(tmp_path.glob("*.csv"))) == FILES_PER_BASE * len(bases) + len(TARGETED) >= 200
    assert set().union(*(o.codes for o in outcomes)) == set(SCHEMA_CODES)
    assert any(o.multiline_rows for o in outcomes)
