"""The bulk acceptor (`checks/bulk.py`): it settles clean files without parsing their cells, and it
is never more lenient than the precise checks.

Soundness is the property that matters: whenever ``settle`` settles a file's rows, the precise
checks find in it exactly what the acceptor reports (nothing, or the columns its header lacks).
It is tested on a seeded corpus of mutated frameworks (both
reading paths: in one process, and in two halves with a forked process), and on hypothesis's
random CSV-shaped text in ``test_robustness``. The corpus must also contain many files that the
acceptor does settle, or the property would hold vacuously.
"""

from __future__ import annotations

import csv
import io
import random
import re
import sys
import uuid
from pathlib import Path

import pytest

from competency_ci.frameworks import validate
from competency_ci.frameworks.checks import bulk
from competency_ci.frameworks.config import Config
from competency_ci.frameworks.fix import fix_text
from competency_ci.frameworks.problems import Problem
from competency_ci.frameworks.table import read_table
from competency_ci.frameworks.validate import check_table, finish, validate_paths
from competency_ci.schema import load_schema
from conftest import EXAMPLES
from validate_support import C1, C2, C3, FW, GOOD, ORG, add_column, check

SETTLE_BYTES = validate.SETTLE_BYTES


@pytest.fixture(autouse=True)
def settle_every_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """The files here are small; ``validate`` would leave them to the precise checks."""
    monkeypatch.setattr(validate, "SETTLE_BYTES", 0)


SCHEMA = load_schema()


def precise(data: bytes) -> list[Problem]:
    table, problems = read_table("f.csv", data)
    if table is not None:
        problems += check_table(table, SCHEMA, Config(root=Path(".")))
    return problems


def settled(data: bytes) -> list[str] | None:
    result = bulk.settle("f.csv", data, SCHEMA)
    return None if result is None else result.ctids


def settled_problems(data: bytes) -> list[Problem] | None:
    """What the acceptor reports for a file whose rows it settles, in report order."""
    result = bulk.settle("f.csv", data, SCHEMA)
    return None if result is None else finish(list(result.problems), Config(root=Path(".")))


def write(rows: list[list[str]], newline: str = "\n") -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator=newline).writerows(rows)
    return out.getvalue()


def ctid(rng: random.Random) -> str:
    return "ce-" + str(uuid.UUID(int=rng.getrandbits(128), version=4))


HEADER = [
    "@id",
    "@type",
    "ceterms:ctid",
    "ceasn:name",
    "ceasn:description",
    "ceasn:inLanguage",
    "ceasn:publisher",
    "ceasn:publisherName",
    "ceasn:dateCreated",
    "ceasn:educationLevelType",
    "ceasn:conceptKeyword",
    "ceasn:competencyText",
    "ceasn:codedNotation",
    "ceasn:isTopChildOf",
    "ceasn:isChildOf",
    "ceasn:isPartOf",
    "ceasn:hasChild",
    "ceasn:author",  # one value on a competency, several on a framework
    "ceasn:exactAlignment",  # a reference that must not name the other registry environment
]


def framework(rng: random.Random, competencies: int, frameworks: int = 1) -> list[list[str]]:
    """Frameworks each followed by a 3-level tree of competencies, every column kind in use."""
    rows = [HEADER]
    width = len(HEADER)
    col = HEADER.index
    for f in range(frameworks):
        fw = ctid(rng)
        row = [""] * width
        row[col("@id")], row[col("@type")] = fw, "ceasn:CompetencyFramework"
        row[col("ceasn:name")] = f"Framework {f}"
        row[col("ceasn:description")] = f"What framework {f} covers, in words, with a comma."
        row[col("ceasn:inLanguage")], row[col("ceasn:publisher")] = "en-US|es", ctid(rng)
        row[col("ceasn:publisherName")], row[col("ceasn:dateCreated")] = 'The "Best" College', "2025-01-15"
        rows.append(row)
        parents: list[list[str]] = []
        for i in range(competencies):
            row = [""] * width
            me = ctid(rng)
            row[col("@id")], row[col("@type")] = me, "ceasn:Competency"
            row[col("ceasn:competencyText")] = f"Do thing {f}.{i}, carefully"
            row[col("ceasn:codedNotation")] = f"{f}.{i}"
            row[col("ceasn:educationLevelType")] = rng.choice(["", "BeginnerLevel|AdvancedLevel"])
            row[col("ceasn:conceptKeyword")] = rng.choice(["", "safety", "a|b"])
            row[col("ceasn:isPartOf")] = rng.choice(["", fw])
            row[col("ceterms:ctid")] = rng.choice(["", me])
            if not parents or rng.random() < 0.2:
                row[col("ceasn:isTopChildOf")] = fw
                parents = [row]
            else:
                parent = rng.choice(parents[-3:])
                row[col("ceasn:isChildOf")] = parent[0]
                kids = parent[col("ceasn:hasChild")]
                parent[col("ceasn:hasChild")] = f"{kids}|{me}" if kids else me
                parents.append(row)
            rows.append(row)
    return rows


