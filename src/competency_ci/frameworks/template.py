"""Blank template CSVs, like the one CE's Publisher offers for download.

Everything comes from the schema descriptor: the tier picks the columns, the fields' ``example``
fills the sample row and their tier and ``description`` fill the instruction row. Both helper rows
carry an ``@type`` that starts with ``sample`` / ``instruction``, so CASS skips them.
"""

from __future__ import annotations

import csv
import io
import re

from competency_ci.schema import COLLECTION, COMPETENCY, FRAMEWORK, TIERS, Column, TemplateSchema

TEMPLATE_TIERS = (*TIERS[:3], "all")
"""``--tier`` choices: cumulative CE tiers (``benchmark`` includes the two before it), or ``all``."""

_LEVEL_LABEL = {"required": "Required", "required-if-available": "Required if available"}
_TIER_LABEL = {
    "required": "Minimum-data column",
    "required-if-available": "Publishing column",
    "benchmark": "Benchmark column",
    "optional": "Optional",
}
_ROWS_LABEL = {FRAMEWORK: "frameworks", COMPETENCY: "competencies", COLLECTION: "collections"}
_MAX_INSTRUCTION = 160
_SENTENCE_END = re.compile(r"(?<=[a-z0-9)]\.)\s+(?=[A-Z])")


def template_columns(schema: TemplateSchema, tier: str, *, collection: bool = False) -> list[Column]:
    """Columns of a tier in CE's template order: ``@id``, ``@type``, framework, then competency columns.

    Within each group the descriptor's order is kept; a column that applies to both row types sits
    with the framework columns, because framework rows come first in the file. ``collection``: the
    columns of collection rows instead (a collection file holds nothing else, as CASS requires).
    """
    if tier not in TEMPLATE_TIERS:
        raise ValueError(f"unknown tier {tier!r}; choose one of {', '.join(TEMPLATE_TIERS)}")
    rows = _modes(collection)
    chosen = [c for c in schema.in_tier(tier) if c.rows & rows]
    ids = [c for c in chosen if c.kind in ("id", "type")]
    framework = [c for c in chosen if c not in ids and c.applies_to(FRAMEWORK)]
    competency = [c for c in chosen if c not in ids and c not in framework]
    return ids + framework + competency


def _modes(collection: bool) -> frozenset[str]:
    """The row types of a file: collections alone, or frameworks and their competencies."""
    return frozenset({COLLECTION}) if collection else frozenset({FRAMEWORK, COMPETENCY})


def _rows_text(rows: list[str]) -> str:
    return " and ".join(_ROWS_LABEL[r] for r in (FRAMEWORK, COMPETENCY, COLLECTION) if r in rows)


def instruction(column: Column, modes: frozenset[str] = frozenset({FRAMEWORK, COMPETENCY})) -> str:
    """Short guidance for one column: who needs it (among the row types of the file, ``modes``),
    then the first sentence of its description."""
    if column.table_required:
        status = "Required in every row"
    elif column.required_for:
        by_level: dict[str, list[str]] = {}
        for row_type, level in column.required_for.items():
            if row_type in modes:
                by_level.setdefault(level, []).append(row_type)
        status = "; ".join(f"{_LEVEL_LABEL[lvl]} for {_rows_text(rows)}" for lvl, rows in by_level.items())
    else:
        status = f"{_TIER_LABEL[column.tier]}, for {_rows_text(sorted(column.rows & modes))}"
    text = column.description.replace("`", "")
    sentence = _SENTENCE_END.split(text, maxsplit=1)[0]
    guidance = f"{status}. {sentence}"
    if len(guidance) > _MAX_INSTRUCTION:
        guidance = guidance[: _MAX_INSTRUCTION - 1].rstrip() + "…"
    return guidance


def template_rows(
    schema: TemplateSchema,
    tier: str = "required",
    *,
    sample: bool = False,
    instructions: bool = False,
    collection: bool = False,
) -> list[list[str]]:
    """Header, then the optional sample row (row 2) and instruction row (row 3, or 2 without a sample)."""
    columns = template_columns(schema, tier, collection=collection)
    rows = [[c.name for c in columns]]
    sample_prefix, instruction_prefix = schema.template_row_prefixes[:2]
    example_type = schema.type_for(COLLECTION) if collection else None
    if sample:
        rows.append(
            [
                f"{sample_prefix}: {example_type or c.example}" if c.kind == "type" else c.example
                for c in columns
            ]
        )
    if instructions:
        rows.append(
            [
                f"{instruction_prefix}: {instruction(c, _modes(collection))}"
                if c.kind == "type"
                else instruction(c, _modes(collection))
                for c in columns
            ]
        )
    return rows


def render_csv(rows: list[list[str]]) -> str:
    """RFC 4180 CSV with ``\\n`` line breaks and one final line break, as files in git have."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def template_text(
    schema: TemplateSchema,
    tier: str = "required",
    *,
    sample: bool = False,
    instructions: bool = False,
    collection: bool = False,
) -> str:
    return render_csv(
        template_rows(schema, tier, sample=sample, instructions=instructions, collection=collection)
    )
