"""The framework model as a registry-shaped CTDL-ASN graph, and back.

The container of each property (language map, list of URIs, ...) comes from the schema
descriptor's ``jsonld`` field property, so a column added to the descriptor converts without code
changes here. Hierarchy (``hasTopChild``, ``hasChild``, ``isPartOf``, ``isTopChildOf``,
``isChildOf``) is computed from the model, never copied from CSV cells, as CASS does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from json.encoder import encode_basestring
from typing import Any

from competency_ci.frameworks.build import ctid_pattern, is_ctid, is_structure
from competency_ci.frameworks.model import Competency, Framework, Value
from competency_ci.schema import COMPETENCY, FRAMEWORK, Column, TemplateSchema, load_schema

CONTEXT = "https://credreg.net/ctdlasn/schema/context/json"
IDENTIFIER_TYPE = "ceterms:IdentifierValue"
ALIGNMENT_TYPE = "ceterms:CredentialAlignmentObject"

Json = dict[str, Any]


class GraphError(ValueError):
    """The document is not a CTDL-ASN framework graph we can read."""


@cache
def _trailing_ctid() -> re.Pattern[str]:
    """``.../{ctid}`` at the end of a URI."""
    return re.compile(f"/({ctid_pattern().pattern})$")


def resource_uri(registry_url: str, ctid: str) -> str:
    return f"{registry_url.rstrip('/')}/resources/{ctid.lower()}"


def graph_uri(registry_url: str, ctid: str) -> str:
    return f"{registry_url.rstrip('/')}/graph/{ctid.lower()}"


def language_key(framework: Framework, default_language: str) -> str:
    """Key of the language maps: the framework's first ``inLanguage``, else the default, lower-cased."""
    languages = framework.languages
    return (languages[0] if languages else default_language).lower()


# --- model -> graph ---------------------------------------------------------------------------


def framework_to_graph(
    framework: Framework,
    registry_url: str,
    default_language: str = "en-US",
    schema: TemplateSchema | None = None,
) -> Json:
    """The graph CE's Registry would publish for ``framework``: framework node first."""
    schema = schema or load_schema()
    lang = language_key(framework, default_language)
    base = f"{registry_url.rstrip('/')}/resources/"
    columns = {n: c for n, c in schema.columns.items() if c.jsonld is not None}
    uris = {id(c): base + c.ctid if c.ctid else c.id for c in framework.competencies}

    def values(properties: dict[str, Value], node: Json, row_type: str) -> Json:
        for name, value in properties.items():
            column = columns.get(name)
            if column is None:
                continue
            converted = _to_jsonld(column, value, lang, registry_url)
            alignment = column.extra.get("alignment")
            if column.jsonld == "alignmentCode" and isinstance(alignment, dict):
                node.setdefault(str(alignment["property"]), []).extend(converted)  # beside the URI column's
            elif column.jsonld == "alignmentList" and name in node:
                node[name] = converted + node[name]
            elif row_type in column.single_for and isinstance(converted, list) and len(converted) == 1:
                node[name] = converted[0]  # one value where CE's publishing API takes a string
            else:
                node[name] = converted
        return node

    fw_uri = base + framework.ctid if framework.ctid else framework.id
    fw_head = _head(fw_uri, schema.type_for(FRAMEWORK), framework.ctid)
    fw_node = values(framework.properties, fw_head, FRAMEWORK)
    top = framework.top
    if top:
        fw_node["ceasn:hasTopChild"] = [uris[id(c)] for c in top]
    nodes = [fw_node]
    competency_type = schema.type_for(COMPETENCY)
    for comp in framework.competencies:
        node = values(comp.properties, _head(uris[id(comp)], competency_type, comp.ctid), COMPETENCY)
        node["ceasn:isPartOf"] = fw_uri
        if comp.parent is None:
            node["ceasn:isTopChildOf"] = fw_uri
        else:
            node["ceasn:isChildOf"] = [uris[id(comp.parent)]]
        if comp.children:
            node["ceasn:hasChild"] = [uris[id(c)] for c in comp.children]
        nodes.append(node)
    graph_id = graph_uri(registry_url, framework.ctid) if framework.ctid else framework.id
    return {"@context": CONTEXT, "@id": graph_id, "@graph": nodes}


