"""Framework model -> CASS objects: ids, properties from the descriptor, relations, owners."""

from __future__ import annotations

from pathlib import Path

from competency_ci.frameworks.build import load_frameworks
from competency_ci.frameworks.config import Config
from competency_ci.schema import load_schema
from competency_ci.targets.cass.mapping import (
    CONTEXT,
    cass_mapping,
    map_framework,
    relation_id,
    versioned_id,
)
from conftest import EXAMPLES
from publish_support import FW, REGISTRY, A, B, C, D, framework_rows, load, uri, write_csv

BASE = "http://127.0.0.1:8080/api/"
OWNER = "-----BEGIN PUBLIC KEY-----OURS-----END PUBLIC KEY-----"
CO_OWNER = "-----BEGIN PUBLIC KEY-----EDITOR-----END PUBLIC KEY-----"


def mapped(tmp_path: Path, rows: list[str] | None = None, existing: dict | None = None):  # type: ignore[no-untyped-def]
    fw = load(write_csv(tmp_path / "fw.csv", rows or framework_rows()))[0]
    return map_framework(fw, registry_url=REGISTRY, cass_base=BASE, owner_pem=OWNER, existing=existing)


def test_every_descriptor_field_says_what_it_becomes_in_cass() -> None:
    schema = load_schema()
    assert all("cass" in column.extra for column in schema.columns.values())
    sources = schema.descriptor["competencyCi"]["cassMappingSources"]
    assert sources == [
        "https://github.com/cassproject/cass-editor/blob/master/src/mixins/ctdlasnProfile.js",
        "https://github.com/cassproject/CASS/blob/master/src/main/server/cartridge/adapter/ceasn.js",
    ]
    mapping = cass_mapping(schema)
    assert mapping.properties["ceasn:competencyText"][1] == "name"
    assert mapping.properties["ceasn:comment"][1] == "description"
    assert mapping.properties["ceasn:name"][1] == "name"
    assert mapping.properties["ceasn:conceptKeyword"][1] == "schema:keywords"
    assert mapping.relations["ceasn:narrowAlignment"][1:] == ("narrows", True)
    assert mapping.hierarchy == "narrows"
    assert "ceasn:isChildOf" not in mapping.properties and "ceasn:isChildOf" not in mapping.relations


def test_objects_ids_order_and_relations(tmp_path: Path) -> None:
    result = mapped(tmp_path, framework_rows(comment_b="Note one|Note two"))
    assert [i.kind for i in result.items] == ["competency"] * 4 + ["relation"] * 2 + ["framework"]
    comp_b = result.items[1].data
    assert comp_b == {
        "@context": CONTEXT,
        "@id": uri(B),
        "@type": "Competency",
        "ceterms:ctid": B,
        "name": {"@value": "Bravo", "@language": "en-us"},
        "description": [
            {"@value": "Note one", "@language": "en-us"},
            {"@value": "Note two", "@language": "en-us"},
        ],
        "schema:inLanguage": ["en-US"],  # the framework's: CASS's export would say ["en"]
        "owner": [OWNER],
    }
    rel = result.items[4].data
    assert rel == {
        "@context": CONTEXT,
        "@id": BASE + "data/schema.cassproject.org.0.4.Relation/" + rel["@id"].rsplit("/", 1)[1],
        "@type": "Relation",
        "relationType": "narrows",
        "source": uri(B),
        "target": uri(A),
        "owner": [OWNER],
    }
    fw = result.items[-1].data
    assert fw["@id"] == uri(FW) and fw["@type"] == "Framework"
    assert fw["name"] == {"@value": "Test Framework", "@language": "en-us"}
    assert fw["description"] == {"@value": "A framework for tests.", "@language": "en-us"}
    assert fw["schema:inLanguage"] == ["en-US"]
    assert fw["ceasn:publisherName"] == [{"@value": "Test Org", "@language": "en-us"}]
    assert fw["competency"] == [uri(A), uri(B), uri(C), uri(D)]
    assert fw["relation"] == [result.items[4].id, result.items[5].id]


def test_relation_ids_are_deterministic(tmp_path: Path) -> None:
    first = mapped(tmp_path)
    again = mapped(tmp_path)
    assert [i.id for i in first.items] == [i.id for i in again.items]
    assert first.items[4].id == relation_id(BASE, uri(B), uri(A), "narrows")
    assert (
        first.items[4].id
        == BASE + "data/schema.cassproject.org.0.4.Relation/941c9f92-8272-57bf-913c-b70c83c7a732"
    )
    # another server base: same uuid, so the same relation is recognisable everywhere
    other = relation_id("https://cass.example.org/api/", uri(B), uri(A), "narrows")
    assert other.rsplit("/", 1)[1] == first.items[4].id.rsplit("/", 1)[1]


