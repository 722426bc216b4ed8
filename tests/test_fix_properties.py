"""`fix` is idempotent, leaves nothing for the validator to say about what it repairs, loses nothing."""

from __future__ import annotations

import itertools
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from competency_ci.frameworks.config import Config
from competency_ci.frameworks.fix import Unreadable, fix_text
from competency_ci.frameworks.table import read_table
from competency_ci.frameworks.validate import check_table
from competency_ci.schema import load_schema

SCHEMA = load_schema()
# the problems `fix` exists to repair: none may survive it
REPAIRED = {
    "missing-id",
    "temporary-id",
    "blank-row",
    "template-row",
    "helper-column",
    "forward-reference",
    "column-spaces",
    "cell-spaces",
    "ctid-uppercase",
}
ID_COLUMNS = {"@id", "ceterms:ctid", "ceasn:isTopChildOf", "ceasn:isChildOf"}
TEXT = st.text(alphabet="abcXYZ é,\"'\n\u0301|-", min_size=1, max_size=12).filter(lambda s: s.strip())


@dataclass
class Generated:
    text: str
    values: Counter[str]  # non-id cell values of the real rows, as fix normalises them


def normal(value: str) -> str:
    return unicodedata.normalize("NFC", value).strip()


@st.composite
def frameworks(draw: st.DrawFn) -> Generated:
    """One framework and a random tree of competencies, then the spreadsheet mess on top."""
    n = draw(st.integers(1, 10))
    with_ctid = draw(st.booleans())
    uuids = draw(st.lists(st.uuids(version=4), min_size=n + 1, max_size=n + 1, unique=True))
    # how each row names itself: a CTID (either case), nothing, or a temporary key
    forms = draw(st.lists(st.sampled_from(["ctid", "CTID", "empty", "temp"]), min_size=n + 1, max_size=n + 1))
    parents = [draw(st.integers(-1, i - 1)) for i in range(n)]  # -1: top child of the framework
    referenced = {p + 1 for p in parents}
    ids = []
    for i, (form, u) in enumerate(zip(forms, uuids, strict=True)):
        if form == "empty" and i in referenced:
            form = "temp"
        ids.append(
            {"ctid": f"ce-{u}", "CTID": f"ce-{str(u).upper()}", "empty": "", "temp": f"new:row-{i}"}[form]
        )
    header = ["@id", "@type", *(["ceterms:ctid"] if with_ctid else [])]
    header += ["ceasn:name", "ceasn:description", "ceasn:competencyText", "ceasn:isTopChildOf"]
    header += ["ceasn:isChildOf", "ceasn:comment"]

    def ref(target: str) -> str:
        return target.lower() if draw(st.booleans()) and target.startswith("ce-") else target

    rows: list[dict[str, str]] = [
        {
            "@id": ids[0],
            "@type": "ceasn:CompetencyFramework",
            "ceasn:name": draw(TEXT),
            "ceasn:description": draw(TEXT),
        }
    ]
    for i, parent in enumerate(parents):
        row = {"@id": ids[i + 1], "@type": "ceasn:Competency", "ceasn:competencyText": draw(TEXT)}
        if parent < 0:
            row["ceasn:isTopChildOf"] = ref(ids[0])
        else:
            row["ceasn:isChildOf"] = ref(ids[parent + 1])
        if draw(st.booleans()):
            row["ceasn:comment"] = draw(TEXT)
        rows.append(row)
    if with_ctid:
        for row in rows:
            if row["@id"].startswith("ce-") and draw(st.booleans()):
                row["ceterms:ctid"] = row["@id"].lower()
    values = Counter(normal(v) for row in rows for k, v in row.items() if k not in ID_COLUMNS and normal(v))
    rows = draw(st.permutations(rows))
    grid = [[row.get(name, "") for name in header] for row in rows]
    # the mess: padded cells, blank rows, template rows, a helper column
    grid = [[f" {c} " if c and draw(st.booleans()) else c for c in cells] for cells in grid]
    for _ in range(draw(st.integers(0, 2))):
        grid.insert(draw(st.integers(0, len(grid))), [""] * len(header))
    if draw(st.booleans()):
        sample = ["ce-sample", "Sample Competency"] + ["e.g."] * (len(header) - 2)
        grid.insert(0, sample)
    if draw(st.booleans()):
        header = ["", *header]
        grid = [["Sample" if g[1].startswith("Sample") else "Required", *g] for g in grid]
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    lines = [_csv(header)] + [_csv(cells) for cells in grid]
    text = newline.join(lines) + (newline if draw(st.booleans()) else "")
    return Generated(("\ufeff" if draw(st.booleans()) else "") + text, values)


def _csv(cells: list[str]) -> str:
    return ",".join(f'"{c.replace(chr(34), 2 * chr(34))}"' if set(c) & set(',"\n\r') else c for c in cells)


def mint_sequence():  # type: ignore[no-untyped-def]
    counter = itertools.count(1)
    return lambda: f"ce-00000000-0000-4000-8000-{next(counter):012d}"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frameworks())
def test_fix_is_idempotent_complete_and_loses_nothing(generated: Generated) -> None:
    first = fix_text(generated.text, SCHEMA, mint=mint_sequence())
    second = fix_text(first.text, SCHEMA, mint=mint_sequence())
    assert not second.changed, second.changes
    assert second.text == first.text

    table, problems = read_table("f.csv", first.text.encode("utf-8"))
    assert table is not None
    problems += check_table(table, SCHEMA, Config(root=Path(".")))
    assert [p for p in problems if p.code in REPAIRED] == []
    assert first.text.startswith("\ufeff") == generated.text.startswith("\ufeff")
    assert table.newline == ("\r\n" if "\r\n" in generated.text else "\n")

    header = table.header
    kept = Counter(
        cell
        for record in table.records
        for name, cell in zip(header, record.cells, strict=True)
        if name not in ID_COLUMNS and cell
    )
    assert kept == generated.values


HEADERS = st.sampled_from(
    [
        "@id,@type,ceasn:isChildOf,ceasn:isTopChildOf,ceterms:ctid",
        ",@id,@type,ceasn:isChildOf",
        " @id ,@type,ceasn:hasChild",
    ]
)
CSV_TEXT = st.text(alphabet=',"\n\r abcé\u0301|:-ABCDEF0123456789ce\ufeff\t', max_size=120)


@settings(max_examples=400, deadline=None)
@given(HEADERS, st.sampled_from(["\n", "\r\n"]), CSV_TEXT)
def test_fix_of_any_csv_shaped_text_is_a_fixed_point_or_refused(header: str, newline: str, body: str) -> None:
    """Whatever the quoting, line breaks and ids: fix raises nothing but Unreadable, and its output
    is already fixed."""
    try:
        first = fix_text(header + newline + body, SCHEMA, mint=mint_sequence())
    except Unreadable:
        return
    second = fix_text(first.text, SCHEMA, mint=mint_sequence())
    assert (second.text, second.changed) == (first.text, False)
