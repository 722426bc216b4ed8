"""Retiring frameworks on a CASS server: plan (reads only) and apply (``targets/retire.py`` says why).

- ``deprecate``: the stored framework object is written back with ``ceasn:publicationStatusType``
  Deprecated (the form the mapping writes, cass2ceasn.json ``@id``); nothing else changes, so CE's
  export shows the framework as superseded until the Publisher pulls it again.
- ``delete``: the framework object and what it lists (competencies, relations) are deleted, but only
  objects this key owns (CASS's ``multiDelete`` skips the rest, cass-api.md §1.2), that no framework
  of this run wants and that no other framework on the server lists (found by search). Relations and
  competencies go first, the framework object last, so a run that fails half way leaves a framework
  that still lists what is left, and the next run (from the publish record) finishes the work.

A framework this key does not own is never changed: it is planned as blocked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from competency_ci.frameworks.jsonld import resource_uri
from competency_ci.report.escape import md_text, one_line
from competency_ci.targets.cass.client import SEARCH_IDS, CassClient, CassError, frameworks_query
from competency_ci.targets.cass.ids import short_id
from competency_ci.targets.cass.mapping import SIGNATURE_KEYS, CassObject, is_owner, owners_of, versioned_id
from competency_ci.targets.record import PublishedFramework
from competency_ci.targets.retire import DELETE, DEPRECATED, STATUS, Retirement

DONE, NOTHING, BLOCKED, FAILED, PENDING = "done", "nothing to do", "blocked", "failed", "planned"


@dataclass
class RetirePlan:
    """One framework's retirement on the server, as read; empty when nothing is to be written."""

    retirement: Retirement
    id: str  # the framework object's id (its canonical registry URI)
    stored: CassObject | None = None
    write: CassObject | None = None  # deprecate: the framework object as it will be written
    deletes: list[str] = field(default_factory=list)  # delete: relations, competencies, framework last
    kept: list[tuple[str, str]] = field(default_factory=list)  # (id, why it stays)
    blocked: str = ""  # why this key cannot retire it
    status: str = PENDING
    message: str = ""

    @property
    def empty(self) -> bool:
        return self.write is None and not self.deletes

    @property
    def summary(self) -> str:
        r = self.retirement
        if self.blocked:
            return f"cannot {r.action}: {self.blocked}"
        if self.stored is None:
            return "not on the server: nothing to retire"
        if r.mode == DELETE:
            objects = len(self.deletes)
            kept = f"; {len(self.kept)} left in place" if self.kept else ""
            return f"DELETE the framework and {objects - 1} of its object(s){kept}"
        if self.write is None:
            return "already Deprecated: nothing to write"
        return "deprecate in place: publicationStatusType becomes Deprecated"

    def line(self) -> str:
        return f"{self.retirement.describe()}: {self.summary}"

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.retirement.to_dict(),
            "on_server": self.stored is not None,
            "deletes": list(self.deletes),
            "kept": [{"id": i, "reason": why} for i, why in self.kept],
            "blocked": self.blocked or None,
            "writes": 1 if self.write is not None else 0,
            "status": self.status,
            "message": self.message,
        }

    def record(self) -> PublishedFramework:
        r = self.retirement
        if self.status == DONE and r.mode == DELETE:
            outcome = "deleted"
        elif self.status == DONE:
            outcome = "written"
        elif self.status == NOTHING:
            outcome = "deleted" if r.mode == DELETE and self.stored is None else "unchanged"
        else:
            outcome = "failed"
        message = self.message or self.summary
        return PublishedFramework(r.ctid, r.name, r.path, outcome, None, None, (f"retired: {message}",))


def _members(framework: CassObject) -> tuple[list[str], list[str]]:
    relations = [short_id(str(i)) for i in framework.get("relation") or []]
    competencies = [short_id(str(i)) for i in framework.get("competency") or []]
    return relations, competencies


