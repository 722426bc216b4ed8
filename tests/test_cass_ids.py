"""CASS id rules (cass-api.md §3.2), as cass-npm's EcRemoteLinkedData applies them."""

from __future__ import annotations

import hashlib

from competency_ci.targets.cass.ids import guid, md5_key, short_id, storage_key, timestamp

BASE = "http://localhost/api/"
NATIVE = BASE + "data/schema.cassproject.org.0.4.Framework/20b5aa58-c455-4a92-b50d-cc5aa48238c1/1795892812604"
REGISTRY = "https://credentialengineregistry.org/resources/ce-07c264d7-9119-11e8-b852-782bcb5df6ac"


def test_native_ids_carry_their_version() -> None:
    short = BASE + "data/schema.cassproject.org.0.4.Framework/20b5aa58-c455-4a92-b50d-cc5aa48238c1"
    assert short_id(NATIVE) == short
    assert short_id(short) == short
    assert guid(NATIVE) == "20b5aa58-c455-4a92-b50d-cc5aa48238c1"
    assert timestamp(NATIVE) == 1795892812604
    assert timestamp(short) is None
    assert storage_key(NATIVE, BASE) == "20b5aa58-c455-4a92-b50d-cc5aa48238c1"


def test_other_ids_are_filed_under_md5_of_the_whole_id() -> None:
    assert short_id(REGISTRY) == REGISTRY
    assert guid(REGISTRY) == "ce-07c264d7-9119-11e8-b852-782bcb5df6ac"
    assert timestamp(REGISTRY) is None
    assert md5_key(REGISTRY) == hashlib.md5(REGISTRY.encode()).hexdigest()
    assert storage_key(REGISTRY, BASE) == md5_key(REGISTRY)
    # trailing digits outside /api/data/ are a version (getVersionFromUrl) but stay in the short id
    assert (short_id("https://x.org/a/12"), timestamp("https://x.org/a/12")) == ("https://x.org/a/12", 12)
