"""Reading frameworks back from CASS for ``competency-ci pull``: two multiGets, then ``reverse``.

First the frameworks (by the md5 of their canonical ``@id``, as ``publish`` stores them), then in
one more multiGet every competency and relation they list. Listing an organization's frameworks
uses the search API (cass-api.md §1.2, ``GET /api/data?q=``): Elasticsearch matches analysed
words, so a hit is kept only when its ``schema:publisher`` holds the organization's URI exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from competency_ci.frameworks.jsonld import resource_uri
from competency_ci.schema import FRAMEWORK
from competency_ci.targets.cass.client import CassClient
from competency_ci.targets.cass.mapping import FRAMEWORK_TYPE, CassMapping, CassObject, cass_mapping
from competency_ci.targets.cass.reverse import Pulled, ctid_of, unmap_framework

NATIVE_FRAMEWORK = "schema.cassproject.org.0.4.Framework"
PUBLISHER = "ceasn:publisher"


@dataclass
class CassRead:
    """Per CTID asked for: the framework read, or None when the server has no framework under it."""

    found: dict[str, Pulled | None] = field(default_factory=dict)


def _is_framework(obj: CassObject) -> bool:
    kind = obj.get("@type")
    return isinstance(kind, str) and kind.rsplit("/", 1)[-1] == FRAMEWORK_TYPE


def read_frameworks(
    client: CassClient,
    ctids: Sequence[str],
    *,
    registry_url: str,
    owner_pem: str | None,
    default_language: str,
    mapping: CassMapping | None = None,
) -> CassRead:
    """Every framework of ``ctids`` with its competencies and relations (raises ``CassError``).

    A framework is looked up under both ids it can have: the canonical registry URI ``publish``
    gives it (stored under ``md5(@id)``), and a CASS-native id whose guid is the CTID's UUID (one
    made in CASS's editor, which CASS's export gives the CTID ``ce-{guid}``, cass-api.md §3.3).
    """
    mapping = mapping or cass_mapping()
    keys: list[str] = []
    for ctid in ctids:
        keys += [resource_uri(registry_url, ctid), f"{client.server}data/{NATIVE_FRAMEWORK}/{ctid[3:]}"]
    frameworks: dict[str, CassObject] = {}
    for obj in client.multi_get(keys).values():
        if _is_framework(obj):
            frameworks.setdefault(ctid_of(obj), obj)
    listed: list[str] = []
    for ctid in ctids:
        found = frameworks.get(ctid)
        if found is not None:
            listed += [str(i) for key in ("competency", "relation") for i in found.get(key) or []]
    parts = client.multi_get(listed) if listed else {}
    result = CassRead()
    for ctid in ctids:
        stored = frameworks.get(ctid)
        result.found[ctid] = (
            None
            if stored is None
            else unmap_framework(
                stored,
                parts,
                registry_url=registry_url,
                owner_pem=owner_pem,
                default_language=default_language,
                mapping=mapping,
            )
        )
    return result


def organization_query(prop: str, organization_uri: str) -> str:
    """Frameworks whose ``prop`` (the publisher) names the organization, in query_string syntax."""
    escaped = organization_uri.replace("\\", "\\\\").replace('"', '\\"')
    field_name = prop.replace(":", "\\:")
    return f'@type:Framework AND {field_name}:"{escaped}"'


def list_organization(
    client: CassClient, organization_uri: str, mapping: CassMapping | None = None
) -> list[str]:
    """The CTIDs of the frameworks the server holds for an organization, in the server's order."""
    mapping = mapping or cass_mapping()
    prop = next(p for c, p in mapping.property_columns(FRAMEWORK) if c.name == PUBLISHER)
    ctids: list[str] = []
    for obj in client.search(organization_query(prop, organization_uri)):
        publishers = obj.get(prop)
        values = publishers if isinstance(publishers, list) else [publishers]
        ctid = ctid_of(obj)
        if _is_framework(obj) and organization_uri in values and ctid and ctid not in ctids:
            ctids.append(ctid)
    return ctids
