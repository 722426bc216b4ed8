"""The schema reference page's column tables, generated from the descriptor
(``python -m competency_ci.schema.reference``; a test keeps docs/pages/reference/schema.md current)."""

from __future__ import annotations

from competency_ci.schema import TIERS, Column, TemplateSchema, load_schema

TIER_TITLES = {
    "required": "Required: CE's Minimum Data template",
    "required-if-available": "Required if available: what CE's publishing API also asks for",
    "benchmark": "Benchmark: the further columns of CE's Benchmark example",
    "optional": "Optional",
}
KINDS = {
    "id": "CTID or URI",
    "type": "row type",
    "ctid": "CTID",
    "ctid-or-uri": "CTID or URI",
    "uri": "URI",
    "date": "date",
    "datetime": "date-time",
    "language": "language code",
    "vocabulary": "short form or concept URI",
    "text": "text",
    "number": "number",
    "code": "code",
}


PLURAL = {"framework": "frameworks", "competency": "competencies", "collection": "collections"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _needed(column: Column) -> str:
    if column.table_required:
        return "every row"
    parts = [f"{level} on {PLURAL[row]}" for row, level in sorted(column.required_for.items())]
    return "; ".join(parts) or "–"


def _value(column: Column) -> str:
    kind = KINDS.get(column.kind, column.kind)
    if column.multiple:
        single = sorted(column.single_for)
        kind += ", several with `|`" + (f" (one on {', '.join(PLURAL[r] for r in single)})" if single else "")
    notes = []
    if column.registry == "required":
        notes.append("of the configured registry")
    if column.advice is not None:
        notes.append(f"advice: `{column.advice[1]}`")
    if column.fill:
        notes.append(f"`fix` fills it from `{column.fill}`")
    return kind + (f"; {'; '.join(notes)}" if notes else "")


def _sources(column: Column) -> str:
    sources = column.extra.get("source", [])
    sources = [sources] if isinstance(sources, str) else list(sources)
    return " ".join(f"[{i}]({url})" for i, url in enumerate(sources, start=1)) or "–"


def columns_by_tier(schema: TemplateSchema | None = None) -> str:
    """One table per tier: each column, where it applies, who needs it, its value and sources."""
    schema = schema or load_schema()
    out: list[str] = []
    for tier in TIERS:
        columns = [c for c in schema.columns.values() if c.tier == tier]
        out += [f"### {TIER_TITLES[tier]} ({len(columns)})", ""]
        out += ["| column | rows | needed | value | sources |", "|---|---|---|---|---|"]
        for c in columns:
            rows = ", ".join(sorted(c.rows))
            out.append(f"| `{c.name}` | {rows} | {_needed(c)} | {_cell(_value(c))} | {_sources(c)} |")
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    print(columns_by_tier(), end="")
