"""The sandbox's ``GET /api/ceasn/{uid}`` over HTTP, against expectations worked by hand from the facts
of CASS's CTDL-ASN export (what the real CASS 1.7.4 did; cassproject/CASS ``ceasn.js``).

The CASS objects are written as CASS stores them (not made by our mapper), and every expected graph
below is written out in full: renames (``name`` -> ``ceasn:name`` / ``ceasn:competencyText``,
``schema:inLanguage`` -> ``ceasn:inLanguage``), plain text tagged ``en-us``, tagged text keeping its
tag, ``ceasn:inLanguage ["en"]`` added, ``schema:date*`` and an untyped ``ceasn:weight`` dropped (one
typed ``xsd:float`` kept), a list of one
``derivedFrom`` as a single string, ``tableOfContents`` as plain strings, the hierarchy from
``narrows`` relations in the order sent, and no graph ``@id``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from competency_ci.sandbox import SandboxServer

CTX = "https://schema.cassproject.org/0.4"
CE = "https://credreg.net/ctdlasn/schema/context/json"
REG = "https://sandbox.credentialengineregistry.org/resources/"
FW = REG + "ce-10000000-0000-4000-8000-000000000000"
A, B, C, D, E = (REG + f"ce-{c * 8}-0000-4000-8000-{c * 12}" for c in "abcde")
NOT_FOUND = "Object not found or you did not supply sufficient permissions to access the object."


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def ctid(uri: str) -> str:
    return uri.rsplit("/", 1)[-1]


def relation(n: int, source: str, target: str, kind: str = "narrows") -> dict[str, Any]:
    rid = f"http://127.0.0.1/api/data/schema.cassproject.org.0.4.Relation/r{n}"
    return {
        "@context": CTX,
        "@id": rid,
        "@type": "Relation",
        "relationType": kind,
        "source": source,
        "target": target,
    }


def competency(uri: str, name: Any, **extra: Any) -> dict[str, Any]:
    return {
        "@context": CTX,
        "@id": uri,
        "@type": "Competency",
        "ceterms:ctid": ctid(uri),
        "name": name,
        **extra,
    }


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with SandboxServer("127.0.0.1", 0) as running:
        yield running


def put(server: SandboxServer, objects: list[dict[str, Any]]) -> None:
    response = requests.post(
        server.url + "sky/repo/multiPut", files={"data": (None, json.dumps(objects))}, timeout=10
    )
    assert response.status_code == 200 and len(response.json()) == len(objects)


def export(server: SandboxServer, uid: str) -> requests.Response:
    return requests.get(server.url + "ceasn/" + uid, timeout=10)


def test_two_level_hierarchy_dates_weight_derived_from(server: SandboxServer) -> None:
    # A > (E, B) in framework order, B > C; D top. Relations sent B->A first, E->A second.
    rels = [relation(1, B, A), relation(2, E, A), relation(3, C, B)]
    put(
        server,
        [
            competency(A, "Alpha", description="About alpha", **{"ceasn:codedNotation": "1"}),
            competency(B, "Bravo", **{"ceasn:weight": "2"}),
            competency(
                C,
                "Charlie",
                **{
                    "ceasn:derivedFrom": ["https://example.org/source"],
                    "ceasn:weight": {"@value": "2.5", "@type": "xsd:float"},  # typed: it survives
                },
            ),
            competency(D, "Delta", **{"ceasn:weight": 0.5, "ceasn:dateCreated": "2025-01-02"}),
            competency(E, "Echo", **{"schema:dateCreated": "2025-01-03"}),
            *rels,
            {
                "@context": CTX,
                "@id": FW,
                "@type": "Framework",
                "ceterms:ctid": ctid(FW),
                "name": "Data literacy",
                "description": "What a student can do with data.",
                "schema:inLanguage": ["en-US"],
                "schema:publisher": ["https://example.org/org"],
                "ceasn:publisherName": "Lakeside College",
                "ceasn:dateCreated": "2025-09-01",
                "ceasn:dateModified": "2025-10-01T12:00:00Z",
                "schema:dateModified": "2025-10-02T12:00:00Z",
                "schema:keywords": ["data", "statistics"],
                "ceasn:tableOfContents": "1 Sources; 2 Reading",
                "owner": ["-----BEGIN PUBLIC KEY-----x-----END PUBLIC KEY-----"],
                "competency": [A, E, B, C, D],
                "relation": [r["@id"] for r in rels],
            },
        ],
    )
    response = export(server, md5(FW))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    part = {"ceasn:isPartOf": FW}
    top = {**part, "ceasn:isTopChildOf": FW}
    en = {"ceasn:inLanguage": ["en"]}
    assert response.json() == {
        "@context": CE,
        "@graph": [
            {
                "@id": FW,
                "@type": "ceasn:CompetencyFramework",
                "ceasn:conceptKeyword": {"en-us": ["data", "statistics"]},
                "ceasn:dateCreated": "2025-09-01",
                "ceasn:dateModified": "2025-10-01T12:00:00Z",
                "ceasn:description": {"en-us": "What a student can do with data."},
                "ceasn:hasTopChild": [A, D],
                "ceasn:inLanguage": ["en-US"],
                "ceasn:name": {"en-us": "Data literacy"},
                "ceasn:publisher": ["https://example.org/org"],
                "ceasn:publisherName": {"en-us": ["Lakeside College"]},
                "ceasn:tableOfContents": ["1 Sources; 2 Reading"],
                "ceterms:ctid": ctid(FW),
            },
            {
                "@id": A,
                "@type": "ceasn:Competency",
                "ceasn:codedNotation": "1",
                "ceasn:comment": {"en-us": ["About alpha"]},
                "ceasn:competencyText": {"en-us": "Alpha"},
                "ceasn:hasChild": [E, B],
                **en,
                **top,
                "ceterms:ctid": ctid(A),
            },
            {
                "@id": E,
                "@type": "ceasn:Competency",
                "ceasn:competencyText": {"en-us": "Echo"},
                **en,
                "ceasn:isChildOf": [A],
                **part,
                "ceterms:ctid": ctid(E),
            },
            {
                "@id": B,
                "@type": "ceasn:Competency",
                "ceasn:competencyText": {"en-us": "Bravo"},
                "ceasn:hasChild": [C],
                **en,
                "ceasn:isChildOf": [A],
                **part,
                "ceterms:ctid": ctid(B),
            },
            {
                "@id": C,
                "@type": "ceasn:Competency",
                "ceasn:competencyText": {"en-us": "Charlie"},
                "ceasn:derivedFrom": "https://example.org/source",
                **en,
                "ceasn:weight": "2.5",
                "ceasn:isChildOf": [B],
                **part,
                "ceterms:ctid": ctid(C),
            },
            {
                "@id": D,
                "@type": "ceasn:Competency",
                "ceasn:competencyText": {"en-us": "Delta"},
                "ceasn:dateCreated": "2025-01-02",
                **en,
                **top,
                "ceterms:ctid": ctid(D),
            },
        ],
    }
    # the same export under /api/ctdlasn/{uid} and ?id=<framework uri>
    assert requests.get(server.url + "ctdlasn/" + md5(FW), timeout=10).json() == response.json()
    assert requests.get(server.url + "ceasn", params={"id": FW}, timeout=10).json() == response.json()


def test_french_framework_plain_and_tagged_text(server: SandboxServer) -> None:
    fr = {"schema:inLanguage": "fr"}
    put(
        server,
        [
            competency(A, "Se laver les mains"),  # plain: tagged en-us, language "en" added
            competency(B, {"@value": "Ranger les aliments", "@language": "fr"}, **fr),
            competency(
                C,
                [{"@value": "Nettoyer", "@language": "fr"}, {"@value": "Clean", "@language": "en"}],
                description=[{"@value": "Chaque jour", "@language": "fr"}],
                **{"ceasn:tableOfContents": {"@value": "Partie 1", "@language": "fr"}},
            ),
            {
                "@context": CTX,
                "@id": FW,
                "@type": "Framework",
                "ceterms:ctid": ctid(FW),
                "name": "Hygiène en cuisine",
                "schema:inLanguage": ["fr"],
                "ceasn:publisherName": [{"@value": "Cuisine de quartier", "@language": "fr"}],
                "competency": [A, B, C],
                "relation": [],
            },
        ],
    )
    part = {"ceasn:isPartOf": FW, "ceasn:isTopChildOf": FW}
    assert export(server, md5(FW)).json() == {
        "@context": CE,
        "@graph": [
            {
                "@id": FW,
                "@type": "ceasn:CompetencyFramework",
                # no description: the export copies the name
                "ceasn:description": {"en-us": "Hygiène en cuisine"},
                "ceasn:hasTopChild": [A, B, C],
                "ceasn:inLanguage": ["fr"],
                "ceasn:name": {"en-us": "Hygiène en cuisine"},
                "ceasn:publisherName": {"fr": ["Cuisine de quartier"]},
                "ceterms:ctid": ctid(FW),
            },
            {
                "@id": A,
                "@type": "ceasn:Competency",
                "ceasn:competencyText": {"en-us": "Se laver les mains"},
                "ceasn:inLanguage": ["en"],
                **part,
                "ceterms:ctid": ctid(A),
            },
            {
                "@id": B,
                "@type": "ceasn:Competency",
                "ceasn:competencyText": {"fr": "Ranger les aliments"},
                "ceasn:inLanguage": ["fr"],
                **part,
                "ceterms:ctid": ctid(B),
            },
            {
                "@id": C,
                "@type": "ceasn:Competency",
                "ceasn:comment": {"fr": ["Chaque jour"]},
                "ceasn:competencyText": {"fr": "Nettoyer", "en": "Clean"},
                "ceasn:inLanguage": ["en"],
                **part,
                "ceasn:tableOfContents": {"fr": "Partie 1"},
                "ceterms:ctid": ctid(C),
            },
        ],
    }


def test_alignments_deleted_members_and_a_competency_alone(server: SandboxServer) -> None:
    outside = "https://example.org/other-competency"
    rels = [relation(1, B, A), relation(2, B, outside), relation(3, A, outside, "isEquivalentTo")]
    rels.append(relation(4, B, A, "requires"))
    put(
        server,
        [
            competency(A, "Alpha"),
            competency(B, "Bravo"),
            *rels,
            {
                "@context": CTX,
                "@id": FW,
                "@type": "Framework",
                "name": "F",
                "description": "G",
                "competency": [A, B, D],  # D is listed but not stored: left out, as CASS skips it
                "relation": [r["@id"] for r in rels],
            },
        ],
    )
    graph = export(server, md5(FW)).json()["@graph"]
    assert [n["@id"] for n in graph] == [FW, A, B]
    assert graph[0]["ceterms:ctid"] == ctid(FW)  # the guid of the @id when no ctid was sent
    assert graph[0]["ceasn:hasTopChild"] == [A]
    assert graph[1]["ceasn:exactAlignment"] == [outside] and graph[1]["ceasn:hasChild"] == [B]
    assert graph[2]["ceasn:broadAlignment"] == [outside]
    assert graph[2]["ceasn:prerequisiteAlignment"] == [A] and graph[2]["ceasn:isChildOf"] == [A]
    # a competency's uid gives its own node from the framework that lists it
    alone = export(server, md5(B))
    assert alone.status_code == 200 and alone.json() == graph[2]


def test_not_found_and_unchanged_status_codes(server: SandboxServer) -> None:
    put(server, [competency(E, "Loose")])
    assert (export(server, md5(FW)).status_code, export(server, md5(FW)).text) == (404, NOT_FOUND)
    loose = export(server, md5(E))
    assert loose.status_code == 404 and loose.text.startswith("Individual competencies are not permitted")
    # only GET is the export; other methods on the route answer as before
    posted = requests.post(server.url + "ceasn/" + md5(FW), files={"data": (None, "{}")}, timeout=10)
    assert (posted.status_code, posted.text) == (404, f"Cannot POST /api/ceasn/{md5(FW)}")
