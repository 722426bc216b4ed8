"""The CE-view comparison (targets/cass/verify.py): exact findings, in a curriculum editor's words."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from competency_ci.frameworks.build import load_frameworks
from competency_ci.frameworks.config import Config
from competency_ci.frameworks.jsonld import framework_to_graph
from competency_ci.targets.cass.export import ceasn_export
from competency_ci.targets.cass.mapping import map_framework
from competency_ci.targets.cass.verify import check, expect, predict, stale_signs

REGISTRY = "https://sandbox.credentialengineregistry.org"
FW = "ce-10000000-0000-4000-8000-000000000000"
A = "ce-a0000000-0000-4000-8000-00000000000a"
B = "ce-b0000000-0000-4000-8000-00000000000b"
ORG = "ce-e0000000-0000-4000-8000-00000000000e"
HEADER = (
    "@id,@type,ceasn:name,ceasn:description,ceasn:inLanguage,ceasn:publisher,ceasn:publisherName,"
    "ceasn:competencyText,ceasn:isTopChildOf,ceasn:isChildOf,asn:hasProgressionModel"
)


def uri(ctid: str) -> str:
    return f"{REGISTRY}/resources/{ctid}"


def framework(tmp_path: Path, language: str = "fr", model: str = "") -> Any:
    rows = [
        f"{FW},ceasn:CompetencyFramework,Hygiène,Les bases.,{language},{ORG},Cuisine,,,,{model}",
        f"{A},ceasn:Competency,,,,,,Se laver les mains,{FW},,",
        f"{B},ceasn:Competency,,,,,,Ranger,,{A},",
    ]
    path = tmp_path / "fw.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return load_frameworks(path, Config(root=tmp_path))[0]


def mapped(tmp_path: Path, **kwargs: str) -> Any:
    return map_framework(
        framework(tmp_path, **kwargs),
        registry_url=REGISTRY,
        cass_base="http://127.0.0.1:9/api/",
        owner_pem="K",
    )


def test_a_faithful_framework_predicts_no_difference(tmp_path: Path) -> None:
    view = expect(mapped(tmp_path), REGISTRY, {})
    assert view.prediction.ok and view.prediction.summary == "CE will show what the file says"
    assert view.previous is None


def test_progression_model_is_predicted_missing_with_its_column_and_reason(tmp_path: Path) -> None:
    prediction = expect(mapped(tmp_path, model=ORG), REGISTRY, {}).prediction
    assert [(f.kind, f.term, f.column, f.what, f.count, f.examples) for f in prediction.findings] == [
        ("framework", "asn:hasProgressionModel", "asn:hasProgressionModel", "missing", 1, (FW,))
    ]
    finding = prediction.findings[0]
    assert finding.message == "CE will show hasProgressionModel as missing"
    assert finding.reason.startswith("Credential Engine does not show a framework's progression model")
    assert prediction.summary == "CE will show 1 difference(s): CE will show hasProgressionModel as missing"


def test_plain_strings_show_as_en_us_in_a_french_framework(tmp_path: Path) -> None:
    """CASS objects with plain text (what the mapping sent before it tagged languages)."""
    fw = framework(tmp_path)
    ours = framework_to_graph(fw, REGISTRY)
    objects = {
        uri(A): {"@id": uri(A), "@type": "Competency", "ceterms:ctid": A, "name": "Se laver les mains"},
        uri(B): {"@id": uri(B), "@type": "Competency", "ceterms:ctid": B, "name": "Ranger"},
        "rel": {
            "@id": "rel",
            "@type": "Relation",
            "relationType": "narrows",
            "source": uri(B),
            "target": uri(A),
        },
    }
    stored_fw = {
        "@id": uri(FW),
        "@type": "Framework",
        "ceterms:ctid": FW,
        "name": "Hygiène",
        "description": "Les bases.",
        "schema:inLanguage": ["fr"],
        "schema:publisher": [uri(ORG)],
        "ceasn:publisherName": ["Cuisine"],
        "competency": [uri(A), uri(B)],
        "relation": ["rel"],
    }
    found = predict(ours, ceasn_export(stored_fw, objects)).findings
    assert [f.message for f in found] == [
        "CE will show the description tagged en-us instead of fr",
        "CE will show the name tagged en-us instead of fr",
        "CE will show the publisherName tagged en-us instead of fr",
        "CE will show the competencyText tagged en-us instead of fr on 2 of 2 competencies",
        'CE will show inLanguage "en" instead of "fr" on 2 of 2 competencies',
    ]


def test_missing_date_and_unexpected_change_after_publish(tmp_path: Path) -> None:
    view = expect(mapped(tmp_path), REGISTRY, {})
    actual = copy.deepcopy(view.predicted)
    actual["@graph"][0].pop("ceasn:description")
    actual["@graph"][2]["ceasn:competencyText"] = {"fr": "Ranger la cuisine"}
    result = check(view.ours, actual, view.predicted)
    assert [(f.message, f.expected) for f in result.findings] == [
        ("CE shows description as missing", False),
        ("CE shows a different competencyText on 1 of 2 competencies", False),
    ]
    assert not result.ok and not result.stale


def test_stale_export_is_reported_as_the_cache_not_the_data(tmp_path: Path) -> None:
    before = expect(mapped(tmp_path), REGISTRY, {})
    stored = {i.id: i.data for i in mapped(tmp_path).items}
    # the file changes B's text; the export still serves the previous one, duplicates hasChild and
    # lists a competency that was removed
    (tmp_path / "fw.csv").write_text(
        (tmp_path / "fw.csv").read_text("utf-8").replace(",Ranger,", ",Ranger les couteaux,"), "utf-8"
    )
    now = map_framework(
        load_frameworks(tmp_path / "fw.csv", Config(root=tmp_path))[0],
        registry_url=REGISTRY,
        cass_base="http://127.0.0.1:9/api/",
        owner_pem="K",
    )
    view = expect(now, REGISTRY, stored)
    assert view.prediction.ok
    stale = copy.deepcopy(before.predicted)
    stale["@graph"][1]["ceasn:hasChild"] = [uri(B), uri(B), uri("ce-d0000000-0000-4000-8000-00000000000d")]
    assert stale_signs(view.ours, stale, view.previous, view.predicted) == [
        "1 duplicated hasChild/isChildOf list(s)",
        "1 removed competency still listed",
        "1 value(s) of the previous version",
    ]
    result = check(view.ours, stale, view.predicted, view.previous)
    assert result.stale and result.findings == []  # a fresh export would show the file
    assert result.summary.startswith("CE view looks stale (1 duplicated hasChild/isChildOf list(s);")
    assert result.summary.endswith("CASS's export cache, not the data; a CASS restart clears it")


def test_a_value_cass_carries_but_ce_does_not_take_is_still_missing(tmp_path: Path) -> None:
    """Real CASS's export keeps asn:hasProgressionModel; CE's framework model has no place for it."""
    view = expect(mapped(tmp_path, model=ORG), REGISTRY, {})
    actual = copy.deepcopy(view.predicted)
    actual["@graph"][0]["asn:hasProgressionModel"] = [uri(ORG)]
    result = check(view.ours, actual, view.predicted)
    assert [(f.message, f.expected) for f in result.findings] == [
        ("CE shows hasProgressionModel as missing", True)
    ]
