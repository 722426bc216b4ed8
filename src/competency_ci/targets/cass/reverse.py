"""Native CASS objects -> the framework model: ``mapping.map_framework`` in reverse.

The same ``CassMapping`` (the descriptor's per-column ``competencyCi.cass``) drives both directions,
so a column added to the descriptor is published and pulled without code here. Each value is read
in every shape the publisher has sent, so frameworks published by older versions pull too:

* text as ``{"@value", "@language"}`` objects (now), as plain strings (before), or as a language
  map ``{lang: text}`` (CASS's editor);
* version identifiers as ``ceterms:IdentifierValue`` objects (type name tagged, a language map or
  a plain string), or as the plain ``code~name~type`` string;
* references as the canonical registry URI of a CTID, given back as the CTID the file held.

What the publisher adds that a file did not hold is taken out again: the key's own ``owner``
entry, and a competency's ``schema:inLanguage`` when it is the framework's (``map_framework``
gives every competency its framework's languages). Hierarchy and alignments come back from the
framework's ``Relation`` objects: a ``narrows`` relation between two competencies of the framework
is the child's parent (source = child, as CASS's export reads it), every other relation the
alignment column of its type. What cannot be carried into the CSV is listed in ``notes``.

Pure: the caller hands in the framework object and the stored objects it lists.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from competency_ci.frameworks.build import ctid_pattern, is_ctid
from competency_ci.frameworks.jsonld import resource_uri
from competency_ci.frameworks.model import Competency, Framework, Value
from competency_ci.schema import COMPETENCY, FRAMEWORK, Column
from competency_ci.targets.cass.ids import short_id
from competency_ci.targets.cass.mapping import (
    SIGNATURE_KEYS,
    TEXT_CONTAINERS,
    CassMapping,
    CassObject,
    cass_mapping,
    normalise_pem,
    owners_of,
)

# CASS's own record fields: the server and its editor set them; no column maps to them.
SERVER_KEYS = frozenset({"schema:dateCreated", "schema:dateModified", "reader", "@reader"})
SEPARATOR = " | "  # how the publisher joins a list it sends as one text (``mapping._value``)


@dataclass
class Pulled:
    """One framework read back from CASS, and what could not be carried into its CSV."""

    framework: Framework
    notes: list[str] = field(default_factory=list)


def ctid_of(obj: Mapping[str, Any]) -> str:
    """The object's CTID: ``ceterms:ctid``, else the CTID its ``@id`` ends with, else ''."""
    value = obj.get("ceterms:ctid")
    if isinstance(value, str) and is_ctid(value.strip().lower()):
        return value.strip().lower()
    object_id = short_id(str(obj.get("@id", "")))
    tail = object_id.rstrip("/").rsplit("/", 1)[-1].lower()
    if "/api/data/" in object_id and not tail.startswith("ce-"):
        tail = f"ce-{tail}"  # a CASS-native id: its export's CTID is ``ce-{guid}`` (cass-api.md §3.3)
    return tail if ctid_pattern().fullmatch(tail) else ""


def _text(item: Any, lang: str) -> list[str]:
    """Text in any shape the publisher or CASS's editor wrote it."""
    if isinstance(item, list):
        return [t for piece in item for t in _text(piece, lang)]
    if isinstance(item, dict):
        if "@value" in item:
            return _text(item["@value"], lang)
        if "@id" in item:
            return _text(item["@id"], lang)
        if "ceterms:targetNode" in item:  # an alignment object (occupationType, ...): its target
            return _text(item["ceterms:targetNode"], lang)
        if not item:
            return []
        key = lang if lang in item else next((k for k in item if k.lower() == lang), next(iter(item)))
        return _text(item[key], lang)
    if isinstance(item, bool) or item is None:
        return []
    text = str(item)
    return [text] if text.strip() else []


