"""Interoperability with the real CASS client library (npm ``cassproject``, version pinned in
``tests/node/package.json``): it verifies our signature sheets with its own crypto and reads the
objects we publish into its ``EcFramework``, ``EcCompetency`` and ``EcAlignment`` classes."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from competency_ci.frameworks.build import load_frameworks
from competency_ci.frameworks.config import Config
from competency_ci.targets.cass.mapping import map_framework, versioned_id
from competency_ci.targets.cass.signing import canonical_string, cass_pem, load_private_key, signature_sheet
from conftest import EXAMPLES, REPO, VECTORS

NODE_DIR = REPO / "tests" / "node"
V = json.loads((VECTORS / "cass-signature-vectors.json").read_text("utf-8"))
KEY = load_private_key(V["test_key"]["private_key_pem"])
OWNER = cass_pem(KEY.public_key())
BASE = "http://127.0.0.1:8080/api/"
NOW = 1_800_000_000_000

pytestmark = [
    pytest.mark.skipif(
        not (NODE_DIR / "node_modules" / "cassproject").is_dir(),
        reason="the cassproject library is not installed: run `npm install` in tests/node (CI does)",
    ),
    pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed"),
]


def run_library(tmp_path: Path, sheets: list[str], objects: list[dict[str, Any]]) -> dict[str, Any]:
    request = tmp_path / "input.json"
    request.write_text(json.dumps({"sheets": sheets, "objects": objects}), "utf-8")
    done = subprocess.run(
        ["node", "verify.mjs", str(request)],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_library_verifies_our_sheets_and_we_rebuild_its_canonical_text(tmp_path: Path) -> None:
    ours_256 = signature_sheet(KEY, BASE, now_ms=NOW)
    ours_1 = signature_sheet(KEY, BASE, now_ms=NOW, hash_name="SHA-1")
    tampered = json.loads(ours_256)
    tampered[0]["server"] = "http://elsewhere.example/api/"
    library_made = [s["sheet_json"] for s in V["signature_sheets"][:2]]
    sheets = [ours_256, ours_1, json.dumps(tampered), *library_made]
    result = run_library(tmp_path, sheets, [])
    checks = [[(e["sha256"], e["sha1"]) for e in sheet] for sheet in result["sheets"]]
    assert checks == [[(True, None)], [(None, True)], [(False, None)], [(True, None)], [(None, True)]]
    for sheet_json, verified in zip(sheets, result["sheets"], strict=True):
        for entry, library in zip(json.loads(sheet_json), verified, strict=True):
            # the library's server-side text (EbacSignature.toJson, as kbac.js) is ours, byte for byte
            assert library["canonical"] == canonical_string(entry)
            assert library["owner"] == OWNER


def test_library_reads_the_objects_we_publish(tmp_path: Path) -> None:
    config = Config(root=REPO)
    (framework,) = load_frameworks(EXAMPLES / "hierarchy.csv", config)
    mapped = map_framework(framework, registry_url=config.registry_url, cass_base=BASE, owner_pem=OWNER)
    # exactly what publish sends: the mapped objects with their write-time ids (cass-api.md §3.2)
    objects = [{**item.data, "@id": versioned_id(item.id, None, NOW)} for item in mapped.items]
    result = run_library(tmp_path, [], objects)["objects"]

    uri = {c.ctid: f"{config.registry_url}/resources/{c.ctid}" for c in framework.competencies}
    classes = {"competency": "EcCompetency", "relation": "EcAlignment", "framework": "EcFramework"}
    assert [r["class"] for r in result] == [classes[item.kind] for item in mapped.items]
    for item, read in zip(mapped.items, result, strict=True):
        assert read["shortId"] == item.id
        assert read["guid"] == item.id.rsplit("/", 1)[-1]
        assert read["owner"] == [OWNER]
        assert read["ownedByFirst"] is True
    competencies = [r for r in result if r["class"] == "EcCompetency"]
    assert [r["name"] for r in competencies] == [c.text for c in framework.competencies]
    assert [r["shortId"] for r in competencies] == [uri[c.ctid] for c in framework.competencies]

    fw = result[-1]
    assert fw["name"] == framework.name
    assert fw["shortId"] == f"{config.registry_url}/resources/{framework.ctid}"
    assert fw["competency"] == [uri[c.ctid] for c in framework.competencies]
    relations = [r for r in result if r["class"] == "EcAlignment"]
    assert fw["relation"] == [r["shortId"] for r in relations]
    # every parent/child pair of the file is one narrows relation, source = child, target = parent
    ends = sorted((r["source"], r["target"], r["relationType"]) for r in relations)
    expected = sorted(
        (uri[c.ctid], uri[c.parent.ctid], "narrows") for c in framework.competencies if c.parent is not None
    )
    assert ends == expected
    assert len(expected) >= 3
