"""Framework model -> native CASS objects (Framework, Competency, Relation; cass-api.md §3.1).

Which CASS property each CSV column becomes is read from the schema descriptor (each field's
``competencyCi.cass``), derived from CASS's own CE support: the CTDL-ASN profile of the CASS editor
(cassproject/cass-editor ``src/mixins/ctdlasnProfile.js``) and the CTDL-ASN adapter of the server
(cassproject/CASS ``src/main/server/cartridge/adapter/ceasn.js``). A string is a property name; an
object ``{"relation": type, "reverse": bool}`` makes the column's values ``Relation`` objects, as
the adapter's importer does for alignments; ``null`` marks structure (identity, hierarchy).

Ids (cass-api.md §3.2):

* Frameworks and competencies get the canonical registry URI of their CTID as ``@id``. These ids
  are not under the server's base, so CASS files them under ``md5(@id)`` and numbers their versions
  1, 2, 3... itself: the ``@id`` never carries a version.
* Relations have no CTID. They get CASS-native ids ``{cass_base}data/{type}/{uuid5(...)}``, the form
  CASS itself gives relations (``EcAlignment.generateId``), so the editor and the CTDL-ASN export
  treat them as ordinary relations. Native ids carry their version as a trailing timestamp, which
  the publisher appends at write time (``versioned_id``). The uuid is derived from the relation's
  ends and type, so a re-run finds the same id; a relation the server already lists in the
  framework with the same ends and type keeps its id, whatever server base it was written under.

What CE sees is CASS's CTDL-ASN export of these objects (``GET /api/ceasn/{uid}``), so values are
sent in the forms that export carries to CE (the descriptor's ``competencyCi.export`` per column,
cass-export.md): the user's dates under their ``ceasn:`` names (``schema:dateCreated`` and
``schema:dateModified`` are CASS's own record timestamps, which the export drops, and are left to
CASS); text as ``{"@value", "@language"}`` in the framework's language (the key ``convert`` gives
its language maps), since the export tags plain strings ``en-us``; every competency with its
language, since the export gives one without ``["en"]``; version identifiers as
``ceterms:IdentifierValue`` objects, as ``convert`` and CASS's CSV importer build them; numbers
typed ``xsd:float``, the type CE's context gives them; occupation, industry and program types as
``ceterms:CredentialAlignmentObject`` nodes, as ``convert`` builds them. Values the export drops or
reshapes whatever is sent are listed per cell (``MappedFramework.losses``).

Every object has a distinct id: a framework or competency without a CTID, or two objects on one
id, is an internal error (``IdentityError``), never a publish.

Everything here is pure: the caller hands in what the server holds (``existing``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from competency_ci.frameworks.build import is_ctid
from competency_ci.frameworks.jsonld import alignment_object, identifier_value, language_key, resource_uri
from competency_ci.frameworks.model import Competency, Framework, Value
from competency_ci.schema import COMPETENCY, FRAMEWORK, Column, TemplateSchema, load_schema
from competency_ci.targets.cass.ids import short_id, timestamp

CONTEXT = "https://schema.cassproject.org/0.4"
FRAMEWORK_TYPE, COMPETENCY_TYPE, RELATION_TYPE = "Framework", "Competency", "Relation"
RELATION_PATH = "data/schema.cassproject.org.0.4.Relation/"
# A fixed namespace: relation ids must be identical on every machine and every run.
RELATION_NAMESPACE = uuid.UUID("6f3c1f0e-8a4e-5d52-9a57-2f1b3c0de0c1")
# Fields CASS or the JS library may add that say nothing about the content (object signatures are
# over the old content; we do not sign objects, cass-api.md §2.2 "Optional object signature").
SIGNATURE_KEYS = frozenset({"signature", "@signature", "signatureSha256", "@signatureSha256"})
STRUCTURE_KEYS = frozenset({"@context", "@id", "@type", "owner", "@owner", "competency", "relation"})

CassObject = dict[str, Any]
# Containers (the descriptor's ``jsonld``) whose values are text in a language.
TEXT_CONTAINERS = frozenset({"languageMap", "languageMapList"})
# CTDL-ASN's numbers (``ceasn:weight``) are xsd:float. CASS's context gives them no datatype, so a
# plain string or number compacts to no CE term and the export deletes it; a typed value survives.
XSD_FLOAT = "http://www.w3.org/2001/XMLSchema#float"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"  # ceterms:identifierValueCode's type at CE


class IdentityError(RuntimeError):
    """Internal error: the mapping would give two objects one id, or an object no CTID. The
    validator refuses such files (missing-ctid, duplicate-ctid), so this is a bug, never input."""


@dataclass(frozen=True)
class ExportLoss:
    """A cell whose value CE will not see as written when it is published through CASS."""

    line: int
    column: str
    code: str  # not-shown-by-ce | reshaped-by-ce
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.column}: {self.reason}"


@dataclass(frozen=True)
class Item:
    """One object the publisher wants on the server, with what a person needs to recognise it."""

    id: str  # short id (no version)
    kind: str  # framework | competency | relation
    label: str
    data: CassObject


@dataclass
class MappedFramework:
    """The CASS objects for one framework: competencies (file order), relations, framework last."""

    framework: Framework
    id: str
    items: list[Item] = field(default_factory=list)
    losses: list[ExportLoss] = field(default_factory=list)  # file order

    @property
    def ids(self) -> list[str]:
        return [item.id for item in self.items]

    @property
    def label(self) -> str:
        return f"{self.framework.path}: {self.framework.name} ({self.framework.ctid})"


@dataclass(frozen=True)
class CassMapping:
    """The descriptor's ``cass`` keys, split into properties and relations."""

    properties: dict[str, tuple[Column, str]]  # column name -> (column, CASS property)
    relations: dict[str, tuple[Column, str, bool]]  # column name -> (column, type, reverse)
    hierarchy: str  # relation type of ``ceasn:isChildOf``

    def property_columns(self, row_type: str) -> list[tuple[Column, str]]:
        return [(c, p) for c, p in self.properties.values() if c.applies_to(row_type)]

    def column_for(self, prop: str, row_type: str) -> str:
        """The CSV column a CASS property comes from (for a plan's reasons)."""
        for column, name in self.properties.values():
            if name == prop and column.applies_to(row_type):
                return column.name
        return prop

    @property
    def known_keys(self) -> frozenset[str]:
        return frozenset(p for _, p in self.properties.values()) | STRUCTURE_KEYS