def _identifier(item: Any, lang: str) -> str:
    """A ``ceterms:IdentifierValue`` as the cell's ``code~name~type`` (a plain string as it is)."""
    if not isinstance(item, dict) or "@value" in item:
        return SEPARATOR.join(_text(item, lang))
    name = SEPARATOR.join(_text(item.get("ceterms:identifierTypeName"), lang))
    type_uri = SEPARATOR.join(_text(item.get("ceterms:identifierType"), lang))
    parts = [SEPARATOR.join(_text(item.get("ceterms:identifierValueCode"), lang)), name, type_uri]
    while parts and not parts[-1]:
        parts.pop()
    return "~".join(parts)


def unvalue(registry_url: str, column: Column, raw: Any, lang: str) -> Value | None:
    """A stored CASS value as the model holds it: the reverse of ``mapping._value``."""
    container = column.jsonld
    if container == "versionIdentifier":
        items = [_identifier(i, lang) for i in (raw if isinstance(raw, list) else [raw])]
        values = [v for v in items if v]
    else:
        values = _text(raw, lang)
        if container not in TEXT_CONTAINERS and column.kind == "ctid-or-uri":
            values = [_abbreviate(registry_url, v) for v in values]
    if not values:
        return None
    if column.multiple:
        return values
    return values[0] if len(values) == 1 else SEPARATOR.join(values)


def _abbreviate(registry_url: str, value: str) -> str:
    """The canonical registry URI of a CTID back to the CTID the file held (``mapping._uri``)."""
    tail = value.rstrip("/").rsplit("/", 1)[-1].lower()
    if ctid_pattern().fullmatch(tail) and resource_uri(registry_url, tail) == value:
        return tail
    return value


class _Reader:
    def __init__(self, registry_url: str, mapping: CassMapping, owner_pem: str | None) -> None:
        self.registry_url = registry_url
        self.mapping = mapping
        self.ours = normalise_pem(owner_pem) if owner_pem else None
        self.columns = {row: mapping.property_columns(row) for row in (FRAMEWORK, COMPETENCY)}
        self.known = mapping.known_keys | SIGNATURE_KEYS | SERVER_KEYS

    def properties(self, obj: CassObject, row_type: str, lang: str, notes: list[str]) -> dict[str, Value]:
        result: dict[str, Value] = {}
        for column, prop in self.columns[row_type]:
            if column.kind == "ctid":
                continue  # identity, read by ``ctid_of``
            if prop == "owner":
                others = [o for o in owners_of(obj) if normalise_pem(o) != self.ours]
                if others:
                    result[column.name] = others if column.multiple else others[0]
                    if len(others) > 1 and not column.multiple:
                        notes.append(f"{obj.get('@id')}: {len(others) - 1} more owner key(s) left out")
                continue
            if prop in obj:
                value = unvalue(self.registry_url, column, obj[prop], lang)
                if value is not None:
                    result[column.name] = value
        mapped = {prop for _, prop in self.columns[row_type]}
        ignored = sorted(k for k in obj if k not in self.known and k not in mapped)
        if ignored:
            notes.append(f"{obj.get('@id')}: no CSV column for {', '.join(ignored)}; left out")
        return result


