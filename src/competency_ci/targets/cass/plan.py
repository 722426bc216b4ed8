"""What publishing would change on a CASS server: desired objects + stored objects -> Plan (pure).

Objects are compared by canonical content: versions in ids, key order, owner order, relation-list
order and object signatures do not count, so an unchanged framework gives an empty plan and costs
zero writes. Items that left a framework are deleted only when this key owns them (CASS deletes
nothing else, cass-api.md §1.2 ``multiDelete``) and no framework of this run still wants them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from competency_ci.report.escape import md_cell, md_code, md_text, one_line
from competency_ci.schema import COMPETENCY, FRAMEWORK
from competency_ci.targets.cass.ids import short_id
from competency_ci.targets.cass.mapping import (
    SIGNATURE_KEYS,
    CassMapping,
    CassObject,
    ExportLoss,
    Item,
    MappedFramework,
    cass_mapping,
    is_owner,
    normalise_pem,
    owners_of,
)
from competency_ci.targets.cass.verify import CeView, Verification, markdown_lines, text_lines

CREATE, UPDATE, DELETE, KEEP = "create", "update", "delete", "keep"


@dataclass(frozen=True)
class Change:
    action: str  # create | update | delete | keep (left on the server, with the reason)
    kind: str  # framework | competency | relation
    id: str
    label: str
    reasons: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()  # the CASS keys that differ (updates)

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "kind": self.kind,
            "id": self.id,
            "label": self.label,
            "reasons": list(self.reasons),
        }


@dataclass
class FrameworkPlan:
    path: str
    name: str
    ctid: str
    id: str
    changes: list[Change] = field(default_factory=list)
    writes: list[Item] = field(default_factory=list)  # framework last
    deletes: list[str] = field(default_factory=list)
    blocked: list[Change] = field(default_factory=list)  # stored objects this key may not change
    stored: dict[str, CassObject] = field(default_factory=dict, repr=False)  # for versions
    losses: list[ExportLoss] = field(default_factory=list)  # cells CE will not see as written
    prediction: Verification | None = None  # the CE view the plan leads to (verify.py)
    ce_view: CeView | None = field(default=None, repr=False)  # the graphs the read-back compares

    @property
    def empty(self) -> bool:
        return not self.writes and not self.deletes

    def count(self, action: str, kind: str | None = None) -> int:
        return sum(1 for c in self.changes if c.action == action and (kind is None or c.kind == kind))

    @property
    def summary(self) -> str:
        if self.empty and not self.changes:
            return "no changes"
        parts = [f"{self.count(a)} to {a}" for a in (CREATE, UPDATE, DELETE) if self.count(a)]
        if self.count(KEEP):
            parts.append(f"{self.count(KEEP)} left in place")
        return ", ".join(parts) or "no changes"

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "name": self.name,
            "ctid": self.ctid,
            "id": self.id,
            "counts": {a: self.count(a) for a in (CREATE, UPDATE, DELETE, KEEP)},
            "blocked": [c.to_dict() for c in self.blocked],
            "changes": [c.to_dict() for c in self.changes],
            "ce_view": [
                {"line": x.line, "column": x.column, "code": x.code, "reason": x.reason} for x in self.losses
            ],
            "ce_prediction": self.prediction.to_dict() if self.prediction else None,
        }


@dataclass
class Plan:
    frameworks: list[FrameworkPlan] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return all(fp.empty for fp in self.frameworks)

    @property
    def ce_differences(self) -> bool:
        """CE would show something other than the files say (a problem: ``plan`` exits 1)."""
        return any(fp.prediction is not None and not fp.prediction.ok for fp in self.frameworks)

    def to_dict(self) -> dict[str, Any]:
        return {"empty": self.empty, "frameworks": [fp.to_dict() for fp in self.frameworks]}


def canonical(obj: Mapping[str, Any]) -> dict[str, Any]:
    """Content that matters: no versions, signatures or ordering noise."""
    out: dict[str, Any] = {}
    for key, value in obj.items():
        if key in SIGNATURE_KEYS or key == "@owner":
            continue
        if key == "@id":
            value = short_id(str(value))
        elif key == "owner":
            value = sorted(normalise_pem(o) for o in owners_of(obj))
        elif key == "relation":
            value = sorted(short_id(str(v)) for v in value or [])
        elif key == "competency":
            value = [short_id(str(v)) for v in value or []]
        out[key] = value
    if "@owner" in obj and "owner" not in obj:
        out["owner"] = sorted(normalise_pem(o) for o in owners_of(obj))
    return out


def _short_name(column: str) -> str:
    return column.split(":", 1)[-1]


def reasons(item: Item, stored: Mapping[str, Any], mapping: CassMapping) -> list[tuple[str, str]]:
    """Why ``item`` differs from what the server holds, in the CSV's terms: (CASS key, reason)."""
    want, have = canonical(item.data), canonical(stored)
    row_type = FRAMEWORK if item.kind == "framework" else COMPETENCY
    result: list[tuple[str, str]] = []
    for key in sorted(set(want) | set(have)):
        new, old = want.get(key), have.get(key)
        if new == old:
            continue
        result.append((key, _reason(key, new, old, item.kind, row_type, mapping)))
    return result