# --- what it settles -----------------------------------------------------------------------------


def with_ctid_at(position: int) -> list[list[str]]:
    """GOOD with a filled ceterms:ctid column at ``position``."""
    rows = list(csv.reader(io.StringIO(add_column(GOOD, "ceterms:ctid", {2: FW, 3: C1, 4: C2, 5: C3}))))
    return [[*r[:position], r[-1], *r[position:-1]] for r in rows]


def test_whitespace_in_the_regex_is_what_str_strip_removes() -> None:
    """The acceptor's `\\s` must be exactly the characters the precise checks trim."""
    space = re.compile(r"\s")
    mismatched = [c for c in map(chr, range(sys.maxunicode + 1)) if bool(space.match(c)) != c.isspace()]
    assert mismatched == []


@pytest.mark.parametrize(
    "name,data",
    [
        ("validator fixture", GOOD.encode()),
        ("example", (EXAMPLES / "minimal.csv").read_bytes()),
        ("example with ceterms:ctid", (EXAMPLES / "hierarchy.csv").read_bytes()),
        ("bom and crlf", b"\xef\xbb\xbf" + GOOD.replace("\n", "\r\n").encode()),
        ("no final newline", GOOD.rstrip("\n").encode()),
        ("every kind of column", write(framework(random.Random(3), 40, frameworks=2)).encode()),
        ("ceterms:ctid repeats @id", add_column(GOOD, "ceterms:ctid", {2: FW, 3: C1, 5: C3}).encode()),
        ("ceterms:ctid second", write(with_ctid_at(1)).encode()),
        ("ceterms:ctid inside", write(with_ctid_at(5)).encode()),
    ],
)
def test_clean_files_are_settled_with_their_ctids(name: str, data: bytes) -> None:
    assert precise(data) == []
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert settled(data) == [row[0] for row in rows[1:]], name


@pytest.mark.parametrize(
    "data",
    [
        # forms the precise checks accept but the acceptor leaves to them
        GOOD.replace(FW, FW[:3] + FW[3:].upper()).encode(),  # notices: upper-case CTID
        GOOD.replace("Wash hands", '"Wash hands"').encode(),  # quotes nothing needs
        write([[r[1], r[0], *r[2:]] for r in csv.reader(io.StringIO(GOOD))]).encode(),  # @id not first
        GOOD.replace("Dry hands", '"Dry\nhands"').encode(),  # a cell that spans lines
        add_column(GOOD, "ceterms:ctid", {3: C1[:3] + C1[3:].upper()}).encode(),  # notice: its case
    ],
)
def test_what_it_does_not_settle_goes_to_the_precise_checks(data: bytes) -> None:
    assert settled(data) is None
    assert all(p.level.value == "notice" for p in precise(data))  # no error in any of them


SANDBOX_ORG = f"https://sandbox.credentialengineregistry.org/resources/{ORG}"


@pytest.mark.parametrize(
    "data,codes",
    [
        # right or wrong by the configured registry, which the acceptor does not know
        (GOOD.replace(f",{ORG},", f",{SANDBOX_ORG},").encode(), []),
        (GOOD.replace(f",{ORG},", f",{SANDBOX_ORG.replace('sandbox.', '')},").encode(), ["wrong-registry"]),
        (add_column(GOOD, "ceasn:exactAlignment", {3: SANDBOX_ORG}).encode(), []),
        # valid values that have advice: a date-time where CE keeps the date, a short form CASS drops
        (GOOD.replace(",2025-03-14,", ",2025-03-14T10:00:00Z,").encode(), ["date-has-time"]),
        (
            add_column(GOOD, "ceasn:educationLevelType", {3: "Primary"}).encode(),
            ["vocabulary-unknown-to-cass"],
        ),
        # one author on a competency
        (add_column(GOOD, "ceasn:author", {2: "A|B", 3: "A|B"}).encode(), ["pipe-in-single-value"]),
    ],
)
def test_the_new_rules_go_to_the_precise_checks(data: bytes, codes: list[str]) -> None:
    assert settled(data) is None
    assert [p.code for p in precise(data)] == codes


