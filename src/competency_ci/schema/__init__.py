"""The template schema: the Frictionless data package that every rule is read from.

Loaded with the standard ``json`` module so the validator's start-up stays light; the same
descriptor is what ``frictionless`` reads in tests and what users can hand to any Frictionless tool.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any

FRAMEWORK = "framework"
COMPETENCY = "competency"
COLLECTION = "collection"  # a ceterms:Collection row (a file of its own: CASS's collection import)
TIERS = ("required", "required-if-available", "benchmark", "optional")
# Beside this module in every install (importlib.resources would cost the validator's start-up
# more than the whole schema does).
_DESCRIPTOR = Path(__file__).with_name("datapackage.json")


@dataclass(frozen=True)
class ExportFact:
    """What CASS's CTDL-ASN export (the view CE's Publisher reads) makes of a column's values
    (the descriptor's ``competencyCi.export``)."""

    term: str | None  # the CTDL-ASN term CE gets; None when the export drops the value
    form: str  # as-sent, single, strings, language-map, ..., dropped
    reason: str  # plain words, when the value is dropped or changed
    source: str

    @property
    def dropped(self) -> bool:
        return self.term is None

    @property
    def problem_code(self) -> str:
        """The warning ``validate`` and ``plan`` give for a value that does not reach CE as written."""
        return "not-shown-by-ce" if self.dropped else "reshaped-by-ce"

    def loses(self, count: int) -> bool:
        """Whether a cell of ``count`` values does not reach CE as written: a dropped value, or a
        single value of a column whose one value the export turns from a list into a scalar."""
        return self.dropped or (self.form.endswith("single-when-one") and count == 1)


@dataclass(frozen=True)
class Column:
    """One CSV column (a Table Schema field plus our ``competencyCi`` properties)."""

    name: str
    title: str
    description: str
    example: str
    rows: frozenset[str]
    tier: str
    kind: str
    multiple: bool
    required_for: dict[str, str]
    pattern_source: str | None  # compiled on first use (``pattern``): a run meets few columns
    enum: tuple[str, ...] | None
    format: str | None
    table_required: bool
    jsonld: str | None
    references: str | None
    vocabulary: dict[str, str]
    extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def pattern(self) -> re.Pattern[str] | None:
        """The Table Schema ``pattern`` constraint, compiled: only the columns a run reads pay."""
        return None if self.pattern_source is None else re.compile(self.pattern_source)

    def applies_to(self, row_type: str) -> bool:
        return row_type in self.rows

    def is_valid(self, value: str) -> bool:
        """The descriptor's own constraint test (pattern or enum), as Table Schema defines it."""
        test = self.validator
        return test is None or bool(test(value))

    @cached_property
    def export(self) -> ExportFact | None:
        """The descriptor's export fact for the column (None: not sent to CASS as a value)."""
        fact = self.extra.get("export")
        if not isinstance(fact, dict):
            return None
        return ExportFact(fact.get("term"), fact["form"], fact.get("reason", ""), fact["source"])

    @property
    def export_loss(self) -> ExportFact | None:
        """The export fact when some value of the column does not reach CE as written."""
        fact = self.export
        return fact if fact is not None and (fact.dropped or fact.loses(1)) else None

    @cached_property
    def validator(self) -> Callable[[str], object] | None:
        """``is_valid`` as one C call per value (truthy when valid); None when anything goes."""
        if self.enum is not None:
            return frozenset(self.enum).__contains__
        if self.pattern is not None:
            return self.pattern.fullmatch
        return None

    @cached_property
    def advice(self) -> tuple[re.Pattern[str], str] | None:
        """``competencyCi.advice``: the form a valid value should have, and the problem code of a
        valid value without it (a date-time where CE keeps only the date, a short form CASS drops)."""
        spec = self.extra.get("advice")
        if not isinstance(spec, dict):
            return None
        return re.compile(spec["pattern"]), str(spec["code"])

    @cached_property
    def quiet(self) -> Callable[[str], object] | None:
        """A test a value passes only when no rule of its own column has anything to say about it:
        the constraint and the advice (what the bulk acceptor settles)."""
        if self.advice is not None:
            return self.advice[0].fullmatch
        return self.validator

    @property
    def single_for(self) -> frozenset[str]:
        """Row types on which a multi-valued column takes one value (``competencyCi.singleFor``)."""
        return frozenset(self.extra.get("singleFor", ()))

    def is_multiple(self, row_type: str | None) -> bool:
        return self.multiple and row_type not in self.single_for

    @property
    def registry(self) -> str | None:
        """``required``: a value is a CTID or a URI of the configured Credential Registry."""
        value = self.extra.get("registry")
        return value if isinstance(value, str) else None

    @property
    def fill(self) -> str | None:
        """What `fix` fills an empty required cell from (``organization``: the configured CTID)."""
        value = self.extra.get("fill")
        return value if isinstance(value, str) else None


@dataclass(frozen=True)
class TemplateSchema:
    """The descriptor as the checks use it: columns by name, row types, template leftovers."""

    columns: dict[str, Column]
    row_types: dict[str, str]
    template_row_prefixes: tuple[str, ...]
    separator: str
    descriptor: dict[str, Any] = field(repr=False, compare=False)

    def get(self, name: str) -> Column | None:
        return self.columns.get(name)

    def row_type(self, type_value: str) -> str | None:
        """framework / competency for a trimmed ``@type`` value, else None."""
        return self.row_types.get(type_value)

    def is_template_row(self, type_value: str) -> bool:
        lowered = type_value.strip().lower()
        return any(lowered.startswith(prefix) for prefix in self.template_row_prefixes)

    @cached_property
    def vocabulary_aliases(self) -> tuple[tuple[str, str], ...]:
        """(alias prefix, the prefix the descriptor's vocabulary URIs use): the same concept
        scheme under another host or scheme (``purl.org`` / ``credreg.net``, ``http`` / ``https``)."""
        pairs = []
        for column in self.columns.values():
            uris = list(column.vocabulary.values())
            if not uris:
                continue
            canonical = uris[0][: uris[0].rstrip("/").rfind("/") + 1]
            pairs += [(alias, canonical) for alias in column.extra.get("vocabularyAliases", ())]
        return tuple(pairs)

    def type_for(self, row_type: str) -> str:
        """The ``@type`` value for a row type."""
        return next(t for t, rt in self.row_types.items() if rt == row_type)

    def in_tier(self, tier: str) -> list[Column]:
        """Columns of a template tier (tiers are cumulative; ``all`` means every column)."""
        if tier == "all":
            return list(self.columns.values())
        allowed = TIERS[: TIERS.index(tier) + 1]
        return [c for c in self.columns.values() if c.tier in allowed]


def _column(spec: dict[str, Any]) -> Column:
    ci: dict[str, Any] = spec.get("competencyCi", {})
    constraints: dict[str, Any] = spec.get("constraints", {})
    pattern = constraints.get("pattern")
    enum = constraints.get("enum")
    return Column(
        name=spec["name"],
        title=spec.get("title", spec["name"]),
        description=spec.get("description", ""),
        example=spec.get("example", ""),
        rows=frozenset(ci.get("rows", [])),
        tier=ci.get("tier", "optional"),
        kind=ci.get("kind", "text"),
        multiple=bool(ci.get("multiple", False)),
        required_for=dict(ci.get("requiredFor", {})),
        pattern_source=pattern or None,
        enum=tuple(enum) if enum else None,
        format=spec.get("format"),
        table_required=bool(constraints.get("required", False)),
        jsonld=ci.get("jsonld"),
        references=ci.get("references"),
        vocabulary=dict(ci.get("vocabulary", {})),
        extra={k: v for k, v in ci.items()},
    )


def descriptor_text() -> str:
    return _DESCRIPTOR.read_text("utf-8")


def descriptor_path() -> str:
    return str(_DESCRIPTOR)


@cache
def load_schema() -> TemplateSchema:
    descriptor: dict[str, Any] = json.loads(descriptor_text())
    package_ci = descriptor.get("competencyCi", {})
    table_schema = descriptor["resources"][0]["schema"]
    columns = {spec["name"]: _column(spec) for spec in table_schema["fields"]}
    return TemplateSchema(
        columns=columns,
        row_types=dict(package_ci["rowTypes"]),
        template_row_prefixes=tuple(package_ci["templateRowPrefixes"]),
        separator=package_ci["multiValueSeparator"],
        descriptor=descriptor,
    )
