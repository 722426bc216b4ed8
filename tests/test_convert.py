"""`competency-ci convert`: exact CTDL-ASN graphs for our examples, the reverse CSV, and failures."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from competency_ci.frameworks.build import InvalidFrameworks, load_frameworks
from competency_ci.frameworks.config import REGISTRIES, Config
from competency_ci.frameworks.jsonld import dumps, framework_to_graph, graph_to_frameworks
from competency_ci.frameworks.model import Competency, Framework
from conftest import EXAMPLES, SAMPLES

SANDBOX = "https://sandbox.credentialengineregistry.org"
PRODUCTION = "https://credentialengineregistry.org"
CONTEXT = "https://credreg.net/ctdlasn/schema/context/json"


def res(ctid: str, registry: str = SANDBOX) -> str:
    return f"{registry}/resources/{ctid}"


KITCHEN = "ce-4cd9ff53-294a-4ed6-a330-5c0870da315a"
WASH = "ce-f234c733-54ca-4645-8ff6-95165dcd0870"
STORE = "ce-80492c39-c0af-4041-adef-1e0a77e24156"
CLEAN = "ce-2506fbb8-c7c2-4b31-abf2-fb8669b6d83f"


def kitchen_competency(ctid: str, text: str) -> dict[str, Any]:
    return {
        "@id": res(ctid),
        "@type": "ceasn:Competency",
        "ceterms:ctid": ctid,
        "ceasn:competencyText": {"en": text},
        "ceasn:isPartOf": res(KITCHEN),
        "ceasn:isTopChildOf": res(KITCHEN),
    }


MINIMAL_GRAPH = {
    "@context": CONTEXT,
    "@id": f"{SANDBOX}/graph/{KITCHEN}",
    "@graph": [
        {
            "@id": res(KITCHEN),
            "@type": "ceasn:CompetencyFramework",
            "ceterms:ctid": KITCHEN,
            "ceasn:name": {"en": "Safe Kitchen Practice"},
            "ceasn:description": {
                "en": "Basic food-safety competencies for volunteers in a community kitchen."
            },
            "ceasn:inLanguage": ["en"],
            "ceasn:publisher": [res("ce-e58c4e21-94b5-4643-831e-d193ded463dc")],
            "ceasn:publisherName": {"en": ["Riverside Community Kitchen"]},
            "ceasn:dateCreated": "2025-03-14",
            "ceasn:hasTopChild": [res(WASH), res(STORE), res(CLEAN)],
        },
        kitchen_competency(WASH, "Wash hands correctly before handling food and after every break."),
        kitchen_competency(STORE, "Store raw and cooked foods separately, at the right temperatures."),
        kitchen_competency(
            CLEAN, "Clean and sanitize work surfaces, knives and cutting boards between tasks."
        ),
    ],
}


def test_minimal_example_graph(run_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli("convert", str(EXAMPLES / "minimal.csv"))
    assert (code, err) == (0, "")
    assert json.loads(out) == MINIMAL_GRAPH
    assert out.endswith("}\n") and out.startswith('{\n  "@context"')
    assert list(json.loads(out)["@graph"][0]) == list(MINIMAL_GRAPH["@graph"][0])  # key order too


def test_registry_option_and_output_file(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out_path = tmp_path / "kitchen.json"
    code, out, err = run_cli(
        "convert", str(EXAMPLES / "minimal.csv"), "-o", str(out_path), "--registry", "production"
    )
    assert (code, out, err) == (0, "", f"wrote {out_path} (3 competencies)\n")
    graph = json.loads(out_path.read_text("utf-8"))
    assert graph["@id"] == f"{PRODUCTION}/graph/{KITCHEN}"
    assert [n["@id"] for n in graph["@graph"]] == [res(c, PRODUCTION) for c in (KITCHEN, WASH, STORE, CLEAN)]
    assert graph["@graph"][0]["ceasn:publisher"] == [
        res("ce-e58c4e21-94b5-4643-831e-d193ded463dc", PRODUCTION)
    ]


def test_registry_from_configuration(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "cfg.yaml"
    config.write_text("registry: https://registry.example.org/\n", encoding="utf-8")
    code, out, _ = run_cli("convert", "--config", str(config), str(EXAMPLES / "minimal.csv"))
    assert code == 0
    assert json.loads(out)["@id"] == f"https://registry.example.org/graph/{KITCHEN}"
    code, _, err = run_cli("convert", str(EXAMPLES / "minimal.csv"), "--registry", "staging")
    assert code == 2
    assert "expected sandbox, production or a URL, got 'staging'" in err


DATA = "ce-db9edecb-4ffb-4386-9985-6e5fa1becf28"
FIND = "ce-a119182e-c35e-40f1-a1d7-0f24d563e1b2"
WHO = "ce-4ca2adfd-4d82-4dc3-948a-08ca47e83de2"
READ = "ce-1e32618e-9b94-4bee-82d9-da0f0ad46d82"
SAMPLING = "ce-a752c418-f9b0-49ce-9fc9-267a6e28b04e"
JUDGE = "ce-95863be3-817b-44e8-b545-35f5200bed91"
SUMMARIZE = "ce-13d42d42-492b-4d93-82ef-d4c3710555b7"
PRESENT = "ce-c9af84b3-91ce-49be-8656-cd6370fbfc8f"


def test_hierarchy_example_graph(run_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run_cli("convert", str(EXAMPLES / "hierarchy.csv"))
    assert code == 0
    graph = json.loads(out)
    nodes = {n["ceterms:ctid"]: n for n in graph["@graph"]}
    assert len(graph["@graph"]) == 13 and graph["@graph"][0]["ceterms:ctid"] == DATA
    assert graph["@graph"][0] == {
        "@id": res(DATA),
        "@type": "ceasn:CompetencyFramework",
        "ceterms:ctid": DATA,
        "ceasn:name": {"en-us": "Introductory Data Literacy"},
        "ceasn:description": {
            "en-us": "What a first-year student should be able to do with data: find it, read it, "
            "and present it honestly."
        },
        "ceasn:inLanguage": ["en-US"],
        "ceasn:publisher": [res("ce-617ce9ba-cf8d-46b6-a503-28d378ac768f")],
        "ceasn:publisherName": {"en-us": ["Lakeside Technical College"]},
        "ceasn:educationLevelType": [
            "https://credreg.net/ctdl/vocabs/audLevel/LowerDivisionLevel",
            "https://credreg.net/ctdl/vocabs/audLevel/UndergraduateLevel",
        ],
        "ceasn:dateCreated": "2025-09-01",
        "ceasn:conceptKeyword": {"en-us": ["data literacy", "statistics", "visualization"]},
        "ceasn:hasTopChild": [res(FIND), res(SUMMARIZE), res(PRESENT)],
    }
    assert nodes[FIND] == {
        "@id": res(FIND),
        "@type": "ceasn:Competency",
        "ceterms:ctid": FIND,
        "ceasn:competencyText": {"en-us": "Find and evaluate data sources for a question."},
        "ceasn:codedNotation": "1",
        "ceasn:educationLevelType": ["https://credreg.net/ctdl/vocabs/audLevel/LowerDivisionLevel"],
        "ceasn:conceptKeyword": {"en-us": ["sources", "provenance"]},
        "ceasn:isPartOf": res(DATA),
        "ceasn:isTopChildOf": res(DATA),
        "ceasn:hasChild": [res(WHO), res(JUDGE)],
    }
    assert nodes[WHO]["ceasn:isChildOf"] == [res(FIND)]
    assert nodes[WHO]["ceasn:hasChild"] == [res(READ), res(SAMPLING)]
    assert nodes[SAMPLING] == {
        "@id": res(SAMPLING),
        "@type": "ceasn:Competency",
        "ceterms:ctid": SAMPLING,
        "ceasn:competencyText": {"en-us": "Recognize sampling choices that limit what a data set can show."},
        "ceasn:isChildOf": [res(WHO)],
        "ceasn:codedNotation": "1.1.2",
        "ceasn:comment": {"en-us": ["Assessed with a short written reflection.", "Pairs well with 2.1."]},
        "ceasn:isPartOf": res(DATA),
    }
    assert all(n["ceasn:isPartOf"] == res(DATA) for n in graph["@graph"][1:])
    assert sum("ceasn:isTopChildOf" in n for n in graph["@graph"]) == 3


def test_default_language_and_version_identifiers() -> None:
    fw = Framework(
        "ce-00000000-0000-4000-8000-000000000001",
        "ce-00000000-0000-4000-8000-000000000001",
        2,
        "x.csv",
        {
            "ceasn:name": "N",
            "ceterms:versionIdentifier": ["2024.1~Catalog Year", "7~~https://example.org/t", "plain"],
        },
    )
    comp = Competency("ce-00000000-0000-4000-8000-000000000002", "ce-00000000-0000-4000-8000-000000000002", 3)
    comp.framework = fw
    fw.competencies.append(comp)
    graph = framework_to_graph(fw, SANDBOX, "fr-CA")
    node = graph["@graph"][0]
    assert node["ceasn:name"] == {"fr-ca": "N"}
    assert node["ceterms:versionIdentifier"] == [
        {
            "@type": "ceterms:IdentifierValue",
            "ceterms:identifierTypeName": {"fr-ca": "Catalog Year"},
            "ceterms:identifierValueCode": "2024.1",
        },
        {
            "@type": "ceterms:IdentifierValue",
            "ceterms:identifierType": "https://example.org/t",
            "ceterms:identifierValueCode": "7",
        },
        {"@type": "ceterms:IdentifierValue", "ceterms:identifierValueCode": "plain"},
    ]
    (back,) = graph_to_frameworks(graph).frameworks
    assert back.properties["ceterms:versionIdentifier"] == fw.properties["ceterms:versionIdentifier"]


MULTI = (
    "@id,@type,ceasn:name,ceasn:description,ceasn:inLanguage,ceasn:publisher,ceasn:publisherName,"
    "ceasn:dateCreated,ceasn:competencyText,ceasn:isTopChildOf\n"
    "ce-11111111-1111-4111-8111-111111111111,ceasn:CompetencyFramework,One,First,en,"
    "ce-99999999-9999-4999-8999-999999999999,Org,2025-01-01,,\n"
    "ce-aaaaaaaa-0000-4000-8000-000000000001,ceasn:Competency,,,,,,,Do one,"
    "ce-11111111-1111-4111-8111-111111111111\n"
    "ce-22222222-2222-4222-8222-222222222222,ceasn:CompetencyFramework,Two,Second,en,"
    "ce-99999999-9999-4999-8999-999999999999,Org,2025-01-01,,\n"
    "ce-aaaaaaaa-0000-4000-8000-000000000002,ceasn:Competency,,,,,,,Do two,"
    "ce-22222222-2222-4222-8222-222222222222\n"
)


def test_several_frameworks_need_a_directory(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src = tmp_path / "multi.csv"
    src.write_text(MULTI, encoding="utf-8")
    code, out, err = run_cli("convert", str(src), "-o", str(tmp_path / "one.json"))
    assert (code, out) == (2, "")
    assert err == (
        f"competency-ci convert: {src} holds 2 frameworks; give -o DIRECTORY to write one graph each\n"
    )
    assert not (tmp_path / "one.json").exists()
    out_dir = tmp_path / "graphs"
    code, _, err = run_cli("convert", str(src), "-o", f"{out_dir}/")
    assert code == 0
    first, second = (
        out_dir / "ce-11111111-1111-4111-8111-111111111111.json",
        (out_dir / "ce-22222222-2222-4222-8222-222222222222.json"),
    )
    assert err == f"wrote {first} (1 competencies)\nwrote {second} (1 competencies)\n"
    assert json.loads(first.read_text("utf-8"))["@graph"][1]["ceasn:competencyText"] == {"en": "Do one"}
    assert json.loads(second.read_text("utf-8"))["@graph"][1]["ceasn:competencyText"] == {"en": "Do two"}


def test_invalid_csv_writes_nothing(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src = tmp_path / "bad.csv"
    src.write_text(MULTI.replace("ceasn:isTopChildOf\n", "ceasn:isTopChildOf\n\n", 1), encoding="utf-8")
    target = tmp_path / "out.json"
    code, out, err = run_cli("convert", str(src), "-o", str(target))
    assert (code, out) == (1, "")
    assert err.splitlines()[:3] == [
        f"{src}:2: error [blank-row] Blank row",
        "    hint: Delete the row (CASS reads it as a row without `@id` and fails the whole import); "
        "`competency-ci fix` does it.",
        "1 error, 0 warnings, 0 notices in 1 file",
    ]
    assert err.splitlines()[3:] == [f"competency-ci convert: {src} has errors; nothing written"]
    assert not target.exists()


def test_unusable_inputs(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run_cli("convert", str(tmp_path / "missing.csv"))
    assert (code, err) == (
        2,
        f"competency-ci convert: cannot read {tmp_path / 'missing.csv'}: No such file or directory\n",
    )
    not_json = tmp_path / "g.json"
    not_json.write_text("{\n  oops", encoding="utf-8")
    code, _, err = run_cli("convert", str(not_json))
    assert (code, err) == (
        2,
        f"competency-ci convert: {not_json}:2: not JSON: Expecting property name enclosed in double quotes\n",
    )
    not_json.write_text('{"@graph": {}}', encoding="utf-8")
    code, _, err = run_cli("convert", str(not_json))
    assert (code, err) == (
        2,
        f"competency-ci convert: {not_json}: not a CTDL-ASN graph: expected an object with an @graph list\n",
    )
    not_json.write_text('{"@graph": [{"@type": "ceasn:Competency"}]}', encoding="utf-8")
    code, _, err = run_cli("convert", str(not_json))
    assert (code, err) == (
        2,
        f"competency-ci convert: {not_json}: the graph has no ceasn:CompetencyFramework node\n",
    )


IVYTECH_HEAD = (
    "@id,@type,ceterms:ctid,ceasn:name,ceasn:description,ceasn:inLanguage,ceasn:publisher,"
    "ceasn:publisherName,ceasn:creator,ceasn:dateCreated,ceasn:dateModified,ceasn:competencyText,"
    "ceasn:isTopChildOf\n"
    "ce-c23a0e0c-8be8-4911-bc52-f2479c41af4b,ceasn:CompetencyFramework,ce-c23a0e0c-8be8-4911-bc52-f2479c41af4b,"
    '"HOSP 229, Revenue Management","HOSP 229, Revenue Management",en-US,'
    "https://credentialengineregistry.org/resources/ce-1ABB6C52-0F8C-4B17-9F89-7E9807673106,"
    "Ivy Tech Community College of Indiana,"
    "https://credentialengineregistry.org/resources/ce-1ABB6C52-0F8C-4B17-9F89-7E9807673106,"
    "2018-10-29,2018-10-30T01:17:45.508Z,,\n"
    "ce-c4188d32-a8dc-467a-aa42-abbfcb1f4b89,ceasn:Competency,ce-c4188d32-a8dc-467a-aa42-abbfcb1f4b89,,,,,,,"
    "2018-10-29,2018-10-30T01:15:28.199Z,"
    "Explain the concept of revenue management and the history of its development.,"
    "ce-c23a0e0c-8be8-4911-bc52-f2479c41af4b\n"
)


def test_envelope_to_csv(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "hosp229.csv"
    code, out, err = run_cli(
        "convert", str(SAMPLES / "ivytech-hosp229.registry-envelope.json"), "-o", str(target)
    )
    assert (code, out, err) == (0, "", f"wrote {target} (13 competencies)\n")
    text = target.read_text("utf-8")
    assert text.startswith(IVYTECH_HEAD)
    assert len(list(csv.reader(io.StringIO(text)))) == 15 and text.endswith(
        ",ce-c23a0e0c-8be8-4911-bc52-f2479c41af4b\n"
    )
    with pytest.raises(InvalidFrameworks) as raised:  # a production publisher in a sandbox repository
        load_frameworks(target, Config(root=tmp_path))
    assert {(p.code, p.column) for p in raised.value.errors} == {
        ("wrong-registry", "ceasn:publisher"),
        ("wrong-registry", "ceasn:creator"),
    }
    production = Config(root=tmp_path, registry="production", registry_url=REGISTRIES["production"])
    (fw,) = load_frameworks(target, production)
    assert len(fw.competencies) == len(fw.top) == 13


def test_graph_to_csv_keeps_hierarchy_and_shortens_vocabulary(run_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli("convert", str(SAMPLES / "onet-basic-skills.ctdlasn.json"))
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == (
        "@id,@type,ceterms:ctid,ceasn:name,ceasn:description,ceasn:inLanguage,ceasn:publisher,"
        "ceasn:publisherName,ceasn:codedNotation,ceasn:license,ceasn:publicationStatusType,ceasn:source,"
        "ceasn:dateCreated,ceasn:dateModified,ceasn:competencyText,ceasn:isTopChildOf,ceasn:isChildOf,"
        "ceasn:competencyLabel,ceasn:competencyCategory"
    )  # the template's order: ids, framework columns, competency columns
    assert (
        ",Draft,https://www.onetcenter.org/database.html|https://www.onetcenter.org/content.html," in lines[1]
    )
    assert lines[3].startswith("ce-07c260d5-9119-11e8-b852-782bcb5df6ac,ceasn:Competency,")
    assert lines[3].endswith(
        ",ce-07c260d5-9119-11e8-b852-782bcb5df6ac,,,,,,2.A.1.a,,,,1998-12-01,2002-06-01T00:00:00Z,"
        "Understanding written sentences and paragraphs in work related documents.,,"
        "ce-07c25fd1-9119-11e8-b852-782bcb5df6ac,Reading Comprehension,Skills"
    )
    assert len(lines) == 14


def test_other_languages_are_reported(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    graph = json.loads(json.dumps(MINIMAL_GRAPH))
    graph["@graph"][0]["ceasn:name"]["fr"] = "Cuisine sûre"
    graph["@graph"][0]["ceasn:extra"] = "x"
    src = tmp_path / "g.json"
    src.write_text(json.dumps(graph), encoding="utf-8")
    code, out, err = run_cli("convert", str(src))
    assert code == 0
    assert err.splitlines() == [
        f"{src}: note: {res(KITCHEN)}: ceasn:name: kept 'en', left out fr",
        f"{src}: note: {res(KITCHEN)}: no CSV column for ceasn:extra; left out",
    ]
    assert ",Safe Kitchen Practice," in out.splitlines()[1]


def test_dumps_is_json_dumps_indent_2() -> None:
    documents = [
        json.loads((SAMPLES / "onet-basic-skills.ctdlasn.json").read_text("utf-8")),
        json.loads((SAMPLES / "ivytech-hosp229.registry-envelope.json").read_text("utf-8")),
        MINIMAL_GRAPH,
        {"a": [], "b": {}, "c": [1, 2.5, True, None, 'é\n"x"'], "d": [{"e": ["f"]}], 7: "key"},
        [],
        "text",
    ]
    for document in documents:
        assert dumps(document) == json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def test_broken_hierarchy_in_a_graph_becomes_top_competencies(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    graph = json.loads(json.dumps(MINIMAL_GRAPH))
    wash, store, clean = graph["@graph"][1:]
    for node in (wash, store, clean):
        del node["ceasn:isTopChildOf"]
    wash["ceasn:isChildOf"] = [res(STORE)]
    store["ceasn:isChildOf"] = [res(WASH)]  # a cycle
    clean["ceasn:isChildOf"] = [res("ce-00000000-0000-4000-8000-00000000dead")]  # outside the graph
    src = tmp_path / "g.json"
    src.write_text(json.dumps(graph), encoding="utf-8")
    code, out, err = run_cli("convert", str(src))
    assert code == 0
    assert err.splitlines() == [
        f"{src}: note: {res(STORE)}: its parent {res(WASH)} descends from it; written as a top competency",
        f"{src}: note: {res(CLEAN)}: its parent {res('ce-00000000-0000-4000-8000-00000000dead')} is not in "
        "the graph; written as a top competency",
    ]
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["@id"], r["ceasn:isTopChildOf"], r["ceasn:isChildOf"]) for r in rows[1:]] == [
        (STORE, KITCHEN, ""),
        (WASH, "", STORE),
        (CLEAN, KITCHEN, ""),
    ]