# --- soundness -----------------------------------------------------------------------------------

POOL = [
    "",
    " x",
    "x ",
    "x\u00a0",
    "\u2003x",
    "x\x1c",
    "=1+1",
    "a|b",
    "a||b",
    "|a",
    "a | b",
    "a,b",
    'a"b',
    "line\nbreak",
    "car\rriage",
    "en",
    "en-US|fr",
    "english",
    "2025-02-30",
    "2025-13-01",
    "2025-01-15T10:00:00Z",
    "https://example.org/x",
    "http://",
    "Draft",
    "draft",
    "BeginnerLevel",
    "ceasn:Competency",
    "ceasn:CompetencyFramework",
    "ceasn:competency",
    "sample row",
    "temp-1",
    "ce-00000000-0000-1000-8000-000000000000",
    "CE-5F0C7A52-3B1D-4E8A-9C2F-1D7E6B4A8C01",
    "ce-12345",
    FW,
    C1,
    C2,
    C3,
    ORG,
    # valid, but with something to say: CASS drops the short form; the registry environment
    "Primary",
    "BeginnerLevel|UpperSecondary",
    f"https://credentialengineregistry.org/resources/{ORG}",
    f"https://sandbox.credentialengineregistry.org/resources/{ORG}",
    f"https://sandbox.credentialengineregistry.org/resources/{ORG}|{ORG}",
]


class Mutator:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def cells(self, rows: list[list[str]]) -> None:
        rng = self.rng
        r, c = rng.randrange(1, len(rows)), rng.randrange(len(rows[0]))
        if c >= len(rows[r]):  # a ragged row stays as it is
            return
        roll = rng.random()
        if roll < 0.15 and rows[0][c] in ("ceasn:competencyText", "ceasn:codedNotation", "ceasn:name"):
            rows[r][c] = rng.choice(["Plain", "With, comma", 'With "quote"', "a-b"])
        elif roll < 0.45:
            rows[r][c] = rng.choice(POOL)
        elif roll < 0.75:  # a value from elsewhere in the file: ids, texts, references
            rows[r][c] = rng.choice([cell for row in rows[1:] for cell in row])
        elif roll < 0.85:
            rows[r][c] = rows[r][0]  # the row's own id (self-reference, ctid, text)
        else:
            rows[r][c] = ctid(rng)

    def rows(self, rows: list[list[str]]) -> None:
        rng = self.rng
        roll = rng.random()
        r = rng.randrange(1, len(rows))
        if roll < 0.25:  # a new competency, often a sound one: many mutants stay clean
            new = [ctid(rng), "ceasn:Competency", *[""] * (len(rows[0]) - 2)]
            if "ceasn:competencyText" in rows[0]:
                new[rows[0].index("ceasn:competencyText")] = rng.choice(["New, and quoted", "New", ""])
            reference = rng.choice(["ceasn:isChildOf", "ceasn:isTopChildOf", "ceasn:isPartOf"])
            if reference in rows[0] and rows[r]:
                new[rows[0].index(reference)] = rows[r][0]
            rows.insert(rng.randrange(r, len(rows) + 1), new)
            return
        if roll < 0.4:  # the same row again under a new id
            rows.insert(rng.randrange(1, len(rows) + 1), [ctid(rng), *rows[r][1:]])
        elif roll < 0.5 and len(rows) > 2:
            del rows[r]
        elif roll < 0.7:
            s = rng.randrange(1, len(rows))
            rows[r], rows[s] = rows[s], rows[r]
        elif roll < 0.8:  # a framework without competencies, or a second framework
            rows.append([ctid(rng), "ceasn:CompetencyFramework", *rows[1][2:]])
        elif roll < 0.9:
            rows[r] = rows[r][: rng.randrange(len(rows[r]))]  # ragged
        else:
            rows[0][rng.randrange(len(rows[0]))] = rng.choice([*SCHEMA.columns, "ceasn:Nmae", " @id", ""])

    def text(self, text: str) -> bytes:
        rng = self.rng
        roll = rng.random()
        if roll < 0.1:
            text = text.replace("\n", "\r\n")
        elif roll < 0.15:
            text = text.replace("\n", "\n\n", 1)
        elif roll < 0.2:
            text = text.rstrip("\n")
        elif roll < 0.3:  # quotes where none are needed, or a broken quote
            lines = text.split("\n")
            i = rng.randrange(1, max(2, len(lines) - 1))
            lines[i] = lines[i].replace(",", rng.choice([',"', ',""', ',"x",']), 1)
            text = "\n".join(lines)
        data = text.encode()
        return b"\xef\xbb\xbf" + data if rng.random() < 0.1 else data

    def mutate(self, base: list[list[str]]) -> bytes:
        rows = [list(row) for row in base]
        for _ in range(self.rng.randint(1, 3)):
            (self.cells if self.rng.random() < 0.7 else self.rows)(rows)
        return self.text(write(rows))