def _reason(key: str, new: Any, old: Any, kind: str, row_type: str, mapping: CassMapping) -> str:
    if key == "competency":
        added = len(set(new or []) - set(old or []))
        removed = len(set(old or []) - set(new or []))
        parts = [f"{added} added"] if added else []
        parts += [f"{removed} removed"] if removed else []
        return "competencies " + ", ".join(parts) if parts else "competency order changed"
    if key == "relation":
        return "hierarchy or alignments changed"
    if key == "owner":
        return "adds this key as an owner" if set(new or []) > set(old or []) else "owners changed"
    if kind == "relation" or key.startswith("@"):
        return f"{key} changed"
    name = _short_name(mapping.column_for(key, row_type))
    verb = "added" if old is None else "removed" if new is None else "changed"
    return f"{name} {verb}"


def _label(obj: Mapping[str, Any]) -> str:
    if obj.get("@type") == "Relation":
        source, target = (str(obj.get(end, "")).rsplit("/", 1)[-1] for end in ("source", "target"))
        return f"{source} {obj.get('relationType')} {target}"
    name = obj.get("name")
    if isinstance(name, dict) and isinstance(name.get("@value"), str):
        name = name["@value"]  # a language-tagged text
    text = name if isinstance(name, str) else json.dumps(name, ensure_ascii=False) if name else ""
    ctid = obj.get("ceterms:ctid") or short_id(str(obj.get("@id", "")))
    return f'{ctid} "{text}"' if text else str(ctid)


def _kind(obj: Mapping[str, Any]) -> str:
    return {"Framework": "framework", "Relation": "relation"}.get(str(obj.get("@type")), "competency")


def plan_framework(
    desired: MappedFramework,
    current: Mapping[str, CassObject],
    owner_pem: str,
    *,
    wanted_elsewhere: frozenset[str] = frozenset(),
    mapping: CassMapping | None = None,
    left_behind: Sequence[str] = (),
) -> FrameworkPlan:
    """``left_behind``: objects of ours that an earlier run left touching this framework and that
    no framework lists (found by search, ``publish.find_left_behind``): deleted too."""
    mapping = mapping or cass_mapping()
    fw = desired.framework
    fp = FrameworkPlan(fw.path, fw.name, fw.ctid, desired.id, losses=list(desired.losses))
    for item in desired.items:
        stored = current.get(item.id)
        if stored is None:
            fp.changes.append(Change(CREATE, item.kind, item.id, item.label, ("new",)))
            fp.writes.append(item)
            continue
        fp.stored[item.id] = stored
        why = reasons(item, stored, mapping)
        if not why:
            continue
        change = Change(
            UPDATE, item.kind, item.id, item.label, tuple(r for _, r in why), tuple(k for k, _ in why)
        )
        fp.changes.append(change)
        fp.writes.append(item)
        if owners_of(stored) and not is_owner(stored, owner_pem):
            fp.blocked.append(change)
    stored_fw = current.get(desired.id)
    if stored_fw:
        ours = set(desired.ids) | wanted_elsewhere
        listed = [
            short_id(str(i))
            for i in [*(stored_fw.get("competency") or []), *(stored_fw.get("relation") or [])]
        ]
        for gone in dict.fromkeys(listed):
            obj = current.get(gone)
            if gone in ours or obj is None:
                continue
            kind, label = _kind(obj), _label(obj)
            if not owners_of(obj):
                kept = (
                    "no longer in the framework",
                    "left in place: it has no owner, and CASS deletes only owned objects",
                )
                fp.changes.append(Change(KEEP, kind, gone, label, kept))
            elif not is_owner(obj, owner_pem):
                kept = ("no longer in the framework", "left in place: owned by another key")
                fp.changes.append(Change(KEEP, kind, gone, label, kept))
            else:
                fp.changes.append(Change(DELETE, kind, gone, label, ("no longer in the framework",)))
                fp.deletes.append(gone)
    ours = set(desired.ids) | wanted_elsewhere | set(fp.deletes)
    for gone in dict.fromkeys(left_behind):
        obj = current.get(gone)
        if gone in ours or obj is None or not is_owner(obj, owner_pem):
            continue
        left = ("left behind by an earlier run: no framework lists it",)
        fp.changes.append(Change(DELETE, _kind(obj), gone, _label(obj), left))
        fp.deletes.append(gone)
    return fp


