"""Framework diffs as text (terminal), JSON (tools) and Markdown (pull-request summaries)."""

from __future__ import annotations

import json
from typing import Any

from competency_ci.frameworks.diff import CompetencyChange, FrameworkDiff, Item, Move, PropertyChange, totals
from competency_ci.frameworks.model import Value
from competency_ci.report.escape import md_cell, md_code, md_text, one_line

FORMATS = ("text", "json", "markdown")
DETAILS_AFTER = 10  # markdown lists longer than this fold into <details>


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {plural or word + 's'}"


def _value(value: Value | None) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, list):
        return "[" + ", ".join(json.dumps(v, ensure_ascii=False) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _where(item: Item) -> str:
    parent = "top" if item.parent is None else f"under {item.parent}"
    return f"{parent}, position {item.position}"


def summary_line(diffs: list[FrameworkDiff]) -> str:
    if not diffs:
        return "no changes"
    t = totals(diffs)
    parts = [f"{t[k]} {k}" for k in ("added", "removed", "changed", "moved") if t[k]]
    kind = "collection" if all(d.kind == "collection" for d in diffs) else "framework"
    props = (
        f"{_plural(t['properties'], f'{kind} property', f'{kind} properties')} changed"
        if t["properties"]
        else ""
    )
    items = "members" if kind == "collection" else "competencies"
    competencies = f"{items}: {', '.join(parts)}" if parts else ""
    details = "; ".join(p for p in (props, competencies) if p)
    return f"{_plural(len(diffs), kind)} with changes" + (f" ({details})" if details else "")


# --- text ----------------------------------------------------------------------------------------


def text(diffs: list[FrameworkDiff]) -> str:
    lines: list[str] = []
    for d in diffs:
        path = d.new_path or d.old_path or ""
        renamed = f" (was {d.old_path})" if d.old_path and d.new_path and d.old_path != d.new_path else ""
        lines.append(f"{d.kind} {d.ctid} {json.dumps(d.name, ensure_ascii=False)}: {d.status}")
        lines.append(f"  file: {path}{renamed}")
        for p in d.properties:
            lines.append(f"  {p.name}: {_value(p.old)} -> {_value(p.new)}")
        if d.status != "changed":
            noun = "competency" if d.competencies == 1 else "competencies"
            if d.kind != "framework":
                noun = "member" if d.competencies == 1 else "members"
            lines.append(f"  {d.kind} {d.status} with {d.competencies} {noun}")
            continue
        for item in d.added:
            where = f"position {item.position}" if d.kind == "collection" else _where(item)
            lines.append(f"  + {item.ctid} {item.label} ({where})")
        for item in d.removed:
            lines.append(f"  - {item.ctid} {item.label}")
        for change in d.changed:
            lines.append(f"  ~ {change.item.ctid} {change.item.label}: {', '.join(change.names)}")
            for p in change.changes:
                lines.append(f"      {p.name}: {_value(p.old)} -> {_value(p.new)}")
        for move in d.moved:
            lines.append(f"  > {move.new.ctid} {move.new.label}: {_where(move.old)} -> {_where(move.new)}")
    lines.append(summary_line(diffs))
    return "\n".join(one_line(line) for line in lines) + "\n"


# --- json ----------------------------------------------------------------------------------------


def _item(item: Item) -> dict[str, Any]:
    return {"ctid": item.ctid, "label": item.label, "parent": item.parent, "position": item.position}


def _prop(p: PropertyChange) -> dict[str, Any]:
    return {"name": p.name, "old": p.old, "new": p.new}


def _change(c: CompetencyChange) -> dict[str, Any]:
    return _item(c.item) | {"properties": [_prop(p) for p in c.changes]}


def _move(m: Move) -> dict[str, Any]:
    return {
        "ctid": m.new.ctid,
        "label": m.new.label,
        "old": {"parent": m.old.parent, "position": m.old.position},
        "new": {"parent": m.new.parent, "position": m.new.position},
    }


def json_report(diffs: list[FrameworkDiff]) -> str:
    document = {
        "version": 1,
        "summary": totals(diffs),
        "frameworks": [
            {
                "ctid": d.ctid,
                "name": d.name,
                "status": d.status,
                "old_path": d.old_path,
                "new_path": d.new_path,
                "competencies": d.competencies,
                "properties": [_prop(p) for p in d.properties],
                "added": [_item(i) for i in d.added],
                "removed": [_item(i) for i in d.removed],
                "changed": [_change(c) for c in d.changed],
                "moved": [_move(m) for m in d.moved],
            }
            | ({"kind": d.kind} if d.kind != "framework" else {})
            for d in diffs
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# --- markdown ------------------------------------------------------------------------------------


def _md_value(value: Value | None) -> str:
    return md_cell(_value(value))


def _table(title: str, header: list[str], rows: list[list[str]]) -> list[str]:
    if not rows:
        return []
    table = [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(row) + " |" for row in rows),
    ]
    if len(rows) > DETAILS_AFTER:
        return ["<details>", f"<summary>{title}</summary>", "", *table, "", "</details>", ""]
    return [f"**{title}**", "", *table, ""]


def _md_where(item: Item) -> str:
    return (
        "top" if item.parent is None else f"under {md_code(item.parent, table=True)}"
    ) + f", #{item.position}"


def markdown(diffs: list[FrameworkDiff]) -> str:
    lines = ["## Competency framework changes", ""]
    if not diffs:
        return "\n".join([*lines, "No framework changes."]) + "\n"
    t = totals(diffs)
    lines += [
        "| frameworks | properties changed | competencies added | removed | changed | moved |",
        "|---:|---:|---:|---:|---:|---:|",
        f"| {t['frameworks']} | {t['properties']} | {t['added']} | {t['removed']} | {t['changed']} "
        f"| {t['moved']} |",
        "",
    ]
    for d in diffs:
        path = d.new_path or d.old_path or ""
        lines += [f"### {md_text(d.name)} ({md_code(d.ctid)}): {d.status}", "", f"File: {md_code(path)}", ""]
        if d.status != "changed":
            noun = "competency" if d.competencies == 1 else "competencies"
            lines += [f"Framework {d.status} with {d.competencies} {noun}.", ""]
            continue
        c = d.counts()
        lines += [
            "| properties | added | removed | changed | moved |",
            "|---:|---:|---:|---:|---:|",
            f"| {c['properties']} | {c['added']} | {c['removed']} | {c['changed']} | {c['moved']} |",
            "",
        ]
        lines += _table(
            f"{_plural(len(d.properties), 'framework property', 'framework properties')} changed",
            ["property", "old", "new"],
            [[md_code(p.name, table=True), _md_value(p.old), _md_value(p.new)] for p in d.properties],
        )
        lines += _table(
            f"{len(d.added)} added",
            ["competency", "CTID", "where"],
            [[md_cell(i.label), md_code(i.ctid, table=True), _md_where(i)] for i in d.added],
        )
        lines += _table(
            f"{len(d.removed)} removed",
            ["competency", "CTID"],
            [[md_cell(i.label), md_code(i.ctid, table=True)] for i in d.removed],
        )
        lines += _table(
            f"{len(d.changed)} changed",
            ["competency", "CTID", "properties"],
            [
                [
                    md_cell(ch.item.label),
                    md_code(ch.item.ctid, table=True),
                    ", ".join(md_code(n, table=True) for n in ch.names),
                ]
                for ch in d.changed
            ],
        )
        lines += _table(
            f"{len(d.moved)} moved",
            ["competency", "CTID", "from", "to"],
            [
                [md_cell(m.new.label), md_code(m.new.ctid, table=True), _md_where(m.old), _md_where(m.new)]
                for m in d.moved
            ],
        )
    return "\n".join(lines).rstrip("\n") + "\n"


def render(diffs: list[FrameworkDiff], fmt: str) -> str:
    if fmt == "json":
        return json_report(diffs)
    if fmt == "markdown":
        return markdown(diffs)
    return text(diffs)
