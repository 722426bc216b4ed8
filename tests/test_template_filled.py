"""A template as its users fill it in: every column of a row type given its example value, new rows
without ``@id`` (a temporary key where another row names them). After ``fix``, the default template
and the benchmark tier validate with no problem at all (``--tier required``, CE's minimum data,
lacks the publisher and date CE's publishing API needs; ``--tier all`` has columns CE drops), and
``convert`` gives the columns back in the template's order."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from competency_ci.schema import COMPETENCY, FRAMEWORK, load_schema

REFERENCES = {"ceasn:isTopChildOf": "new:framework", "ceasn:isChildOf": "new:parent"}


def filled(header: list[str]) -> str:
    """The framework, a top competency (``new:parent``) and, if the template has ``isChildOf``, its child."""
    schema = load_schema()
    columns = [schema.columns[name] for name in header]

    def row(row_type: str, key: str, parent: str | None) -> list[str]:
        cells = []
        for c in columns:
            if c.kind == "id":
                cells.append(key)
            elif c.kind == "type":
                cells.append(schema.type_for(row_type))
            elif c.kind == "ctid":
                cells.append("")  # fix mints it
            elif c.name in REFERENCES:
                cells.append(REFERENCES[c.name] if c.name == parent else "")
            elif c.applies_to(row_type):
                cells.append(c.example)
            else:
                cells.append("")
        return cells

    rows = [
        header,
        row(FRAMEWORK, "new:framework", None),
        row(COMPETENCY, "new:parent", "ceasn:isTopChildOf"),
    ]
    if "ceasn:isChildOf" in header:
        rows.append(row(COMPETENCY, "", "ceasn:isChildOf"))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


@pytest.mark.parametrize("tier", [None, "required-if-available", "benchmark"])
def test_a_filled_in_template_validates_clean(run_cli, tmp_path: Path, tier: str | None) -> None:  # type: ignore[no-untyped-def]
    code, header, _ = run_cli("template", *(["--tier", tier] if tier else []))
    assert code == 0
    path = tmp_path / "kitchen.csv"
    path.write_text(filled(header.rstrip("\n").split(",")))
    assert run_cli("fix", str(path))[0] == 1  # CTIDs minted, temporary keys replaced
    assert run_cli("validate", str(path)) == (0, "1 file OK\n", "")


def test_convert_gives_the_template_columns_back_in_their_order(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    header = run_cli("template", "--tier", "benchmark")[1].rstrip("\n").split(",")
    path = tmp_path / "kitchen.csv"
    path.write_text(filled(header))
    run_cli("fix", str(path))
    graph, back = tmp_path / "kitchen.json", tmp_path / "back.csv"
    assert run_cli("convert", str(path), "-o", str(graph))[0] == 0
    assert run_cli("convert", str(graph), "-o", str(back))[0] == 0
    assert back.read_text("utf-8").split("\n", 1)[0].split(",") == header