def unmap_framework(
    framework_obj: CassObject,
    stored: Mapping[str, CassObject],
    *,
    registry_url: str,
    owner_pem: str | None = None,
    default_language: str = "en-US",
    mapping: CassMapping | None = None,
    path: str = "",
) -> Pulled:
    """The model of one stored framework. ``stored``: the objects it lists, by short id;
    ``owner_pem``: the publishing key, whose owner entry the publisher added (left out again)."""
    reader = _Reader(registry_url, mapping or cass_mapping(), owner_pem)
    notes: list[str] = []
    ctid = ctid_of(framework_obj)
    languages = _text(framework_obj.get(_language_property(reader, FRAMEWORK)), "")
    lang = (languages[0] if languages else default_language).lower()
    fw = Framework(ctid, ctid, 0, path, reader.properties(framework_obj, FRAMEWORK, lang, notes))
    default_languages = fw.languages or [default_language]
    comp_language = _language_property(reader, COMPETENCY)
    by_uri: dict[str, Competency] = {}
    for listed in framework_obj.get("competency") or []:
        obj = stored.get(short_id(str(listed)))
        if obj is None:
            notes.append(f"competency {listed} is listed by the framework but not on the server; left out")
            continue
        comp_ctid = ctid_of(obj)
        if not comp_ctid:
            notes.append(f"competency {listed} has no CTID; left out")
            continue
        if short_id(str(listed)) in by_uri:
            continue
        props = reader.properties(obj, COMPETENCY, lang, notes)
        language_column = next((c.name for c, p in reader.columns[COMPETENCY] if p == comp_language), None)
        if language_column and props.get(language_column) == default_languages:
            del props[language_column]  # the publisher's default, not the file's
        comp = Competency(comp_ctid, comp_ctid, 0, props, framework=fw)
        fw.competencies.append(comp)
        by_uri[short_id(str(listed))] = comp
        by_uri.setdefault(short_id(str(obj.get("@id", listed))), comp)
    _relations(reader, framework_obj, stored, by_uri, notes)
    place = {id(c): i for i, c in enumerate(fw.competencies)}
    for comp in fw.competencies:  # siblings in the framework's order, as CASS's export gives them
        comp.children.sort(key=lambda c: place[id(c)])
    return Pulled(fw, notes)


def _language_property(reader: _Reader, row_type: str) -> str:
    return next((p for c, p in reader.columns[row_type] if c.kind == "language"), "schema:inLanguage")


def _relations(
    reader: _Reader,
    framework_obj: CassObject,
    stored: Mapping[str, CassObject],
    by_uri: dict[str, Competency],
    notes: list[str],
) -> None:
    """Parents from the hierarchy relations, alignment cells from the others (relation list order)."""
    by_type: dict[str, list[tuple[str, Column, bool]]] = {}
    for name, (column, rtype, reverse) in reader.mapping.relations.items():
        by_type.setdefault(rtype, []).append((name, column, reverse))
    for rid in framework_obj.get("relation") or []:
        rel = stored.get(short_id(str(rid)))
        if rel is None:
            notes.append(f"relation {rid} is listed by the framework but not on the server; left out")
            continue
        rtype, source, target = (str(rel.get(k, "")) for k in ("relationType", "source", "target"))
        child, parent = by_uri.get(short_id(source)), by_uri.get(short_id(target))
        hierarchy = rtype == reader.mapping.hierarchy and child and parent and child.parent is None
        if hierarchy and child and parent and not _descends(parent, child):
            child.parent = parent
            parent.children.append(child)
            continue
        if not _align(reader, by_type.get(rtype, []), source, target, by_uri):
            notes.append(f"relation {rid} ({rtype} {source} -> {target}) has no CSV column; left out")


def _align(
    reader: _Reader,
    columns: list[tuple[str, Column, bool]],
    source: str,
    target: str,
    by_uri: dict[str, Competency],
) -> bool:
    """Put the relation into the alignment column of its type whose "this" end is in the framework."""
    for name, column, reverse in columns:
        here, other = (target, source) if reverse else (source, target)
        comp = by_uri.get(short_id(here))
        if comp is None:
            continue
        value = _abbreviate(reader.registry_url, other) if column.kind == "ctid-or-uri" else other
        current = comp.properties.get(name)
        values = [current] if isinstance(current, str) else list(current or [])
        if value not in values:
            values.append(value)
        comp.properties[name] = values if column.multiple else SEPARATOR.join(values)
        return True
    return False


def _descends(start: Competency, ancestor: Competency) -> bool:
    current: Competency | None = start
    while current is not None:
        if current is ancestor:
            return True
        current = current.parent
    return False
