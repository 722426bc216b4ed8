"""The framework model: built from the descriptor's column properties, refused when invalid."""

from __future__ import annotations

from pathlib import Path

import pytest

from competency_ci.frameworks.build import InvalidFrameworks, build_frameworks, load_frameworks, parse_value
from competency_ci.frameworks.config import Config
from competency_ci.frameworks.fix import fix_text
from competency_ci.frameworks.table import read_table
from competency_ci.schema import load_schema
from conftest import SAMPLES

FW = "ce-1111abcd-1111-4111-8111-11111111111f"
FW_UP = "ce-" + FW[3:].upper()
FW2 = "ce-22222222-2222-4222-8222-222222222222"
C1 = "ce-aaaaaaaa-0000-4000-8000-000000000001"
C2 = "ce-aaaaaaaa-0000-4000-8000-000000000002"
C3 = "ce-aaaaaaaa-0000-4000-8000-000000000003"
C4 = "ce-aaaaaaaa-0000-4000-8000-000000000004"
C5 = "ce-bbbbbbbb-0000-4000-8000-000000000005"
ORG = "ce-99999999-9999-4999-8999-999999999999"
ORG_UP = "ce-" + ORG[3:].upper()

HEADER = (
    "@id,@type,ceasn:name,ceasn:description,ceasn:inLanguage,ceasn:publisher,ceasn:publisherName,"
    "ceasn:dateCreated,ceasn:publicationStatusType,"
    "ceasn:competencyText,ceasn:conceptKeyword,ceasn:educationLevelType,ceasn:hasChild,"
    "ceasn:isTopChildOf,ceasn:isChildOf,ceasn:isPartOf"
)


def config() -> Config:
    return Config(root=Path("."))


