"""Retiring frameworks in the Registry through the Assistant (``targets/retire.py`` says why).

- ``deprecate``: the live graph (``{registry}/graph/{ctid}``) is re-published with the framework's
  ``ceasn:publicationStatusType`` Deprecated: deprecation is a data change (registry-and-approval.md §4).
- ``delete``: ``DELETE {assistant}/CompetencyFramework/delete``, at most 50 CTIDs per request
  (``DeleteRequest``, §2.3, §2.7). One answer covers a whole batch, so each CTID's outcome is read
  back from the Registry afterwards: gone (404) is deleted, anything else is not.

A framework the Registry does not serve is nothing to retire.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from competency_ci.http import RemoteError
from competency_ci.report.escape import md_text, one_line
from competency_ci.targets.record import PublishedFramework
from competency_ci.targets.registry.client import (
    DELETE_BATCH,
    NOT_FOUND,
    Assistant,
    RegistryError,
    RegistryReader,
)
from competency_ci.targets.retire import DELETE, DEPRECATED, STATUS, Retirement

FRAMEWORK = "ceasn:CompetencyFramework"
DONE, NOTHING, FAILED, PENDING = "done", "nothing to do", "failed", "planned"


@dataclass
class RegistryRetirement:
    retirement: Retirement
    live: dict[str, Any] | None = None
    graph: dict[str, Any] | None = None  # deprecate: the graph to re-publish
    status: str = PENDING
    messages: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.status == NOTHING

    @property
    def deletes(self) -> bool:
        return self.retirement.mode == DELETE and self.live is not None

    @property
    def summary(self) -> str:
        if self.live is None:
            return "not in the Registry: nothing to retire"
        if self.retirement.mode == DELETE:
            return "DELETE from the Registry (CompetencyFramework/delete)"
        if self.graph is None:
            return "already Deprecated: nothing to send"
        return "deprecate: re-publish with publicationStatusType Deprecated"

    def line(self) -> str:
        return f"{self.retirement.describe()}: {self.summary}"

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.retirement.to_dict(),
            "live": self.live is not None,
            "status": self.status,
            "messages": self.messages,
        }

    def record(self) -> PublishedFramework:
        r = self.retirement
        if self.status in (DONE, NOTHING) and r.mode == DELETE:
            outcome = "deleted"
        elif self.status == DONE:
            outcome = "written"
        elif self.status == NOTHING:
            outcome = "unchanged"
        else:
            outcome = "failed"
        notes = tuple(self.messages) or (self.summary,)
        return PublishedFramework(
            r.ctid, r.name, r.path, outcome, None, None, tuple(f"retired: {m}" for m in notes)
        )


def _framework_node(graph: dict[str, Any]) -> dict[str, Any] | None:
    return next(
        (n for n in graph.get("@graph") or [] if isinstance(n, dict) and n.get("@type") == FRAMEWORK), None
    )


def plan_retirements(reader: RegistryReader, retirements: Sequence[Retirement]) -> list[RegistryRetirement]:
    """Read each framework's live graph (raises RemoteError/RegistryError when the Registry fails)."""
    plans = []
    for r in retirements:
        p = RegistryRetirement(r, reader.read_graph(r.ctid))
        if p.live is None:
            p.status = NOTHING
        elif r.mode != DELETE:
            graph = json.loads(json.dumps(p.live))
            node = _framework_node(graph)
            if node is None or str(node.get(STATUS, "")).rstrip("/").endswith("/Deprecated"):
                p.status = NOTHING
            else:
                node[STATUS] = DEPRECATED
                p.graph = graph
        plans.append(p)
    return plans


def apply_retirements(
    reader: RegistryReader, assistant: Assistant, organization: str, plans: Sequence[RegistryRetirement]
) -> str | None:
    """Send the retirements; returns the error that stopped them, if one did."""
    try:
        for p in plans:
            if p.status == PENDING and p.graph is not None:
                answer = assistant.publish_graph(p.retirement.ctid, organization, p.graph)
                p.messages = list(answer.messages)
                p.status = DONE if answer.successful else FAILED
                if answer.successful:
                    p.messages.insert(0, "deprecated (publicationStatusType Deprecated)")
        doomed = [p for p in plans if p.status == PENDING and p.retirement.mode == DELETE]
        for start in range(0, len(doomed), DELETE_BATCH):
            batch = doomed[start : start + DELETE_BATCH]
            answer = assistant.delete_frameworks([p.retirement.ctid for p in batch], organization)
            told = [m for m in answer.messages if NOT_FOUND not in m]
            for p in batch:  # one answer for the batch: the Registry says which are gone
                gone = reader.read_graph(p.retirement.ctid) is None
                p.status = DONE if gone else FAILED
                p.messages = ["deleted from the Registry"] if gone else told or ["still in the Registry"]
    except (RemoteError, RegistryError) as exc:
        for p in plans:
            if p.status == PENDING:
                p.status = FAILED
                p.messages = [str(exc)]
        return str(exc)
    return None


def render(plans: Sequence[RegistryRetirement], out_format: str) -> str:
    if not plans:
        return ""
    if out_format == "markdown":
        return "\n".join(["", "#### Retiring", *(f"- {md_text(p.line())}" for p in plans)]) + "\n\n"
    return "".join(one_line(p.line()) + "\n" for p in plans)


def account(plans: Sequence[RegistryRetirement]) -> str:
    titles = {DONE: "retired", NOTHING: "retired (nothing to do)"}
    lines = []
    for p in plans:
        r = p.retirement
        detail = "; ".join(p.messages) or p.summary
        lines.append(f"  {titles.get(p.status, 'NOT retired')}: {r.path}: {r.name} ({r.ctid}): {detail}")
    return "".join(one_line(line) + "\n" for line in lines)


__all__ = ["RegistryRetirement", "account", "apply_retirements", "plan_retirements", "render"]
