"""KBAC signature sheets (cass-api.md §2.2) and loading the organisation's RSA key.

A signature sheet proves to a CASS server that the request holds the private key of an object
owner. RSASSA-PKCS1-v1_5 is deterministic, so the sheets are reproducible byte for byte and tested
against the vectors the `cassproject` npm library produced.

Key material never leaves this module in a message: every error names the *source* of the key
(environment variable or file) and the problem, never its content.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

# cass-api.md §2.2: the current signature type; the server also accepts the older ones below.
SIGNATURE_CONTEXT = "https://schema.cassproject.org/kbac/0.4"
SIGNATURE_TYPE = "TimeLimitedSignature"
ACCEPTED_SIGNATURE_TYPES = (
    "https://schema.cassproject.org/kbac/0.4/TimeLimitedSignature",
    "http://schema.cassproject.org/kbac/0.2/TimeLimitedSignature",
    "http://schema.eduworks.com/ebac/0.2/timeLimitedSignature",
    "http://schema.eduworks.com/ebac/0.1/timeLimitedSignature",
)
DEFAULT_TTL_MS = 300_000  # cass-api.md §2.2: the JS client's expiry window
# cass-api.md §2.2: SHA-256 goes to @signatureSha256, SHA-1 (legacy) to @signature.
SIGNATURE_FIELDS = {"SHA-256": "@signatureSha256", "SHA-1": "@signature"}
_SIGNATURE_KEYS = ("signature", "@signature", "signatureSha256", "@signatureSha256")
# EcLinkedData.atProperties: the keys the library writes with a leading "@".
_AT_PROPERTIES = ("id", "type", "schema", "context", "graph")

_PEM = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.S)


class KeyLoadError(Exception):
    """The signing key is missing, encrypted or unusable. The message never contains key material."""


class NoKeyConfigured(KeyLoadError):
    """Neither the environment variable nor a key file is set (the sandbox may supply its own key)."""


def _hash(name: str) -> Any:
    from cryptography.hazmat.primitives import hashes

    if name == "SHA-256":
        return hashes.SHA256()
    if name == "SHA-1":
        return hashes.SHA1()
    raise ValueError(f"unsupported signature hash {name!r}; use SHA-256 or SHA-1")


def rewrap_pem(text: str) -> str:
    """Standard 64-column PEM from any PEM text, including CASS's single-line form (§2.2 "PEM format")."""
    match = _PEM.search(text)
    if not match:
        return text
    label, body = match.group(1), re.sub(r"\s+", "", match.group(2))
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----", ""])


def load_private_key(text: str | None, *, source: str = "the CASS key") -> RSAPrivateKey:
    """An RSA private key from PEM text (multi-line or CASS single-line; PKCS#1 or PKCS#8)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    if text is None or not text.strip():
        raise KeyLoadError(f"{source} is missing or empty")
    if "-----BEGIN" not in text:
        raise KeyLoadError(f"{source} is not a PEM private key (no '-----BEGIN' line)")
    if "ENCRYPTED" in text:
        raise KeyLoadError(f"{source} is passphrase-protected; provide an unencrypted key")
    try:
        key = serialization.load_pem_private_key(rewrap_pem(text).encode("ascii"), password=None)
    except TypeError:
        raise KeyLoadError(f"{source} is passphrase-protected; provide an unencrypted key") from None
    except (ValueError, UnicodeEncodeError):
        raise KeyLoadError(f"{source} is not a readable PEM private key") from None
    except Exception:  # cryptography raises library-specific errors for some corrupt keys
        raise KeyLoadError(f"{source} is not a readable PEM private key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KeyLoadError(f"{source} is not an RSA key; CASS signs with RSA (cass-api.md §2.2)")
    return key


def load_configured_key(
    key_env: str, key_file: str | None, root: Path, environ: Mapping[str, str] | None = None
) -> RSAPrivateKey:
    """The key from the environment variable ``key_env``, else from ``key_file`` (relative to ``root``)."""
    env = os.environ if environ is None else environ
    value = env.get(key_env)
    if value:
        return load_private_key(value, source=f"environment variable {key_env}")
    if key_file:
        path = Path(key_file) if Path(key_file).is_absolute() else root / key_file
        try:
            text = path.read_text("utf-8")
        except FileNotFoundError:
            raise KeyLoadError(f"key file {key_file} (cass.key-file) does not exist") from None
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
            raise KeyLoadError(f"key file {key_file} (cass.key-file) cannot be read: {reason}") from None
        return load_private_key(text, source=f"key file {key_file}")
    raise NoKeyConfigured(
        f"no CASS signing key: set the environment variable {key_env} to a PEM RSA private key, "
        "or name a file in the configuration (cass.key-file)"
    )


def load_public_key(pem: str) -> RSAPublicKey:
    """An RSA public key from PEM (single-line CASS form accepted). Raises ValueError when unusable."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = serialization.load_pem_public_key(rewrap_pem(pem).encode("ascii"))
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("not an RSA public key")
    return key


