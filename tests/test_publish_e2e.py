"""Publishing over HTTP to the sandbox on 127.0.0.1: create, update, no-op, owners, versions, CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from competency_ci.frameworks.config import Config
from competency_ci.sandbox import SandboxServer
from competency_ci.targets.cass.client import CassClient
from competency_ci.targets.cass.mapping import relation_id
from competency_ci.targets.cass.publish import PublishResult, publish_frameworks
from publish_support import (
    FW,
    A,
    B,
    C,
    D,
    framework_rows,
    load,
    other_key,
    our_key,
    pem,
    private_pem,
    snapshot,
    uri,
    write_csv,
)


def publish(sandbox: SandboxServer, path: Path, key: Any = None) -> PublishResult:
    return publish_frameworks(load(path), Config(root=path.parent), sandbox.url, key or our_key(), timeout=30)


def routes(sandbox: SandboxServer, start: int = 0) -> list[str]:
    return [f"{r.method} {r.path} {r.status}" for r in sandbox.request_log[start:]]


def test_create_then_republish_costs_zero_writes(sandbox: SandboxServer, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "fw.csv", framework_rows())
    result = publish(sandbox, path)
    assert result.ok and result.exit_code == 0
    assert [(f.status, f.created, f.objects_written) for f in result.frameworks] == [("written", 7, 7)]
    assert routes(sandbox) == [
        "GET /api/ping 200",
        "POST /api/sky/repo/multiGet 200",
        "POST /api/data/ 200",  # the search for relations earlier runs left behind
        "POST /api/sky/repo/multiPut 200",  # the framework object first: it lists what follows
        "POST /api/sky/repo/multiPut 200",  # then the new objects
        f"GET /api/ceasn/{_md5(uri(FW))} 200",  # the CE view, read back and compared
    ]
    state = snapshot(sandbox)
    assert sorted(state) == sorted(
        [
            uri(A),
            uri(B),
            uri(C),
            uri(D),
            uri(FW),
            relation_id("BASE/", uri(B), uri(A), "narrows"),
            relation_id("BASE/", uri(C), uri(A), "narrows"),
        ]
    )
    assert state[uri(FW)]["competency"] == [uri(A), uri(B), uri(C), uri(D)]
    assert state[uri(B)]["name"] == {"@value": "Bravo", "@language": "en-us"}
    assert state[uri(B)]["owner"] == [pem(our_key())]
    assert sandbox.store.get(_md5(uri(FW))).version == 1  # type: ignore[union-attr]

    before = len(sandbox.request_log)
    again = publish(sandbox, path)
    assert [(f.status, f.message) for f in again.frameworks] == [("unchanged", "no changes")]
    assert routes(sandbox, before) == [
        "GET /api/ping 200",
        "POST /api/sky/repo/multiGet 200",
        "POST /api/data/ 200",
    ]
    assert again.plan is not None and again.plan.empty


def test_update_text_move_and_remove(sandbox: SandboxServer, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "fw.csv", framework_rows())
    publish(sandbox, path)
    write_csv(path, framework_rows(texts={B: "Bravo revised"}, parents={D: B}, order=(A, B, D)))
    before = len(sandbox.request_log)
    result = publish(sandbox, path)
    fr = result.frameworks[0]
    assert (fr.status, fr.created, fr.updated, fr.deleted) == ("written", 1, 2, 2)
    assert fr.message == "1 created, 2 updated, 2 deleted"
    assert routes(sandbox, before) == [
        "GET /api/ping 200",
        "POST /api/sky/repo/multiGet 200",  # what we would write, and the stored framework
        "POST /api/sky/repo/multiGet 200",  # what the stored framework lists besides (C, C->A)
        "POST /api/data/ 200",  # the search for relations earlier runs left behind
        "POST /api/sky/repo/multiPut 200",  # 1. changed objects that exist (B)
        "POST /api/sky/repo/multiDelete 200",  # 2. what left (C, C->A), still listed
        "POST /api/sky/repo/multiPut 200",  # 3. the framework object
        "POST /api/sky/repo/multiPut 200",  # 4. the new relation D->B
        f"GET /api/ceasn/{_md5(uri(FW))} 200",  # 5. the CE view, read back and compared
    ]
    state = snapshot(sandbox)
    rel_db = relation_id("BASE/", uri(D), uri(B), "narrows")
    assert sorted(state) == sorted(
        [uri(A), uri(B), uri(D), uri(FW), relation_id("BASE/", uri(B), uri(A), "narrows"), rel_db]
    )
    assert state[uri(B)]["name"] == {"@value": "Bravo revised", "@language": "en-us"}
    assert state[uri(FW)]["competency"] == [uri(A), uri(B), uri(D)]
    assert sorted(state[uri(FW)]["relation"]) == sorted(
        [relation_id("BASE/", uri(B), uri(A), "narrows"), rel_db]
    )
    assert state[rel_db]["source"] == uri(D) and state[rel_db]["target"] == uri(B)
    assert sandbox.store.get(_md5(uri(FW))).version == 2  # type: ignore[union-attr]
    (record,) = result.record().frameworks
    assert (record.outcome, str(record.changes)) == ("written", "1 removed, 1 changed, 1 moved")


def test_co_owner_is_kept(sandbox: SandboxServer, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "fw.csv", framework_rows())
    publish(sandbox, path)
    client = CassClient(sandbox.url, our_key(), timeout=10)
    client.ping()
    stored = client.multi_get([uri(A)])[uri(A)]
    client.multi_put([{**stored, "owner": [pem(other_key()), pem(our_key())]}])  # an editor is added
    write_csv(path, framework_rows(texts={A: "Alpha revised"}))
    result = publish(sandbox, path)
    assert result.frameworks[0].updated == 1
    assert snapshot(sandbox)[uri(A)]["owner"] == [pem(other_key()), pem(our_key())]
    assert snapshot(sandbox)[uri(A)]["name"] == {"@value": "Alpha revised", "@language": "en-us"}


def test_objects_owned_by_another_key_are_refused_before_any_write(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "fw.csv", framework_rows())
    publish(sandbox, path, key=other_key())
    before = len(sandbox.request_log)
    result = publish(sandbox, path)
    fr = result.frameworks[0]
    assert result.exit_code == 3
    assert fr.status == "failed" and fr.objects_written == 0
    assert fr.message.startswith(
        "not written: this key is not an owner of 7 object(s) on the server (competency "
    )
    assert fr.message.endswith("and 2 more); an owner must add this key as a co-owner")
    # no write after the refusal
    assert sandbox.writes()[-1] == [r for r in sandbox.request_log[:before] if r.is_write][-1]
    assert snapshot(sandbox)[uri(A)]["owner"] == [pem(other_key())]


def test_refused_object_omitted_by_the_server_is_reported(sandbox: SandboxServer, tmp_path: Path) -> None:
    """The plan read A as ownerless; another key takes it before the write: multiPut omits it (§1.2)."""
    path = write_csv(tmp_path / "fw.csv", framework_rows())
    config = Config(root=tmp_path)
    thief = CassClient(sandbox.url, other_key(), timeout=10)

    def steal(plan: Any, server: str) -> None:
        thief.ping()
        thief.multi_put(
            [
                {
                    "@context": "https://schema.cassproject.org/0.4",
                    "@id": uri(A),
                    "@type": "Competency",
                    "name": "x",
                    "owner": [pem(other_key())],
                }
            ]
        )

    result = publish_frameworks(load(path), config, sandbox.url, our_key(), timeout=30, on_plan=steal)
    fr = result.frameworks[0]
    assert result.exit_code == 3
    assert fr.status == "failed"
    assert fr.message == (
        f"the server did not save 1 object(s) ({uri(A)}): not an owner, or rejected by the server: "
        "6 of 7 object(s) are written, including the framework object"
    )
    assert snapshot(sandbox)[uri(A)]["owner"] == [pem(other_key())]


def test_stale_versions(sandbox: SandboxServer, tmp_path: Path) -> None:
    """Registry-URI ids carry no version: the server counts 1, 2, 3. Native relation ids carry a
    timestamp, and a write that is not newer is silently dropped yet reported saved (§3.2); the
    publisher therefore writes max(server now, stored + 1)."""
    path = write_csv(tmp_path / "fw.csv", framework_rows())
    publish(sandbox, path)
    rel = relation_id(sandbox.url, uri(B), uri(A), "narrows")
    client = CassClient(sandbox.url, our_key(), timeout=10)
    client.ping()
    future = client.server_now_ms() + 86_400_000
    stored = client.multi_get([rel])[rel]
    changed = {**stored, "@id": f"{rel}/{future}", "relationType": "requires"}
    assert client.multi_put([changed]) == {rel}
    # a stale write (the old version) is reported saved but not written
    assert client.multi_put([{**stored, "relationType": "isRelatedTo"}]) == {rel}
    assert snapshot(sandbox)[rel.replace(sandbox.url, "BASE/")]["relationType"] == "requires"

    result = publish(sandbox, path)
    assert result.frameworks[0].updated == 1
    current = sandbox.store.get(rel.rsplit("/", 1)[1])
    assert current is not None and current.version == future + 1
    assert json.loads(current.body)["relationType"] == "narrows"


def _md5(object_id: str) -> str:
    from competency_ci.targets.cass.ids import md5_key

    return md5_key(object_id)


# --- the command line ----------------------------------------------------------------------------


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CASS_KEY", private_pem(our_key()))
    write_csv(tmp_path / "frameworks" / "fw.csv", framework_rows())
    return tmp_path


def test_cli_publish_prints_plan_then_account(run_cli: Any, repo: Path, sandbox: SandboxServer) -> None:
    code, out, err = run_cli("publish", "--server", sandbox.url, "frameworks")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == f"Plan for {sandbox.url}"
    assert lines[1] == f"frameworks/fw.csv: Test Framework ({FW}): 7 to create"
    assert lines[-1] == f"  written: frameworks/fw.csv: Test Framework ({FW}): 7 created"
    assert "PRIVATE KEY" not in out + err
    code, out, err = run_cli("publish", "--server", sandbox.url, "frameworks")
    assert (code, out.splitlines()[1:3]) == (
        0,
        [f"frameworks/fw.csv: Test Framework ({FW}): no changes", "No changes: nothing would be written."],
    )


def test_cli_plan_json_and_result_file(run_cli: Any, repo: Path, sandbox: SandboxServer) -> None:
    code, out, _ = run_cli("plan", "--server", sandbox.url, "--format", "json", "frameworks")
    data = json.loads(out)
    assert code == 0 and data["empty"] is False
    assert data["frameworks"][0]["counts"] == {"create": 7, "update": 0, "delete": 0, "keep": 0}
    assert [r.is_write for r in sandbox.request_log] == [False, False, False]  # ping, read, search
    code, _, _ = run_cli("publish", "--server", sandbox.url, "--result-file", "result.json", "frameworks")
    record = json.loads((repo / "result.json").read_text())
    assert code == 0
    assert record["frameworks"][0]["outcome"] == "written"
    changes = record["frameworks"][0]["changes"]
    assert [changes[k] for k in ("added", "removed", "changed", "moved", "properties")] == [4, 0, 0, 0, 0]


def test_cli_invalid_file_stops_before_any_request(run_cli: Any, repo: Path, sandbox: SandboxServer) -> None:
    (repo / "frameworks" / "bad.csv").write_text("@id,@type\nx,ceasn:Nonsense\n", encoding="utf-8")
    code, out, err = run_cli("publish", "--server", sandbox.url, "frameworks")
    assert code == 1
    assert "frameworks/bad.csv:2:" in out
    assert err == "Nothing was sent: fix the problems above first.\n"
    assert sandbox.request_log == []


def test_cli_refuses_plain_http_to_remote_hosts(run_cli: Any, repo: Path) -> None:
    code, _, err = run_cli("plan", "--server", "http://cass.example.org/api/", "frameworks")
    assert code == 2
    assert "refusing plain http:// to cass.example.org" in err


def test_cli_missing_key_is_a_clear_error(
    run_cli: Any, repo: Path, monkeypatch: pytest.MonkeyPatch, sandbox: SandboxServer
) -> None:
    monkeypatch.delenv("CASS_KEY")
    code, _, err = run_cli("publish", "--server", "https://cass.example.org/api/", "frameworks")
    assert code == 2  # a server on this machine would get the sandbox key (tests/test_flow_edges.py)
    assert err.startswith("error: no CASS signing key: set the environment variable CASS_KEY")
    assert sandbox.request_log == []


def test_cli_embedded_sandbox_generates_a_key_and_converges(
    run_cli: Any, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CASS_KEY")
    code, out, err = run_cli("publish", "--server", "sandbox", "frameworks")
    assert code == 0, err
    assert "No CASS key configured: generated a sandbox key in .competency-ci/sandbox-key.pem" in err
    assert (repo / ".competency-ci" / "sandbox-key.pem").is_file()
    code, out, err = run_cli("publish", "--server", "sandbox", "frameworks")
    assert code == 0
    assert "No CASS key configured: using the sandbox key .competency-ci/sandbox-key.pem" in err
    assert "No changes: nothing would be written." in out