def cass_mapping(schema: TemplateSchema | None = None) -> CassMapping:
    schema = schema or load_schema()
    properties: dict[str, tuple[Column, str]] = {}
    relations: dict[str, tuple[Column, str, bool]] = {}
    for column in schema.columns.values():
        target = column.extra.get("cass")
        if isinstance(target, str):
            properties[column.name] = (column, target)
        elif isinstance(target, dict) and column.references is None:
            relations[column.name] = (column, str(target["relation"]), bool(target.get("reverse")))
    child_of = schema.columns["ceasn:isChildOf"].extra.get("cass") or {}
    return CassMapping(properties, relations, str(child_of.get("relation", "narrows")))


def normalise_pem(pem: str) -> str:
    """Owner keys compare without whitespace: CASS stores single-line PEM, editors may not (§2.2)."""
    return "".join(pem.split())


def owners_of(obj: Mapping[str, Any] | None) -> list[str]:
    if not obj:
        return []
    value = obj.get("owner", obj.get("@owner"))
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def is_owner(obj: Mapping[str, Any] | None, owner_pem: str) -> bool:
    return normalise_pem(owner_pem) in {normalise_pem(o) for o in owners_of(obj)}


def relation_id(cass_base: str, source: str, target: str, relation_type: str) -> str:
    """Deterministic native relation id: same ends and type, same id on every run (§3.3)."""
    name = f"{source} {relation_type} {target}"
    return f"{cass_base}{RELATION_PATH}{uuid.uuid5(RELATION_NAMESPACE, name)}"


