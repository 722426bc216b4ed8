"""The sandbox follows the CASS contract over real HTTP (cass-api.md §4 "Fake-server checklist")."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from competency_ci.sandbox import RequestRecord, SandboxServer, start_embedded
from competency_ci.sandbox.server import EMBEDDED_DB
from competency_ci.targets.cass.signing import cass_pem, load_private_key, signature_sheet
from conftest import VECTORS

V = json.loads((VECTORS / "cass-signature-vectors.json").read_text("utf-8"))
KEY = load_private_key(V["test_key"]["private_key_pem"])
OWNER = cass_pem(KEY.public_key())
OTHER = load_private_key(V["pem_forms"]["private_key_pem_pkcs8"])
OTHER_OWNER = cass_pem(OTHER.public_key())
ADMIN = rsa.generate_private_key(public_exponent=65537, key_size=2048)
NOW = 1_800_000_000_000
CTX = "https://schema.cassproject.org/0.4"
REG = "https://sandbox.credentialengineregistry.org/resources/"
NOT_FOUND = "Object not found or you did not supply sufficient permissions to access the object."


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def obj(
    object_id: str, name: str, *, owner: list[str] | None = None, typ: str = "Competency"
) -> dict[str, Any]:
    out: dict[str, Any] = {"@context": CTX, "@type": typ, "@id": object_id, "name": name}
    if owner is not None:
        out["owner"] = owner
    return out


class Client:
    """Speaks to the sandbox the way the CASS client must: multipart fields, never a JSON body."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.url = server.url
        self.session = requests.Session()

    def sheet(self, key: rsa.RSAPrivateKey | None = KEY) -> str | None:
        return None if key is None else signature_sheet(key, self.url, now_ms=NOW)

    def post(self, path: str, data: Any, key: rsa.RSAPrivateKey | None = None) -> requests.Response:
        files: dict[str, tuple[None, str]] = {"data": (None, json.dumps(data))}
        if key is not None:
            files["signatureSheet"] = (None, signature_sheet(key, self.url, now_ms=NOW))
        return self.session.post(self.url + path, files=files, timeout=10)

    def put(self, objects: list[dict[str, Any]], key: rsa.RSAPrivateKey | None = None) -> Any:
        response = self.post("sky/repo/multiPut", objects, key)
        assert response.status_code == 200, response.text
        return response.json()

    def get(self, uid: str, **params: str) -> requests.Response:
        return self.session.get(self.url + "data/" + uid, params=params, timeout=10)

    def name(self, uid: str) -> str:
        return str(self.get(uid).json()["name"])


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with SandboxServer(clock=lambda: NOW, admin_public_keys=[cass_pem(ADMIN.public_key())]) as running:
        yield running


@pytest.fixture
def client(server: SandboxServer) -> Client:
    return Client(server)


# ------------------------------------------------------------------ ping (§1.2)
def test_ping(client: Client) -> None:
    response = client.session.get(client.url + "ping", timeout=10)
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert response.json() == {
        "ping": "pong",
        "version": "1.7.4",
        "time": NOW,
        "adminPublicKeys": [cass_pem(ADMIN.public_key())],
        "postMaxSize": 52_428_800,
        "signatureSheetHashAlgorithm": "SHA-256",
        "fips": 0,
        "sandbox": "competency-ci",
    }
    fields = client.session.get(client.url + "ping", params={"fields": "ping,time"}, timeout=10)
    assert fields.json() == {"ping": "pong", "time": NOW}


def test_url_and_unknown_route(server: SandboxServer, client: Client) -> None:
    assert server.url == f"http://127.0.0.1:{server.port}/api/"
    response = client.session.get(f"http://127.0.0.1:{server.port}/nothing", timeout=10)
    assert (response.status_code, response.text) == (404, "Cannot GET /nothing")


# ------------------------------------------------------------------ request parsing (§1.1)
def test_json_post_is_a_silent_no_op(client: Client) -> None:
    item = obj(REG + "ce-1", "A")
    data = client.session.post(client.url + "data/" + md5(REG + "ce-1"), json=item, timeout=10)
    assert (data.status_code, data.content) == (200, b"")
    bulk = client.session.post(client.url + "sky/repo/multiPut", json=[item], timeout=10)
    assert (bulk.status_code, bulk.json()) == (200, [])
    assert client.get("ce-1").status_code == 404


