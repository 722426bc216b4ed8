"""The publish result file: written by ``publish --result-file``, read by ``request-approval --result``.

It lets the approval request say exactly what the publish changed, even when the two run as
separate steps (or jobs). Shape (``schema_version`` 1)::

    {"schema_version": 1, "target": "cass" | "registry", "server": "<base URL>",
     "commit": "<the commit published>" | null,
     "frameworks": [{"ctid": "ce-...", "name": "...", "path": "frameworks/a.csv",
                     "outcome": "written" | "unchanged" | "failed" | "deleted",
                     "changes": {"added": 0, "removed": 0, "changed": 0, "moved": 0,
                                 "properties": 0, "new": false} | null,
                     "url": "<where the target holds it>" | null, "messages": ["..."],
                     "verification": "<one line: what the CE-view check found>" | null}]}

``verification`` is optional (absent in files written before it existed): the publish's CE-view
check of that framework in words an approver reads, e.g. "CE view matches the repository".
``commit`` is optional too: the revision whose files were published, the baseline that
``plan --record`` compares the server with (drift, ``targets/cass/drift.py``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from competency_ci.frameworks.diff import FrameworkDiff

SCHEMA_VERSION = 1
OUTCOMES = ("written", "unchanged", "failed", "deleted")  # deleted: a retired framework
CHANGE_KINDS = ("added", "removed", "changed", "moved")
COUNTS = (*CHANGE_KINDS, "properties")
IDENTITY = ("ctid", "name", "path")


@dataclass(frozen=True)
class Changes:
    """Counts of one framework change: competencies added/removed/changed/moved (from
    ``diff.diff_framework`` or a publish plan) and framework ``properties`` changed."""

    added: int = 0
    removed: int = 0
    changed: int = 0
    moved: int = 0
    properties: int = 0
    new: bool = False

    def __str__(self) -> str:
        if self.new:
            return f"new framework, {self.added} competenc{'y' if self.added == 1 else 'ies'}"
        parts = [f"{getattr(self, kind)} {kind}" for kind in CHANGE_KINDS if getattr(self, kind)]
        if self.properties:
            parts.append(
                f"{self.properties} framework propert{'y' if self.properties == 1 else 'ies'} changed"
            )
        return ", ".join(parts) or "no changes"

    @classmethod
    def from_diff(cls, diff: FrameworkDiff) -> Changes:
        if diff.status == "added":
            return cls(added=len(diff.added), new=True)
        counts = diff.counts()
        return cls(
            counts["added"], counts["removed"], counts["changed"], counts["moved"], counts["properties"]
        )


@dataclass(frozen=True)
class PublishedFramework:
    ctid: str
    name: str
    path: str
    outcome: str
    changes: Changes | None = None
    url: str | None = None
    messages: tuple[str, ...] = ()
    verification: str | None = None


@dataclass(frozen=True)
class PublishRecord:
    target: str
    server: str
    frameworks: tuple[PublishedFramework, ...] = field(default_factory=tuple)
    commit: str | None = None

    def to_json(self) -> str:
        data = {"schema_version": SCHEMA_VERSION, **asdict(self)}
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def parse_record(data: Any) -> PublishRecord:
    """Validate a loaded result file; ``ValueError`` says what is wrong."""
    if not isinstance(data, dict) or data.get("schema_version") != SCHEMA_VERSION:
        raise ValueError(f"not a competency-ci publish result (schema_version {SCHEMA_VERSION})")
    items = data.get("frameworks")
    if not isinstance(items, list):
        raise ValueError("frameworks: expected a list")
    frameworks = []
    for number, item in enumerate(items, 1):
        where = f"frameworks[{number}]"
        if not isinstance(item, dict) or not all(
            isinstance(item.get(k), str) for k in ("ctid", "name", "path")
        ):
            raise ValueError(f"{where}: ctid, name and path must be strings")
        if item.get("outcome") not in OUTCOMES:
            raise ValueError(f"{where}.outcome: expected one of {', '.join(OUTCOMES)}")
        raw = item.get("changes")
        changes = None
        if raw is not None:
            if not isinstance(raw, dict) or not all(isinstance(raw.get(k, 0), int) for k in COUNTS):
                raise ValueError(f"{where}.changes: expected counts of {', '.join(COUNTS)}")
            changes = Changes(**{k: raw.get(k, 0) for k in COUNTS}, new=raw.get("new") is True)
        frameworks.append(
            PublishedFramework(
                item["ctid"],
                item["name"],
                item["path"],
                item["outcome"],
                changes,
                item.get("url") if isinstance(item.get("url"), str) else None,
                tuple(str(m) for m in item.get("messages") or []),
                item.get("verification") if isinstance(item.get("verification"), str) else None,
            )
        )
    commit = data.get("commit") if isinstance(data.get("commit"), str) else None
    return PublishRecord(str(data.get("target", "")), str(data.get("server", "")), tuple(frameworks), commit)
