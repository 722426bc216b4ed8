"""Collections: the model of a collection file, its CTDL graph (both ways) and its diff.

A collection file holds ``ceterms:Collection`` rows only (CASS's collection import; the validator
refuses mixing). Its columns, their JSON-LD form and which one lists the members all come from the
descriptor (rows ``collection``; ``members``). The graph is what the Registry publishes for a
``ceterms:Collection``: one node with ``ceterms:hasMember`` URIs, in the CTDL context (Collection is
a CTDL class, ``ceterms:``, not a CTDL-ASN one).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from competency_ci.frameworks.build import InvalidFrameworks, _errors_first, is_structure, parse_value
from competency_ci.frameworks.config import Config
from competency_ci.frameworks.diff import ADDED, CHANGED, REMOVED, FrameworkDiff, Item, property_changes
from competency_ci.frameworks.jsonld import (
    GraphError,
    _abbreviate,
    _from_jsonld,
    _identity,
    _single,
    _to_jsonld,
    _type,
    graph_uri,
    registry_base,
    resource_uri,
    unwrap,
)
from competency_ci.frameworks.model import Collection, Value
from competency_ci.frameworks.problems import Level, Problem
from competency_ci.frameworks.table import Table, read_table
from competency_ci.frameworks.template import template_columns
from competency_ci.frameworks.validate import apply_levels, check_table
from competency_ci.schema import COLLECTION, Column, TemplateSchema, load_schema

# Collection is a CTDL class: the Registry publishes it in the CTDL context (ctdl-context.json).
CONTEXT = "https://credreg.net/ctdl/schema/context/json"
Json = dict[str, Any]


def collection_columns(schema: TemplateSchema) -> list[Column]:
    """The property columns of collection rows (identity columns and members left out)."""
    return [
        c
        for c in schema.columns.values()
        if COLLECTION in c.rows and not is_structure(c) and not c.extra.get("members")
    ]


def member_column(schema: TemplateSchema) -> Column:
    return next(c for c in schema.columns.values() if c.extra.get("members"))


def is_collection_table(table: Table, schema: TemplateSchema) -> bool:
    """Whether the table is a collection file: a collection row and no framework row (CASS's rule)."""
    type_col = next((table.col(c.name) for c in schema.columns.values() if c.kind == "type"), None)
    if type_col is None:
        return False
    kinds = {schema.row_type(r.get(type_col).strip()) for r in table.records}
    return COLLECTION in kinds and "framework" not in kinds


# --- table -> model ------------------------------------------------------------------------------


def assemble_collections(table: Table, schema: TemplateSchema) -> list[Collection]:
    """The collections of a table the validator passed (other rows are not a collection's)."""
    id_col, type_col, ctid_col = table.col("@id"), table.col("@type"), table.col("ceterms:ctid")
    if id_col is None or type_col is None:
        return []
    props = [(table.col(c.name), c) for c in collection_columns(schema)]
    members = member_column(schema)
    member_col = table.col(members.name)
    out: list[Collection] = []
    for record in table.records:
        if schema.row_type(record.get(type_col).strip()) != COLLECTION:
            continue
        id_ = record.get(id_col).strip()
        ctid = record.get(ctid_col).strip() if ctid_col is not None else ""
        if not ctid and id_.startswith("ce-"):
            ctid = id_
        properties: dict[str, Value] = {}
        for i, column in props:
            if i is None:
                continue
            value = parse_value(column, record.get(i), schema.separator)
            if value:
                properties[column.name] = value
        listed = (
            parse_value(members, record.get(member_col), schema.separator) if member_col is not None else None
        )
        names = [listed] if isinstance(listed, str) else list(listed or [])
        out.append(
            Collection(ctid.lower(), id_, record.line, table.path, properties, list(dict.fromkeys(names)))
        )
    return out


def load_collections(path: str | Path, config: Config, *, data: bytes | None = None) -> list[Collection]:
    """Read, check and build one collection file (``InvalidFrameworks`` when it has errors; the
    members are resolved by ``validate``, which sees the whole repository)."""
    name = str(path)
    raw = Path(path).read_bytes() if data is None else data
    table, read_problems = read_table(name, raw)
    problems: list[Problem] = apply_levels(read_problems, config)
    if table is None:
        raise InvalidFrameworks(_errors_first(problems))
    schema = load_schema()
    problems += check_table(table, schema, config)
    if any(p.level is Level.ERROR for p in problems):
        raise InvalidFrameworks(_errors_first(problems))
    return assemble_collections(table, schema)


def members_as_ctids(collections: list[Collection], ctid_of: dict[str, str]) -> None:
    """Members named by a competency row's URL ``@id`` become that row's CTID (``ctid_of``: URL
    ``@id`` -> CTID, from the repository's files): a competency is published under its CTID."""
    for c in collections:
        c.members = list(dict.fromkeys(ctid_of.get(m, m) for m in c.members))


def resolve_members(
    collections: list[Collection], config: Config, files: Sequence[tuple[str, bytes]]
) -> None:
    """``members_as_ctids`` with the index of the files given and the repository's other framework
    files (``build_members``): how ``plan``/``publish`` and the GitHub Action name members."""
    from competency_ci.frameworks.validate import build_members

    members_as_ctids(collections, build_members(config, files).ctid_of)


# --- model -> graph -> model ---------------------------------------------------------------------


def collection_to_graph(
    collection: Collection,
    registry_url: str,
    default_language: str = "en-US",
    schema: TemplateSchema | None = None,
) -> Json:
    """The graph CE's Registry publishes for a collection: the collection node, members as URIs."""
    schema = schema or load_schema()
    languages = collection.languages
    lang = (languages[0] if languages else default_language).lower()
    uri = resource_uri(registry_url, collection.ctid) if collection.ctid else collection.id
    node: Json = {"@id": uri, "@type": schema.type_for(COLLECTION)}
    if collection.ctid:
        node["ceterms:ctid"] = collection.ctid
    for column in collection_columns(schema):
        value = collection.properties.get(column.name)
        if value is not None and column.jsonld is not None:
            node[column.name] = _to_jsonld(column, value, lang, registry_url)
    members = member_column(schema)
    if collection.members:
        node[members.name] = _to_jsonld(members, collection.members, lang, registry_url)
    graph_id = graph_uri(registry_url, collection.ctid) if collection.ctid else collection.id
    return {"@context": CONTEXT, "@id": graph_id, "@graph": [node]}


@dataclass
class CollectionsRead:
    collections: list[Collection]
    notes: list[str] = field(default_factory=list)


def is_collection_graph(document: Any, schema: TemplateSchema | None = None) -> bool:
    """Whether a graph (or envelope) holds a collection node and no framework node."""
    schema = schema or load_schema()
    try:
        nodes = [n for n in unwrap(document)["@graph"] if isinstance(n, dict)]
    except GraphError:
        return False
    types = {_type(n) for n in nodes}
    return schema.type_for(COLLECTION) in types and schema.type_for("framework") not in types


def graph_to_collections(
    document: Any, path: str = "", schema: TemplateSchema | None = None
) -> CollectionsRead:
    """The collections of a published graph: the reverse of ``collection_to_graph`` (member URIs of
    the graph's own registry become CTIDs again)."""
    schema = schema or load_schema()
    nodes = [n for n in unwrap(document)["@graph"] if isinstance(n, dict)]
    wanted = schema.type_for(COLLECTION)
    found = [n for n in nodes if _type(n) == wanted]
    if not found:
        raise GraphError(f"the graph has no {wanted} node")
    notes: list[str] = []
    if len(found) < len(nodes):
        notes.append(f"{len(nodes) - len(found)} node(s) that are not a collection were left out")
    members = member_column(schema)
    out = []
    for node in found:
        ctid, id_ = _identity(node)
        base = registry_base(node)
        langs = [
            str(v)
            for v in _from_jsonld(
                _by_name(schema, "ceterms:inLanguage"), node.get("ceterms:inLanguage", []), None, notes, node
            )
        ]
        lang = langs[0].lower() if langs else None
        properties: dict[str, Value] = {}
        for column in collection_columns(schema):
            if column.name not in node or column.jsonld is None:
                continue
            value = _from_jsonld(column, node[column.name], lang, notes, node)
            if column.kind == "ctid-or-uri":
                value = [_abbreviate(v, base) for v in value]
            if value:
                properties[column.name] = value if column.multiple else _single(value)
        listed = [
            _abbreviate(v, base) for v in _from_jsonld(members, node.get(members.name, []), lang, notes, node)
        ]
        known = {c.name for c in collection_columns(schema)} | {members.name, "ceterms:ctid"}
        ignored = sorted(k for k in node if not k.startswith("@") and k not in known)
        if ignored:
            notes.append(f"{node.get('@id')}: no CSV column for {', '.join(ignored)}; left out")
        out.append(Collection(ctid, id_, 0, path, properties, list(dict.fromkeys(listed))))
    return CollectionsRead(out, notes)


def _by_name(schema: TemplateSchema, name: str) -> Column:
    return schema.columns[name]


def collections_to_csv(collections: list[Collection], schema: TemplateSchema | None = None) -> str:
    """A collection file: the columns that hold a value, in ``template --collection`` order; the
    CTID is the ``@id`` (CE's examples use CTIDs throughout); LF line ends, one final newline."""
    schema = schema or load_schema()
    members = member_column(schema)
    sep = schema.separator
    rows = []
    for c in collections:
        cells = {"@id": c.ctid or c.id, "@type": schema.type_for(COLLECTION), "ceterms:ctid": c.ctid}
        for name, value in c.properties.items():
            cells[name] = value if isinstance(value, str) else sep.join(value)
        cells[members.name] = sep.join(c.members)
        rows.append(cells)
    used = {name for row in rows for name, value in row.items() if value}
    header = [c.name for c in template_columns(schema, "all", collection=True) if c.name in used]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([row.get(name, "") for name in header] for row in rows)
    return out.getvalue()


# --- diff ----------------------------------------------------------------------------------------


def diff_collections(old: list[Collection], new: list[Collection]) -> list[FrameworkDiff]:
    """Per collection (by CTID): properties changed, members added and removed (``kind``
    collection, members as items; a member's position is its place in ``hasMember``)."""
    before = {_key(c): c for c in old}
    after = {_key(c): c for c in new}
    diffs = []
    for key in list(dict.fromkeys([*before, *after])):
        o, n = before.get(key), after.get(key)
        shown = n or o
        assert shown is not None
        status = ADDED if o is None else REMOVED if n is None else CHANGED
        d = FrameworkDiff(
            key,
            shown.name,
            status,
            old_path=o.path if o else None,
            new_path=n.path if n else None,
            competencies=len(shown.members),
            kind="collection",
        )
        if o is not None and n is not None:
            d.properties = property_changes(o.properties, n.properties)
            was, now = set(map(_member_key, o.members)), set(map(_member_key, n.members))
            d.added = [_item(m, i) for i, m in enumerate(n.members, 1) if _member_key(m) not in was]
            d.removed = [_item(m, i) for i, m in enumerate(o.members, 1) if _member_key(m) not in now]
            if d.empty:
                continue
        diffs.append(d)
    return diffs


def _key(c: Collection) -> str:
    return c.ctid or c.id


def _member_key(member: str) -> str:
    return member.lower() if member.startswith("ce-") else member


def _item(member: str, position: int) -> Item:
    return Item(member, "(member)", None, position)