def versioned_id(item_id: str, stored: Mapping[str, Any] | None, server_now_ms: int) -> str:
    """The ``@id`` to write: native ids carry a strictly newer timestamp, others none (§3.2).

    A version that is not newer than the stored one is silently dropped by multiPut yet reported
    as saved, so the timestamp is ``max(server now, stored version + 1)``.
    """
    if "/api/data/" not in item_id:
        return item_id
    previous = timestamp(str(stored["@id"])) if stored and "@id" in stored else None
    return f"{item_id}/{max(server_now_ms, (previous or 0) + 1)}"


def _uri(registry_url: str, column: Column, value: str) -> str:
    """CTIDs in reference columns become the canonical registry URI, like the ``@id``s."""
    if column.kind == "ctid-or-uri" and is_ctid(value):
        return resource_uri(registry_url, value)
    return value


def tagged(text: str, lang: str) -> dict[str, str]:
    """A text with its language, the one form CASS's export keeps the language of."""
    return {"@value": text, "@language": lang}


def _value(registry_url: str, column: Column, value: Value, lang: str) -> Any:
    """A model value in the form CASS's export carries to CE (the column's ``jsonld`` container)."""
    container = column.jsonld
    if container in TEXT_CONTAINERS:
        if container == "languageMap":
            return tagged(value if isinstance(value, str) else " | ".join(value), lang)
        return [tagged(v, lang) for v in ([value] if isinstance(value, str) else value)]
    if container == "versionIdentifier":
        pieces = [value] if isinstance(value, str) else value
        return [
            identifier_value(
                piece,
                lambda text: tagged(text, lang),
                code=lambda code: {"@value": code, "@type": XSD_STRING},
                ref=lambda uri: {"@id": uri},
            )
            for piece in pieces
        ]
    if container == "alignmentList":
        targets = [value] if isinstance(value, str) else value
        return [
            alignment_object(_uri(registry_url, column, t), ref=lambda uri: {"@id": uri}) for t in targets
        ]
    if column.kind == "number" and isinstance(value, str):
        return {"@value": value, "@type": XSD_FLOAT}
    if isinstance(value, list):
        return [_uri(registry_url, column, v) for v in value]
    return _uri(registry_url, column, value)


def _losses(obj: Framework | Competency, columns: list[tuple[Column, str]]) -> list[ExportLoss]:
    found = []
    for column, _ in columns:
        fact = column.export_loss
        value = obj.properties.get(column.name)
        if fact is None or value is None:
            continue
        if fact.loses(1 if isinstance(value, str) else len(value)):
            found.append(ExportLoss(obj.line, column.name, fact.problem_code, fact.reason))
    return found


def _merge_owners(stored: Mapping[str, Any] | None, ours: Iterable[str]) -> list[str]:
    """Existing owners first and unchanged (co-owners are kept), then ours if missing."""
    result = owners_of(stored)
    seen = {normalise_pem(o) for o in result}
    for pem in ours:
        if normalise_pem(pem) not in seen:
            result.append(pem)
            seen.add(normalise_pem(pem))
    return result