def _head(uri: str, type_: str, ctid: str) -> Json:
    node: Json = {"@id": uri, "@type": type_}
    if ctid:
        node["ceterms:ctid"] = ctid
    return node


def _as_list(value: Value) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _ref(value: str, registry_url: str) -> str:
    return resource_uri(registry_url, value) if is_ctid(value) else value


def _to_jsonld(column: Column, value: Value, lang: str, registry_url: str) -> Any:
    container = column.jsonld
    if container == "string":
        return value
    refs = column.kind == "ctid-or-uri"
    if container == "languageMap":
        return {lang: value if isinstance(value, str) else " | ".join(value)}
    if container == "languageMapList":
        return {lang: _as_list(value)}
    if container == "versionIdentifier":
        return [_identifier(piece, lang) for piece in _as_list(value)]
    if container == "alignmentList":  # ceterms:CredentialAlignmentObject, the URI as its target
        return [alignment_object(v) for v in _as_list(value)]
    if container == "alignmentCode":  # a code of a named classification (O*NET-SOC, NAICS, CIP)
        alignment = column.extra["alignment"]
        return [
            {
                "@type": ALIGNMENT_TYPE,
                "ceterms:codedNotation": code,
                "ceterms:framework": alignment["framework"],
                "ceterms:frameworkName": {lang: alignment["frameworkName"]},
            }
            for code in _as_list(value)
        ]
    if container in ("uri", "uriList", "list"):
        items = [_ref(v, registry_url) if refs else v for v in _as_list(value)]
        return items[0] if container == "uri" and len(items) == 1 else items
    return value


def _identifier(value: str, lang: str) -> Json:
    return identifier_value(value, lambda text: {lang: text})


def _same(value: str) -> Any:
    return value


def alignment_object(target: str, ref: Callable[[str], Any] = _same) -> Json:
    """A ``ceterms:CredentialAlignmentObject`` whose target is ``target`` (``ref`` gives the URI its
    form: plain in a graph, ``{"@id"}`` for CASS, whose export context does not know the property)."""
    return {"@type": ALIGNMENT_TYPE, "ceterms:targetNode": ref(target)}


def identifier_value(
    value: str,
    text: Callable[[str], Any],
    code: Callable[[str], Any] = _same,
    ref: Callable[[str], Any] = _same,
) -> Json:
    """``value~typeName~typeURI`` as a ``ceterms:IdentifierValue`` (empty parts left out).

    ``text`` gives the type name its language (a language map in a graph); ``code`` and ``ref`` the
    code and the type URI their form (plain in a graph). For CASS all three are explicit JSON-LD
    values (``@value``/``@language``, ``@value``/``@type``, ``@id``): its export reads them with a
    context that does not know these properties and compacts them against CE's, where only an
    explicit form lands on the CTDL-ASN term.
    """
    code_part, name, type_uri = [*value.split("~", 2), "", ""][:3]
    node: Json = {"@type": IDENTIFIER_TYPE}
    if type_uri.strip():
        node["ceterms:identifierType"] = ref(type_uri.strip())
    if name.strip():
        node["ceterms:identifierTypeName"] = text(name.strip())
    node["ceterms:identifierValueCode"] = code(code_part.strip())
    return node


