"""Reference values against the Credential Registry environment the repository publishes to.

A reference column takes a CTID (the publishing API turns it into the URI of its own environment)
or a URI. A URI of the *other* environment (a production organization in a sandbox publish, or
the reverse) is an error: such links have been published by mistake (CredentialRegistry#566).
Columns whose descriptor says ``"registry": "required"`` (publisher, creator, progression model,
task: the ones CASS's importer checks for CE, ``CTDLASNCSVImport.js`` l.1519-1546) take only a
CTID or a URI of the configured registry. Which columns are which comes from the descriptor; the
environments are the configuration's (a custom registry URL has no counterpart to check against).
"""

from __future__ import annotations

import re
from itertools import compress
from urllib.parse import urlsplit

from competency_ci.frameworks.checks import cell_problem, quote
from competency_ci.frameworks.checks.header import Header
from competency_ci.frameworks.problems import Problem
from competency_ci.frameworks.table import Table
from competency_ci.schema import Column, TemplateSchema

_CTID = re.compile(r"ce-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


def registry_columns(schema: TemplateSchema) -> list[Column]:
    """The columns whose values may name Credential Registry resources."""
    return [c for c in schema.columns.values() if c.kind == "ctid-or-uri" and c.references is None]


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def _hint(uri: str, environment: str) -> str | None:
    """Name the CTID the URI holds: written alone, it is right in either environment."""
    match = _CTID.search(uri)
    if match is None:
        return None
    return (
        f"Write the CTID {match.group(0).lower()}: the publishing API makes it the URI of the environment "
        f"it publishes to (or set `registry: {environment}` if this repository publishes there)."
    )


def check_registry(
    table: Table, schema: TemplateSchema, header: Header, registry: str, registries: dict[str, str]
) -> list[Problem]:
    """``registry``: the configured environment (``sandbox``, ``production`` or ``custom``);
    ``registries``: environment -> registry base URL."""
    if registry not in registries or (table.text and "http" not in table.text.lower()):
        return []  # (a file without a URI at all is settled by one search)
    here = _host(registries[registry])
    others = {_host(url): env for env, url in registries.items() if env != registry}
    type_index = next((header.position(c.name) for c in schema.columns.values() if c.kind == "type"), None)
    if type_index is None:
        return []
    kinds: list[str | None] = []  # each row's type, read once a column has a URI at all
    problems: list[Problem] = []
    sep = schema.separator
    for column in registry_columns(schema):
        index = header.position(column.name)
        if index is None:
            continue
        records = table.records
        cells = [r.get(index) for r in records]
        for pos in compress(range(len(cells)), ("http" in c.lower() for c in cells)):
            if not kinds:
                kinds = [schema.row_type(r.get(type_index).strip()) for r in records]
            kind = kinds[pos]
            if kind is None or kind not in column.rows:
                continue  # template rows, unknown types and values that do not apply are reported elsewhere
            for piece in (p.strip() for p in cells[pos].split(sep)):
                if not piece.lower().startswith(("http://", "https://")) or not column.is_valid(piece):
                    continue  # CTIDs are always right; a malformed value is reported by the cell checks
                host = _host(piece)
                record = records[pos]
                if host in others:
                    detail = (
                        f"{quote(piece)} is on the {others[host]} registry, but this repository publishes "
                        f"to {registry} ({registries[registry]})"
                    )
                    problems.append(
                        cell_problem(
                            "wrong-registry", table, record, index, detail, _hint(piece, others[host])
                        )
                    )
                elif column.registry == "required" and host != here:
                    where = f"{registry} registry URI ({registries[registry]})"
                    detail = f"{quote(piece)} is not a CTID or a {where}"
                    problems.append(cell_problem("not-registry-uri", table, record, index, detail))
    return problems