def cass_pem(public_key: RSAPublicKey) -> str:
    """Single-line SubjectPublicKeyInfo PEM, identical to the library's ``EcPk.toPem()`` (§2.2)."""
    from cryptography.hazmat.primitives import serialization

    pem = public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return pem.decode("ascii").replace("\n", "")


def server_side_entry(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The entry as CASS's kbac.js sees it after ``EbacSignature.copyFrom`` (§2.2 steps 1-2)."""
    has_at_type = "@type" in entry
    out: dict[str, Any] = {}
    for key, value in entry.items():
        out[key.replace("@", "", 1) if has_at_type else key] = value
    owner = out.pop("owner", None)
    if owner is None:
        owner = out.pop("@owner", None)
    out.pop("@owner", None)
    out["@owner"] = owner
    # EcLinkedData.atIfyObject: id/type/context/... regain their "@" (when the entry has a type).
    if out.get("type") is not None:
        out = {("@" + k if k in _AT_PROPERTIES else k): v for k, v in out.items()}
    return out


def _js_json(value: dict[str, Any]) -> str:
    """``JSON.stringify`` of a key-sorted object: no whitespace, non-ASCII unescaped, nulls dropped."""
    kept = {k: v for k, v in sorted(value.items()) if v is not None}
    return json.dumps(kept, separators=(",", ":"), ensure_ascii=False)


def canonical_string(entry: Mapping[str, Any]) -> str:
    """The text a CASS server verifies for one signature-sheet entry (§2.2 "What is signed", steps 1-4)."""
    value = server_side_entry(entry)
    for key in _SIGNATURE_KEYS:
        value.pop(key, None)
    return _js_json(value)


def entry_json(entry: Mapping[str, Any]) -> str:
    """The entry as the server prints it in 451 messages (``signature.toJson()`` before nulling, kbac.js)."""
    return _js_json(server_side_entry(entry))


def sign_text(private_key: RSAPrivateKey, text: str, hash_name: str = "SHA-256") -> str:
    """Base64 RSASSA-PKCS1-v1_5 signature of the UTF-8 bytes of ``text`` (§2.2 step 5)."""
    from cryptography.hazmat.primitives.asymmetric import padding

    signature = private_key.sign(text.encode("utf-8"), padding.PKCS1v15(), _hash(hash_name))
    return base64.b64encode(signature).decode("ascii")


def verify_text(public_key: RSAPublicKey, text: str, signature_b64: str, hash_name: str) -> bool:
    """Whether ``signature_b64`` is a valid PKCS#1 v1.5 signature of ``text`` by ``public_key``."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric import padding

    try:
        signature = base64.b64decode(signature_b64, validate=False)
        public_key.verify(signature, text.encode("utf-8"), padding.PKCS1v15(), _hash(hash_name))
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def signature_entry(
    private_key: RSAPrivateKey,
    server: str,
    *,
    now_ms: int,
    ttl_ms: int = DEFAULT_TTL_MS,
    hash_name: str = "SHA-256",
) -> dict[str, Any]:
    """One signed sheet entry, in the "at-ified" spelling (§2.2)."""
    entry: dict[str, Any] = {
        "@context": SIGNATURE_CONTEXT,
        "@type": SIGNATURE_TYPE,
        "@owner": cass_pem(private_key.public_key()),
        "expiry": int(now_ms) + int(ttl_ms),
        "server": server,
    }
    entry[SIGNATURE_FIELDS[hash_name]] = sign_text(private_key, canonical_string(entry), hash_name)
    return entry


def signature_sheet(
    private_key: RSAPrivateKey,
    server: str,
    *,
    now_ms: int,
    ttl_ms: int = DEFAULT_TTL_MS,
    hash_name: str = "SHA-256",
) -> str:
    """The ``signatureSheet`` field value: a JSON array with one entry.

    ``now_ms`` is the *server's* clock (local time + the offset measured from ``/api/ping``'s
    ``time``), because the server compares ``expiry`` with its own time (§2.2, §6 step 1).
    """
    if hash_name not in SIGNATURE_FIELDS:
        raise ValueError(f"unsupported signature hash {hash_name!r}; use SHA-256 or SHA-1")
    entry = signature_entry(private_key, server, now_ms=now_ms, ttl_ms=ttl_ms, hash_name=hash_name)
    return json.dumps([entry], separators=(",", ":"), ensure_ascii=False)