def dumps(document: Any) -> str:
    """``json.dumps(document, indent=2, ensure_ascii=False)`` + newline, about twice as fast.

    With ``indent`` the standard library falls back to its pure-Python encoder; graphs of 100,000
    competencies are 60 MB of text, so strings, lists and objects are written here directly
    (anything else goes through ``json.dumps``). The output is byte-identical (tested).
    """
    parts: list[str] = []

    def write(value: Any, level: int) -> None:
        if isinstance(value, str):
            parts.append(encode_basestring(value))
        elif isinstance(value, (dict, list)) and value:
            inner = "\n" + "  " * (level + 1)
            opening, closing = ("{", "}") if isinstance(value, dict) else ("[", "]")
            sep = opening + inner
            if isinstance(value, dict):
                for k, v in value.items():
                    parts.append(sep + encode_basestring(str(k)) + ": ")
                    sep = "," + inner
                    write(v, level + 1)
            else:
                for v in value:
                    parts.append(sep)
                    sep = "," + inner
                    write(v, level + 1)
            parts.append("\n" + "  " * level + closing)
        else:
            parts.append(json.dumps(value, ensure_ascii=False))

    write(document, 0)
    parts.append("\n")
    return "".join(parts)


# --- graph -> model ---------------------------------------------------------------------------


@dataclass
class GraphRead:
    """Frameworks read from a graph, and what could not be carried into the CSV."""

    frameworks: list[Framework]
    notes: list[str] = field(default_factory=list)


def unwrap(document: Any) -> Json:
    """The graph itself, from a graph or a Registry envelope (``decoded_resource``)."""
    if isinstance(document, dict) and isinstance(document.get("decoded_resource"), dict):
        document = document["decoded_resource"]
    if not isinstance(document, dict) or not isinstance(document.get("@graph"), list):
        raise GraphError("not a CTDL-ASN graph: expected an object with an @graph list")
    return document


def graph_to_frameworks(document: Any, path: str = "", schema: TemplateSchema | None = None) -> GraphRead:
    """The model of a published graph (or envelope): the reverse of ``framework_to_graph``.

    Nodes keep their CTID as identity. Language maps give the entry of the framework's first
    ``inLanguage`` (else their only or first entry); other languages are reported in ``notes``.
    """
    schema = schema or load_schema()
    graph = unwrap(document)
    nodes = [n for n in graph["@graph"] if isinstance(n, dict)]
    notes: list[str] = []
    fw_nodes = [n for n in nodes if _type(n) == schema.type_for(FRAMEWORK)]
    comp_nodes = [n for n in nodes if _type(n) == schema.type_for(COMPETENCY)]
    if not fw_nodes:
        raise GraphError("the graph has no ceasn:CompetencyFramework node")
    skipped = len(nodes) - len(fw_nodes) - len(comp_nodes)
    if skipped:
        notes.append(f"{skipped} node(s) that are neither a framework nor a competency were left out")

    by_uri: dict[str, Framework | Competency] = {}
    frameworks: list[Framework] = []
    base = registry_base(fw_nodes[0])
    for node in fw_nodes:
        ctid, id_ = _identity(node)
        langs = _plain_list(node.get("ceasn:inLanguage", []))
        lang = langs[0].lower() if langs else None
        fw = Framework(ctid, id_, 0, path, _properties(node, schema, lang, base, notes))
        frameworks.append(fw)
        by_uri[str(node.get("@id", id_))] = fw
    default_fw = frameworks[0]
    comps: list[tuple[Json, Competency]] = []
    for node in comp_nodes:
        ctid, id_ = _identity(node)
        part_of = by_uri.get(_first(node.get("ceasn:isPartOf")) or "")
        fw = part_of if isinstance(part_of, Framework) else default_fw
        lang = language_key(fw, "") or None
        comp = Competency(ctid, id_, 0, _properties(node, schema, lang, base, notes))
        comp.framework = fw
        comps.append((node, comp))
        by_uri[str(node.get("@id", id_))] = comp
    parents = _parents(nodes, by_uri)
    wanted: dict[int, Competency] = {}
    for node, comp in comps:
        parent = by_uri.get(_first(node.get("ceasn:isChildOf")) or "") or parents.get(id(comp))
        if isinstance(parent, Competency):
            wanted[id(comp)] = parent
    cut = _cycle_closers([comp for _, comp in comps], wanted)
    for node, comp in comps:
        named = _first(node.get("ceasn:isChildOf"))
        parent = wanted.get(id(comp))
        if named and parent is None and not isinstance(by_uri.get(named), Framework):
            notes.append(
                f"{node.get('@id')}: its parent {named} is not in the graph; written as a top competency"
            )
        if parent is not None:
            if id(comp) in cut:
                notes.append(
                    f"{node.get('@id')}: its parent {named} descends from it; written as a top competency"
                )
                continue
            comp.parent = parent
            parent.children.append(comp)
            if comp.framework is default_fw and parent.framework is not None:
                comp.framework = parent.framework
    for _, comp in comps:
        assert comp.framework is not None
        comp.framework.competencies.append(comp)
    return GraphRead(frameworks, notes)