def corpus(seed: int, count: int) -> list[bytes]:
    rng = random.Random(seed)
    good = list(csv.reader(io.StringIO(GOOD)))
    # the last as CE's own samples are: no ceasn:dateCreated (a warning) nor ceasn:publisher (an error)
    lacking = [HEADER.index("ceasn:dateCreated"), HEADER.index("ceasn:publisher")]
    sample = [[c for i, c in enumerate(row) if i not in lacking] for row in framework(rng, 8)]
    bases = [good, framework(rng, 12), framework(rng, 6, frameworks=2), sample]
    mutator = Mutator(rng)
    return [mutator.mutate(bases[i % len(bases)]) for i in range(count)]


@pytest.mark.parametrize("parallel", [False, True], ids=["one process", "two halves"])
def test_what_it_settles_the_precise_checks_report_alike(
    monkeypatch: pytest.MonkeyPatch, parallel: bool
) -> None:
    if parallel:  # and read in chunks of a few lines
        monkeypatch.setattr(bulk, "PARALLEL_BYTES", 0)
        monkeypatch.setattr(bulk, "CHUNK", 150)
    accepted = accepted_with_problems = rejected_with_problems = 0
    for data in corpus(seed=11 if parallel else 7, count=1500 if parallel else 6000):
        problems = precise(data)
        reported = settled_problems(data)
        if reported is not None:
            accepted += 1
            accepted_with_problems += bool(reported)
            assert problems == reported, data.decode("utf-8", "replace")
        elif problems:
            rejected_with_problems += 1
    # not vacuous: a good share of the mutants is settled, some with a column missing from the
    # header, and most of the rest has problems
    assert accepted >= (100 if parallel else 400), accepted
    assert accepted_with_problems >= (10 if parallel else 40), accepted_with_problems
    assert rejected_with_problems >= (1000 if parallel else 4000), rejected_with_problems


# --- the two halves ------------------------------------------------------------------------------


