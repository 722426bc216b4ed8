"""The sandbox verifies signature sheets with CASS's rules and answers (cass-api.md §1.3, §2.2, §2.3).

Driven over real HTTP with the vectors from cassproject 5.0.19: a clock injected before their
expiry accepts them; the real clock rejects them as expired.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from competency_ci.sandbox import SandboxServer
from competency_ci.targets.cass.signing import cass_pem, entry_json, load_private_key, signature_sheet
from conftest import VECTORS

V = json.loads((VECTORS / "cass-signature-vectors.json").read_text("utf-8"))
KEY = load_private_key(V["test_key"]["private_key_pem"])
OWNER = V["test_key"]["public_key_pem_cass"]
OTHER_KEY = load_private_key(V["pem_forms"]["private_key_pem_pkcs8"])
SHEETS = {s["id"]: s for s in V["signature_sheets"]}
BEFORE_EXPIRY = min(s["expiry_ms"] for s in V["signature_sheets"]) - 1_000
CE_ID = "https://sandbox.credentialengineregistry.org/resources/ce-0b7c5b9c-8f43-4a43-9b8e-4b8a3b0e6a11"


class Clock:
    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(BEFORE_EXPIRY)


@pytest.fixture
def server(clock: Clock) -> Iterator[SandboxServer]:
    with SandboxServer(clock=clock) as running:
        yield running


def competency(name: str, owner: str | None = OWNER) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "@context": "https://schema.cassproject.org/0.4",
        "@type": "Competency",
        "@id": CE_ID,
        "name": name,
    }
    if owner:
        obj["owner"] = [owner]
    return obj


def multi_put(
    server: SandboxServer, objects: list[dict[str, Any]], sheet: str | None = None
) -> requests.Response:
    files: dict[str, tuple[None, str]] = {"data": (None, json.dumps(objects))}
    if sheet is not None:
        files["signatureSheet"] = (None, sheet)
    return requests.post(server.url + "sky/repo/multiPut", files=files, timeout=10)


def owned(server: SandboxServer) -> None:
    """Store an object owned by the vectors' test key (creating needs no sheet, §2.1)."""
    assert multi_put(server, [competency("v1")]).json() == [competency("v1")]


def edited_sheet(sheet_id: str, **changes: Any) -> tuple[str, dict[str, Any]]:
    entries = json.loads(SHEETS[sheet_id]["sheet_json"])
    entry = entries[SHEETS[sheet_id]["sheet_entry_index"]]
    for key, value in changes.items():
        if value is None:
            entry.pop(key, None)
        else:
            entry[key] = value
    return json.dumps([entry]), entry


@pytest.mark.parametrize("sheet_id", list(SHEETS))
def test_every_vector_sheet_proves_ownership_before_its_expiry(server: SandboxServer, sheet_id: str) -> None:
    owned(server)
    response = multi_put(server, [competency("v2")], SHEETS[sheet_id]["sheet_json"])
    assert response.status_code == 200
    assert response.json() == [competency("v2")]
    assert (
        requests.get(server.url + "data/ce-0b7c5b9c-8f43-4a43-9b8e-4b8a3b0e6a11", timeout=10).json()["name"]
        == "v2"
    )


def test_real_clock_rejects_the_vectors_as_expired(server: SandboxServer, clock: Clock) -> None:
    clock.now = 1_795_900_000_000
    response = multi_put(server, [competency("v1")], SHEETS["library-sha256"]["sheet_json"])
    assert response.status_code == 419
    assert response.text == (
        "A Signature is Expired. My time is 1795900000000 and the signature expires at 1795893122775"
    )
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"


@pytest.mark.parametrize(
    ("changes", "status", "prefix"),
    [
        ({"server": "http://evil.example/api/"}, 451, "Invalid Signature Detected: "),
        ({"expiry": 1795893999999}, 451, "Invalid Signature Detected: "),
        ({"type": "UnknownSignature"}, 422, None),
        ({"expiry": None}, 422, None),
    ],
    ids=["changed-server", "later-expiry", "unknown-type", "no-expiry"],
)
def test_tampered_sheets_fail_with_cass_codes(
    server: SandboxServer, changes: dict[str, Any], status: int, prefix: str | None
) -> None:
    owned(server)
    sheet, entry = edited_sheet("library-sha256", **changes)
    response = multi_put(server, [competency("v2")], sheet)
    assert response.status_code == status
    expected = {
        "type": "Invalid Signature Version.",
        "expiry": "Missing expiry date.",
    }
    if prefix:
        assert response.text == prefix + entry_json(entry)
        assert response.text.startswith(
            'Invalid Signature Detected: {"@context":"https://schema.cassproject.org'
        )
    else:
        assert response.text == expected[next(iter(changes))]
    # the whole request failed: nothing was written
    assert (
        requests.get(server.url + "data/ce-0b7c5b9c-8f43-4a43-9b8e-4b8a3b0e6a11", timeout=10).json()["name"]
        == "v1"
    )


