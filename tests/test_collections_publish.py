"""Collections published to CASS over HTTP (the sandbox on 127.0.0.1), stored as CASS's collection
import stores them, and refused by the Registry target (no documented collection endpoint)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from competency_ci.sandbox import SandboxServer
from competency_ci.targets.cass.ids import md5_key
from publish_support import our_key, pem, private_pem
from validate_support import C1, C2, C3, FW, GOOD

COL = "ce-7c1f3f4e-2d7b-4a39-9a55-0b8f2b6e1d10"
REGISTRY = "https://sandbox.credentialengineregistry.org"
HEADER = "@id,@type,ceterms:name,ceterms:description,ceterms:inLanguage,ceterms:keyword,ceterms:hasMember"
ROW = f"{COL},ceterms:Collection,Hand care,What every volunteer does first.,en,hands|hygiene,{C1}|{C2}"


def uri(ctid: str) -> str:
    return f"{REGISTRY}/resources/{ctid}"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CASS_KEY", private_pem(our_key()))
    (tmp_path / "kitchen.csv").write_text(GOOD, encoding="utf-8")
    (tmp_path / "collection.csv").write_text(f"{HEADER}\n{ROW}\n", encoding="utf-8")
    return tmp_path


def stored(sandbox: SandboxServer, object_id: str) -> dict[str, Any]:
    found = sandbox.store.get(md5_key(object_id))
    assert found is not None, object_id
    return json.loads(found.body)  # type: ignore[no-any-return]


def test_publish_stores_the_collection_as_cass_collection_import_does(
    run_cli: Any, repo: Path, sandbox: SandboxServer
) -> None:
    code, out, err = run_cli("publish", "--server", sandbox.url, "collection.csv")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        f"+ collection {COL} 'Hand care': create with 2 members",
        f"collection {COL}: written; CE view verified (2 members)",
    ]
    obj = stored(sandbox, uri(COL))
    assert {k: v for k, v in obj.items() if k not in ("signature", "@signature")} == {
        "@context": "https://schema.cassproject.org/0.4",
        "@id": uri(COL),
        "@type": "Framework",
        "subType": "Collection",
        "ceterms:ctid": COL,
        "name": {"@value": "Hand care", "@language": "en"},
        "description": {"@value": "What every volunteer does first.", "@language": "en"},
        "schema:inLanguage": ["en"],
        "schema:keywords": [{"@value": "hands", "@language": "en"}, {"@value": "hygiene", "@language": "en"}],
        "competency": [uri(C1), uri(C2)],
        "relation": [],
        "owner": [pem(our_key())],
    }
    # what CE's Publisher reads: the collection export (GET /api/ceasn/{uid})
    view = json.loads(sandbox_get(sandbox, f"ceasn/{md5_key(uri(COL))}"))
    assert view["@graph"] == [
        {
            "@id": uri(COL),
            "@type": "ceterms:Collection",
            "ceterms:ctid": COL,
            "ceterms:description": {"en": "What every volunteer does first."},
            "ceterms:hasMember": [uri(C1), uri(C2)],
            "ceterms:inLanguage": ["en"],
            "ceterms:keyword": {"en": ["hands", "hygiene"]},
            "ceterms:name": {"en": "Hand care"},
        }
    ]
    # a re-run writes nothing
    before = len(sandbox.request_log)
    code, out, _ = run_cli("publish", "--server", sandbox.url, "collection.csv")
    assert code == 0
    assert out.splitlines()[0] == f"= collection {COL} 'Hand care': unchanged"
    assert not [r for r in sandbox.request_log[before:] if "multiPut" in r.path]


def test_a_changed_member_list_is_an_update(run_cli: Any, repo: Path, sandbox: SandboxServer) -> None:
    assert run_cli("publish", "--server", sandbox.url, "collection.csv")[0] == 0
    (repo / "collection.csv").write_text(f"{HEADER}\n{ROW.replace(f'{C1}|{C2}', f'{C2}|{C3}')}\n")
    code, out, _ = run_cli("plan", "--server", sandbox.url, "collection.csv")
    assert (code, out) == (0, f"~ collection {COL} 'Hand care': update (competency)\n")
    assert stored(sandbox, uri(COL))["competency"] == [uri(C1), uri(C2)]  # plan wrote nothing
    assert run_cli("publish", "--server", sandbox.url, "collection.csv")[0] == 0
    assert stored(sandbox, uri(COL))["competency"] == [uri(C2), uri(C3)]


def test_frameworks_and_collections_in_one_run(run_cli: Any, repo: Path, sandbox: SandboxServer) -> None:
    code, out, err = run_cli("publish", "--server", sandbox.url)
    assert code == 0, err
    assert f"collection {COL}: written; CE view verified (2 members)" in out
    assert stored(sandbox, uri(C1))["@type"] == "Competency"  # the framework went too
    assert stored(sandbox, uri(COL))["subType"] == "Collection"
    # the collection is written after the frameworks are written and verified: its members exist then
    routes = [r.path.split("?", 1)[0] for r in sandbox.request_log]
    assert routes[-2:] == ["/api/sky/repo/multiPut", f"/api/ceasn/{md5_key(uri(COL))}"]
    assert routes.index(f"/api/ceasn/{md5_key(uri(FW))}") < len(routes) - 2


def test_the_registry_target_refuses_collections(run_cli: Any, repo: Path) -> None:
    code, out, err = run_cli("plan", "--target", "registry", "collection.csv")
    assert code == 2
    assert out == ""
    assert err.startswith(f"competency-ci plan: {COL}: the Registry Assistant documents no collection")


def sandbox_get(sandbox: SandboxServer, path: str) -> str:
    import urllib.request

    with urllib.request.urlopen(f"{sandbox.url}{path}", timeout=10) as response:  # loopback only
        return response.read().decode("utf-8")  # type: ignore[no-any-return]


# --- status -------------------------------------------------------------------------------------


def test_status_classifies_collections_as_frameworks(
    tmp_path: Path, run_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Live and current, outdated (a member added since), not live: from ``{registry}/graph/{ctid}``."""
    import copy

    from approval_fixtures import API_KEY, ORG, ORGANIZATION, write_repository
    from competency_ci.frameworks.collection import collection_to_graph, load_collections
    from competency_ci.frameworks.config import load_config
    from servers.registry import RegistryServer

    wash, store = "ce-f234c733-54ca-4645-8ff6-95165dcd0870", "ce-80492c39-c0af-4041-adef-1e0a77e24156"
    other = "ce-2b4d6f8a-1c3e-4a5b-9c7d-8e0f2a4b6c8d"
    with RegistryServer(API_KEY) as registry:
        config_path = write_repository(tmp_path, registry.url)
        monkeypatch.chdir(tmp_path)
        rows = [
            f"{COL},ceterms:Collection,Hygiene,Clean hands.,en,,{wash}|{store}",
            f"{other},ceterms:Collection,Storage,Cold.,en,,{store}",
        ]
        (tmp_path / "frameworks" / "collections.csv").write_text("\n".join([HEADER, *rows]) + "\n")
        config = load_config(str(config_path))
        (hygiene, storage) = load_collections(tmp_path / "frameworks" / "collections.csv", config)
        older = copy.deepcopy(collection_to_graph(hygiene, config.registry_url, config.language))
        older["@graph"][0]["ceterms:hasMember"] = older["@graph"][0]["ceterms:hasMember"][:1]
        registry.make_live(older)
        registry.make_live(ORGANIZATION)
        code, out, err = run_cli("status", "--config", str(config_path), "frameworks/collections.csv")
        assert (code, err) == (0, ""), err
        lines = out.splitlines()
        assert lines[0] == (
            f"frameworks/collections.csv: Hygiene ({COL}): live, older than the repository "
            "(awaiting approval of the latest change)"
        )
        assert lines[1] == (
            f"  1 statement(s) only in the repository, 0 only in the Registry ({registry.url}/graph/{COL})"
        )
        assert lines[2].startswith(f"    + {COL} ceterms:hasMember '{registry.url}/resources/ce-80492c39")
        assert lines[3:] == [
            f"frameworks/collections.csv: Storage ({other}): not yet live",
            "2 framework(s): 0 live and current, 1 awaiting approval of a change, 1 not yet live",
        ]
        assert registry.log() == [("GET", f"/graph/{c}") for c in (COL, other, ORG)]
        registry.make_live(collection_to_graph(hygiene, config.registry_url, config.language))
        registry.make_live(collection_to_graph(storage, config.registry_url, config.language))
        code, out, _ = run_cli(
            "status", "--config", str(config_path), "--exit-code", "frameworks/collections.csv"
        )
        assert (code, out.splitlines()[-1]) == (
            0,
            "2 framework(s): 2 live and current, 0 awaiting approval of a change, 0 not yet live",
        )