def _cycle_closers(order: list[Competency], parent: dict[int, Competency]) -> set[int]:
    """The competencies whose parent link would close a cycle, in linear time.

    Links are taken in ``order``; the one that closes a cycle is the cycle's member that comes last
    (as if each link were added in turn and refused when its parent already descends from it).
    Every competency has at most one parent, so each cycle is found by one walk up.
    """
    rank = {id(c): i for i, c in enumerate(order)}
    state: dict[int, int] = {}  # 1: on the current walk, 2: settled
    cut: set[int] = set()
    for start in order:
        path: list[Competency] = []
        node: Competency | None = start
        while node is not None and id(node) not in state:
            state[id(node)] = 1
            path.append(node)
            node = parent.get(id(node))
        if node is not None and state[id(node)] == 1:  # the walk came back to itself: a cycle
            members = path[path.index(node) :]
            last = max(members, key=lambda c: rank[id(c)])
            cut.add(id(last))
        for member in path:
            state[id(member)] = 2
    return cut


def _type(node: Json) -> str:
    value = node.get("@type")
    first = value[0] if isinstance(value, list) and value else value
    return first if isinstance(first, str) else ""  # any other shape is hostile input: no type


def _identity(node: Json) -> tuple[str, str]:
    """(CTID, CSV ``@id``): the CTID is the identity; the URI is kept only without one."""
    ctid = node.get("ceterms:ctid")
    uri = str(node.get("@id", ""))
    if not (isinstance(ctid, str) and is_ctid(ctid.strip())):
        match = _trailing_ctid().search(uri)
        ctid = match.group(1) if match else ""
    ctid = ctid.strip().lower()
    return ctid, (ctid or uri)