class _Mapper:
    def __init__(
        self,
        registry_url: str,
        cass_base: str,
        owner_pem: str,
        existing: Mapping[str, CassObject],
        mapping: CassMapping,
    ) -> None:
        self.registry_url = registry_url
        self.cass_base = cass_base
        self.owner_pem = owner_pem
        self.existing = existing
        self.mapping = mapping
        self.known = mapping.known_keys | SIGNATURE_KEYS
        self.columns = {row: mapping.property_columns(row) for row in (FRAMEWORK, COMPETENCY)}
        self.language = next(
            (p for c, p in self.columns[COMPETENCY] if c.kind == "language"), None
        )  # the CASS property of a competency's language

    def uri(self, ctid: str) -> str:
        return resource_uri(self.registry_url, ctid)

    def body(self, obj: Framework | Competency, row_type: str, lang: str) -> tuple[CassObject, list[str]]:
        """Properties from the descriptor's mapping, plus owners named in the ``owner`` column."""
        data: CassObject = {}
        extra_owners: list[str] = []
        for column, prop in self.columns[row_type]:
            if column.kind == "ctid":
                if obj.ctid:
                    data[prop] = obj.ctid
                continue
            value = obj.properties.get(column.name)
            if value is None:
                continue
            if prop == "owner":
                extra_owners.extend([value] if isinstance(value, str) else value)
                continue
            data[prop] = _value(self.registry_url, column, value, lang)
        return data, extra_owners

    def finish(self, item_id: str, type_: str, data: CassObject, extra_owners: list[str]) -> CassObject:
        stored = self.existing.get(item_id)
        obj: CassObject = {"@context": CONTEXT, "@id": item_id, "@type": type_}
        obj.update(data)
        if stored:  # keep what no column maps to (set in the CASS editor, added by the server)
            for key, value in stored.items():
                if key not in self.known and key not in obj:
                    obj[key] = value
        obj["owner"] = _merge_owners(stored, [self.owner_pem, *extra_owners])
        return obj

    def relations(self, framework: Framework, stored_fw: CassObject | None) -> list[Item]:
        """Hierarchy (``narrows``: source = child, target = parent) and alignment relations."""
        reuse: dict[tuple[str, str, str], str] = {}
        for rid in (stored_fw or {}).get("relation", []) or []:
            rel = self.existing.get(short_id(str(rid)))
            if rel and rel.get("@type") in (RELATION_TYPE, f"{CONTEXT}/{RELATION_TYPE}"):
                key = (str(rel.get("source")), str(rel.get("target")), str(rel.get("relationType")))
                reuse.setdefault(key, short_id(str(rid)))
        wanted: list[tuple[str, str, str, str]] = []
        for comp in framework.competencies:
            here = self.uri(comp.ctid)
            if comp.parent is not None:
                label = f"{comp.ctid} {self.mapping.hierarchy} {comp.parent.ctid} (child of)"
                wanted.append((here, self.uri(comp.parent.ctid), self.mapping.hierarchy, label))
            for name, (column, rtype, reverse) in self.mapping.relations.items():
                value = comp.properties.get(name)
                for other in [value] if isinstance(value, str) else value or []:
                    other = _uri(self.registry_url, column, other)
                    source, target = (other, here) if reverse else (here, other)
                    wanted.append((source, target, rtype, f"{comp.ctid} {name} {other}"))
        items: list[Item] = []
        seen: set[tuple[str, str, str]] = set()
        for source, target, rtype, label in wanted:
            if (source, target, rtype) in seen:
                continue
            seen.add((source, target, rtype))
            rid = reuse.get((source, target, rtype)) or relation_id(self.cass_base, source, target, rtype)
            data = {"relationType": rtype, "source": source, "target": target}
            items.append(Item(rid, "relation", label, self.finish(rid, RELATION_TYPE, data, [])))
        return items


def map_framework(
    framework: Framework,
    *,
    registry_url: str,
    cass_base: str,
    owner_pem: str,
    existing: Mapping[str, CassObject] | None = None,
    mapping: CassMapping | None = None,
    default_language: str = "en-US",
) -> MappedFramework:
    """The CASS objects for ``framework``. ``existing``: stored objects by short id (may be empty);
    ``default_language``: the configured language, for a framework without ``ceasn:inLanguage``."""
    _require_ctids(framework)
    mapper = _Mapper(registry_url, cass_base, owner_pem, existing or {}, mapping or cass_mapping())
    lang = language_key(framework, default_language)
    languages = framework.languages or [default_language]
    fw_id = mapper.uri(framework.ctid)
    result = MappedFramework(framework, fw_id)
    result.losses.extend(_losses(framework, mapper.columns[FRAMEWORK]))
    for comp in framework.competencies:
        cid = mapper.uri(comp.ctid)
        data, owners = mapper.body(comp, COMPETENCY, lang)
        if mapper.language is not None and mapper.language not in data:
            data[mapper.language] = list(languages)  # else CASS's export says ["en"]
        label = f"{comp.ctid} {_excerpt(comp.text)}"
        result.items.append(Item(cid, "competency", label, mapper.finish(cid, COMPETENCY_TYPE, data, owners)))
        result.losses.extend(_losses(comp, mapper.columns[COMPETENCY]))
    relations = mapper.relations(framework, mapper.existing.get(fw_id))
    result.items.extend(relations)
    data, owners = mapper.body(framework, FRAMEWORK, lang)
    data["competency"] = [mapper.uri(c.ctid) for c in framework.competencies]
    data["relation"] = [r.id for r in relations]
    fw_obj = mapper.finish(fw_id, FRAMEWORK_TYPE, data, owners)
    result.items.append(Item(fw_id, "framework", f"{framework.ctid} {_excerpt(framework.name)}", fw_obj))
    _require_distinct_ids(result)
    return result


