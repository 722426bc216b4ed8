"""CASS object ids: short id, guid, version and storage key (cass-api.md §3.2).

Shared by the client (which must predict where the server files an object) and the sandbox (which
must file it there). Mirrors cass-npm ``EcRemoteLinkedData`` ``trimVersionFromUrl``, ``getGuid``
and ``getVersionFromUrl``.
"""

from __future__ import annotations

import hashlib
import re

_VERSION_SEGMENT = re.compile(r"/[0-9]+$")
_DIGITS = re.compile(r"[0-9]+")


def short_id(object_id: str) -> str:
    """The id without its trailing ``/{version}``; only ids under ``/api/data/`` carry one (§3.2)."""
    if "/api/data/" not in object_id and "/api/custom/data/" not in object_id:
        return object_id
    if not _VERSION_SEGMENT.search(object_id):
        return object_id
    return object_id[: object_id.rfind("/")].rstrip("/")


def guid(object_id: str) -> str:
    """The last path segment of the short id."""
    return short_id(object_id).split("/")[-1]


def timestamp(object_id: str) -> int | None:
    """The version carried by the id: its last segment when that is all digits (``getTimestamp``)."""
    last = object_id[object_id.rfind("/") + 1 :]
    return int(last) if _DIGITS.fullmatch(last) else None


def md5_key(object_id: str) -> str:
    """``md5(shortId)``: the storage key of ids from outside the server (ASCII ids only, §3.2)."""
    return hashlib.md5(short_id(object_id).encode("utf-8"), usedforsecurity=False).hexdigest()


def storage_key(object_id: str, server_base: str) -> str:
    """guid for ids under this server's base, md5(shortId) for every other id (§3.2, multiput.js)."""
    return guid(object_id) if server_base in object_id else md5_key(object_id)