def make_plan(
    desired: Sequence[MappedFramework],
    current: Mapping[str, CassObject],
    owner_pem: str,
    mapping: CassMapping | None = None,
    left_behind: Mapping[str, Sequence[str]] | None = None,
) -> Plan:
    """One plan per framework. Nothing a framework of this run still wants is ever deleted."""
    mapping = mapping or cass_mapping()
    everything = frozenset(i for d in desired for i in d.ids)
    left = left_behind or {}
    return Plan(
        [
            plan_framework(
                d,
                current,
                owner_pem,
                wanted_elsewhere=everything,
                mapping=mapping,
                left_behind=left.get(d.id, ()),
            )
            for d in desired
        ]
    )


SYMBOLS = {CREATE: "+", UPDATE: "~", DELETE: "-", KEEP: "="}


def _loss_line(path: str, loss: ExportLoss) -> str:
    """A cell CE will not see as written, as ``validate`` reports it (line, column, code, why)."""
    return f"{path}:{loss.line}: {loss.column}: warning [{loss.code}] {loss.reason}"


def _line(change: Change) -> str:
    why = "; ".join(change.reasons)
    return f"{SYMBOLS[change.action]} {change.action} {change.kind} {change.label}: {why}"


def render_text(plan: Plan, server: str, *, detail: int = 50) -> str:
    """Per framework: a summary line, then up to ``detail`` changes."""
    lines = [f"Plan for {server}"]
    for fp in plan.frameworks:
        lines.append(f"{fp.path}: {fp.name} ({fp.ctid}): {fp.summary}")
        for change in fp.changes[:detail]:
            lines.append(f"  {_line(change)}")
        if len(fp.changes) > detail:
            lines.append(f"  ... and {len(fp.changes) - detail} more")
        for change in fp.blocked:
            lines.append(f"  ! cannot update {change.kind} {change.label}: this key is not one of its owners")
        lines += [f"  ! {_loss_line(fp.path, loss)}" for loss in fp.losses]
        if fp.prediction is not None and not fp.prediction.ok:  # a clean prediction says nothing
            lines += text_lines(fp.prediction)
    if plan.empty:
        lines.append("No changes: nothing would be written.")
    return "\n".join(one_line(line) for line in lines) + "\n"


def render_markdown(plan: Plan, server: str, *, detail: int = 50) -> str:
    lines = [f"### CASS publish plan for {md_code(server)}", ""]
    lines += [
        "| file | framework | create | update | delete | left in place |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for fp in plan.frameworks:
        counts = " | ".join(str(fp.count(a)) for a in (CREATE, UPDATE, DELETE, KEEP))
        lines.append(f"| {md_code(fp.path, table=True)} | {md_cell(fp.name)} | {counts} |")
    for fp in plan.frameworks:
        if not fp.changes:
            continue
        lines += ["", f"<details><summary>{md_text(fp.name)}: {fp.summary}</summary>", ""]
        lines += [f"- {md_text(_line(c))}" for c in fp.changes[:detail]]
        if len(fp.changes) > detail:
            lines.append(f"- ... and {len(fp.changes) - detail} more")
        lines += ["", "</details>"]
    for fp in plan.frameworks:
        if fp.losses:
            title = f"{md_text(fp.name)}: {len(fp.losses)} value(s) CE will not show as written"
            lines += ["", f"<details><summary>{title}</summary>", ""]
            lines += [f"- {md_text(_loss_line(fp.path, loss))}" for loss in fp.losses]
            lines += ["", "</details>"]
    predicted = [fp for fp in plan.frameworks if fp.prediction is not None]
    if predicted:
        lines += ["", "#### What CE will show"]
        for fp in predicted:
            assert fp.prediction is not None
            lines += markdown_lines(fp.name, fp.prediction)
    lines += ["", "No changes: nothing would be written." if plan.empty else ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def render_json(plan: Plan, server: str) -> str:
    return json.dumps({"server": server, **plan.to_dict()}, indent=2, ensure_ascii=False) + "\n"
