"""make_plan: desired CASS objects + what the server holds -> creates, updates, deletes, reasons."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from competency_ci.targets.cass.mapping import MappedFramework, map_framework
from competency_ci.targets.cass.plan import make_plan, render_json, render_markdown, render_text
from publish_support import (
    FW,
    FW2,
    REGISTRY,
    A,
    B,
    C,
    D,
    framework_rows,
    load,
    second_framework_rows,
    uri,
    write_csv,
)

BASE = "http://127.0.0.1:8080/api/"
OURS = "-----BEGIN PUBLIC KEY-----OURS-----END PUBLIC KEY-----"
THEIRS = "-----BEGIN PUBLIC KEY-----THEIRS-----END PUBLIC KEY-----"


def desired(tmp_path: Path, rows: list[str], existing: dict[str, Any] | None = None) -> list[MappedFramework]:
    frameworks = load(write_csv(tmp_path / "fw.csv", rows))
    return [
        map_framework(f, registry_url=REGISTRY, cass_base=BASE, owner_pem=OURS, existing=existing)
        for f in frameworks
    ]


def stored(mapped: list[MappedFramework]) -> dict[str, Any]:
    """What a server returns for these objects: versions on native ids, other key order, signatures."""
    result = {}
    for m in mapped:
        for item in m.items:
            obj = dict(reversed(list(item.data.items())))
            if "/api/data/" in item.id:
                obj["@id"] = item.id + "/1700000000000"
            obj["signatureSha256"] = ["c2ln"]
            result[item.id] = obj
    return result


def plan_for(tmp_path: Path, rows: list[str], current: dict[str, Any]):  # type: ignore[no-untyped-def]
    mapped = desired(tmp_path, rows, current)
    return make_plan(mapped, current, OURS).frameworks[0]


def actions(fp: Any) -> list[tuple[str, str, str, tuple[str, ...]]]:
    return [(c.action, c.kind, c.id.rsplit("/", 1)[-1], c.reasons) for c in fp.changes]


def test_new_framework_creates_everything_framework_last(tmp_path: Path) -> None:
    fp = plan_for(tmp_path, framework_rows(), {})
    assert fp.summary == "7 to create"
    assert [i.kind for i in fp.writes] == ["competency"] * 4 + ["relation"] * 2 + ["framework"]
    assert fp.deletes == [] and fp.blocked == []


def test_unchanged_framework_gives_an_empty_plan(tmp_path: Path) -> None:
    current = stored(desired(tmp_path, framework_rows()))
    fp = plan_for(tmp_path, framework_rows(), current)
    assert fp.empty and fp.changes == [] and fp.summary == "no changes"


def test_changed_text_updates_one_competency_with_the_reason(tmp_path: Path) -> None:
    current = stored(desired(tmp_path, framework_rows()))
    fp = plan_for(tmp_path, framework_rows(texts={B: "Bravo revised"}, comment_b="New note"), current)
    assert actions(fp) == [("update", "competency", B, ("comment added", "competencyText changed"))]
    assert [i.id for i in fp.writes] == [uri(B)]


def test_removed_competency_is_deleted_with_its_relation(tmp_path: Path) -> None:
    current = stored(desired(tmp_path, framework_rows()))
    fp = plan_for(tmp_path, framework_rows(order=(A, B, D)), current)
    changes = actions(fp)
    assert changes[0] == (
        "update",
        "framework",
        FW,
        ("competencies 1 removed", "hierarchy or alignments changed"),
    )
    assert changes[1] == ("delete", "competency", C, ("no longer in the framework",))
    assert changes[2][:2] == ("delete", "relation") and changes[2][3] == ("no longer in the framework",)
    assert fp.deletes[0] == uri(C) and len(fp.deletes) == 2


def test_moved_competency_gets_a_new_relation_and_loses_the_old(tmp_path: Path) -> None:
    current = stored(desired(tmp_path, framework_rows()))
    fp = plan_for(tmp_path, framework_rows(parents={D: C}), current)
    kinds = [(c.action, c.kind) for c in fp.changes]
    assert kinds == [("create", "relation"), ("update", "framework")]
    assert fp.changes[0].label == f"{D} narrows {C} (child of)"
    assert fp.changes[1].reasons == ("hierarchy or alignments changed",)
    assert fp.deletes == []


def test_items_not_ours_are_left_in_place(tmp_path: Path) -> None:
    current = stored(desired(tmp_path, framework_rows()))
    current[uri(C)]["owner"] = [THEIRS]
    current[uri(D)].pop("owner")
    fp = plan_for(tmp_path, framework_rows(order=(A, B)), current)
    keep = [(c.id, c.reasons[1]) for c in fp.changes if c.action == "keep"]
    assert keep == [
        (uri(C), "left in place: owned by another key"),
        (uri(D), "left in place: it has no owner, and CASS deletes only owned objects"),
    ]
    assert fp.deletes == [next(c.id for c in fp.changes if c.action == "delete")]


def test_changing_an_object_owned_by_another_key_is_blocked(tmp_path: Path) -> None:
    current = stored(desired(tmp_path, framework_rows()))
    current[uri(A)]["owner"] = [THEIRS]
    fp = plan_for(tmp_path, framework_rows(texts={A: "Alpha 2"}), current)
    assert [(c.id, c.reasons) for c in fp.blocked] == [
        (uri(A), ("competencyText changed", "adds this key as an owner"))
    ]


def test_co_owner_only_on_the_server_is_no_change(tmp_path: Path) -> None:
    current = stored(desired(tmp_path, framework_rows()))
    current[uri(A)]["owner"] = [THEIRS, OURS]
    fp = plan_for(tmp_path, framework_rows(), current)
    assert fp.empty


def test_competency_moved_to_another_framework_of_the_run_is_not_deleted(tmp_path: Path) -> None:
    current = stored(desired(tmp_path, framework_rows() + second_framework_rows()))
    rows = (
        framework_rows(order=(A, B, C))
        + second_framework_rows()
        + [f"{D},ceasn:Competency,,,,,Delta,,{FW2},"]
    )
    plan = make_plan(desired(tmp_path, rows, current), current, OURS)
    first, second = plan.frameworks
    assert actions(first) == [("update", "framework", FW, ("competencies 1 removed",))]
    # D now takes the language of its new framework ("en", not "en-US"): its text is tagged anew
    assert actions(second) == [
        ("update", "competency", D, ("competencyText changed", "inLanguage changed")),
        ("update", "framework", FW2, ("competencies 1 added",)),
    ]
    assert first.deletes == [] and second.deletes == []


def test_renderers(tmp_path: Path) -> None:
    current = stored(desired(tmp_path, framework_rows()))
    mapped = desired(tmp_path, framework_rows(texts={B: "Bravo 2"}), current)
    plan = make_plan(mapped, current, OURS)
    path = str(tmp_path / "fw.csv")
    assert render_text(plan, BASE) == (
        f"Plan for {BASE}\n"
        f"{path}: Test Framework ({FW}): 1 to update\n"
        f'  ~ update competency {B} "Bravo 2": competencyText changed\n'
    )
    assert json.loads(render_json(plan, BASE))["frameworks"][0]["counts"] == {
        "create": 0,
        "update": 1,
        "delete": 0,
        "keep": 0,
    }
    markdown = render_markdown(plan, BASE)
    assert f"| `{path}` | Test Framework | 0 | 1 | 0 | 0 |" in markdown
    empty = make_plan(desired(tmp_path, framework_rows(), current), current, OURS)
    assert render_text(empty, BASE).endswith("no changes\nNo changes: nothing would be written.\n")