def test_file_parts_and_urlencoded_forms_are_read(client: Client) -> None:
    files = {"data": ("data.json", json.dumps([obj(REG + "ce-1", "A")]), "application/json")}
    assert (
        client.session.post(client.url + "sky/repo/multiPut", files=files, timeout=10).json()[0]["name"]
        == "A"
    )
    form = {"data": json.dumps([obj(REG + "ce-2", "B")])}
    assert (
        client.session.post(client.url + "sky/repo/multiPut", data=form, timeout=10).json()[0]["name"] == "B"
    )
    assert [client.name("ce-1"), client.name("ce-2")] == ["A", "B"]


def test_multiput_without_data_returns_empty_array(client: Client) -> None:
    response = client.session.post(client.url + "sky/repo/multiPut", files={"x": (None, "1")}, timeout=10)
    assert (response.status_code, response.json()) == (200, [])


def test_field_over_post_max_size_is_500() -> None:
    with SandboxServer(clock=lambda: NOW, post_max_size=2_000) as server:
        client = Client(server)
        assert client.session.get(server.url + "ping", timeout=10).json()["postMaxSize"] == 2_000
        small = [obj(REG + "ce-1", "A")]
        assert client.put(small) == small
        big = [obj(REG + f"ce-{i}", "x" * 100) for i in range(30)]
        response = client.post("sky/repo/multiPut", big)
        assert response.status_code == 500
        assert response.text == (
            "SyntaxError: field 'data' was truncated at postMaxSize (2000 bytes) and is not valid JSON"
        )
        assert client.get("ce-29").status_code == 404


# ------------------------------------------------------------------ multiPut and ownership (§1.2, §2.1)
def test_create_needs_no_sheet_and_both_keys_answer(client: Client) -> None:
    item = obj(REG + "ce-1", "A", owner=[OWNER])
    assert client.put([item]) == [item]
    assert client.get(md5(REG + "ce-1")).json() == item
    assert client.get("ce-1").json() == item  # guid alias of the permanent index (§3.2)
    assert client.get("schema.cassproject.org.0.4.Competency/ce-1").json() == item


def test_owner_failures_are_omitted_from_a_200(client: Client) -> None:
    owned = obj(REG + "ce-1", "A", owner=[OWNER])
    open_ = obj(REG + "ce-2", "B")
    assert client.put([owned, open_]) == [owned, open_]
    changed = [obj(REG + "ce-1", "A2", owner=[OWNER]), obj(REG + "ce-2", "B2"), obj(REG + "ce-3", "C")]
    # no sheet: the owned object is left out, ownerless and new ones are written
    assert client.put(changed) == changed[1:]
    # a sheet from another key: same
    assert client.put([changed[0]], OTHER) == []
    assert client.name("ce-1") == "A"
    # the owner's sheet, then the admin key, may write
    assert client.put([changed[0]], KEY) == [changed[0]]
    admin_write = obj(REG + "ce-1", "A3", owner=[OWNER])
    assert client.put([admin_write], ADMIN) == [admin_write]
    assert client.name("ce-1") == "A3"


def test_new_owner_list_takes_effect_and_co_owners_may_write(client: Client) -> None:
    client.put([obj(REG + "ce-1", "A", owner=[OWNER])])
    client.put([obj(REG + "ce-1", "B", owner=[OWNER, OTHER_OWNER])], KEY)
    assert client.put([obj(REG + "ce-1", "C", owner=[OWNER, OTHER_OWNER])], OTHER)[0]["name"] == "C"


def test_multi_line_owner_keys_match_single_line_sheets(client: Client) -> None:
    multi = V["test_key"]["public_key_pem"]
    client.put([obj(REG + "ce-1", "A", owner=[multi])])
    assert client.put([obj(REG + "ce-1", "B", owner=[multi])], KEY)[0]["name"] == "B"


def test_object_without_id_is_500(client: Client) -> None:
    response = client.post("sky/repo/multiPut", [{"@type": "Competency", "name": "x"}])
    assert (response.status_code, response.text) == (
        500,
        "TypeError: Cannot read properties of undefined (reading 'indexOf')",
    )


def test_duplicate_ids_in_one_multiput_collapse_to_the_last(client: Client) -> None:
    first, second = obj(REG + "ce-1", "first"), obj(REG + "ce-1", "second")
    assert client.put([first, second]) == [second]
    assert len(client.get("ce-1", history="true").json()) == 1


# ------------------------------------------------------------------ versions (§3.2)
def test_external_ids_count_versions_and_keep_history(client: Client) -> None:
    for name in ("v1", "v2", "v3"):
        client.put([obj(REG + "ce-1", name)])
    history = client.get(md5(REG + "ce-1"), history="true").json()
    assert [h["name"] for h in history] == ["v3", "v2", "v1"]
    assert client.get("schema.cassproject.org.0.4.Competency/ce-1/2").json()["name"] == "v2"
    assert client.get("schema.cassproject.org.0.4.Competency/ce-1/9").text == NOT_FOUND


