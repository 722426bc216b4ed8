"""`convert` from JSON-LD never crashes, stays linear and never leaves a partial file (issue 14).

The four crashes an audit found (nesting past the recursion limit, a long chain listed children
first, a lone surrogate, a 5,000-digit number) each have an exact test; a hypothesis fuzz test
throws graph-shaped JSON with hostile values at the whole command.
"""

from __future__ import annotations

import contextlib
import io
import json
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from competency_ci.cli.main import main

REG = "https://sandbox.credentialengineregistry.org/resources/"
FW = "ce-5f0c7a52-3b1d-4e8a-9c2f-1d7e6b4a8c01"


def ctid(i: int) -> str:
    return f"ce-00000000-0000-4000-8000-{i:012d}"


def chain(n: int, *, children_first: bool) -> dict[str, Any]:
    """A framework with a chain of ``n`` competencies, each the child of the one before."""
    nodes = [
        {
            "@id": REG + ctid(i),
            "@type": "ceasn:Competency",
            "ceterms:ctid": ctid(i),
            "ceasn:competencyText": {"en": f"step {i}"},
            "ceasn:isPartOf": REG + FW,
            **({"ceasn:isChildOf": [REG + ctid(i - 1)]} if i else {"ceasn:isTopChildOf": REG + FW}),
        }
        for i in range(n)
    ]
    if children_first:
        nodes.reverse()
    framework = {"@id": REG + FW, "@type": "ceasn:CompetencyFramework", "ceasn:name": {"en": "Chain"}}
    return {"@context": "https://credreg.net/ctdl/schema/context/json", "@graph": [framework, *nodes]}


def convert(src: Path, out: Path) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(["convert", str(src), "-o", str(out)])
    return code, stdout.getvalue(), stderr.getvalue()


@pytest.mark.parametrize("children_first", [True, False])
def test_a_long_chain_converts_in_linear_time(tmp_path: Path, children_first: bool) -> None:
    src, out = tmp_path / "chain.json", tmp_path / "chain.csv"
    src.write_text(json.dumps(chain(1_100, children_first=children_first)), encoding="utf-8")
    assert convert(src, out)[0] == 0
    rows = out.read_text("utf-8").splitlines()
    assert len(rows) == 1 + 1 + 1_100 and rows[2].startswith(ctid(0))  # parents before children

    src.write_text(json.dumps(chain(20_000, children_first=children_first)), encoding="utf-8")
    start = time.perf_counter()
    code, _, err = convert(src, out)
    assert (code, err) == (0, f"wrote {out} (20000 competencies)\n")
    assert time.perf_counter() - start < 10  # was quadratic: 14.6 s for 30,000 parents first


def test_a_cycle_is_cut_at_the_link_that_closes_it(tmp_path: Path) -> None:
    graph = chain(3, children_first=False)
    graph["@graph"][1]["ceasn:isChildOf"] = [REG + ctid(2)]  # 0 -> 2 -> 1 -> 0
    del graph["@graph"][1]["ceasn:isTopChildOf"]
    src, out = tmp_path / "g.json", tmp_path / "g.csv"
    src.write_text(json.dumps(graph), encoding="utf-8")
    code, _, err = convert(src, out)
    assert code == 0
    assert err.splitlines()[0] == (
        f"{src}: note: {REG}{ctid(2)}: its parent {REG}{ctid(1)} descends from it; "
        "written as a top competency"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deeply to be a CTDL-ASN graph"),
        (
            json.dumps(chain(1, children_first=False)).replace('"Chain"', '"\\ud800"'),
            "holds a lone surrogate (\\ud800), which is not Unicode text; nothing written",
        ),
        (
            json.dumps({"@graph": [{"@type": [["ceterms:Collection"]], "@id": "x"}]}),
            "the graph has no ceasn:CompetencyFramework node",
        ),
    ],
    ids=["deep", "surrogate", "type-list-in-a-list"],
)
def test_unusable_graphs_are_exit_2_and_leave_no_file(tmp_path: Path, text: str, message: str) -> None:
    src, out = tmp_path / "g.json", tmp_path / "g.csv"
    src.write_text(text, encoding="utf-8")
    assert convert(src, out) == (2, "", f"competency-ci convert: {src}: {message}\n")
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["g.json"]  # no temporary file left either