def test_a_member_named_by_url_id_is_published_under_its_ctid(
    run_cli: Any, repo: Path, sandbox: SandboxServer
) -> None:
    """A member may be a competency row's URL ``@id``; CASS and CE know that competency by its CTID."""
    url = "https://example.org/kitchen/wash"
    framework = (
        "@id,@type,ceterms:ctid,ceasn:name,ceasn:description,ceasn:inLanguage,ceasn:publisher,"
        "ceasn:publisherName,ceasn:dateCreated,ceasn:competencyText,ceasn:isTopChildOf\n"
        "ce-1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a10,ceasn:CompetencyFramework,,Washing,How to wash.,en,"
        "ce-3e4f5a6b-7c8d-4e9f-8a0b-1c2d3e4f5a45,Kitchen,2025-03-14,,\n"
        f"{url},ceasn:Competency,{C3},,,,,,,Wash up.,ce-1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a10\n"
    )
    (repo / "kitchen.csv").write_text(framework, encoding="utf-8")
    (repo / "collection.csv").write_text(f"{HEADER}\n{ROW.replace(f'{C1}|{C2}', url)}\n", encoding="utf-8")
    assert run_cli("validate")[0] == 0
    code, _, err = run_cli("publish", "--server", sandbox.url, "collection.csv")
    assert code == 0, err
    assert stored(sandbox, uri(COL))["competency"] == [uri(C3)]


def test_collections_wait_when_the_frameworks_did_not_publish(
    run_cli: Any, repo: Path, sandbox: SandboxServer
) -> None:
    from competency_ci.targets.cass.collections import NOT_WRITTEN
    from servers.faulty_cass import Fault, FaultyCass

    with FaultyCass([Fault("multiPut", "status", status=400, times=None)], sandbox.url) as proxy:
        code, _, err = run_cli("publish", "--server", proxy.url)
    assert code == 3
    assert NOT_WRITTEN in err.splitlines()
    assert sandbox.store.get(md5_key(uri(COL))) is None
    assert sandbox.writes() == []  # the frameworks' writes were refused; the collection's never sent
    code, out, _ = run_cli("publish", "--server", sandbox.url)  # the next run writes both
    assert code == 0
    assert f"collection {COL}: written; CE view verified (2 members)" in out.splitlines()
