"""Collections in CASS: stored as CASS's collection import stores them, planned, written, verified.

CASS's CSV importer (``CTDLASNCSVImport.js importCollectionsAndCompetencies``, l.768-958) makes a
collection row an ``EcFramework`` with ``subType: "Collection"``, its ``ceterms:hasMember`` values
as the framework's ``competency`` list (CTIDs turned into ids first) and an empty ``relation``
list. Which CASS property each column becomes is the descriptor's (``competencyCi.cass`` of the
collection columns). Member ids are the competencies' CASS ids, which this project makes the
registry URIs of their CTIDs (as it does for every object). What CE then reads is the collection
export (``targets.cass.export.collection_export``), which ``verify`` compares with the prediction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from competency_ci.frameworks.collection import collection_columns, member_column
from competency_ci.frameworks.jsonld import resource_uri
from competency_ci.frameworks.model import Collection
from competency_ci.schema import COLLECTION, TemplateSchema, load_schema
from competency_ci.targets.cass.export import COLLECTION_SUBTYPE, collection_export
from competency_ci.targets.cass.ids import short_id
from competency_ci.targets.cass.mapping import CONTEXT, FRAMEWORK_TYPE, _merge_owners, _value, is_owner

CassObject = dict[str, Any]
# Why the Registry target takes no collection files (``competency-ci plan/publish`` and the action).
REGISTRY_REFUSAL = (
    "the Registry Assistant documents no collection publishing endpoint (its API has "
    "CompetencyFramework/format, publish, publishGraph and delete only), so collection files are not "
    "published there; publish them to CASS (--target cass), from which CE's Publisher reads them"
)
# When the frameworks of the run did not all publish, its collections wait (CLI and GitHub Action).
NOT_WRITTEN = (
    "The collections were not written: the frameworks did not all publish. The next run writes them."
)
CREATE, UPDATE, UNCHANGED, BLOCKED = "create", "update", "unchanged", "blocked"
# what the server adds or signs: never a difference between the stored object and ours
_SERVER_KEYS = frozenset(
    {"signature", "@signature", "signatureSha256", "@signatureSha256", "schema:dateModified"}
)


def map_collection(
    collection: Collection,
    *,
    registry_url: str,
    owner_pem: str,
    stored: Mapping[str, Any] | None = None,
    default_language: str = "en-US",
    schema: TemplateSchema | None = None,
) -> CassObject:
    """The CASS object of a collection (``stored``: the object on the server, whose unmapped
    properties and co-owners are kept)."""
    schema = schema or load_schema()
    languages = collection.languages
    lang = (languages[0] if languages else default_language).lower()
    item_id = resource_uri(registry_url, collection.ctid)
    obj: CassObject = {"@context": CONTEXT, "@id": item_id, "@type": FRAMEWORK_TYPE}
    ctid_column = next(c for c in schema.columns.values() if c.kind == "ctid")
    obj[str(ctid_column.extra["cass"])] = collection.ctid
    for column in collection_columns(schema):
        value = collection.properties.get(column.name)
        prop = column.extra.get("cass")
        if value is not None and isinstance(prop, str):
            obj[prop] = _value(registry_url, column, value, lang)
    members = member_column(schema)
    obj[str(members.extra["cass"])] = [
        str(_value(registry_url, members, m, lang)) for m in collection.members
    ]
    obj["relation"] = []
    obj["subType"] = COLLECTION_SUBTYPE
    known = {str(c.extra.get("cass")) for c in schema.columns.values() if COLLECTION in c.rows}
    for key, value in (stored or {}).items():
        if key not in obj and key not in known and key not in _SERVER_KEYS and key != "owner":
            obj[key] = value  # set in the CASS editor or by the server
    obj["owner"] = _merge_owners(stored, [owner_pem])
    return obj


@dataclass
class CollectionItem:
    collection: Collection
    id: str
    action: str
    obj: CassObject
    expected: dict[str, Any]  # the collection node CE should see after the write
    changed: list[str] = field(default_factory=list)  # properties that differ from the stored object


@dataclass
class CollectionPlan:
    items: list[CollectionItem] = field(default_factory=list)
    error: str | None = None

    @property
    def writes(self) -> list[CollectionItem]:
        return [i for i in self.items if i.action in (CREATE, UPDATE)]

    def lines(self) -> list[str]:
        out = []
        for item in self.items:
            what = f"collection {item.collection.ctid} {item.collection.name!r}"
            members = len(item.collection.members)
            if item.action == UPDATE:
                out.append(f"~ {what}: update ({', '.join(item.changed)})")
            elif item.action == CREATE:
                out.append(f"+ {what}: create with {members} member{'s' if members != 1 else ''}")
            elif item.action == BLOCKED:
                out.append(f"! {what}: blocked (this key is not an owner of the stored object)")
            else:
                out.append(f"= {what}: unchanged")
        return out


def _differences(ours: Mapping[str, Any], stored: Mapping[str, Any]) -> list[str]:
    keys = (set(ours) | set(stored)) - _SERVER_KEYS - {"owner", "@owner"}
    return sorted(k for k in keys if ours.get(k) != stored.get(k))


def plan_collections(
    client: Any,
    collections: Sequence[Collection],
    *,
    registry_url: str,
    owner_pem: str,
    default_language: str,
) -> CollectionPlan:
    """Read the stored collections and say what publishing would write (nothing is written)."""
    from competency_ci.targets.cass.client import CassError

    plan = CollectionPlan()
    ids = [resource_uri(registry_url, c.ctid) for c in collections]
    try:
        stored = client.multi_get(ids) if ids else {}
    except CassError as exc:
        plan.error = str(exc)
        return plan
    for collection, item_id in zip(collections, ids, strict=True):
        current = stored.get(short_id(item_id))
        obj = map_collection(
            collection,
            registry_url=registry_url,
            owner_pem=owner_pem,
            stored=current,
            default_language=default_language,
        )
        expected = collection_export(obj)["@graph"][0]
        changed: list[str] = []
        if current is None:
            action = CREATE
        elif not is_owner(current, owner_pem):
            action = BLOCKED
        else:
            changed = _differences(obj, current)
            action = UPDATE if changed else UNCHANGED
        plan.items.append(CollectionItem(collection, item_id, action, obj, expected, changed))
    return plan


def plan_on_target(target: Any, collections: Sequence[Collection]) -> CollectionPlan:
    """``plan_collections`` through a ``CassTarget`` (its client, key and configuration): what
    ``competency-ci plan/publish`` and the GitHub Action both call."""
    from competency_ci.targets.cass.signing import cass_pem

    config = target.config
    return plan_collections(
        target.client,
        collections,
        registry_url=config.registry_url,
        owner_pem=cass_pem(target.key.public_key()),
        default_language=config.language,
    )


@dataclass
class CollectionOutcome:
    written: list[str] = field(default_factory=list)  # CTIDs
    failed: dict[str, str] = field(default_factory=dict)  # CTID -> why
    differences: dict[str, list[str]] = field(default_factory=dict)  # CTID -> CE view differences

    @property
    def exit_code(self) -> int:
        return 3 if self.failed else 1 if self.differences else 0


def apply_collections(client: Any, plan: CollectionPlan) -> CollectionOutcome:
    """Write what the plan says (one batch), then read CE's view of every collection back."""
    from competency_ci.targets.cass.client import CassError

    outcome = CollectionOutcome()
    writes = plan.writes
    if writes:
        try:
            saved = client.multi_put([i.obj for i in writes])
        except CassError as exc:
            for item in writes:
                outcome.failed[item.collection.ctid] = str(exc)
            return outcome
        for item in writes:
            if short_id(item.id) in saved:
                outcome.written.append(item.collection.ctid)
            else:
                outcome.failed[item.collection.ctid] = "the server did not report it saved"
    for item in plan.items:
        if item.action == BLOCKED or item.collection.ctid in outcome.failed:
            continue
        try:
            graph = client.ceasn(item.id, objects=1)
        except CassError as exc:
            outcome.failed[item.collection.ctid] = f"CE view not readable: {exc}"
            continue
        node = next((n for n in graph["@graph"] if isinstance(n, dict)), {})
        wrong = sorted(k for k in set(node) | set(item.expected) if node.get(k) != item.expected.get(k))
        if wrong:
            outcome.differences[item.collection.ctid] = wrong
    return outcome


def account(plan: CollectionPlan, outcome: CollectionOutcome) -> list[str]:
    """One line per collection: what was written and whether CE's view is what was meant."""
    lines = []
    for item in plan.items:
        ctid = item.collection.ctid
        if ctid in outcome.failed:
            lines.append(f"collection {ctid}: failed: {outcome.failed[ctid]}")
        elif item.action == BLOCKED:
            lines.append(f"collection {ctid}: not written (this key is not an owner)")
        elif ctid in outcome.differences:
            lines.append(f"collection {ctid}: CE shows otherwise: {', '.join(outcome.differences[ctid])}")
        else:
            done = "written" if ctid in outcome.written else "unchanged"
            members = len(item.collection.members)
            lines.append(f"collection {ctid}: {done}; CE view verified ({members} members)")
    return lines