def test_non_json_sheet_is_496(server: SandboxServer) -> None:
    response = multi_put(server, [competency("v1")], "not json")
    assert (response.status_code, response.text) == (496, "Missing or Malformed Signature.")


def test_entry_without_signature_is_451(server: SandboxServer) -> None:
    sheet, entry = edited_sheet("library-sha256", **{"@signatureSha256": None})
    response = multi_put(server, [competency("v1")], sheet)
    assert (response.status_code, response.text) == (451, "No Signature Detected: " + entry_json(entry))


def test_reject_sha1_setting(clock: Clock) -> None:
    with SandboxServer(clock=clock, reject_sha1=True) as server:
        response = multi_put(server, [competency("v1")], SHEETS["library-sha1"]["sheet_json"])
        entry = json.loads(SHEETS["library-sha1"]["sheet_json"])[0]
        assert response.status_code == 451
        assert response.text == "SHA1 Signature is not supported. Invalid Signature Detected: " + entry_json(
            entry
        )
        # a SHA-256 sheet still passes
        assert (
            multi_put(server, [competency("v1")], SHEETS["library-sha256"]["sheet_json"]).status_code == 200
        )


def test_one_bad_entry_fails_the_whole_sheet(server: SandboxServer) -> None:
    good = json.loads(SHEETS["library-sha256"]["sheet_json"])
    _, bad = edited_sheet("library-sha1", server="elsewhere")
    response = multi_put(server, [competency("v1")], json.dumps([*good, bad]))
    assert (response.status_code, response.text) == (451, "Invalid Signature Detected: " + entry_json(bad))


def test_header_sheet_is_merged_with_the_field(server: SandboxServer, clock: Clock) -> None:
    owned(server)
    other = signature_sheet(OTHER_KEY, server.url, now_ms=clock.now)
    files = {"data": (None, json.dumps([competency("v2")])), "signatureSheet": (None, other)}
    # the field alone proves the wrong key: the object is omitted from the answer (§1.2)
    assert requests.post(server.url + "sky/repo/multiPut", files=files, timeout=10).json() == []
    headers = {"signatureSheet": SHEETS["library-sha256"]["sheet_json"]}
    response = requests.post(server.url + "sky/repo/multiPut", files=files, headers=headers, timeout=10)
    assert response.json() == [competency("v2")]


def test_malformed_header_sheet_is_500(server: SandboxServer) -> None:
    response = requests.post(
        server.url + "sky/repo/multiPut",
        files={"data": (None, json.dumps([competency("v1")]))},
        headers={"signatureSheet": "[oops"},
        timeout=10,
    )
    assert (response.status_code, response.text) == (
        500,
        "SyntaxError: the signatureSheet header is not JSON",
    )


def test_unreadable_owner_key_is_500(server: SandboxServer) -> None:
    sheet, _ = edited_sheet(
        "library-sha256", **{"@owner": "-----BEGIN PUBLIC KEY-----AAAA-----END PUBLIC KEY-----"}
    )
    response = multi_put(server, [competency("v1")], sheet)
    assert (response.status_code, response.text) == (
        500,
        "Error: the signature's @owner is not a readable RSA public key",
    )


def test_our_own_sheets_are_accepted_with_the_server_clock(clock: Clock) -> None:
    clock.now = 1_900_000_000_000
    with SandboxServer(clock=clock) as server:
        owned(server)
        offset_now = requests.get(server.url + "ping", timeout=10).json()["time"]
        sheet = signature_sheet(KEY, server.url, now_ms=offset_now)
        assert multi_put(server, [competency("v2")], sheet).json() == [competency("v2")]
        sha1 = signature_sheet(KEY, server.url, now_ms=offset_now, hash_name="SHA-1")
        assert multi_put(server, [competency("v3")], sha1).json() == [competency("v3")]
        # a sheet made with the local clock 10 minutes behind the server has expired
        stale = signature_sheet(KEY, server.url, now_ms=offset_now - 600_000)
        assert multi_put(server, [competency("v4")], stale).status_code == 419
        assert cass_pem(KEY.public_key()) == OWNER
