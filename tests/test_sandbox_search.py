"""The sandbox's search over HTTP (cass-api.md §1.2): Elasticsearch ``query_string`` as CASS passes it
on, ``POST /api/data/`` with a ``searchParams`` field, ``ids``, ``index_hint``, start and size."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from competency_ci.sandbox import SandboxServer
from competency_ci.sandbox.search import compile_query, words

REG = "https://sandbox.credentialengineregistry.org/resources/"
CTX = "https://schema.cassproject.org/0.4"


def relation(n: int, source: str, target: str) -> dict[str, Any]:
    return {
        "@context": CTX,
        "@id": f"{REG}rel-{n}",
        "@type": "Relation",
        "relationType": "narrows",
        "source": REG + source,
        "target": REG + target,
    }


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with SandboxServer("127.0.0.1", 0) as sandbox:
        objects = [
            relation(1, "ce-1", "ce-2"),
            relation(2, "ce-3", "ce-1"),
            relation(3, "ce-1-9", "ce-4"),  # an id that starts with another id's words
            {"@context": CTX, "@id": REG + "ce-1", "@type": "Competency", "name": "Alpha beta"},
            {"@context": CTX, "@id": REG + "fw", "@type": "Framework", "competency": [REG + "ce-1"]},
        ]
        files = {"data": (None, json.dumps(objects))}
        assert requests.post(sandbox.url + "sky/repo/multiPut", files=files, timeout=10).status_code == 200
        yield sandbox


def post_search(server: SandboxServer, **params: Any) -> requests.Response:
    fields = {"searchParams": (None, json.dumps(params))}
    return requests.post(server.url + "data/", files=fields, timeout=10)


def test_post_search_params_with_ids_and_or_groups(server: SandboxServer) -> None:
    q = f'@type:Relation AND (source:("{REG}ce-1" OR "{REG}ce-7") OR target:("{REG}ce-1"))'
    response = post_search(server, q=q, ids=True, size=10000)
    assert response.status_code == 200
    # phrases match runs of words, as Elasticsearch does: rel-3's source ce-1-9 starts with ce-1's
    assert response.json() == [f"{REG}rel-1", f"{REG}rel-2", f"{REG}rel-3"]


def test_full_objects_start_size_and_index_hint(server: SandboxServer) -> None:
    found = post_search(server, q="@type:Relation", start=1, size=1).json()
    assert [o["@id"] for o in found] == [f"{REG}rel-2"]
    assert post_search(server, q="*", index_hint="*framework", ids=True).json() == [f"{REG}fw"]
    assert post_search(server, q=f'competency:"{REG}ce-1"', ids=True).json() == [f"{REG}fw"]


def test_get_query_string_not_and_bare_terms(server: SandboxServer) -> None:
    def ids(q: str) -> list[str]:
        response = requests.get(server.url + "data", params={"q": q, "ids": "true"}, timeout=10)
        assert response.status_code == 200
        return list(response.json())

    assert ids("@type:Relation AND NOT target:ce-2") == [f"{REG}rel-2", f"{REG}rel-3"]
    assert ids("alpha") == [f"{REG}ce-1"]  # a bare term: any field
    assert ids('name:"beta alpha"') == []  # a phrase keeps its word order
    assert ids("@type:Framework || @type:Competency") == [f"{REG}ce-1", f"{REG}fw"]


@pytest.mark.parametrize("query", ['name:("Beta"', "name:", "AND x", ")", 'name:"open'])
def test_unparsable_queries_are_400(server: SandboxServer, query: str) -> None:
    response = post_search(server, q=query)
    assert response.status_code == 400
    assert response.text == f"Failed to parse query [{query}]"


def test_the_search_is_not_a_write_but_a_post_of_data_is(server: SandboxServer) -> None:
    before = len(server.writes())
    post_search(server, q="*")
    requests.get(server.url + "data", params={"q": "*"}, timeout=10)
    assert len(server.writes()) == before
    obj = {"@context": CTX, "@id": REG + "ce-5", "@type": "Competency", "name": "Echo"}
    written = requests.post(server.url + "data/", files={"data": (None, json.dumps(obj))}, timeout=10)
    assert written.status_code == 200 and len(server.writes()) == before + 1
    assert requests.get(server.url + "data/ce-5", timeout=10).json()["name"] == "Echo"


def test_words_and_one_pass_or_groups() -> None:
    assert words("https://x.org/resources/ce-A1") == ("https", "x", "org", "resources", "ce", "a1")
    match = compile_query(" OR ".join(f'source:"ce-{n}"' for n in range(500)))
    assert match({"source": "ce-499"}) and not match({"source": "ce-500"})
    assert match({"source": ["other", {"@value": "ce-7"}]})