def write(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "fw.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def two_frameworks(tmp_path: Path) -> Path:
    return write(
        tmp_path,
        f"{FW_UP},ceasn:CompetencyFramework,History,About history, en-US | fr ,{ORG_UP},Org,2025-01-01,"
        "Draft,,,,,,,",
        "sample row,sample: Competency,,,,,,,,an example,,,,,,",
        f"{C1},ceasn:Competency,,,,,,,,Top one,a | b,BeginnerLevel|https://example.org/level,{C2},{FW_UP},,",
        f"{C2},ceasn:Competency,,,,,,,,Child of one,,,,,{C1},",
        f"{C3},ceasn:Competency,,,,,,,,Top two,,,,{FW_UP},,",
        f"{C4},ceasn:Competency,,,,,,,,  Grandchild  ,,,,,{C2},",
        f"{FW2},ceasn:CompetencyFramework,Second,Another,en,{ORG},Org,2025-01-01,,,,,,,,",
        f"{C5},ceasn:Competency,,,,,,,,Part of second,,,,,,{FW2}",
    )


def test_model_links_values_and_order(tmp_path: Path) -> None:
    fw, fw2 = load_frameworks(two_frameworks(tmp_path), config())
    assert (fw.ctid, fw.id, fw.line, fw.path) == (FW, FW_UP, 2, str(tmp_path / "fw.csv"))
    assert fw.properties == {
        "ceasn:name": "History",
        "ceasn:description": "About history",
        "ceasn:inLanguage": ["en-US", "fr"],
        "ceasn:publisher": [ORG],
        "ceasn:publisherName": ["Org"],
        "ceasn:dateCreated": "2025-01-01",
        "ceasn:publicationStatusType": "http://credreg.net/ctdlasn/vocabs/publicationStatus/Draft",
    }
    assert [c.ctid for c in fw.competencies] == [C1, C2, C3, C4]
    assert [c.ctid for c in fw.top] == [C1, C3]
    c1, c2, c3, c4 = fw.competencies
    assert c1.properties == {
        "ceasn:competencyText": "Top one",
        "ceasn:conceptKeyword": ["a", "b"],
        "ceasn:educationLevelType": [
            "https://credreg.net/ctdl/vocabs/audLevel/BeginnerLevel",
            "https://example.org/level",
        ],
    }
    assert c4.text == "Grandchild"
    assert [c.ctid for c in c1.children] == [C2]
    assert c2.parent is c1 and c4.parent is c2 and c3.parent is None
    assert [c.ctid for c in c2.children] == [C4]
    assert all(c.framework is fw for c in fw.competencies)
    assert c4.line == 7  # the sample row is skipped, not renumbered
    assert (fw2.ctid, fw2.languages, [c.ctid for c in fw2.competencies]) == (FW2, ["en"], [C5])
    assert fw2.competencies[0].framework is fw2 and fw2.top == fw2.competencies


def test_hierarchy_columns_are_structure_not_properties(tmp_path: Path) -> None:
    (fw, _) = load_frameworks(two_frameworks(tmp_path), config())
    structure = {"@id", "@type", "ceterms:ctid", "ceasn:hasChild", "ceasn:isTopChildOf", "ceasn:isChildOf"}
    for obj in [fw, *fw.competencies]:
        assert not structure & set(obj.properties)


def published_sample(name: str) -> bytes:
    """A sample as `fix` makes it with the organization configured: with the publisher CE's
    publishing API requires (CE's own examples have none)."""
    return fix_text((SAMPLES / name).read_text("utf-8"), organization=ORG).text.encode()


def test_build_from_table_and_samples() -> None:
    path = SAMPLES / "ce-benchmark-onet-abilities.csv"
    table, problems = read_table(str(path), published_sample(path.name))
    assert table is not None and problems == []
    (fw,) = build_frameworks(table, load_schema(), config())
    assert (fw.ctid, len(fw.competencies), len(fw.top)) == ("ce-07c257d6-9119-11e8-b852-782bcb5df6ac", 71, 4)
    assert fw.properties["ceasn:source"] == [
        "https://www.onetcenter.org/database.html",
        "https://www.onetcenter.org/competencyFrameworks.html",
        "https://www.onetcenter.org/content.html",
        "https://www.onetcenter.org/ctdlasn/resources/ce-07c257d6-9119-11e8-b852-782bcb5df6ac",
    ]
    depth = max(_depth(c) for c in fw.competencies)
    assert depth == 3


def _depth(competency: object) -> int:
    depth = 1
    parent = getattr(competency, "parent", None)
    while parent is not None:
        depth, parent = depth + 1, parent.parent
    return depth


def test_url_ids_and_ctid_column() -> None:
    path = SAMPLES / "cass-export-harvard-ei.csv"
    (fw,) = load_frameworks(path, config(), data=published_sample(path.name))
    assert fw.ctid == "ce-7edc0934-976b-46ce-84b5-164e340b00e5"
    assert fw.id.startswith("https://demo.cassproject.org/api/data/schema.cassproject.org.0.4.Framework/")
    assert (len(fw.competencies), len(fw.top)) == (16, 4)
    assert [len(c.children) for c in fw.top] == [1, 4, 2, 5]


def test_refuses_a_table_with_errors(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"{FW},ceasn:CompetencyFramework,History,About,en,{ORG},Org,2025-01-01,,,,,,,,",
        f"{C1},ceasn:Competency,,,,,,,,Lost,,,,,{C2},",
    )
    with pytest.raises(InvalidFrameworks) as caught:
        load_frameworks(path, config())
    # the orphaned competency leaves the framework empty (an error too)
    assert [(p.line, p.code) for p in caught.value.errors if p.code != "orphan-competency"] == [
        (2, "empty-framework"),
        (3, "dangling-reference"),
    ]


def test_refuses_an_unreadable_table(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(b"\xff\xfe@\x00i\x00d\x00")
    with pytest.raises(InvalidFrameworks) as caught:
        load_frameworks(path, config())
    assert [p.code for p in caught.value.problems] == ["not-utf8"]


def test_parse_value_follows_the_descriptor() -> None:
    schema = load_schema()
    assert parse_value(schema.columns["ceasn:name"], "  a | b ") == "a | b"
    assert parse_value(schema.columns["ceasn:comment"], " a || b ") == ["a", "b"]
    assert parse_value(schema.columns["ceasn:comment"], " | ") is None
    assert parse_value(schema.columns["ceasn:creator"], "ce-" + ORG[3:].upper()) == [ORG]
    assert parse_value(schema.columns["ceasn:creator"], "https://x.org/ce-ABC") == ["https://x.org/ce-ABC"]
    assert parse_value(schema.columns["ceasn:publicationStatusType"], "Published") == (
        "http://credreg.net/ctdlasn/vocabs/publicationStatus/Published"
    )
    assert parse_value(schema.columns["ceasn:name"], "   ") is None
