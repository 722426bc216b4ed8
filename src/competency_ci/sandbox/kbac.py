"""Server-side KBAC: verify a request's signature sheet and decide ownership (cass-api.md §2).

Mirrors CASS ``kbac.js`` (``signatureSheet``, ``signatureSheetEach``, ``validateSignatures``), with
the status codes and plain-text bodies of §1.3. The canonical text comes from the same function
the client signs with (``competency_ci.targets.cass.signing.canonical_string``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

from competency_ci.targets.cass import signing

OBJECT_NOT_FOUND = "Object not found or you did not supply sufficient permissions to access the object."
NOT_OWNER_CHANGE = "Only an owner of an object may change it."
NOT_OWNER_DELETE = "Only an owner of an object may delete it."


class HttpError(Exception):
    """An error answer: ``status`` and the plain-text body CASS sends (§1.1 "Errors", §1.3)."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


@lru_cache(maxsize=1024)
def normalize_key(pem: str) -> str | None:
    """A public key in CASS's single-line SPKI form, or None when it is not a readable RSA key.

    CASS compares keys, not strings (``EcPk.equals``/``hasOwner``), so owners written multi-line and
    single-line match (§2.2 "PEM format").
    """
    try:
        return signing.cass_pem(signing.load_public_key(pem))
    except Exception:
        return None


def owners_of(obj: dict[str, Any]) -> list[str]:
    """An object's owner keys, normalised; ``owner`` and ``@owner`` both count (§3.1 note)."""
    raw = obj.get("owner", obj.get("@owner"))
    values = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
    return [normalize_key(v) or v for v in values if isinstance(v, str)]


def _js_number(value: Any) -> str:
    """How JavaScript prints a number in a string concatenation."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _full_type(entry: dict[str, Any]) -> str | None:
    """``EcLinkedData.getFullType`` of a normalised entry: context + "/" + type unless type is a URI."""
    typ, context = entry.get("@type"), entry.get("@context")
    if not isinstance(typ, str):
        return None
    if not isinstance(context, str) or "http" in typ:
        return typ
    return (context if context.endswith("/") else context + "/") + typ


def verify_entry(entry: Any, now_ms: int, reject_sha1: bool) -> str:
    """Check one sheet entry (§2.2 "Server verification rules"); returns its owner key, normalised."""
    if not isinstance(entry, dict):
        raise HttpError(500, "TypeError: a signature sheet entry must be a JSON object")
    server_side = signing.server_side_entry(entry)
    owner = server_side.get("@owner")
    owner_key = normalize_key(owner) if isinstance(owner, str) else None
    if owner_key is None:  # §1.3: an unparseable owner PEM is an unhandled error, 500
        raise HttpError(500, "Error: the signature's @owner is not a readable RSA public key")
    # §1.3 / §2.2: an unknown type/context is 422. (cassproject 5.0.19's EbacSignature.copyFrom
    # throws "Incompatible type" for most unknown types first, which the real server turns into a
    # 500; the contract in cass-api.md is 422, which is what a client must handle as well.)
    full = _full_type(server_side)
    if full not in signing.ACCEPTED_SIGNATURE_TYPES and server_side.get("@type") not in (
        signing.ACCEPTED_SIGNATURE_TYPES
    ):
        raise HttpError(422, "Invalid Signature Version.")
    expiry = server_side.get("expiry")
    if expiry is None:
        raise HttpError(422, "Missing expiry date.")
    if isinstance(expiry, (int, float)) and not isinstance(expiry, bool) and expiry < now_ms:
        raise HttpError(
            419,
            f"A Signature is Expired. My time is {now_ms} and the signature expires at {_js_number(expiry)}",
        )
    sha1 = server_side.get("signature") or server_side.get("@signature")
    sha256 = server_side.get("signatureSha256") or server_side.get("@signatureSha256")
    printed = signing.entry_json(entry)
    canonical = signing.canonical_string(entry)
    public_key = signing.load_public_key(owner_key)

    def valid(signature: Any, hash_name: str) -> bool:
        return isinstance(signature, str) and signing.verify_text(public_key, canonical, signature, hash_name)

    if reject_sha1:  # §2.2: REJECT_SHA1 requires a SHA-256 signature
        if sha1 is not None and sha256 is None:
            raise HttpError(451, "SHA1 Signature is not supported. Invalid Signature Detected: " + printed)
        if not valid(sha256, "SHA-256"):
            raise HttpError(451, "Invalid Signature Detected: " + printed)
    else:  # §2.2: otherwise every signature present must verify
        if sha1 is None and sha256 is None:
            raise HttpError(451, "No Signature Detected: " + printed)
        if sha256 is not None and not valid(sha256, "SHA-256"):
            raise HttpError(451, "Invalid Signature Detected: " + printed)
        if sha1 is not None and not valid(sha1, "SHA-1"):
            raise HttpError(451, "Invalid Signature Detected: " + printed)
    return owner_key


class SignatureSheet:
    """The request's sheet: the ``signatureSheet`` field merged with the header (§2.3).

    Verified on first use, as ``kbac.js`` does: endpoints that never need an owner never look at
    the sheet, and one bad entry fails the whole request.
    """

    def __init__(
        self, field: bytes | None, header: str | None, clock: Callable[[], int], reject_sha1: bool
    ) -> None:
        self._field, self._header = field, header
        self._clock, self._reject_sha1 = clock, reject_sha1
        self._owners: frozenset[str] | None = None

    def _entries(self) -> list[Any]:
        entries: list[Any] = []
        for raw, malformed in ((self._field, 496), (self._header, 500)):
            if raw is None:
                continue
            try:
                value = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                if malformed == 496:  # §1.3: a non-JSON field is 496
                    raise HttpError(496, "Missing or Malformed Signature.") from None
                # §1.3: JSON.parse of the header is not caught, so the real server answers 500
                raise HttpError(500, "SyntaxError: the signatureSheet header is not JSON") from None
            entries.extend(value if isinstance(value, list) else [value])  # Array.concat
        return entries

    def owners(self) -> frozenset[str]:
        """The owner keys proven by the sheet; raises HttpError (496/422/419/451/500) if any entry fails."""
        if self._owners is None:
            now = self._clock()
            self._owners = frozenset(verify_entry(e, now, self._reject_sha1) for e in self._entries())
        return self._owners

    def may_write(self, stored_owners: Iterable[str], admin_keys: frozenset[str]) -> bool:
        """§2.1: ownerless objects are open; otherwise a sheet owner must be an owner or the admin."""
        owners = set(stored_owners)
        if not owners:
            return True
        proven = self.owners()
        return bool(proven & owners) or bool(proven & admin_keys)

    def may_read(self, body: str, admin_keys: frozenset[str]) -> bool:
        """§2.1 "Readers": a sheet owner must appear in the object's JSON text (or be the admin)."""
        proven = self.owners()
        return any(key in body for key in proven) or bool(proven & admin_keys)