def test_native_ids_take_the_timestamp_and_drop_stale_versions_silently(
    client: Client, server: SandboxServer
) -> None:
    base = server.url + "data/schema.cassproject.org.0.4.Framework/fw-guid/"
    first = obj(base + str(NOW), "first", typ="Framework")
    assert client.put([first]) == [first]
    newer = obj(base + str(NOW + 5), "newer", typ="Framework")
    assert client.put([newer]) == [newer]
    for version in (NOW + 5, NOW + 1):  # equal, then older: returned as saved, not written
        stale = obj(base + str(version), "stale", typ="Framework")
        assert client.put([stale]) == [stale]
    assert client.get("fw-guid").json() == newer
    assert [h["name"] for h in client.get("fw-guid", history="true").json()] == ["newer", "first"]
    assert client.get(f"schema.cassproject.org.0.4.Framework/fw-guid/{NOW}").json() == first
    # the md5 of the short id also answers (§1.2 GET)
    assert client.get(md5(base.rstrip("/"))).json() == newer


# ------------------------------------------------------------------ single POST (§1.2, §1.3)
def test_single_post_validation_ownership_and_read(client: Client) -> None:
    path = "data/" + md5(REG + "ce-1")
    for missing in ("@id", "@type", "@context"):
        item = obj(REG + "ce-1", "A")
        del item[missing]
        response = client.post(path, item)
        assert (response.status_code, response.text) == (400, f"Object must have an {missing}.")
    first = client.post(path, obj(REG + "ce-1", "A", owner=[OWNER]))
    assert (first.status_code, first.content) == (200, b"")
    refused = client.post(path, obj(REG + "ce-1", "B", owner=[OWNER]), OTHER)
    assert (refused.status_code, refused.text) == (401, "Only an owner of an object may change it.")
    assert client.post(path, obj(REG + "ce-1", "B", owner=[OWNER]), KEY).status_code == 200
    # a POST with a sheet and no data field reads the object
    read = client.session.post(
        client.url + path, files={"signatureSheet": (None, client.sheet())}, timeout=10
    )
    assert read.json()["name"] == "B"
    assert [h["name"] for h in client.get("ce-1", history="true").json()] == ["B", "A"]


def test_single_post_versions(client: Client, server: SandboxServer) -> None:
    path = "data/schema.cassproject.org.0.4.Competency/c-guid/"
    item_id = server.url + path + str(NOW)
    assert client.post(path + str(NOW), obj(item_id, "first")).status_code == 200
    # equal version: rewritten as version + 1 (§3.2, §7.9)
    assert client.post(path + str(NOW), obj(item_id, "equal")).status_code == 200
    # older version: silently dropped
    assert client.post(path + str(NOW - 1), obj(item_id, "older")).status_code == 200
    assert client.name("c-guid") == "equal"
    assert client.get(f"x/c-guid/{NOW + 1}").json()["name"] == "equal"


def test_get_missing_is_404_text(client: Client) -> None:
    response = client.get("nothing-here")
    assert (response.status_code, response.text) == (404, NOT_FOUND)
    assert client.get("nothing-here", history="true").status_code == 404


def test_readers_restrict_reads_to_named_keys(client: Client) -> None:
    secret = obj(REG + "ce-1", "secret", owner=[OWNER]) | {"reader": [OWNER]}
    client.put([secret])
    assert client.get("ce-1").text == NOT_FOUND
    headers = {"signatureSheet": client.sheet(KEY) or ""}
    assert client.session.get(client.url + "data/ce-1", headers=headers, timeout=10).json() == secret
    other = {"signatureSheet": client.sheet(OTHER) or ""}
    assert client.session.get(client.url + "data/ce-1", headers=other, timeout=10).status_code == 404
    multi = client.session.post(
        client.url + "sky/repo/multiGet", files={"data": (None, '["data/ce-1"]')}, timeout=10
    )
    assert multi.json() == []


# ------------------------------------------------------------------ reads and deletes
def test_multiget_omits_missing_and_reads_versions(client: Client) -> None:
    client.put([obj(REG + "ce-1", "A")])
    client.put([obj(REG + "ce-1", "A2"), obj(REG + "ce-2", "B")])
    wanted = ["data/" + md5(REG + "ce-1"), "data/ce-2", "data/missing", "data//ce-1/1", REG + "ce-2"]
    response = client.post("sky/repo/multiGet", wanted)
    assert [o["name"] for o in response.json()] == ["A2", "B", "A", "B"]