def test_existing_co_owners_and_editor_fields_are_kept(tmp_path: Path) -> None:
    existing = {
        uri(A): {
            "@id": uri(A),
            "@type": "Competency",
            "owner": [CO_OWNER],
            "ceterms:hasGlossary": ["https://example.org/glossary"],  # the editor's, no CSV column
            "signatureSha256": ["x"],
        },
    }
    result = mapped(tmp_path, existing=existing)
    comp_a = result.items[0].data
    assert comp_a["owner"] == [CO_OWNER, OWNER]
    assert comp_a["ceterms:hasGlossary"] == ["https://example.org/glossary"]
    assert "signatureSha256" not in comp_a


def test_stored_relation_with_same_ends_keeps_its_id(tmp_path: Path) -> None:
    old_id = "http://127.0.0.1:9999/api/data/schema.cassproject.org.0.4.Relation/editor-made"
    existing = {
        uri(FW): {"@id": uri(FW), "@type": "Framework", "relation": [old_id + "/1700000000000"]},
        old_id: {
            "@id": old_id + "/1700000000000",
            "@type": "Relation",
            "source": uri(B),
            "target": uri(A),
            "relationType": "narrows",
        },
    }
    result = mapped(tmp_path, existing=existing)
    assert result.items[4].id == old_id
    assert result.items[5].id == relation_id(BASE, uri(C), uri(A), "narrows")


def test_versions_only_on_native_ids() -> None:
    rel = BASE + "data/schema.cassproject.org.0.4.Relation/x"
    assert versioned_id(uri(A), {"@id": uri(A)}, 5_000) == uri(A)
    assert versioned_id(rel, None, 5_000) == rel + "/5000"
    assert versioned_id(rel, {"@id": rel + "/4000"}, 5_000) == rel + "/5000"
    assert versioned_id(rel, {"@id": rel + "/9000"}, 5_000) == rel + "/9001"  # never stale (§3.2)


def test_alignments_and_ctid_references_become_uris(tmp_path: Path) -> None:
    header = (
        "@id,@type,ceasn:name,ceasn:description,ceasn:inLanguage,ceasn:publisherName,ceasn:publisher,"
        "ceasn:competencyText,ceasn:isTopChildOf,ceasn:narrowAlignment,ceasn:exactAlignment,owner"
    )
    ext = "https://example.org/competencies/7"
    org = "ce-99999999-9999-4999-8999-999999999999"
    rows = [
        f"{FW},ceasn:CompetencyFramework,F,D,en,Org,{org},,,,,",
        f"{A},ceasn:Competency,,,,,,Alpha,{FW},{ext},{D},{CO_OWNER}",
        f"{D},ceasn:Competency,,,,,,Delta,{FW},,,",
    ]
    path = tmp_path / "align.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    fw = load_frameworks(path, Config(root=tmp_path))[0]
    result = map_framework(fw, registry_url=REGISTRY, cass_base=BASE, owner_pem=OWNER)
    assert result.items[-1].data["schema:publisher"] == [uri(org)]
    assert result.items[0].data["owner"] == [OWNER, CO_OWNER]
    relations = [
        (i.data["source"], i.data["relationType"], i.data["target"])
        for i in result.items
        if i.kind == "relation"
    ]
    assert relations == [(ext, "narrows", uri(A)), (uri(A), "isEquivalentTo", uri(D))]


def test_example_framework_maps_every_competency() -> None:
    fw = load_frameworks(EXAMPLES / "hierarchy.csv", Config(root=EXAMPLES))[0]
    result = map_framework(fw, registry_url=REGISTRY, cass_base=BASE, owner_pem=OWNER)
    assert sum(1 for i in result.items if i.kind == "competency") == 12
    assert sum(1 for i in result.items if i.kind == "relation") == 9
    framework = result.items[-1].data
    assert framework["schema:keywords"] == [
        {"@value": keyword, "@language": "en-us"}
        for keyword in ("data literacy", "statistics", "visualization")
    ]
    assert framework["ceasn:educationLevelType"] == [
        "https://credreg.net/ctdl/vocabs/audLevel/LowerDivisionLevel",
        "https://credreg.net/ctdl/vocabs/audLevel/UndergraduateLevel",
    ]
    assert framework["ceasn:dateCreated"] == "2025-09-01"  # schema:dateCreated is CASS's own
    assert "schema:dateCreated" not in framework


def test_schema_reference_holds_the_generated_mapping_table() -> None:
    from competency_ci.targets.cass.mapping import mapping_table
    from conftest import REPO

    text = (REPO / "docs" / "pages" / "reference" / "schema.md").read_text("utf-8")
    start = text.index("<!-- mapping-table:start -->\n") + len("<!-- mapping-table:start -->\n")
    assert text[start : text.index("<!-- mapping-table:end -->")] == mapping_table()