def test_a_5000_digit_number_is_kept_as_its_digits(tmp_path: Path) -> None:
    digits = "7" * 5_000
    src, out = tmp_path / "g.json", tmp_path / "g.csv"
    src.write_text(json.dumps(chain(1, children_first=False)).replace('"Chain"', digits), encoding="utf-8")
    assert convert(src, out)[0] == 0
    assert digits in out.read_text("utf-8")


def test_a_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    src, out = tmp_path / "g.json", tmp_path / "g.csv"
    out.write_text("old\n", encoding="utf-8")
    src.write_text(json.dumps(chain(1, children_first=False)).replace('"Chain"', '"\\udfff"'), "utf-8")
    assert convert(src, out)[0] == 2
    assert out.read_text("utf-8") == "old\n"


# --- fuzz -------------------------------------------------------------------------------------------

KEYS = [
    "@id",
    "@type",
    "@value",
    "@language",
    "ceterms:ctid",
    "ceasn:name",
    "ceasn:competencyText",
    "ceasn:isChildOf",
    "ceasn:hasChild",
    "ceasn:isPartOf",
    "ceasn:isTopChildOf",
    "ceasn:hasTopChild",
    "ceasn:inLanguage",
    "ceasn:codedNotation",
    "ceasn:listID",
    "ceterms:identifier",
    "en",
    "x",
]
ATOMS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.sampled_from(
        ["ceasn:Competency", "ceasn:CompetencyFramework", REG + FW, REG + ctid(1), REG + ctid(2), FW, ctid(1)]
    ),
    st.text(max_size=8),
)
VALUES = st.recursive(
    ATOMS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=4),
    max_leaves=12,
)
IDS = st.sampled_from([REG + FW, REG + ctid(1), REG + ctid(2), REG + ctid(3), "x", ""]) | st.text(max_size=6)
NODE = st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=7)
OPTIONAL = {k: VALUES | IDS | st.lists(IDS, max_size=3) for k in KEYS if not k.startswith("@")}


def typed(type_name: str) -> st.SearchStrategy[dict[str, Any]]:
    """A node of a known type with an id and any of the properties, values hostile or not."""
    return st.fixed_dictionaries({"@type": st.just(type_name), "@id": IDS}, optional=OPTIONAL)


GRAPH = st.tuples(
    typed("ceasn:CompetencyFramework"),
    st.lists(typed("ceasn:Competency") | typed("ceasn:CompetencyFramework") | NODE, max_size=8),
).map(lambda t: [t[0], *t[1]])
DOCUMENT = st.one_of(
    st.fixed_dictionaries({"@graph": GRAPH}, optional={"@context": VALUES}),
    st.fixed_dictionaries({"decoded_payload": st.fixed_dictionaries({"@graph": GRAPH})}),
    st.fixed_dictionaries({"@graph": st.lists(NODE, max_size=6)}),
    VALUES,
)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=DOCUMENT, raw_escapes=st.booleans())
def test_fuzzed_graphs_never_crash(workdir: Path, document: Any, raw_escapes: bool) -> None:
    src, out = workdir / "g.json", workdir / "g.csv"
    text = json.dumps(document, allow_nan=True)
    if raw_escapes:  # a lone surrogate and a huge number, as JSON text can hold them
        text = text.replace('"x"', '"\\ud83d"').replace("0", "9" * 4_500, 1)
    src.write_text(text, encoding="utf-8")
    out.unlink(missing_ok=True)
    code, _, err = convert(src, out)
    assert code in (0, 1, 2), err
    assert "Traceback" not in err
    assert out.exists() == (code == 0)
    assert sorted(p.name for p in workdir.iterdir()) == (["g.csv", "g.json"] if code == 0 else ["g.json"])


# --- fix: a quoted U+FEFF at the start of the header is a cell, not a byte-order mark ---------------


def test_fix_keeps_a_quoted_leading_feff_in_its_cell() -> None:
    from competency_ci.frameworks.fix import fix_text
    from competency_ci.frameworks.table import read_table
    from validate_support import GOOD

    text = '"\ufeff@id", @type ' + GOOD[len("@id,@type") :]  # the spaces make fix rewrite the header
    fixed = fix_text(text)
    assert dict(fixed.changes) == {"column-spaces": 1}
    assert fixed.text.startswith('"\ufeff@id",@type,ceasn:name,')
    table, _ = read_table("f.csv", fixed.text.encode("utf-8"))
    assert table is not None and not table.bom
    again = fix_text(fixed.text)
    assert (again.text, dict(again.changes)) == (fixed.text, {})