def _require_ctids(framework: Framework) -> None:
    objects: list[Framework | Competency] = [framework, *framework.competencies]
    for obj in objects:
        if not obj.ctid:
            raise IdentityError(
                f"internal error: {framework.path}:{obj.line}: {obj.id!r} has no CTID, so it has no id "
                "to publish under (the validator reports this as missing-ctid)"
            )


def _require_distinct_ids(result: MappedFramework) -> None:
    """The invariant: one object per id (a collapse would silently merge objects on the server)."""
    seen: dict[str, Item] = {}
    for item in result.items:
        other = seen.setdefault(item.id, item)
        if other is not item:
            raise IdentityError(
                f"internal error: {result.framework.path}: {other.kind} {other.label} and "
                f"{item.kind} {item.label} would both be published as {item.id}"
            )


def _excerpt(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return f'"{text}"' if len(text) <= width else f'"{text[: width - 1]}…"'


def _where(column: Column) -> str:
    """Where a column goes in CASS, for the tables."""
    target = column.extra.get("cass")
    if isinstance(target, str):
        return f"`{target}`"
    if isinstance(target, dict):
        ends = "source = the aligned item, target = this" if target.get("reverse") else "source = this"
        if column.references is not None:
            ends = "source = the child, target = the parent"
        return f"`Relation` `{target['relation']}` ({ends})"
    if column.kind == "id":
        return "`@id` = the canonical registry URI `{registry}/resources/{ctid}`"
    if column.kind == "type":
        return "`@type` `Framework` / `Competency`"
    if column.references == FRAMEWORK:
        return "membership: the framework's `competency` list, in file order"
    return "not sent: the hierarchy comes from `ceasn:isChildOf` (as in the model)"


def mapping_table(schema: TemplateSchema | None = None) -> str:
    """The README's mapping table from the descriptor (``python -m competency_ci.targets.cass.mapping``)."""
    schema = schema or load_schema()
    lines = ["| CSV column | rows | in CASS |", "|---|---|---|"]
    for column in schema.columns.values():
        rows = ", ".join(sorted(column.rows))
        lines.append(f"| `{column.name}` | {rows} | {_where(column)} |")
    return "\n".join(lines) + "\n"


FORMS = {
    "as-sent": "as written",
    "single": "one value",
    "strings": "a list",
    "language-map": "text keyed by the framework's language",
    "language-map-list": "texts keyed by the framework's language",
    "language-map-single-when-one": "texts keyed by the framework's language (one text: not a list)",
    "identifier-value": "`ceterms:IdentifierValue` objects",
    "alignment-objects": "`ceterms:CredentialAlignmentObject` objects",
    "single-when-one": "a list (one value: a single value)",
    "dropped": "nothing",
}


def export_table(schema: TemplateSchema | None = None) -> str:
    """What CE sees of each column through CASS's CTDL-ASN export, from the descriptor's ``export``
    (``python -m competency_ci.targets.cass.mapping export``)."""
    schema = schema or load_schema()
    lines = ["| CSV column | sent to CASS as | CE sees | shape | note |", "|---|---|---|---|---|"]
    for column in schema.columns.values():
        fact = column.export
        if fact is None:
            lines.append(f"| `{column.name}` | {_where(column)} | nothing (not published) | | |")
            continue
        term = f"`{fact.term}`" if fact.term else "**nothing**"
        shape = FORMS.get(fact.form, fact.form)
        note = fact.reason + (f" ({fact.problem_code} warning)" if column.export_loss else "")
        lines.append(f"| `{column.name}` | {_where(column)} | {term} | {shape} | {note} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    import sys

    print(export_table() if sys.argv[1:] == ["export"] else mapping_table(), end="")
