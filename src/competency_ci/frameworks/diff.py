"""Semantic diff of framework versions, keyed by CTID (pure: models in, differences out).

Two versions differ only in what the model holds: row order, quoting, line endings and cell
spacing never show. A competency *moves* when its parent changes or when its place among the
siblings it kept changes (what CE's ``hasChild`` order shows); inserting or removing a sibling does
not move the others.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from itertools import pairwise

from competency_ci.frameworks.model import Competency, Framework, Value
from competency_ci.frameworks.normal import normal_value

ADDED, REMOVED, CHANGED = "added", "removed", "changed"


@dataclass(frozen=True)
class PropertyChange:
    """One property's values before and after (None: absent)."""

    name: str
    old: Value | None
    new: Value | None


@dataclass(frozen=True)
class Item:
    """A competency as the diff names it."""

    ctid: str
    label: str
    parent: str | None  # parent competency key; None = top of the framework
    position: int  # 1-based place among its siblings


@dataclass(frozen=True)
class CompetencyChange:
    item: Item
    changes: list[PropertyChange]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.changes]


@dataclass(frozen=True)
class Move:
    old: Item
    new: Item

    @property
    def reparented(self) -> bool:
        return self.old.parent != self.new.parent


@dataclass
class FrameworkDiff:
    """What changed in one framework (``status`` added/removed/changed)."""

    ctid: str
    name: str
    status: str
    old_path: str | None = None
    new_path: str | None = None
    properties: list[PropertyChange] = field(default_factory=list)
    added: list[Item] = field(default_factory=list)
    removed: list[Item] = field(default_factory=list)
    changed: list[CompetencyChange] = field(default_factory=list)
    moved: list[Move] = field(default_factory=list)
    competencies: int = 0  # in the new version (the old one if removed)
    kind: str = "framework"  # or "collection": its items are members (frameworks.collection)

    @property
    def empty(self) -> bool:
        return not (self.properties or self.added or self.removed or self.changed or self.moved)

    def counts(self) -> dict[str, int]:
        return {
            "properties": len(self.properties),
            "added": len(self.added),
            "removed": len(self.removed),
            "changed": len(self.changed),
            "moved": len(self.moved),
        }


def key(obj: Framework | Competency) -> str:
    """Identity: the CTID, else the ``@id`` (a framework without CTIDs still diffs)."""
    return obj.ctid or obj.id


def label(comp: Competency, width: int = 80) -> str:
    """How a person recognises a competency: its code and (shortened) text."""
    code = comp.properties.get("ceasn:codedNotation")
    text = " ".join(comp.text.split())
    if len(text) > width:
        text = text[: width - 1].rstrip() + "…"
    return f"{code} {text}" if isinstance(code, str) and code else text


Place = tuple[Competency, "str | None", int]  # the competency, its parent's key, its position


def _places(framework: Framework) -> dict[str, Place]:
    places: dict[str, Place] = {}
    siblings: dict[str | None, int] = {}
    for comp in framework.competencies:
        up = comp.parent
        parent = None if up is None else (up.ctid or up.id)  # key(), inlined: 100k-row files
        position = siblings[parent] = siblings.get(parent, 0) + 1
        places[comp.ctid or comp.id] = (comp, parent, position)
    return places


def _item(k: str, place: Place) -> Item:
    return Item(k, label(place[0]), place[1], place[2])


def property_changes(old: dict[str, Value], new: dict[str, Value]) -> list[PropertyChange]:
    """The properties whose values differ (compared as ``normal.normal_value`` says: a concept URI
    in another published form, or a CTID in another case inside a URI, is no change)."""
    if old == new:
        return []
    names = list(old) + [n for n in new if n not in old]
    return [
        PropertyChange(n, old.get(n), new.get(n))
        for n in names
        if old.get(n) != new.get(n) and normal_value(old.get(n)) != normal_value(new.get(n))
    ]


def diff_framework(old: Framework | None, new: Framework | None) -> FrameworkDiff:
    """The difference between two versions of one framework (either may be absent)."""
    either = new if new is not None else old
    assert either is not None
    result = FrameworkDiff(
        key(either),
        either.name,
        ADDED if old is None else REMOVED if new is None else CHANGED,
        old.path if old is not None else None,
        new.path if new is not None else None,
        competencies=len(either.competencies),
    )
    old_places = _places(old) if old is not None else {}
    new_places = _places(new) if new is not None else {}
    result.properties = property_changes(
        old.properties if old is not None else {}, new.properties if new is not None else {}
    )
    result.removed = [_item(k, place) for k, place in old_places.items() if k not in new_places]
    result.added = [_item(k, place) for k, place in new_places.items() if k not in old_places]
    for k, place in new_places.items():
        before = old_places.get(k)
        if before is not None and before[0].properties != place[0].properties:
            changes = property_changes(before[0].properties, place[0].properties)
            if changes:
                result.changed.append(CompetencyChange(_item(k, place), changes))
    result.moved = _moves(old_places, new_places)
    return result


def _moves(old: dict[str, Place], new: dict[str, Place]) -> list[Move]:
    """New parents, and siblings out of their kept order (the fewest: a longest increasing run)."""
    moved: set[str] = set()
    stayers: dict[str | None, list[str]] = {}
    for k, (_, parent, _) in new.items():
        before = old.get(k)
        if before is None:
            continue
        if before[1] != parent:
            moved.add(k)
        else:
            stayers.setdefault(parent, []).append(k)
    for keys in stayers.values():  # already in new sibling order
        old_rank = [old[k][2] for k in keys]
        if all(a < b for a, b in pairwise(old_rank)):
            continue
        keep = _longest_increasing(old_rank)
        moved.update(k for i, k in enumerate(keys) if i not in keep)
    return [Move(_item(k, old[k]), _item(k, new[k])) for k in new if k in moved]


def _longest_increasing(values: list[int]) -> set[int]:
    """Indexes of one longest strictly increasing subsequence (patience sorting, O(n log n))."""
    tails: list[int] = []
    tail_index: list[int] = []
    previous = [-1] * len(values)
    for i, value in enumerate(values):
        j = bisect_left(tails, value)
        if j == len(tails):
            tails.append(value)
            tail_index.append(i)
        else:
            tails[j] = value
            tail_index[j] = i
        previous[i] = tail_index[j - 1] if j else -1
    keep: set[int] = set()
    i = tail_index[-1] if tail_index else -1
    while i >= 0:
        keep.add(i)
        i = previous[i]
    return keep


def diff_frameworks(old: list[Framework], new: list[Framework]) -> list[FrameworkDiff]:
    """Differences per framework, keyed by CTID; frameworks without a difference are left out.

    Order: the new version's frameworks as they come, then the removed ones.
    """
    old_by_key = {key(fw): fw for fw in old}
    new_keys = {key(fw) for fw in new}
    diffs = [diff_framework(old_by_key.get(key(fw)), fw) for fw in new]
    diffs += [diff_framework(fw, None) for fw in old if key(fw) not in new_keys]
    return [d for d in diffs if not d.empty or d.status != CHANGED]


def totals(diffs: list[FrameworkDiff]) -> dict[str, int]:
    """Counts over all frameworks, for the top of a report."""
    result = {"frameworks": len(diffs), "added": 0, "removed": 0, "changed": 0, "moved": 0, "properties": 0}
    for d in diffs:
        for name, count in d.counts().items():
            result[name] += count
    return result
