"""The framework model: what everything after validation works on (convert, diff, publish).

Built from a validated Table by ``competency_ci.frameworks.build``; never from a table with errors.
Values are already split on ``|`` (multi-valued columns are lists), trimmed, and vocabulary short
forms are expanded to URIs. References are resolved to objects; CTIDs are lower case.
"""

from __future__ import annotations

from dataclasses import dataclass, field

Value = str | list[str]


@dataclass(eq=False)
class Competency:
    ctid: str
    id: str
    line: int
    properties: dict[str, Value] = field(default_factory=dict)
    parent: Competency | None = field(default=None, repr=False)
    children: list[Competency] = field(default_factory=list, repr=False)
    framework: Framework | None = field(default=None, repr=False)

    @property
    def text(self) -> str:
        value = self.properties.get("ceasn:competencyText", "")
        return value if isinstance(value, str) else " | ".join(value)


@dataclass(eq=False)
class Framework:
    ctid: str
    id: str
    line: int
    path: str
    properties: dict[str, Value] = field(default_factory=dict)
    competencies: list[Competency] = field(default_factory=list, repr=False)

    @property
    def name(self) -> str:
        value = self.properties.get("ceasn:name", "")
        return value if isinstance(value, str) else " | ".join(value)

    @property
    def top(self) -> list[Competency]:
        return [c for c in self.competencies if c.parent is None]

    @property
    def languages(self) -> list[str]:
        value = self.properties.get("ceasn:inLanguage", [])
        return [value] if isinstance(value, str) else list(value)


@dataclass(eq=False)
class Collection:
    """A ``ceterms:Collection`` row: a named set of competencies (``members``, as written in
    ``ceterms:hasMember``: CTIDs lower-cased, URIs as they are)."""

    ctid: str
    id: str
    line: int
    path: str
    properties: dict[str, Value] = field(default_factory=dict)
    members: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        value = self.properties.get("ceterms:name", "")
        return value if isinstance(value, str) else " | ".join(value)

    @property
    def languages(self) -> list[str]:
        value = self.properties.get("ceterms:inLanguage", [])
        return [value] if isinstance(value, str) else list(value)