@pytest.fixture
def halves(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    monkeypatch.setattr(bulk, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(bulk, "CHUNK", 1000)
    return framework(random.Random(5), 60)


def test_two_halves_give_the_same_answer(halves: list[list[str]]) -> None:
    data = write(halves).encode()
    assert settled(data) == [row[0] for row in halves[1:]]


@pytest.mark.parametrize("at", [2, 30, 59])
def test_a_bad_line_anywhere_stops_the_read(halves: list[list[str]], at: int) -> None:
    rows = [list(r) for r in halves]
    rows[at][1] = "ceasn:competency"
    assert settled(write(rows).encode()) is None


def test_the_reading_stops_when_told(halves: list[list[str]]) -> None:
    text = write(halves)
    start = text.index("\n") + 1
    pattern = bulk.row_pattern(tuple(halves[0]), SCHEMA)
    assert pattern is not None
    read = bulk._matches(text, start, len(text), pattern.regex, None)
    assert read is not None and len(read) == len(halves) - 1
    calls: list[None] = []

    def stop() -> bool:
        calls.append(None)
        return True

    assert bulk._matches(text, start, len(text), pattern.regex, stop) is None
    assert len(calls) == 1  # after the first chunk


@pytest.mark.parametrize(
    "defect",
    ["duplicate id", "duplicate row", "parent below", "dangling", "framework below"],
)
def test_a_defect_across_the_halves_is_not_settled(halves: list[list[str]], defect: str) -> None:
    rows = [list(r) for r in halves]
    first, last = rows[2], rows[-1]
    col = HEADER.index
    if defect == "duplicate id":
        last[0] = first[0]
    elif defect == "duplicate row":
        rows.append([ctid(random.Random(1)), *first[1:]])
        rows[-1][col("ceasn:hasChild")] = ""
        first[col("ceasn:hasChild")] = ""
    elif defect == "parent below":
        first[col("ceasn:isTopChildOf")], first[col("ceasn:isChildOf")] = "", last[0]
    elif defect == "dangling":
        last[col("ceasn:isChildOf")] = ctid(random.Random(2))
    else:
        last[col("ceasn:isTopChildOf")], last[col("ceasn:isChildOf")] = rows[1][0], ""
        rows.insert(len(rows) - 1, rows.pop(1))
    data = write(rows).encode()
    assert settled(data) is None
    assert precise(data) != []


# --- in the run ----------------------------------------------------------------------------------


def test_a_settled_file_still_meets_the_ctids_of_other_files(tmp_path: Path) -> None:
    (tmp_path / ".competency-ci.yaml").write_text("", encoding="utf-8")
    (tmp_path / "a.csv").write_text(GOOD, encoding="utf-8")
    other = GOOD  # the same competency C1 (line 3), other ids
    for mine in (FW, C2, C3):
        other = other.replace(mine, ctid(random.Random(mine)))
    (tmp_path / "b.csv").write_text(other, encoding="utf-8")
    config = Config(root=tmp_path, path=tmp_path / ".competency-ci.yaml")
    result = validate_paths([str(tmp_path / "a.csv")], config)
    assert [(p.code, p.line, p.letter) for p in result.problems] == [("duplicate-ctid", 3, "A")]
    assert "b.csv:3" in result.problems[0].message


def test_the_table_of_a_settled_file_is_parsed_when_asked_for(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text(GOOD, encoding="utf-8")
    result = validate_paths([str(path)], Config(root=tmp_path))
    shown = result.files[0]
    assert result.problems == [] and shown in result.settled and result.tables == {}
    table = result.table(shown)
    assert [r.cells[0] for r in table.records] == [FW, C1, C2, C3]
    assert check(GOOD) == []


def test_a_small_file_goes_straight_to_the_precise_checks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Compiling the row pattern costs more than checking a pre-commit file row by row.
    monkeypatch.setattr(validate, "SETTLE_BYTES", SETTLE_BYTES)
    path = tmp_path / "a.csv"
    path.write_text(GOOD, encoding="utf-8")
    assert len(GOOD.encode()) < SETTLE_BYTES and settled(GOOD.encode()) is not None
    result = validate_paths([str(path)], Config(root=tmp_path))
    shown = result.files[0]
    assert result.problems == [] and result.settled == {} and list(result.tables) == [shown]


def test_what_fix_writes_is_settled() -> None:
    """Temporary keys, a ceterms:ctid column, children above parents: `fix` repairs all of it,
    and its output takes the bulk path."""
    rows = list(csv.reader(io.StringIO(add_column(GOOD, "ceterms:ctid"))))
    keys = {FW: "fw-1", C1: "c-1", C2: "c-2", C3: "c-3"}
    text = write([rows[0], *reversed(rows[1:])])
    for ctid_value, key in keys.items():
        text = text.replace(ctid_value, key)
    assert settled(text.encode()) is None
    fixed = fix_text(text).text.encode()
    assert precise(fixed) == []
    ctids = settled(fixed)
    assert ctids is not None and len(ctids) == 4 and not set(ctids) & set(keys)
    table, _ = read_table("f.csv", fixed)
    assert table is not None
    assert [r.cells[0] for r in table.records] == ctids
    assert [r.cells[table.header.index("ceterms:ctid")] for r in table.records] == ctids


def test_a_header_that_lacks_columns_is_settled_and_reported_in_file_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CE's samples lack recommended columns: the rows are settled, the header's problems are
    reported among the other files' problems exactly as the precise checks order them."""
    rows = list(csv.reader(io.StringIO(GOOD)))
    drop = {rows[0].index("ceasn:dateCreated"), rows[0].index("ceasn:publisher")}
    sample = write([[c for i, c in enumerate(row) if i not in drop] for row in rows])
    broken = GOOD.replace("ceasn:Competency", "ceasn:competency", 1)
    for mine in (FW, C1, C2, C3):  # other CTIDs, so that the files do not clash
        broken = broken.replace(mine, ctid(random.Random(mine)))
    (tmp_path / "a.csv").write_text(broken, encoding="utf-8")
    (tmp_path / "b.csv").write_text(sample, encoding="utf-8")
    assert settled_problems(sample.encode()) == precise(sample.encode())
    paths = [str(tmp_path / name) for name in ("b.csv", "a.csv")]
    config = Config(root=tmp_path)
    result = validate_paths(paths, config)
    assert "b.csv" in " ".join(result.settled)  # settled, not parsed
    monkeypatch.setattr(bulk, "settle", lambda path, data, schema: None)
    every_file_precisely = validate_paths(paths, config)
    assert result.problems == every_file_precisely.problems
    assert [(p.path.rsplit("/", 1)[-1], p.code) for p in result.problems] == [
        ("b.csv", "missing-column"),
        ("b.csv", "required-if-available-missing"),
        ("a.csv", "unknown-type"),
    ]