def test_delete_uses_the_header_sheet(client: Client) -> None:
    client.put([obj(REG + "ce-1", "A", owner=[OWNER]), obj(REG + "ce-2", "B")])
    refused = client.session.delete(client.url + "data/ce-1", timeout=10)
    assert (refused.status_code, refused.text) == (401, "Only an owner of an object may delete it.")
    ok = client.session.delete(
        client.url + "data/ce-1", headers={"signatureSheet": client.sheet()}, timeout=10
    )
    assert (ok.status_code, ok.content) == (200, b"")
    assert client.get("ce-1").status_code == 404
    # ownerless objects may be deleted by anyone; a missing object still answers 200
    assert client.session.delete(client.url + "data/ce-2", timeout=10).status_code == 200
    assert client.session.delete(client.url + "data/ce-2", timeout=10).status_code == 200
    assert client.get("ce-2").status_code == 404


def test_multidelete_deletes_only_owned_objects_matched_by_the_sheet(client: Client) -> None:
    client.put(
        [
            obj(REG + "ce-1", "mine", owner=[OWNER]),
            obj(REG + "ce-2", "theirs", owner=[OTHER_OWNER]),
            obj(REG + "ce-3", "ownerless"),
        ]
    )
    response = client.post("sky/repo/multiDelete", ["data/ce-1", "data/ce-2", "data/ce-3", "data/none"], KEY)
    assert (response.status_code, response.content) == (200, b"")
    assert [client.get(f"ce-{i}").status_code for i in (1, 2, 3)] == [404, 200, 200]
    # the admin key deletes anything owned
    client.post("sky/repo/multiDelete", ["data/ce-2"], ADMIN)
    assert client.get("ce-2").status_code == 404


def test_search_by_type_id_and_name(client: Client) -> None:
    client.put(
        [
            obj(REG + "ce-1", "Alpha"),
            obj(REG + "ce-2", "Beta"),
            obj(REG + "ce-f", "Frame", typ="Framework"),
        ]
    )

    def search(q: str, **extra: str) -> list[str]:
        response = client.session.get(client.url + "data", params={"q": q, **extra}, timeout=10)
        return [o["name"] for o in response.json()]

    assert search("@type:Competency") == ["Alpha", "Beta"]
    assert search('@type:Competency AND name:"Beta"') == ["Beta"]
    assert search(f'@id:"{REG}ce-f"') == ["Frame"]
    assert search("*", size="1", start="1") == ["Beta"]
    bad = client.session.get(client.url + "data", params={"q": 'name:("Beta"'}, timeout=10)
    assert bad.status_code == 400


# ------------------------------------------------------------------ log, storage, embedding
def test_request_log_records_every_request(client: Client, server: SandboxServer) -> None:
    client.session.get(client.url + "ping", timeout=10)
    client.put([obj(REG + "ce-1", "A")])
    client.get("ce-1")
    log = server.request_log
    assert [(r.method, r.path, r.status) for r in log] == [
        ("GET", "/api/ping", 200),
        ("POST", "/api/sky/repo/multiPut", 200),
        ("GET", "/api/data/ce-1", 200),
    ]
    assert log[0].request_bytes == 0 and log[1].request_bytes > 0
    assert log[2].response_bytes == len(json.dumps(obj(REG + "ce-1", "A"), separators=(",", ":")))
    assert server.writes() == [log[1]]
    assert RequestRecord("DELETE", "/api/data/x", 200, 0, 0).is_write
    assert not RequestRecord("POST", "/api/sky/repo/multiGet", 200, 0, 0).is_write


def test_file_database_survives_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "cass.sqlite3"
    with SandboxServer(db_path=db) as server:
        Client(server).put([obj(REG + "ce-1", "kept")])
    with SandboxServer(db_path=db) as server:
        assert Client(server).name("ce-1") == "kept"


def test_start_embedded_uses_the_repository_state_folder(tmp_path: Path) -> None:
    server = start_embedded(tmp_path)
    try:
        assert server.url.startswith("http://127.0.0.1:")
        assert server.db_path == str(tmp_path / EMBEDDED_DB)
        assert Client(server).session.get(server.url + "ping", timeout=10).json()["ping"] == "pong"
    finally:
        server.stop()
    assert (tmp_path / ".competency-ci" / "sandbox.sqlite3").is_file()
