"""A model of CASS's CTDL-ASN export (``GET /api/ceasn/{uid}``): stored CASS objects -> the graph
CE's Publisher reads (pure).

It reproduces what cassproject/CASS ``src/main/server/cartridge/adapter/ceasn.js``
(``cassFrameworkAsCeasn``, ``competencyPromise``, ``stripNonCe``) does with a framework, its
competencies and relations, as observed on the real server (v1.7.4):

* Property renames and what survives compaction come from the descriptor: each column's
  ``competencyCi.cass`` (the CASS property sent) and ``competencyCi.export`` (the CTDL-ASN term the
  export turns it into, read from https://schema.cassproject.org/0.4/jsonld1.1/cass2ceasnTerms and
  the ``cass2ceasn.json`` context, or ``null`` when the export drops it). A CASS property no column
  sends is kept only when it already carries a ``ceasn:``/``ceterms:``/``asn:`` name (``stripNonCe``).
* Text terms the ``cass2ceasn.json`` context tags ``en-us``: plain strings come out as
  ``{"en-us": ...}`` whatever the framework's language; ``{"@value", "@language"}`` keep their tag.
* Competencies (and frameworks) without a language get ``ceasn:inLanguage ["en"]``; a framework
  without a description gets its name; non-URI publishers become ``publisherName``.
* Hierarchy: ``narrows`` relations with both ends in the framework (source = child) become
  ``isChildOf`` / ``hasChild``; ``hasChild`` in the framework's competency order, ``isChildOf`` in
  relation order; competencies without a parent are ``isTopChildOf`` and listed in ``hasTopChild``;
  every competency ``isPartOf`` the framework. Other relation types become alignments.
* No CASS-side registry prefix is configured, so ids are kept and the graph has no ``@id``.

It is a model of CASS, written from CASS's code and observations; it never runs our own mapper in
reverse.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from competency_ci.schema import COLLECTION, COMPETENCY, FRAMEWORK, TemplateSchema, load_schema
from competency_ci.targets.cass.ids import guid, short_id

CE_CONTEXT = "https://credreg.net/ctdlasn/schema/context/json"
DEFAULT_TEXT_LANGUAGE = "en-us"  # cass2ceasn.json: "@language": "en-us" on every text term
DEFAULT_LANGUAGE = "en"  # ceasn.js: ``if (c["ceasn:inLanguage"] == null) c["ceasn:inLanguage"] = "en"``
FRAMEWORK_TYPE, COMPETENCY_TYPE = "ceasn:CompetencyFramework", "ceasn:Competency"
_UUID = re.compile(r"^(ce-)?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_NIL = uuid.UUID(int=0)

# stripNonCe: keys that keep a single value as it is; every other non-object value becomes a list.
_SINGLE = (
    "ceterms:ctid",
    "ceasn:description",
    "ceasn:name",
    "ceasn:weight",
    "ceasn:derivedFrom",
    "ceasn:isTopChildOf",
    "ceasn:isPartOf",
    "ceasn:conceptKeywords",
    "ceasn:listID",
    "ceasn:isVersionOf",
    "ceasn:dateCopyrighted",
    "ceasn:repositoryDate",
    "ceasn:dateCreated",
    "ceasn:dateModified",
    "ceasn:dateValidFrom",
    "ceasn:dateValidUntil",
    "ceasn:rights",
    "ceasn:license",
    "ceasn:rightsHolder",
    "ceasn:publicationStatusType",
    "ceasn:codedNotation",
    "ceasn:competencyText",
    "ceterms:subjectWebpage",
    "asn:hasProgressionLevel",
    "ceterms:previousVersion",
    "ceterms:nextVersion",
    "ceterms:latestVersion",
)
# stripNonCe: "properties that allow many per language": each language's text becomes a list.
_MANY_PER_LANGUAGE = frozenset(
    {"ceasn:publisherName", "ceasn:conceptKeyword", "ceasn:comment", "ceterms:keyword"}
)
_CE_PREFIXES = ("ceasn:", "ceterms:", "asn:", "@")
# Terms the CTDL-ASN context types while cass2ceasn.json does not: a plain string or number compacts
# to no CE term and stripNonCe deletes it (observed for ceasn:weight); a value sent with that type
# compacts to the term and is kept.
_TYPED = {"ceasn:weight": ("xsd:float", "http://www.w3.org/2001/XMLSchema#float")}
# Text terms that cass2ceasn.json does not define: plain strings reach CE without a language ("a list
# of plain strings, or keyed @none", cass-export.md); {"@value", "@language"} keeps its tag.
_UNTAGGED_TEXT = frozenset({"ceasn:tableOfContents"})
# competencyPromise renames after compaction
_COMPETENCY_RENAMES = {"ceasn:name": "ceasn:competencyText", "ceasn:description": "ceasn:comment"}
# relation type -> (property on the source, property on the target); cassFrameworkAsCeasn
_ALIGNMENTS = {
    "isEquivalentTo": ("ceasn:exactAlignment", "ceasn:exactAlignment"),
    "majorRelated": ("ceasn:majorAlignment", "ceasn:majorAlignment"),
    "minorRelated": ("ceasn:minorAlignment", "ceasn:minorAlignment"),
    "requires": ("ceasn:prerequisiteAlignment", None),
}
_STRUCTURE = frozenset({"@context", "@id", "@type", "competency", "relation", "owner", "@owner", "reader"})

TEXT, UNTAGGED, AS_SENT, DROPPED = "text", "untagged", "as-sent", "dropped"

CassObject = dict[str, Any]
Json = dict[str, Any]


@dataclass(frozen=True)
class ExportTerm:
    """What the export makes of one CASS property on one row type."""

    column: str  # the CSV column that sends it
    term: str | None  # the CTDL-ASN term CE sees; None = dropped
    handling: str  # text | untagged | as-sent | dropped
    reason: str = ""
    many: bool = False  # each language's texts a list (stripNonCe, "many per language")


@dataclass(frozen=True)
class ExportRules:
    """(row type, CASS property) -> ExportTerm, from the descriptor."""

    terms: dict[tuple[str, str], ExportTerm]

    def get(self, row_type: str, prop: str) -> ExportTerm | None:
        return self.terms.get((row_type, prop))

    def column_for(self, row_type: str, term: str) -> str | None:
        """The CSV column whose values CE shows under ``term`` (for the verification's words)."""
        for (row, _), rule in self.terms.items():
            if row == row_type and rule.term == term:
                return rule.column
        return None

    def reason_for(self, row_type: str, column: str) -> str:
        """The descriptor's words for what the export does to ``column`` ("" when it keeps it)."""
        for (row, _), rule in self.terms.items():
            if row == row_type and rule.column == column and rule.reason:
                return rule.reason
        return ""


def _handling(jsonld: str | None, export: Mapping[str, Any]) -> str:
    term, form = export.get("term"), str(export.get("form") or "")
    if not term or form == "dropped":
        return DROPPED
    if jsonld in ("languageMap", "languageMapList") or form.startswith("language-map"):
        # a language map in CTDL-ASN; plain strings tagged en-us by cass2ceasn.json, but for the
        # few text terms that context does not define
        return UNTAGGED if term in _UNTAGGED_TEXT else TEXT
    return AS_SENT


def export_rules(schema: TemplateSchema | None = None) -> ExportRules:
    """The export's renames and losses, per column, from ``competencyCi.cass`` and ``.export``."""
    schema = schema or load_schema()
    terms: dict[tuple[str, str], ExportTerm] = {}
    for column in schema.columns.values():
        prop = column.extra.get("cass")
        if not isinstance(prop, str):
            continue
        export = column.extra.get("export")
        if not isinstance(export, Mapping):
            # not recorded yet: a ceasn:/ceterms:/asn: name passes stripNonCe as it is
            kept = prop.startswith(_CE_PREFIXES)
            export = {"term": prop if kept else None, "form": "" if kept else "dropped"}
        term = export.get("term")
        many = str(export.get("form") or "") == "language-map-list"
        rule = ExportTerm(
            column.name,
            str(term) if term else None,
            _handling(column.jsonld, export),
            str(export.get("reason") or ""),
            many,
        )
        for row in column.rows:
            terms[(row, prop)] = rule
    return ExportRules(terms)


@cache
def default_rules() -> ExportRules:
    return export_rules()


# --- values ----------------------------------------------------------------------------------


def _items(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == [] or value == {}


def _language_map(value: Any, default: str | None, many: bool) -> Json | list[str] | None:
    """Text values -> ``{language: text}`` (``@none`` for untagged values), as compaction gives."""
    tagged: dict[str, list[str]] = {}
    for item in _items(value):
        if isinstance(item, str):
            text, lang = item, default
        elif isinstance(item, dict) and "@value" in item:
            text = str(item["@value"])
            lang = item.get("@language") if isinstance(item.get("@language"), str) else None
            lang = lang.lower() if lang else None
        else:
            continue  # a node under a text term says nothing CE reads
        tagged.setdefault(lang or "@none", []).append(text)
    if not tagged:
        return None
    if default is None and set(tagged) == {"@none"}:
        return tagged["@none"]  # cass-export.md: tableOfContents "a list of plain strings"
    return {lang: texts if many or len(texts) > 1 else texts[0] for lang, texts in tagged.items()}


def _literal(item: Any) -> Any:
    """One value as compaction gives it: typed literals as their value, nodes compacted."""
    if isinstance(item, dict):
        if "@value" in item and "@language" not in item:
            return item["@value"]
        if "@value" in item:
            return {str(item["@language"]).lower(): item["@value"]}
        return {k: _node_value(v) for k, v in item.items() if not _blank(v)}
    return item


def _node_value(value: Any) -> Any:
    """A value inside an embedded node (e.g. an IdentifierValue): tagged text as a language map."""
    if isinstance(value, list):
        return [_literal(v) for v in value]
    return _literal(value)


def _shape(term: str, values: list[Any]) -> Any:
    """stripNonCe's arrays: single values stay single only for the keys it exempts."""
    values = [_literal(v) for v in values if not _blank(v)]
    if not values:
        return None
    if len(values) == 1 and (term.startswith(_SINGLE) or isinstance(values[0], dict)):
        return values[0]
    return values


def _export_value(term: str, handling: str, value: Any, many: bool = False) -> Any:
    if term in _TYPED:
        value = [v for v in _items(value) if isinstance(v, dict) and v.get("@type") in _TYPED[term]]
    many = many or term in _MANY_PER_LANGUAGE
    if handling == TEXT:
        return _language_map(value, DEFAULT_TEXT_LANGUAGE, many)
    if handling == UNTAGGED:
        return _language_map(value, None, many)
    return _shape(term, _items(value))


# --- nodes -----------------------------------------------------------------------------------


def _ctid(obj: Mapping[str, Any]) -> str:
    """``ceterms:ctid`` as sent, else ``ce-`` + the guid (a UUID) or a UUIDv3 of the short id."""
    ctid = obj.get("ceterms:ctid")
    if not isinstance(ctid, str) or not ctid:
        object_id = str(obj.get("@id", ""))
        key = guid(object_id)
        ctid = key if _UUID.match(key) else str(uuid.uuid3(_NIL, short_id(object_id)))
    return ctid if ctid.startswith("ce-") else "ce-" + ctid


def _properties(obj: Mapping[str, Any], row_type: str, rules: ExportRules, node: Json) -> None:
    for prop, value in obj.items():
        if prop in _STRUCTURE or _blank(value):
            continue
        rule = rules.get(row_type, prop)
        if rule is None:
            if not prop.startswith(_CE_PREFIXES[:3]):
                continue  # stripNonCe: not a CTDL-ASN name
            term, handling, many = prop, AS_SENT, False
        elif rule.term is None:
            continue
        else:
            term, handling, many = rule.term, rule.handling, rule.many
        if row_type == COMPETENCY:
            term = _COMPETENCY_RENAMES.get(term, term)
        exported = _export_value(term, handling, value, many)
        if exported is not None:
            node[term] = exported


def _sorted(node: Json) -> Json:
    """orderFields: keys in sorted order."""
    return {key: node[key] for key in sorted(node)}


def _framework_node(fw: Mapping[str, Any], rules: ExportRules) -> Json:
    obj = dict(fw)
    publishers = [p for p in _items(obj.get("schema:publisher")) if isinstance(p, str)]
    names = [p for p in publishers if "http" not in p]
    if names:  # "If schema:publisher field is not a URI, put data in ceasn:publisherName field"
        obj["schema:publisher"] = [p for p in publishers if "http" in p]
        obj["ceasn:publisherName"] = [*_items(obj.get("ceasn:publisherName") or []), *names]
    if _blank(obj.get("description")):
        obj["description"] = obj.get("name")  # "if (f.description == null) f.description = f.name"
    obj["schema:identifier"] = _identifiers(obj.get("schema:identifier"))
    node: Json = {"@id": str(fw.get("@id", "")), "@type": FRAMEWORK_TYPE}
    _properties(obj, FRAMEWORK, rules, node)
    node.setdefault("ceasn:inLanguage", [DEFAULT_LANGUAGE])
    node["ceterms:ctid"] = _ctid(fw)
    return node


def _identifiers(value: Any) -> list[str] | None:
    """ "If schema:identifier is not a URI, remove from translation"."""
    if value is None:
        return None
    return [v for v in _items(value) if isinstance(v, str) and "http" in v] or None


def _competency_node(comp: Mapping[str, Any], row_rules: ExportRules) -> Json:
    obj = dict(comp)
    if _blank(obj.get("name")) and not _blank(obj.get("description")):
        obj["name"], obj["description"] = obj["description"], None
    obj["schema:identifier"] = _identifiers(obj.get("schema:identifier"))
    node: Json = {"@id": str(comp.get("@id", "")), "@type": COMPETENCY_TYPE}
    _properties(obj, COMPETENCY, row_rules, node)
    node.setdefault("ceasn:inLanguage", [DEFAULT_LANGUAGE])
    node["ceterms:ctid"] = _ctid(comp)
    return node


def _lookup(objects: Mapping[str, CassObject], ref: Any) -> CassObject | None:
    if not isinstance(ref, str):
        return None
    return objects.get(ref) or objects.get(short_id(ref))


def ceasn_export(
    framework: Mapping[str, Any],
    objects: Mapping[str, CassObject],
    rules: ExportRules | None = None,
) -> Json:
    """The export of ``framework``; ``objects`` = stored competencies and relations by (short) id.

    Listed objects that are missing (deleted) are skipped, as the export skips what it cannot get.
    """
    rules = rules or default_rules()
    fw_id = str(framework.get("@id", ""))
    listed = [str(c) for c in framework.get("competency") or [] if isinstance(c, str)]
    members = frozenset(listed)  # allCompetencies.indexOf(...) != -1
    comps: dict[str, CassObject] = {}
    for ref in listed:
        found = _lookup(objects, ref)
        if found is not None and ref not in comps:
            comps[ref] = found
    by_any: dict[str, str] = {}  # any id of a competency -> the framework list entry
    for ref, comp in comps.items():
        for key in (ref, str(comp.get("@id", "")), short_id(str(comp.get("@id", "")))):
            by_any.setdefault(key, ref)
    extra: dict[str, dict[str, list[str]]] = {ref: {} for ref in comps}

    def add(ref: str | None, prop: str, value: str) -> None:
        if ref is not None:
            extra[ref].setdefault(prop, []).append(value)

    def id_of(end: str) -> str:
        ref = by_any.get(end)
        return str(comps[ref].get("@id", end)) if ref is not None else end

    for rid in framework.get("relation") or []:
        rel = _lookup(objects, rid)
        if rel is None:
            continue
        source, target = rel.get("source"), rel.get("target")
        if not isinstance(source, str) or not isinstance(target, str) or not source or not target:
            continue
        rtype = rel.get("relationType")
        src, tgt = by_any.get(source), by_any.get(target)
        if rtype == "narrows":
            if target in (fw_id, short_id(fw_id)):
                continue
            if source in members and target in members:
                add(src, "ceasn:isChildOf", id_of(target))
                add(tgt, "ceasn:hasChild", id_of(source))
            else:
                add(src, "ceasn:broadAlignment", id_of(target))
                add(tgt, "ceasn:narrowAlignment", id_of(source))
        elif rtype in _ALIGNMENTS:
            on_source, on_target = _ALIGNMENTS[str(rtype)]
            add(src, on_source, id_of(target))
            if on_target:
                add(tgt, on_target, id_of(source))

    order = {str(comps[r].get("@id", r)): i for i, r in enumerate(comps)}
    fw_node = _framework_node(framework, rules)
    nodes: list[Json] = []
    top: list[str] = []
    for ref, comp in comps.items():
        node = _competency_node(comp, rules)
        for prop, values in extra[ref].items():
            if prop == "ceasn:hasChild":  # sorted by allCompetencies.indexOf
                values = sorted(values, key=lambda v: order.get(v, -1))
            node[prop] = [*_items(node.get(prop) or []), *values] if prop in node else values
        node["ceasn:isPartOf"] = fw_id
        if "ceasn:isChildOf" not in node:
            node["ceasn:isTopChildOf"] = fw_id
            top.append(node["@id"])
        nodes.append(_sorted(node))
    if top:
        fw_node["ceasn:hasTopChild"] = top
    graph: list[Json] = [_sorted(fw_node)]
    seen = {fw_node["@id"]}
    for node in nodes:
        if node["@id"] not in seen:  # "if (results[j]["@id"] == competencies[k]["@id"]) found"
            seen.add(node["@id"])
            graph.append(node)
    return {"@context": CE_CONTEXT, "@graph": graph}


COLLECTION_SUBTYPE = "Collection"  # CTDLASNCSVImport.js l.957: ``f.subType = "Collection"``


def is_collection(obj: Mapping[str, Any]) -> bool:
    """A CASS Framework object that CASS's collection import made (and exports as a collection)."""
    return obj.get("subType") == COLLECTION_SUBTYPE


def collection_export(collection: Mapping[str, Any], rules: ExportRules | None = None) -> Json:
    """The export of a collection: one ``ceterms:Collection`` node, its CASS properties renamed by
    the collection term map (``cass2ceasncollectionTerms``: ``name`` -> ``ceterms:name``, ...;
    the descriptor's export facts for collection rows) and its ``competency`` list as
    ``ceterms:hasMember``. [inference] The member competencies are not modelled as nodes of their
    own: the collection maps say nothing about them."""
    rules = rules or default_rules()
    node: Json = {"@id": str(collection.get("@id", "")), "@type": "ceterms:Collection"}
    node["ceterms:ctid"] = _ctid(collection)
    _properties(collection, COLLECTION, rules, node)
    members = [str(c) for c in collection.get("competency") or [] if isinstance(c, str)]
    if members:
        node["ceterms:hasMember"] = members
    node.pop("subType", None)
    return {"@context": CE_CONTEXT, "@graph": [_sorted(node)]}


def framework_objects(items: Iterable[Mapping[str, Any]]) -> dict[str, CassObject]:
    """Objects by short id, as ``ceasn_export`` takes them."""
    return {short_id(str(o["@id"])): dict(o) for o in items if isinstance(o.get("@id"), str)}
