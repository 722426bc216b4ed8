"""The CE view over HTTP: ``plan`` predicts it, ``publish`` reads ``/api/ceasn/{uid}`` back and compares.

Against the sandbox on 127.0.0.1 (whose export follows CASS's, see test_sandbox_ceasn.py) and a
proxy that gives the export CASS's stale-cache defect (tests/servers/stale_ceasn.py).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from competency_ci.frameworks.build import load_frameworks
from competency_ci.frameworks.config import Config
from competency_ci.sandbox import SandboxServer
from competency_ci.targets.cass.ids import md5_key
from competency_ci.targets.cass.publish import PublishResult, publish_frameworks
from conftest import EXAMPLES
from publish_support import our_key, private_pem
from servers.stale_ceasn import StaleCeasn

REGISTRY = "https://sandbox.credentialengineregistry.org"
FW = "ce-30000000-0000-4000-8000-000000000000"
A = "ce-3a000000-0000-4000-8000-00000000000a"
B = "ce-3b000000-0000-4000-8000-00000000000b"
C = "ce-3c000000-0000-4000-8000-00000000000c"
ORG = "ce-3e000000-0000-4000-8000-00000000000e"
MODEL = "ce-3f000000-0000-4000-8000-00000000000f"
HEADER = (
    "@id,@type,ceasn:name,ceasn:description,ceasn:inLanguage,ceasn:publisher,ceasn:publisherName,"
    "ceasn:competencyText,ceasn:isTopChildOf,ceasn:isChildOf,ceasn:weight,asn:hasProgressionModel"
)


def uri(ctid: str) -> str:
    return f"{REGISTRY}/resources/{ctid}"


def rows(*, weight: str = "", model: str = "", text_b: str = "Bravo", with_c: bool = True) -> list[str]:
    """FW (French) with A > B (and A > C)."""
    out = [
        f"{FW},ceasn:CompetencyFramework,Cuisine,Les bases.,fr,{ORG},Cuisine de quartier,,,,,{model}",
        f"{A},ceasn:Competency,,,,,,Alpha,{FW},,,",
        f"{B},ceasn:Competency,,,,,,{text_b},,{A},{weight},",
    ]
    if with_c:
        out.append(f"{C},ceasn:Competency,,,,,,Charlie,,{A},,")
    return out


def write(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


def publish(server: str, *paths: Path, dry_run: bool = False) -> PublishResult:
    frameworks = [fw for p in paths for fw in load_frameworks(p, Config(root=p.parent))]
    return publish_frameworks(
        frameworks, Config(root=paths[0].parent), server, our_key(), timeout=30, dry_run=dry_run
    )


def test_a_clean_publish_of_the_examples_verifies_with_zero_differences(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    paths = [shutil.copy(p, tmp_path / p.name) for p in sorted(EXAMPLES.glob("*.csv"))]
    planned = publish(sandbox.url, *map(Path, paths), dry_run=True)
    assert planned.plan is not None
    assert [fp.prediction.ok for fp in planned.plan.frameworks if fp.prediction] == [True, True]
    result = publish(sandbox.url, *map(Path, paths))
    assert result.ok and result.exit_code == 0
    assert [
        (f.status, f.verification.ok, f.verification.findings) for f in result.frameworks if f.verification
    ] == [
        ("written", True, []),
        ("written", True, []),
    ]
    reads = [f"{r.method} {r.path} {r.status}" for r in sandbox.request_log if "/ceasn/" in r.path]
    assert reads == [f"GET /api/ceasn/{md5_key(uri(f.ctid))} 200" for f in result.frameworks]
    record = result.record()
    assert [f.verification for f in record.frameworks] == ["CE view matches the repository"] * 2


def test_a_known_loss_is_predicted_then_reported_exactly(sandbox: SandboxServer, tmp_path: Path) -> None:
    path = write(tmp_path / "fw.csv", rows(weight="2", model=MODEL))  # the weight survives (typed)
    planned = publish(sandbox.url, path, dry_run=True)
    assert planned.plan is not None and planned.plan.frameworks[0].prediction is not None
    predicted = [f.line for f in planned.plan.frameworks[0].prediction.findings]
    assert predicted == [
        "CE will show hasProgressionModel as missing (column asn:hasProgressionModel): Credential Engine "
        "does not show a framework's progression model when it is published this way: set it in CE's "
        "Publisher after approval",
    ]
    result = publish(sandbox.url, path)
    fr = result.frameworks[0]
    assert fr.status == "written" and fr.verification is not None
    assert [f.line for f in fr.verification.findings] == [p.replace("will show", "shows") for p in predicted]
    assert all(f.expected for f in fr.verification.findings) and not fr.verification.stale
    assert result.exit_code == 1
    assert result.record().frameworks[0].verification == (
        "CE shows 1 difference(s): CE shows hasProgressionModel as missing"
    )
    data = result.to_dict()["frameworks"][0]["verification"]
    assert (data["ok"], [f["column"] for f in data["findings"]]) == (False, ["asn:hasProgressionModel"])
    stored = sandbox.store.get(md5_key(uri(B)))
    assert stored is not None and json.loads(stored.body)["ceasn:weight"] == {
        "@value": "2",
        "@type": "http://www.w3.org/2001/XMLSchema#float",
    }


def test_a_stale_export_is_reported_as_stale(sandbox: SandboxServer, tmp_path: Path) -> None:
    with StaleCeasn(sandbox.url) as stale:
        first = publish(stale.url, write(tmp_path / "fw.csv", rows()))
        assert first.exit_code == 0 and first.frameworks[0].verification is not None
        assert first.frameworks[0].verification.ok
        # B's text changes and C leaves the framework; the cached export still has both
        second = publish(stale.url, write(tmp_path / "fw.csv", rows(text_b="Bravo revised", with_c=False)))
        fr = second.frameworks[0]
        assert fr.status == "written" and fr.verification is not None
        assert fr.verification.stale == [
            "3 duplicated hasChild/isChildOf list(s)",
            "1 removed competency still listed",
            "1 value(s) of the previous version",
        ]
        assert fr.verification.findings == []  # nothing is blamed on the data
        assert second.exit_code == 1
        assert fr.verification.summary.endswith("not the data; a CASS restart clears it")
        text = "".join(__import__("competency_ci.targets.cass.publish", fromlist=["account"]).account(second))
        assert "the CE view looks stale: CASS's export keeps serving cached objects" in text
        stale.restart()  # what restarting CASS does: the next run reads a fresh export
        third = publish(stale.url, tmp_path / "fw.csv")
        assert third.frameworks[0].status == "unchanged" and third.exit_code == 0


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CASS_KEY", private_pem(our_key()))
    return tmp_path


def test_cli_plan_and_publish_exit_1_on_a_difference(
    run_cli: Any, repo: Path, sandbox: SandboxServer
) -> None:
    write(repo / "frameworks" / "fw.csv", rows(model=MODEL))
    code, out, err = run_cli("plan", "--server", sandbox.url, "frameworks")
    assert code == 1, err
    assert "  CE view (predicted from the plan):" in out.splitlines()
    assert (
        "    ! CE will show hasProgressionModel as missing (column asn:hasProgressionModel): Credential "
        "Engine does not show a framework's progression model when it is published this way: set it in "
        "CE's Publisher after approval"
    ) in out.splitlines()
    code, out, err = run_cli("plan", "--server", sandbox.url, "--format", "json", "frameworks")
    prediction = json.loads(out)["frameworks"][0]["ce_prediction"]
    assert (code, prediction["ok"], prediction["findings"][0]["property"]) == (
        1,
        False,
        "asn:hasProgressionModel",
    )
    code, out, err = run_cli("publish", "--server", sandbox.url, "frameworks")
    assert code == 1
    assert "    ! CE shows hasProgressionModel as missing (column asn:hasProgressionModel): " in out + err
    write(repo / "frameworks" / "fw.csv", rows())
    code, out, err = run_cli("publish", "--server", sandbox.url, "--result-file", "r.json", "frameworks")
    assert code == 0, err
    assert "CE view" not in out + err  # a clean check prints nothing; the record carries it
    record = json.loads((repo / "r.json").read_text("utf-8"))
    assert [f["verification"] for f in record["frameworks"]] == ["CE view matches the repository"]
