"""Drift: objects edited on the CASS server since the repository last published them (pure).

The baseline is the framework as the repository last published it (its file at the base revision:
a pull request's or a merge's base, ``plan --git BASE``, or the commit a publish record names),
mapped to CASS objects exactly as ``publish`` maps it. An object the server holds otherwise was
edited outside git: in CASS's editor, by another tool, with this key or another owner's.

For each such object the drift says what (the CSV column, the value in git and on the server),
and who, as far as CASS says: its owner keys (this key, or another key by fingerprint) and its
``schema:dateModified``, the record timestamp CASS's editor sets. An object the plan would write
or delete is a *conflict*: publishing would destroy the server's edit, which the configuration's
``on-drift`` decides (``fail``, the default: that framework is not written; ``overwrite``; ``keep``:
the server's version of those objects stays).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from competency_ci.report.escape import md_text, one_line
from competency_ci.schema import COMPETENCY, FRAMEWORK
from competency_ci.targets.cass.ids import short_id
from competency_ci.targets.cass.mapping import (
    CassMapping,
    CassObject,
    MappedFramework,
    normalise_pem,
    owners_of,
)
from competency_ci.targets.cass.plan import canonical

FAIL, OVERWRITE, KEEP = "fail", "overwrite", "keep"
MODES = (FAIL, OVERWRITE, KEEP)
EDITED, DELETED, ADDED = "edited", "deleted on the server", "added on the server"
RECORD_KEYS = frozenset(
    {"schema:dateCreated", "schema:dateModified", "reader", "@reader", "owner", "@context"}
)
SHOWN = 80  # characters of a value in a plan line


@dataclass(frozen=True)
class FieldDrift:
    column: str  # the CSV column (or the CASS key when no column maps to it)
    git: str
    server: str


@dataclass
class Drifted:
    """One object the server holds otherwise than the repository last published it."""

    kind: str  # framework | competency | relation
    id: str
    label: str
    what: str  # EDITED | DELETED | ADDED
    fields: list[FieldDrift] = field(default_factory=list)
    owners: list[str] = field(default_factory=list)  # "this key", "key 1a2b3c4d"
    modified: str | None = None  # schema:dateModified, as the server gives it
    conflict: bool = False  # the plan would write or delete it

    @property
    def who(self) -> str:
        parts = [f"owners: {', '.join(self.owners)}"] if self.owners else ["no owner"]
        if self.modified:
            parts.append(f"modified {self.modified}")
        return "; ".join(parts)

    def lines(self) -> list[str]:
        head = f"{self.kind} {self.label}: {self.what} ({self.who})"
        if self.conflict:
            head += "; the plan would change it"
        return [head, *(f"  {f.column}: git {f.git}; server {f.server}" for f in self.fields)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "label": self.label,
            "what": self.what,
            "owners": self.owners,
            "modified": self.modified,
            "conflict": self.conflict,
            "fields": [{"column": f.column, "git": f.git, "server": f.server} for f in self.fields],
        }


def fingerprint(pem: str) -> str:
    """A key as a short name: the first 8 hex digits of the SHA-256 of its PEM without whitespace."""
    return hashlib.sha256(normalise_pem(pem).encode("ascii", "replace")).hexdigest()[:8]


def owners(obj: Mapping[str, Any], owner_pem: str) -> list[str]:
    ours = normalise_pem(owner_pem)
    return ["this key" if normalise_pem(o) == ours else f"key {fingerprint(o)}" for o in owners_of(obj)]


def shown(value: Any) -> str:
    """A value as a plan line shows it: the text of a tagged text, else compact JSON; cut short."""
    if value is None:
        return "(none)"
    if isinstance(value, dict) and isinstance(value.get("@value"), str):
        value = value["@value"]
    elif isinstance(value, list) and all(isinstance(v, dict) and "@value" in v for v in value):
        value = " | ".join(str(v["@value"]) for v in value)
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = json.dumps(text, ensure_ascii=False)  # quoted, so an empty or spaced value reads as one
    return text if len(text) <= SHOWN else text[: SHOWN - 1] + '…"'


def _kind(obj: Mapping[str, Any]) -> str:
    return {"Framework": "framework", "Relation": "relation"}.get(str(obj.get("@type")), "competency")


def _fields(kind: str, base: CassObject, stored: CassObject, mapping: CassMapping) -> list[FieldDrift]:
    want, have = canonical(base), canonical(stored)
    row_type = FRAMEWORK if kind == "framework" else COMPETENCY
    found = []
    for key in sorted((set(want) | set(have)) - RECORD_KEYS):
        if want.get(key) == have.get(key):
            continue
        column = mapping.column_for(key, row_type) if kind != "relation" else key
        if key == "competency":
            column = "competencies"
        found.append(FieldDrift(column, shown(want.get(key)), shown(have.get(key))))
    return found


def find_drift(
    base: MappedFramework,
    current: Mapping[str, CassObject],
    owner_pem: str,
    mapping: CassMapping,
    touched: Iterable[str] = (),
) -> list[Drifted]:
    """Every object of ``base`` the server holds otherwise, and every object the stored framework
    lists that ``base`` did not have; ``touched``: ids the plan writes or deletes (conflicts)."""
    touching = set(touched)
    drift: list[Drifted] = []
    for item in base.items:
        stored = current.get(item.id)
        if stored is None:
            if base.id in current:  # a framework never published has no drift, only a first write
                drift.append(Drifted(item.kind, item.id, item.label, DELETED, conflict=item.id in touching))
            continue
        fields = _fields(item.kind, item.data, stored, mapping)
        if fields:
            modified = stored.get("schema:dateModified")
            drift.append(
                Drifted(
                    item.kind,
                    item.id,
                    item.label,
                    EDITED,
                    fields,
                    owners(stored, owner_pem),
                    str(modified) if modified else None,
                    item.id in touching,
                )
            )
    framework = current.get(base.id)
    known = set(base.ids)
    listed = [short_id(str(i)) for k in ("competency", "relation") for i in (framework or {}).get(k) or []]
    for added in dict.fromkeys(listed):
        obj = current.get(added)
        if added in known or obj is None:
            continue
        from competency_ci.targets.cass.plan import _label

        modified = obj.get("schema:dateModified")
        drift.append(
            Drifted(
                _kind(obj),
                added,
                _label(obj),
                ADDED,
                [],
                owners(obj, owner_pem),
                str(modified) if modified else None,
                added in touching,
            )
        )
    return drift


def render(
    drift: Mapping[str, list[Drifted]], names: Mapping[str, str], base: str, mode: str, out_format: str
) -> str:
    """The drift section of a plan: per framework, each drifted object and its values."""
    if not any(drift.values()):
        return ""
    conflicts = sum(1 for found in drift.values() for d in found if d.conflict)
    verdict = {
        FAIL: "publish will not write these frameworks (on-drift: fail)",
        OVERWRITE: "publish will overwrite them (on-drift: overwrite)",
        KEEP: "publish will leave the server's version of those objects (on-drift: keep)",
    }[mode]
    title = f"Drift: edited on the server since {base}"
    lines: list[str] = []
    for framework_id, found in drift.items():
        if not found:
            continue
        lines.append(f"{names.get(framework_id, framework_id)}: {len(found)} object(s) edited outside git")
        for d in found:
            first, *rest = d.lines()
            lines.append(f"  ! {first}")
            lines += [f"    {r.strip()}" for r in rest]
    tail = (
        f"{conflicts} server edit(s) the plan would overwrite: {verdict}."
        if conflicts
        else ("The plan writes none of them: nothing the server holds is lost.")
    )
    if out_format == "markdown":
        body = [
            f"- {md_text(line.strip())}" if not line.startswith("    ") else f"  - {md_text(line.strip())}"
            for line in lines
        ]
        return "\n".join(["", f"#### {md_text(title)}", "", *body, "", md_text(tail)]) + "\n"
    return "".join(one_line(line) + "\n" for line in [title, *lines, tail])


__all__ = ["FAIL", "KEEP", "MODES", "OVERWRITE", "Drifted", "FieldDrift", "find_drift", "render"]
