"""What CASS's CTDL-ASN export carries to CE: the objects the mapping sends, the cells that cannot
reach CE as written (validate, plan), objects without identity (validate, fix, the mapping's
invariant) and a publish to the sandbox that stores the new shapes."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from competency_ci.frameworks.build import load_frameworks
from competency_ci.frameworks.checks import bulk
from competency_ci.frameworks.config import Config
from competency_ci.frameworks.fix import fix_text
from competency_ci.frameworks.model import Competency, Framework
from competency_ci.sandbox import SandboxServer
from competency_ci.schema import load_schema
from competency_ci.targets.cass.mapping import (
    CONTEXT,
    ExportLoss,
    IdentityError,
    export_table,
    map_framework,
    relation_id,
)
from competency_ci.targets.cass.plan import make_plan, render_json, render_text
from competency_ci.targets.cass.publish import publish_frameworks
from conftest import REPO, SAMPLES
from publish_support import REGISTRY, our_key, snapshot, uri
from validate_support import found

BASE = "http://127.0.0.1:8080/api/"
XSD = "http://www.w3.org/2001/XMLSchema#"
OWNER = "-----BEGIN PUBLIC KEY-----OURS-----END PUBLIC KEY-----"
FW = "ce-5f0c7a52-3b1d-4e8a-9c2f-1d7e6b4a8c01"
C1 = "ce-0a9e3c1b-7d24-4f6e-8b15-c3d2e1f0a912"
C2 = "ce-6b2d4f8e-1c3a-4d5b-a7e9-0f1e2d3c4b23"
ORG = "ce-3e4f5a6b-7c8d-4e9f-8a0b-1c2d3e4f5a45"
OLD = "ce-7d6c5b4a-3f2e-4d1c-8b0a-9f8e7d6c5b4a"  # a framework this one derives from
OLD_1, OLD_2 = "ce-11111111-2222-4333-8444-555555555555", "ce-66666666-7777-4888-9999-aaaaaaaaaaaa"
MODEL = "ce-8a7b6c5d-4e3f-4a2b-9c1d-0e9f8a7b6c5d"  # a progression model
HEADER = [
    "@id",  # A
    "@type",  # B
    "ceasn:name",  # C
    "ceasn:description",  # D
    "ceasn:inLanguage",  # E
    "ceasn:publisher",  # F
    "ceasn:publisherName",  # G
    "ceasn:dateCreated",  # H
    "ceasn:dateModified",  # I
    "ceasn:dateValidFrom",  # J
    "ceasn:dateValidUntil",  # K
    "ceterms:versionIdentifier",  # L
    "ceasn:tableOfContents",  # M
    "ceasn:localSubject",  # N
    "ceasn:derivedFrom",  # O
    "asn:hasProgressionModel",  # P
    "ceasn:competencyText",  # Q
    "ceasn:comment",  # R
    "ceasn:weight",  # S
    "ceasn:isTopChildOf",  # T
    "ceasn:isChildOf",  # U
]
FRAMEWORK_ROW = {
    "@id": FW,
    "@type": "ceasn:CompetencyFramework",
    "ceasn:name": "Hygiène en cuisine",
    "ceasn:description": "Compétences de base de l'hygiène.",
    "ceasn:inLanguage": "fr|en",
    "ceasn:publisher": ORG,
    "ceasn:publisherName": "Cuisine Riverside",
    "ceasn:dateCreated": "2025-03-14",
    "ceasn:dateModified": "2025-03-15T10:00:00Z",
    "ceasn:dateValidFrom": "2025-04-01T00:00:00Z",
    "ceasn:dateValidUntil": "2026-04-01T00:00:00Z",
    "ceterms:versionIdentifier": "2025.1~Année du catalogue",
    "ceasn:tableOfContents": "Partie 1 : les mains",
    "ceasn:localSubject": "hygiène",
    "ceasn:derivedFrom": OLD,
    "asn:hasProgressionModel": MODEL,
}
C1_ROW = {
    "@id": C1,
    "@type": "ceasn:Competency",
    "ceasn:competencyText": "Se laver les mains",
    "ceasn:comment": "Avant tout|Toujours",
    "ceasn:weight": "0.5",
    "ceasn:localSubject": "mains|savon",
    "ceasn:derivedFrom": f"{OLD_1}|{OLD_2}",
    "ceasn:isTopChildOf": FW,
}
C2_ROW = {
    "@id": C2,
    "@type": "ceasn:Competency",
    "ceasn:competencyText": "Sécher les mains",
    "ceasn:inLanguage": "fr-CA",
    "ceasn:localSubject": "mains",
    "ceasn:derivedFrom": OLD_1,
    "ceterms:versionIdentifier": "v2~Version~https://example.org/version-scheme",
    "ceasn:isChildOf": C1,
}


def text(rows: list[dict[str, str]], header: list[str] = HEADER) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([row.get(name, "") for name in header] for row in rows)
    return out.getvalue()


FILE = text([FRAMEWORK_ROW, C1_ROW, C2_ROW])


def fr(value: str) -> dict[str, str]:
    return {"@value": value, "@language": "fr"}


@pytest.fixture
def framework(tmp_path: Path) -> Framework:
    path = tmp_path / "hygiene.csv"
    path.write_text(FILE, encoding="utf-8")
    return load_frameworks(path, Config(root=tmp_path))[0]


def test_the_objects_carry_what_the_export_gives_ce(framework: Framework) -> None:
    result = map_framework(framework, registry_url=REGISTRY, cass_base=BASE, owner_pem=OWNER)
    assert [i.kind for i in result.items] == ["competency", "competency", "relation", "framework"]
    rel = relation_id(BASE, uri(C2), uri(C1), "narrows")
    assert result.items[-1].data == {
        "@context": CONTEXT,
        "@id": uri(FW),
        "@type": "Framework",
        "ceterms:ctid": FW,
        "name": fr("Hygiène en cuisine"),
        "description": fr("Compétences de base de l'hygiène."),
        "schema:inLanguage": ["fr", "en"],
        "schema:publisher": [uri(ORG)],
        "ceasn:publisherName": [fr("Cuisine Riverside")],
        # the user's dates under their ceasn: names (schema:date* are CASS's own, and not exported)
        "ceasn:dateCreated": "2025-03-14",
        "ceasn:dateModified": "2025-03-15T10:00:00Z",
        "ceasn:dateValidFrom": "2025-04-01T00:00:00Z",
        "ceasn:dateValidUntil": "2026-04-01T00:00:00Z",
        "ceasn:derivedFrom": [uri(OLD)],
        "ceasn:localSubject": [fr("hygiène")],
        "ceasn:tableOfContents": fr("Partie 1 : les mains"),
        "asn:hasProgressionModel": uri(MODEL),
        "ceterms:versionIdentifier": [
            {
                "@type": "ceterms:IdentifierValue",
                "ceterms:identifierTypeName": fr("Année du catalogue"),
                "ceterms:identifierValueCode": {"@value": "2025.1", "@type": XSD + "string"},
            }
        ],
        "competency": [uri(C1), uri(C2)],
        "relation": [rel],
        "owner": [OWNER],
    }
    assert result.items[0].data == {
        "@context": CONTEXT,
        "@id": uri(C1),
        "@type": "Competency",
        "ceterms:ctid": C1,
        "name": fr("Se laver les mains"),
        "description": [fr("Avant tout"), fr("Toujours")],
        # typed as CE's context types it: a plain "0.5" or 0.5 would not reach CE
        "ceasn:weight": {"@value": "0.5", "@type": XSD + "float"},
        "ceasn:localSubject": [fr("mains"), fr("savon")],
        "ceasn:derivedFrom": [uri(OLD_1), uri(OLD_2)],
        "schema:inLanguage": ["fr", "en"],  # the framework's: the export would add ["en"]
        "owner": [OWNER],
    }
    assert result.items[1].data == {
        "@context": CONTEXT,
        "@id": uri(C2),
        "@type": "Competency",
        "ceterms:ctid": C2,
        "name": fr("Sécher les mains"),  # tagged with the framework's language, as convert does
        "schema:inLanguage": ["fr-CA"],  # its own
        "ceasn:localSubject": [fr("mains")],
        "ceasn:derivedFrom": [uri(OLD_1)],
        "ceterms:versionIdentifier": [
            {
                "@type": "ceterms:IdentifierValue",
                "ceterms:identifierType": {"@id": "https://example.org/version-scheme"},
                "ceterms:identifierTypeName": fr("Version"),
                "ceterms:identifierValueCode": {"@value": "v2", "@type": XSD + "string"},
            }
        ],
        "owner": [OWNER],
    }


def test_the_configured_language_when_the_framework_has_none(tmp_path: Path) -> None:
    fw = Framework(FW, FW, 2, "f.csv", {"ceasn:name": "Kitchen"})
    comp = Competency(C1, C1, 3, {"ceasn:competencyText": "Wash hands"})
    comp.framework = fw
    fw.competencies.append(comp)
    result = map_framework(
        fw, registry_url=REGISTRY, cass_base=BASE, owner_pem=OWNER, default_language="en-GB"
    )
    assert result.items[0].data["name"] == {"@value": "Wash hands", "@language": "en-gb"}
    assert result.items[0].data["schema:inLanguage"] == ["en-GB"]
    assert result.items[-1].data["name"] == {"@value": "Kitchen", "@language": "en-gb"}


EXPECTED_LOSSES = [  # file order, then the descriptor's column order
    (2, "ceasn:derivedFrom", "reshaped-by-ce"),
    (2, "ceasn:localSubject", "reshaped-by-ce"),
    (2, "asn:hasProgressionModel", "not-shown-by-ce"),
    (4, "ceasn:derivedFrom", "reshaped-by-ce"),
    (4, "ceasn:localSubject", "reshaped-by-ce"),
]


def test_values_ce_will_not_see_as_written_are_listed_per_cell(framework: Framework) -> None:
    result = map_framework(framework, registry_url=REGISTRY, cass_base=BASE, owner_pem=OWNER)
    assert [(x.line, x.column, x.code) for x in result.losses] == EXPECTED_LOSSES
    schema = load_schema()
    model = next(x for x in result.losses if x.column == "asn:hasProgressionModel")
    reason = schema.columns["asn:hasProgressionModel"].extra["export"]["reason"]
    assert model == ExportLoss(2, "asn:hasProgressionModel", "not-shown-by-ce", reason)


def test_validate_warns_on_each_such_cell() -> None:
    assert found(FILE) == {
        ("reshaped-by-ce", 2, "N"),
        ("reshaped-by-ce", 2, "O"),
        ("not-shown-by-ce", 2, "P"),
        ("reshaped-by-ce", 4, "N"),
        ("reshaped-by-ce", 4, "O"),
    }
    # several values reach CE as a list; without the dropped columns the file is clean
    several = dict(FRAMEWORK_ROW, **{"ceasn:localSubject": "a|b", "ceasn:derivedFrom": f"{OLD_1}|{OLD_2}"})
    del several["asn:hasProgressionModel"]
    second = dict(C2_ROW, **{"ceasn:localSubject": "a|b", "ceasn:derivedFrom": f"{OLD_1}|{OLD_2}"})
    assert found(text([several, C1_ROW, second])) == set()


def test_the_message_says_why() -> None:
    from validate_support import check

    model = next(p for p in check(FILE) if p.code == "not-shown-by-ce")
    assert (model.line, model.column) == (2, "asn:hasProgressionModel")
    assert model.message == (
        "Credential Engine will not show this value when it is published through CASS: "
        "asn:hasProgressionModel: Credential Engine does not show a framework's progression model when "
        "it is published this way: set it in CE's Publisher after approval"
    )


def test_the_bulk_acceptor_leaves_such_files_to_the_precise_checks() -> None:
    schema = load_schema()
    clean = {k: v for k, v in FRAMEWORK_ROW.items() if k not in ("asn:hasProgressionModel",)}
    clean.update({"ceasn:localSubject": "a|b", "ceasn:derivedFrom": f"{OLD_1}|{OLD_2}"})
    comp = dict(C1_ROW)  # with its weight, which reaches CE typed
    settled = bulk.settle("f.csv", text([clean, comp]).encode(), schema)
    assert settled is not None and settled.ctids == [FW, C1]
    for row, key, value in [
        (clean, "asn:hasProgressionModel", MODEL),  # dropped
        (comp, "ceasn:localSubject", "mains"),  # one value: reshaped
        (clean, "ceasn:derivedFrom", OLD),  # one value: reshaped
    ]:
        rows = [dict(clean), dict(comp)]
        rows[0 if row is clean else 1][key] = value
        assert bulk.settle("f.csv", text(rows).encode(), schema) is None, key


# --- identity ---------------------------------------------------------------------------------


def sample_without_ctids() -> str:
    rows = list(csv.reader(io.StringIO((SAMPLES / "cass-export-harvard-ei.csv").read_text("utf-8"))))
    i = rows[0].index("ceterms:ctid")
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([r[:i] + r[i + 1 :] for r in rows])
    return out.getvalue()


def test_a_row_without_a_ctid_is_an_error_on_its_id_cell() -> None:
    problems = {p for p in found(sample_without_ctids()) if p[0] == "missing-ctid"}
    assert problems == {("missing-ctid", line, "A") for line in range(2, 19)}  # framework + 16


def test_an_empty_ctid_cell_is_the_error_s_cell() -> None:
    rows = list(csv.reader(io.StringIO((SAMPLES / "cass-export-harvard-ei.csv").read_text("utf-8"))))
    i = rows[0].index("ceterms:ctid")
    rows[3][i] = ""  # line 4
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    assert {p for p in found(out.getvalue()) if p[0] == "missing-ctid"} == {("missing-ctid", 4, "J")}


def test_fix_mints_ctids_and_keeps_the_urls(tmp_path: Path) -> None:
    minted = iter(f"ce-{n:08d}-0000-4000-8000-000000000000" for n in range(1, 100))
    result = fix_text(sample_without_ctids(), mint=lambda: next(minted))
    assert result.summary() == (
        "added the ceterms:ctid column, minted 17 CTIDs for rows whose @id is a URL (the URLs are kept)"
    )
    rows = list(csv.reader(io.StringIO(result.text)))
    assert rows[0][:3] == ["@id", "@type", "ceterms:ctid"]
    assert [r[2] for r in rows[1:]] == [f"ce-{n:08d}-0000-4000-8000-000000000000" for n in range(1, 18)]
    original = list(csv.reader(io.StringIO(sample_without_ctids())))
    assert [r[:2] + r[3:] for r in rows] == original  # every other cell, the URL @ids included
    assert not {p for p in found(result.text) if p[0] == "missing-ctid"}
    path = tmp_path / "harvard.csv"
    # and the publisher CE's publishing API requires, from the configured organization
    publisher = "ce-3e4f5a6b-7c8d-4e9f-8a0b-1c2d3e4f5a45"
    path.write_text(fix_text(result.text, organization=publisher).text, encoding="utf-8")
    fw = load_frameworks(path, Config(root=tmp_path))[0]
    mapped = map_framework(fw, registry_url=REGISTRY, cass_base=BASE, owner_pem=OWNER)
    ids = [i.id for i in mapped.items]
    assert len(ids) == len(set(ids)) == 1 + 16 + 12  # framework, competencies, relations: all distinct
    assert mapped.id == uri("ce-00000001-0000-4000-8000-000000000000")


def test_the_mapping_refuses_an_object_without_identity() -> None:
    fw = Framework("", "https://example.org/fw", 2, "f.csv", {"ceasn:name": "F"})
    with pytest.raises(
        IdentityError, match=r"internal error: f\.csv:2: 'https://example\.org/fw' has no CTID"
    ):
        map_framework(fw, registry_url=REGISTRY, cass_base=BASE, owner_pem=OWNER)


def test_the_mapping_refuses_two_objects_on_one_id() -> None:
    fw = Framework(FW, FW, 2, "f.csv", {"ceasn:name": "F", "ceasn:inLanguage": ["en"]})
    for line, ctid in ((3, C1), (4, C1)):  # the validator reports duplicate-ctid: a bug if it gets here
        comp = Competency(ctid, ctid, line, {"ceasn:competencyText": f"line {line}"})
        comp.framework = fw
        fw.competencies.append(comp)
    with pytest.raises(IdentityError) as caught:
        map_framework(fw, registry_url=REGISTRY, cass_base=BASE, owner_pem=OWNER)
    assert str(caught.value) == (
        f'internal error: f.csv: competency {C1} "line 3" and competency {C1} "line 4" would both be '
        f"published as {uri(C1)}"
    )


# --- plan and publish -------------------------------------------------------------------------


def test_plan_shows_each_cell(framework: Framework) -> None:
    desired = map_framework(framework, registry_url=REGISTRY, cass_base=BASE, owner_pem=OWNER)
    plan = make_plan([desired], {}, OWNER)
    out = render_text(plan, BASE).splitlines()
    path = framework.path
    reason = load_schema().columns["asn:hasProgressionModel"].extra["export"]["reason"]
    assert f"  ! {path}:2: asn:hasProgressionModel: warning [not-shown-by-ce] {reason}" in out
    assert [line for line in out if line.startswith("  ! ")] == [
        f"  ! {path}:{line}: {column}: warning [{code}] "
        + load_schema().columns[column].extra["export"]["reason"]
        for line, column, code in EXPECTED_LOSSES
    ]
    ce_view = json.loads(render_json(plan, BASE))["frameworks"][0]["ce_view"]
    assert [(x["line"], x["column"], x["code"]) for x in ce_view] == EXPECTED_LOSSES


def test_publish_stores_the_shapes_the_export_carries(
    sandbox: SandboxServer, framework: Framework, tmp_path: Path
) -> None:
    result = publish_frameworks([framework], Config(root=tmp_path), sandbox.url, our_key(), timeout=30)
    assert result.ok, result
    state = snapshot(sandbox)
    stored_fw, stored_c1, stored_c2 = state[uri(FW)], state[uri(C1)], state[uri(C2)]
    assert stored_fw["name"] == fr("Hygiène en cuisine")
    assert {k: stored_fw[k] for k in stored_fw if k.startswith("ceasn:date")} == {
        "ceasn:dateCreated": "2025-03-14",
        "ceasn:dateModified": "2025-03-15T10:00:00Z",
        "ceasn:dateValidFrom": "2025-04-01T00:00:00Z",
        "ceasn:dateValidUntil": "2026-04-01T00:00:00Z",
    }
    assert not [k for k in stored_fw if k.startswith("schema:date")]
    assert stored_fw["ceterms:versionIdentifier"] == [
        {
            "@type": "ceterms:IdentifierValue",
            "ceterms:identifierTypeName": fr("Année du catalogue"),
            "ceterms:identifierValueCode": {"@value": "2025.1", "@type": XSD + "string"},
        }
    ]
    assert stored_fw["ceasn:tableOfContents"] == fr("Partie 1 : les mains")
    assert stored_c1["schema:inLanguage"] == ["fr", "en"] and stored_c2["schema:inLanguage"] == ["fr-CA"]
    assert stored_c1["description"] == [fr("Avant tout"), fr("Toujours")]
    assert stored_c1["ceasn:weight"] == {"@value": "0.5", "@type": XSD + "float"}
    again = publish_frameworks([framework], Config(root=tmp_path), sandbox.url, our_key(), timeout=30)
    assert [f.status for f in again.frameworks] == ["unchanged"]  # the new shapes compare equal


def test_publish_guide_holds_the_generated_export_table() -> None:
    page = (REPO / "docs" / "pages" / "guide" / "publish.md").read_text("utf-8")
    start = page.index("<!-- export-table:start -->\n") + len("<!-- export-table:start -->\n")
    assert page[start : page.index("<!-- export-table:end -->")] == export_table(), (
        "regenerate with: python -m competency_ci.targets.cass.mapping export"
    )


def test_occupation_types_are_sent_as_the_alignment_objects_convert_builds() -> None:
    onet = "https://www.onetonline.org/link/summary/15-1252.00"
    fw = Framework(FW, FW, 2, "f.csv", {"ceasn:name": "F", "ceasn:inLanguage": ["en"]})
    comp = Competency(C1, C1, 3, {"ceasn:competencyText": "C", "ceterms:occupationType": [onet]})
    comp.framework = fw
    fw.competencies.append(comp)
    result = map_framework(fw, registry_url=REGISTRY, cass_base=BASE, owner_pem=OWNER)
    assert result.items[0].data["ceterms:occupationType"] == [
        {"@type": "ceterms:CredentialAlignmentObject", "ceterms:targetNode": {"@id": onet}}
    ]
    assert result.losses == []  # it reaches CE: no warning