def plan_retirements(
    client: CassClient,
    retirements: Sequence[Retirement],
    registry_url: str,
    owner_pem: str,
    wanted: frozenset[str] = frozenset(),
) -> list[RetirePlan]:
    """Read each framework to retire and what it lists; ``wanted``: ids this run's frameworks keep.
    Raises CassError when the server cannot be read."""
    plans = [RetirePlan(r, resource_uri(registry_url, r.ctid)) for r in retirements]
    if not plans:
        return plans
    stored = client.multi_get([p.id for p in plans])
    for p in plans:
        p.stored = stored.get(p.id)
    deleting = [p for p in plans if p.stored is not None and p.retirement.mode == DELETE]
    members = [i for p in deleting if p.stored for group in _members(p.stored) for i in group]
    held = client.multi_get(members) if members else {}
    listed_elsewhere = _listed_by_others(client, members, {p.id for p in deleting})
    for p in plans:
        if p.stored is None:
            p.status = NOTHING
            continue
        if owners_of(p.stored) and not is_owner(p.stored, owner_pem):
            p.blocked = "this key is not an owner of the framework object"
            p.status = BLOCKED
            continue
        if p.retirement.mode != DELETE:
            if str(p.stored.get(STATUS, "")).rstrip("/").endswith("/Deprecated"):
                p.status = NOTHING
                continue
            body = {k: v for k, v in p.stored.items() if k not in SIGNATURE_KEYS}
            p.write = {**body, STATUS: DEPRECATED}
            continue
        relations, competencies = _members(p.stored)
        for member in dict.fromkeys([*relations, *competencies]):
            obj = held.get(member)
            if obj is None:
                continue  # listed, but not there (an earlier run deleted it)
            if member in wanted:
                p.kept.append((member, "a framework of this repository still uses it"))
            elif member in listed_elsewhere:
                p.kept.append((member, "another framework on the server lists it"))
            elif not is_owner(obj, owner_pem):
                p.kept.append((member, "not owned by this key"))
            else:
                p.deletes.append(member)
        p.deletes.append(p.id)
    return plans


def _listed_by_others(client: CassClient, ids: list[str], retiring: set[str]) -> set[str]:
    """Which of ``ids`` a framework other than ``retiring`` lists (search, then read them)."""
    found: list[str] = []
    for start in range(0, len(ids), SEARCH_IDS):
        found.extend(client.search_ids(frameworks_query(ids[start : start + SEARCH_IDS])))
    others = [i for i in dict.fromkeys(short_id(f) for f in found) if i not in retiring]
    listed: set[str] = set()
    for obj in (client.multi_get(others) if others else {}).values():
        if obj.get("@type") == "Framework":
            for group in _members(obj):
                listed.update(group)
    return listed


def apply_retirements(client: CassClient, plans: Sequence[RetirePlan]) -> str | None:
    """Write each planned retirement; returns the error that stopped the run, if one did."""
    from competency_ci.targets.cass.publish import Progress, Refused, _delete, _put

    for p in plans:
        if p.status != PENDING:
            continue
        if p.empty:
            p.status = NOTHING
            continue
        progress = Progress({}, list(p.deletes), p.id)
        try:
            if p.write is not None:
                assert p.stored is not None
                obj = {**p.write, "@id": versioned_id(p.id, p.stored, client.server_now_ms())}
                progress.planned = {p.id: obj}
                _put(client, [obj], progress)
                p.message = "deprecated in place (publicationStatusType Deprecated)"
            else:
                for batch in client.batches(p.deletes):
                    _delete(client, batch, progress)
                p.message = f"deleted the framework and {len(p.deletes) - 1} of its object(s)"
                if p.kept:
                    p.message += f"; {len(p.kept)} left in place"
        except CassError as exc:
            p.status = FAILED
            done = len(progress.deleted)
            p.message = f"{exc}; {done} of {len(p.deletes)} object(s) deleted" if p.deletes else str(exc)
            return str(exc)
        except Refused:
            p.status = FAILED
            p.message = "the server did not save the framework object: not an owner, or rejected"
            continue
        p.status = DONE
    return None


def render(plans: Sequence[RetirePlan], out_format: str, *, done: bool = False) -> str:
    """The retirements, after the publish plan (``done``: after the account): one line each
    (markdown: a list under a heading)."""
    if not plans:
        return ""
    if out_format == "markdown":
        lines = ["", "#### Retired" if done else "#### Retiring"]
        lines += [f"- {md_text(p.line() if not done else account([p]).strip())}" for p in plans]
        return "\n".join(lines) + "\n\n"
    return "".join(one_line(p.line()) + "\n" for p in plans)


def account(plans: Sequence[RetirePlan]) -> str:
    titles = {
        DONE: "retired",
        NOTHING: "retired (nothing to do)",
        BLOCKED: "NOT retired",
        FAILED: "NOT retired",
    }
    lines = []
    for p in plans:
        r = p.retirement
        detail = p.message or p.summary
        lines.append(f"  {titles.get(p.status, 'NOT retired')}: {r.path}: {r.name} ({r.ctid}): {detail}")
    return "".join(one_line(line) + "\n" for line in lines)


__all__ = ["RetirePlan", "account", "apply_retirements", "plan_retirements", "render"]