def _first(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("@id")
    return value if isinstance(value, str) else None


def _parents(nodes: list[Json], by_uri: dict[str, Framework | Competency]) -> dict[int, Competency]:
    """Parents named only by a ``hasChild`` list (for graphs without ``isChildOf``)."""
    parents: dict[int, Competency] = {}
    for node in nodes:
        parent = by_uri.get(str(node.get("@id", "")))
        if not isinstance(parent, Competency):
            continue
        for child_uri in _plain_list(node.get("ceasn:hasChild", [])):
            child = by_uri.get(child_uri)
            if isinstance(child, Competency):
                parents.setdefault(id(child), parent)
    return parents


def _plain_list(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    result = []
    for item in items:
        if isinstance(item, dict):
            item = item.get("@id", item.get("@value"))
        if isinstance(item, (str, int, float)) and not isinstance(item, bool):
            result.append(str(item))
    return result


def registry_base(node: Json) -> str | None:
    """``{registry}`` of a node whose ``@id`` is ``{registry}/resources/{ctid}``."""
    uri = str(node.get("@id", ""))
    match = _trailing_ctid().search(uri)
    if match is None or not uri[: match.start()].endswith("/resources"):
        return None
    return uri[: match.start() - len("/resources")]


def _abbreviate(value: str, base: str | None) -> str:
    """A resource URI as its CTID, only when expanding the CTID gives back the same URI."""
    match = _trailing_ctid().search(value)
    if base is None or match is None:
        return value
    return match.group(1) if resource_uri(base, match.group(1)) == value else value


def _properties(
    node: Json, schema: TemplateSchema, lang: str | None, base: str | None, notes: list[str]
) -> dict[str, Value]:
    properties: dict[str, Value] = {}
    codes = _code_frameworks(schema)
    for name, column in schema.columns.items():
        if column.jsonld == "alignmentCode":
            value = _codes_from(column, node)
            if value:
                properties[name] = value
            continue
        if is_structure(column) or column.jsonld is None or name not in node:
            continue
        if column.jsonld == "alignmentList":
            value = _targets_from(node[name], codes.get(name, frozenset()))
        else:
            value = _from_jsonld(column, node[name], lang, notes, node)
        if column.kind == "ctid-or-uri":
            value = [_abbreviate(v, base) for v in value]
        if value:
            properties[name] = value if column.multiple else _single(value)
    ignored = sorted(k for k in node if not k.startswith("@") and k not in schema.columns)
    if ignored:
        notes.append(f"{node.get('@id')}: no CSV column for {', '.join(ignored)}; left out")
    return properties


_CODE_FRAMEWORKS: dict[int, dict[str, frozenset[str]]] = {}


def _code_frameworks(schema: TemplateSchema) -> dict[str, frozenset[str]]:
    """Alignment property -> the classifications whose codes have a column of their own."""
    if id(schema) not in _CODE_FRAMEWORKS:
        found: dict[str, set[str]] = {}
        for column in schema.columns.values():
            alignment = column.extra.get("alignment")
            if column.jsonld == "alignmentCode" and isinstance(alignment, dict):
                found.setdefault(str(alignment["property"]), set()).add(str(alignment["framework"]))
        _CODE_FRAMEWORKS[id(schema)] = {k: frozenset(v) for k, v in found.items()}
    return _CODE_FRAMEWORKS[id(schema)]


def _alignments(raw: Any) -> list[Json]:
    return [item for item in (raw if isinstance(raw, list) else [raw]) if isinstance(item, dict)]


def _is_code(item: Json, frameworks: frozenset[str]) -> bool:
    return isinstance(item.get("ceterms:codedNotation"), str) and item.get("ceterms:framework") in frameworks


def _codes_from(column: Column, node: Json) -> list[str]:
    """The codes of one classification among a node's alignment objects."""
    alignment = column.extra["alignment"]
    frameworks = frozenset({str(alignment["framework"])})
    items = _alignments(node.get(str(alignment["property"]), []))
    return [str(item["ceterms:codedNotation"]) for item in items if _is_code(item, frameworks)]


def _targets_from(raw: Any, code_frameworks: frozenset[str]) -> list[str]:
    """The target URIs of alignment objects (or plain URIs) that are not a code column's."""
    found = []
    for item in raw if isinstance(raw, list) else [raw]:
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, dict) and not _is_code(item, code_frameworks):
            target = item.get("ceterms:targetNode", item.get("@id"))
            if isinstance(target, str):
                found.append(target)
    return found


def _single(value: Value) -> str:
    return value if isinstance(value, str) else " | ".join(value)


def _from_jsonld(column: Column, raw: Any, lang: str | None, notes: list[str], node: Json) -> list[str]:
    container = column.jsonld
    if container in ("languageMap", "languageMapList"):
        if not isinstance(raw, dict) or "@value" in raw:
            return _plain_list(raw)
        if not raw:
            return []
        key = lang if lang in raw else next(iter(raw))
        others = sorted(k for k in raw if k != key)
        if others:
            notes.append(f"{node.get('@id')}: {column.name}: kept '{key}', left out {', '.join(others)}")
        return _plain_list(raw[key])
    if container == "versionIdentifier":
        items = raw if isinstance(raw, list) else [raw]
        return [_identifier_text(item) for item in items if isinstance(item, dict)]
    return _plain_list(raw)


def _identifier_text(item: Json) -> str:
    names = item.get("ceterms:identifierTypeName")
    name = ""
    if isinstance(names, dict):
        name = str(names.get("@value", next(iter(names.values()), "")) if names else "")
    elif isinstance(names, str):
        name = names
    type_uri = str(item.get("ceterms:identifierType") or "")
    parts = [str(item.get("ceterms:identifierValueCode", "")), name, type_uri]
    while parts and not parts[-1]:
        parts.pop()
    return "~".join(parts)
