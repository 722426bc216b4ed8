"""KBAC signing reproduces the cassproject 5.0.19 vectors byte for byte (cass-api.md §2.2)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from competency_ci.targets.cass.signing import (
    KeyLoadError,
    canonical_string,
    cass_pem,
    load_configured_key,
    load_private_key,
    load_public_key,
    sign_text,
    signature_sheet,
)
from conftest import VECTORS

V = json.loads((VECTORS / "cass-signature-vectors.json").read_text("utf-8"))
TEST_KEY = V["test_key"]
SHEETS = V["signature_sheets"]
SHEET_IDS = [s["id"] for s in SHEETS]


def _entry(sheet: dict[str, object]) -> dict[str, object]:
    return json.loads(str(sheet["sheet_json"]))[int(str(sheet["sheet_entry_index"]))]  # type: ignore[no-any-return]


@pytest.mark.parametrize("sheet", SHEETS, ids=SHEET_IDS)
def test_canonical_string_of_every_vector_sheet_entry(sheet: dict[str, object]) -> None:
    assert canonical_string(_entry(sheet)) == sheet["canonical_string"]


@pytest.mark.parametrize("sheet", SHEETS, ids=SHEET_IDS)
def test_signature_reproduces_the_vector_byte_for_byte(sheet: dict[str, object]) -> None:
    key = load_private_key(TEST_KEY["private_key_pem"])
    signature = sign_text(key, str(sheet["canonical_string"]), str(sheet["hash_algorithm"]))
    assert signature == sheet["expected_signature_base64"]
    assert _entry(sheet)[str(sheet["signature_field"])] == signature


@pytest.mark.parametrize("sheet", SHEETS, ids=SHEET_IDS)
def test_whole_sheet_matches_the_vector_field_by_field(sheet: dict[str, object]) -> None:
    key = load_private_key(TEST_KEY["private_key_pem_cass"])
    expiry = int(str(sheet["expiry_ms"]))
    expected = _entry(sheet)
    built = json.loads(
        signature_sheet(
            key,
            str(expected["server"]),
            now_ms=expiry - 300_000,
            hash_name=str(sheet["hash_algorithm"]),
        )
    )
    assert len(built) == 1
    ours = built[0]
    assert ours == {
        "@context": "https://schema.cassproject.org/kbac/0.4",
        "@type": "TimeLimitedSignature",
        "@owner": TEST_KEY["public_key_pem_cass"],
        "expiry": expiry,
        "server": "http://localhost/api/",
        str(sheet["signature_field"]): sheet["expected_signature_base64"],
    }
    # the library's spelling (type/context) and ours (@type/@context) canonicalise identically
    assert canonical_string(ours) == canonical_string(expected) == sheet["canonical_string"]


def test_sheet_default_is_sha256_with_five_minute_expiry() -> None:
    key = load_private_key(TEST_KEY["private_key_pem"])
    text = signature_sheet(key, "http://127.0.0.1:9/api/", now_ms=1_000)
    assert "\n" not in text and ", " not in text
    (entry,) = json.loads(text)
    assert entry["expiry"] == 301_000
    assert set(entry) == {"@context", "@type", "@owner", "expiry", "server", "@signatureSha256"}


def test_sheet_rejects_unknown_hash() -> None:
    key = load_private_key(TEST_KEY["private_key_pem"])
    with pytest.raises(ValueError, match="unsupported signature hash 'MD5'"):
        signature_sheet(key, "x", now_ms=0, hash_name="MD5")


def test_canonical_string_keeps_non_ascii_and_drops_signatures() -> None:
    entry = {"@type": "TimeLimitedSignature", "@context": "c", "@owner": "k", "expiry": 5, "server": "é"}
    entry["@signature"] = entry["signatureSha256"] = "sig"
    assert (
        canonical_string(entry)
        == '{"@context":"c","@owner":"k","@type":"TimeLimitedSignature","expiry":5,"server":"é"}'
    )
    # "owner" without "@" (a hand-made sheet) is moved to "@owner", as kbac.js does
    assert canonical_string({"type": "T", "context": "c", "owner": "k", "expiry": 1, "server": "s"}) == (
        '{"@context":"c","@owner":"k","@type":"T","expiry":1,"server":"s"}'
    )


# ---------------------------------------------------------------- PEM forms (vectors README step 4)
@pytest.mark.parametrize("block", [V["pem_forms"], TEST_KEY], ids=["pem_forms", "test_key"])
def test_public_key_serialises_in_cass_single_line_form(block: dict[str, str]) -> None:
    assert cass_pem(load_public_key(block["public_key_pem"])) == block["public_key_pem_cass"]
    assert cass_pem(load_public_key(block["public_key_pem_cass"])) == block["public_key_pem_cass"]


def test_single_line_pkcs1_and_multi_line_pkcs8_private_keys_load() -> None:
    forms = V["pem_forms"]
    for text in (forms["private_key_pem_cass"], forms["private_key_pem_pkcs8"]):
        assert cass_pem(load_private_key(text).public_key()) == forms["public_key_pem_cass"]
    assert (
        cass_pem(load_private_key(TEST_KEY["private_key_pem_cass"]).public_key())
        == (TEST_KEY["public_key_pem_cass"])
    )


# ---------------------------------------------------------------- key loading errors
def _material(pem: str) -> list[str]:
    """Fragments of the base64 body of a PEM: none may ever appear in a message."""
    body = re.sub(r"-----[A-Z ]+-----|\s", "", pem)
    return [body[i : i + 12] for i in range(0, len(body) - 12, 12)]


def _encrypted() -> str:
    key = load_private_key(TEST_KEY["private_key_pem"])
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase"),
    ).decode()


def _traditional_encrypted() -> str:
    key = load_private_key(TEST_KEY["private_key_pem"])
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.BestAvailableEncryption(b"passphrase"),
    ).decode()


def _ec_key() -> str:
    return (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        .decode()
    )


def _corrupt() -> str:
    pem: str = TEST_KEY["private_key_pem"]
    return pem.replace(pem.splitlines()[5], pem.splitlines()[5][::-1])


CASES = {
    "missing": (None, "the CASS key is missing or empty"),
    "blank": ("  \n", "the CASS key is missing or empty"),
    "not-pem": (
        TEST_KEY["private_key_pem"].replace("-----BEGIN", "").replace("-----END", ""),
        "is not a PEM private key",
    ),
    "encrypted-pkcs8": (_encrypted(), "is passphrase-protected; provide an unencrypted key"),
    "encrypted-traditional": (
        _traditional_encrypted(),
        "is passphrase-protected; provide an unencrypted key",
    ),
    "corrupt": (_corrupt(), "is not a readable PEM private key"),
    "public-key": (TEST_KEY["public_key_pem"], "is not a readable PEM private key"),
    "not-rsa": (_ec_key(), "is not an RSA key"),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_bad_keys_give_a_clear_error_without_key_material(case: str) -> None:
    text, message = CASES[case]
    with pytest.raises(KeyLoadError) as info:
        load_private_key(text)
    assert message in str(info.value)
    exc = info.value
    assert exc.__cause__ is None and (exc.__context__ is None or exc.__suppress_context__)
    shown = str(exc) + repr(exc) + repr(exc.args)
    for fragment in _material(text or "") + _material(TEST_KEY["private_key_pem"]):
        assert fragment not in shown


def test_loaded_key_repr_shows_no_key_material() -> None:
    key = load_private_key(TEST_KEY["private_key_pem"])
    for fragment in _material(TEST_KEY["private_key_pem"]):
        assert fragment not in repr(key) and fragment not in str(key)


def test_key_from_environment_variable_wins_over_file(tmp_path: Path) -> None:
    (tmp_path / "key.pem").write_text(V["pem_forms"]["private_key_pem_pkcs8"], "utf-8")
    env = {"CASS_KEY": TEST_KEY["private_key_pem_cass"]}
    key = load_configured_key("CASS_KEY", "key.pem", tmp_path, env)
    assert cass_pem(key.public_key()) == TEST_KEY["public_key_pem_cass"]
    key = load_configured_key("CASS_KEY", "key.pem", tmp_path, {})
    assert cass_pem(key.public_key()) == V["pem_forms"]["public_key_pem_cass"]


def test_key_errors_name_the_source(tmp_path: Path) -> None:
    with pytest.raises(KeyLoadError) as info:
        load_configured_key("ORG_KEY", None, tmp_path, {})
    assert str(info.value) == (
        "no CASS signing key: set the environment variable ORG_KEY to a PEM RSA private key, "
        "or name a file in the configuration (cass.key-file)"
    )
    with pytest.raises(KeyLoadError) as info:
        load_configured_key("ORG_KEY", "missing.pem", tmp_path, {})
    assert str(info.value) == "key file missing.pem (cass.key-file) does not exist"
    (tmp_path / "enc.pem").write_text(_encrypted(), "utf-8")
    with pytest.raises(KeyLoadError) as info:
        load_configured_key("ORG_KEY", "enc.pem", tmp_path, {})
    assert str(info.value) == "key file enc.pem is passphrase-protected; provide an unencrypted key"
    with pytest.raises(KeyLoadError) as info:
        load_configured_key("ORG_KEY", None, tmp_path, {"ORG_KEY": "not a key"})
    assert str(info.value) == "environment variable ORG_KEY is not a PEM private key (no '-----BEGIN' line)"
