"""CASS behind the target interface (``targets/base.py``): plan, apply, verify, record.

The work is where it was: reading and planning in ``plan_publish``, writing in ``apply_publish``
(``publish.py``), the plan's renderings in ``plan.py``. This module only gives them the shape every
target has, and the markdown account.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from competency_ci.targets.base import Verification, with_verification

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

    from competency_ci.frameworks.config import Config
    from competency_ci.frameworks.model import Framework
    from competency_ci.targets.cass.client import CassClient
    from competency_ci.targets.cass.drift import Drifted
    from competency_ci.targets.cass.publish import PublishResult
    from competency_ci.targets.cass.retire import RetirePlan
    from competency_ci.targets.record import PublishRecord
    from competency_ci.targets.retire import Baseline, Retirement

NAME = "cass"
OWNER_NOTE = (
    "Re-running will not help: this key is not an owner of objects these frameworks need to change. "
    "An owner must add this key as a co-owner, or publish with an owner's key."
)


def blocked_note(count: int) -> str:
    return (
        f"Blocked: {count} stored object(s) cannot be changed, because this key is not one of their "
        "owners; publish will not write the frameworks they belong to."
    )


@dataclass
class CassPlan:
    """``plan_publish``'s result: the plan, or the error that stopped the reads (then no plan)."""

    planned: PublishResult
    retirements: list[RetirePlan] = field(default_factory=list)  # frameworks to retire (retire.py)
    drift: dict[str, list[Drifted]] = field(default_factory=dict)  # framework id -> edits outside git
    drift_base: str = ""  # the revision drift compares with
    on_drift: str = "fail"
    drift_refused: set[str] = field(default_factory=set)  # framework ids on-drift: fail keeps unwritten

    @property
    def error(self) -> str | None:
        return self.planned.error

    @property
    def empty(self) -> bool:
        return (
            self.planned.plan is not None
            and self.planned.plan.empty
            and all(r.empty for r in self.retirements)
        )

    @property
    def ce_differences(self) -> bool:
        """CE would show something other than the files say (``plan`` exits 1)."""
        return self.planned.plan is not None and self.planned.plan.ce_differences

    @property
    def problems(self) -> int:
        plan = self.planned.plan
        if plan is None:
            return 0
        differing = sum(1 for fp in plan.frameworks if fp.prediction is not None and not fp.prediction.ok)
        retiring = sum(1 for r in self.retirements if r.blocked)
        return self.blocked + differing + retiring + len(self.drift_refused)

    @property
    def blocked(self) -> int:
        """Stored objects this key would have to change but does not own."""
        plan = self.planned.plan
        return sum(len(fp.blocked) for fp in plan.frameworks) if plan else 0

    @property
    def deletes_frameworks(self) -> list[RetirePlan]:
        """The frameworks this plan deletes from the server (a pull request's first line says so)."""
        return [r for r in self.retirements if r.deletes]

    def render(self, out_format: str) -> str:
        from competency_ci.targets.cass import retire
        from competency_ci.targets.cass.plan import render_json, render_markdown, render_text

        plan, server = self.planned.plan, self.planned.server
        if plan is None:
            return ""
        if out_format == "json":
            data = json.loads(render_json(plan, server))
            data["retire"] = [r.to_dict() for r in self.retirements]
            data["drift"] = self.drift_dict()
            data["empty"] = self.empty
            return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        text = (render_markdown if out_format == "markdown" else render_text)(plan, server)
        text += self.render_drift(out_format)
        if self.retirements:
            if plan.empty and not self.empty:  # the publish plan's last line spoke only of it
                text = text.replace("No changes: nothing would be written.\n", "")
            text += retire.render(self.retirements, out_format)
        if self.blocked:
            text += ("\n> " if out_format == "markdown" else "") + blocked_note(self.blocked) + "\n"
        return text

    def to_dict(self) -> dict[str, Any] | None:
        if not self.planned.plan:
            return None
        retire = [r.to_dict() for r in self.retirements]
        return {**self.planned.plan.to_dict(), "retire": retire, "drift": self.drift_dict()}

    def drift_dict(self) -> dict[str, Any] | None:
        if not self.drift_base:
            return None
        return {
            "base": self.drift_base,
            "on_drift": self.on_drift,
            "frameworks": {fid: [d.to_dict() for d in found] for fid, found in self.drift.items() if found},
            "refused": sorted(self.drift_refused),
        }

    def render_drift(self, out_format: str) -> str:
        from competency_ci.targets.cass.drift import render

        plan = self.planned.plan
        names = {fp.id: f"{fp.path}: {fp.name} ({fp.ctid})" for fp in plan.frameworks} if plan else {}
        return render(self.drift, names, self.drift_base, self.on_drift, out_format)


@dataclass
class CassOutcome:
    result: PublishResult
    retirements: list[RetirePlan] = field(default_factory=list)
    retire_error: str | None = None
    drift_refused: set[str] = field(default_factory=set)  # not written: on-drift: fail

    @property
    def retired_ok(self) -> bool:
        from competency_ci.targets.cass.retire import BLOCKED, FAILED, PENDING

        return self.retire_error is None and all(
            r.status not in (BLOCKED, FAILED, PENDING) for r in self.retirements
        )

    @property
    def ok(self) -> bool:
        return self.result.ok and self.retired_ok

    @property
    def exit_code(self) -> int:
        """As ``PublishResult.exit_code``, except that frameworks held back for drift alone are a
        problem to resolve in git (1), not a remote failure."""
        from competency_ci.targets.cass.publish import UNCHANGED, WRITTEN

        result = self.result
        failed = [fr for fr in result.frameworks if fr.status not in (WRITTEN, UNCHANGED)]
        if failed and result.error is None and all(fr.id in self.drift_refused for fr in failed):
            return 3 if not self.retired_ok else 1
        return result.exit_code or (0 if self.retired_ok else 3)

    @property
    def error(self) -> str | None:
        return self.result.error or self.retire_error

    def account(self, out_format: str) -> str:
        from competency_ci.targets.cass import retire
        from competency_ci.targets.cass.publish import RERUN_NOTE, account

        if out_format == "markdown":
            text = markdown_account(self.result)
            if self.retirements:
                text += retire.render(self.retirements, "markdown", done=True)
            return text
        text = account(self.result)
        if self.retirements:
            text += retire.account(self.retirements)
        return text.replace(RERUN_NOTE, OWNER_NOTE) if self.blocked_only else text

    @property
    def blocked_only(self) -> bool:
        """Every framework not written was refused for ownership: re-running cannot help."""
        from competency_ci.targets.cass.publish import UNCHANGED, WRITTEN

        plan = self.result.plan
        blocked = {fp.id for fp in plan.frameworks if fp.blocked} if plan else set()
        failed = [fr for fr in self.result.frameworks if fr.status not in (WRITTEN, UNCHANGED)]
        return bool(failed) and self.result.error is None and all(fr.id in blocked for fr in failed)

    def to_dict(self) -> dict[str, Any]:
        data = self.result.to_dict()
        data["ok"] = self.ok
        data["retire"] = [r.to_dict() for r in self.retirements]
        return data

    def record(self) -> PublishRecord:
        record = self.result.record()
        if not self.retirements:
            return record
        return replace(record, frameworks=(*record.frameworks, *(r.record() for r in self.retirements)))


def markdown_account(result: PublishResult) -> str:
    """The account as a table (one row per framework), for ``--format markdown`` and job summaries."""
    from competency_ci.report.escape import md_cell, md_code
    from competency_ci.targets.cass.verify import markdown_lines

    lines = ["### CASS publish result", ""]
    if result.error:
        lines += [f"> **publish stopped:** {md_cell(result.error)}", ""]
    lines += ["| file | framework | outcome | detail | CE view |", "|---|---|---|---|---|"]
    for fr in result.frameworks:
        seen = md_cell(fr.verification.summary) if fr.verification else ""
        lines.append(
            f"| {md_code(fr.path, table=True)} | {md_cell(fr.name)} | {fr.status} | {md_cell(fr.message)} "
            f"| {seen} |"
        )
    for fr in result.frameworks:
        if fr.verification is not None and not fr.verification.ok:
            lines += markdown_lines(fr.name, fr.verification)
    return "\n".join(lines) + "\n"


class CassTarget:
    """One CASS server, one key, one time budget for every request of the run."""

    name = NAME

    def __init__(self, config: Config, server: str, key: RSAPrivateKey, *, timeout: float = 300.0) -> None:
        from competency_ci.targets.cass.client import CassClient

        self.config = config
        self.key = key
        self.client: CassClient = CassClient(server, key, timeout=timeout)

    @property
    def server(self) -> str:
        return self.client.server

    def plan(
        self,
        frameworks: Sequence[Framework],
        retirements: Sequence[Retirement] = (),
        baseline: Baseline | None = None,
    ) -> CassPlan:
        from competency_ci.targets.cass.client import CassError
        from competency_ci.targets.cass.publish import plan_publish
        from competency_ci.targets.cass.retire import plan_retirements
        from competency_ci.targets.cass.signing import cass_pem

        planned = CassPlan(plan_publish(frameworks, self.config, self.client, self.key))
        if planned.planned.plan is not None and baseline is not None:
            try:
                self.find_drift(planned, baseline)
            except CassError as exc:
                planned.planned.error = f"reading the server for drift: {exc}"
                planned.planned.plan = None
        if planned.planned.plan is None or not retirements:
            return planned
        wanted = frozenset(item.id for fp in planned.planned.plan.frameworks for item in fp.writes) | {
            i for fp in planned.planned.plan.frameworks for i in fp.stored
        }
        owner = cass_pem(self.key.public_key())
        try:
            planned.retirements = plan_retirements(
                self.client, retirements, self.config.registry_url, owner, wanted
            )
        except CassError as exc:
            planned.planned.error = f"reading the frameworks to retire: {exc}"
            planned.planned.plan = None
        return planned

    def find_drift(self, planned: CassPlan, baseline: Baseline) -> None:
        """Compare the server with ``baseline`` (drift.py) and apply ``on-drift`` to the plan: ``keep``
        drops the writes and deletes of edited objects, ``fail`` marks their frameworks refused."""
        from competency_ci.targets.cass.drift import FAIL, KEEP, find_drift
        from competency_ci.targets.cass.mapping import cass_mapping, map_framework
        from competency_ci.targets.cass.plan import KEEP as KEPT
        from competency_ci.targets.cass.plan import Change
        from competency_ci.targets.cass.signing import cass_pem

        plan = planned.planned.plan
        assert plan is not None
        planned.drift_base, planned.on_drift = baseline.revision, self.config.on_drift
        owner, mapping = cass_pem(self.key.public_key()), cass_mapping()
        held: dict[str, Any] = {}
        for fp in plan.frameworks:
            held.update(fp.stored)
        old = {fp.id: baseline.frameworks.get(fp.ctid) for fp in plan.frameworks}
        mapped = {
            fid: map_framework(
                fw,
                registry_url=self.config.registry_url,
                cass_base=self.client.server,
                owner_pem=owner,
                existing=held,
                mapping=mapping,
            )
            for fid, fw in old.items()
            if fw is not None
        }
        listed = [
            str(i)
            for fid in mapped
            for key in ("competency", "relation")
            for i in (held.get(fid) or {}).get(key) or []
        ]
        from competency_ci.targets.cass.ids import short_id

        missing = [
            i
            for i in dict.fromkeys([*(i for m in mapped.values() for i in m.ids), *map(short_id, listed)])
            if i not in held
        ]
        held.update(self.client.multi_get(missing) if missing else {})
        for fp in plan.frameworks:
            if fp.id not in mapped:
                continue
            touched = {item.id for item in fp.writes} | set(fp.deletes)
            found = find_drift(mapped[fp.id], held, owner, mapping, touched)
            planned.drift[fp.id] = found
            conflicts = {d.id for d in found if d.conflict}
            if not conflicts:
                continue
            if self.config.on_drift == FAIL:
                planned.drift_refused.add(fp.id)
            elif self.config.on_drift == KEEP:
                why = f"edited on the server since {baseline.revision}: kept (on-drift: keep)"
                fp.writes = [i for i in fp.writes if i.id not in conflicts]
                fp.deletes = [i for i in fp.deletes if i not in conflicts]
                fp.changes = [
                    Change(KEPT, c.kind, c.id, c.label, (why,)) if c.id in conflicts else c
                    for c in fp.changes
                ]
                self._recount(planned, fp)

    @staticmethod
    def _recount(planned: CassPlan, fp: Any) -> None:
        """The framework's result counts after ``on-drift: keep`` took objects out of its plan."""
        from competency_ci.targets.cass.plan import CREATE, UPDATE

        for fr in planned.planned.frameworks:
            if fr.id == fp.id:
                fr.created, fr.updated = fp.count(CREATE), fp.count(UPDATE)
                fr.deleted, fr.left_in_place = len(fp.deletes), fp.count("keep")
                fr.objects_planned = len(fp.writes)

    def apply_held_back(self, plan: CassPlan) -> PublishResult:
        """``apply_publish`` without the frameworks ``on-drift: fail`` refuses: those are reported
        not written, with the reason, in their place in the account."""
        from competency_ci.targets.cass.publish import FAILED, apply_publish

        planned, whole = plan.planned, plan.planned.plan
        if not plan.drift_refused or whole is None:
            return apply_publish(self.client, planned)
        frameworks, results = whole.frameworks, planned.frameworks
        pairs = list(zip(frameworks, results, strict=True))
        whole.frameworks = [fp for fp, _ in pairs if fp.id not in plan.drift_refused]
        planned.frameworks = [fr for fp, fr in pairs if fp.id not in plan.drift_refused]
        try:
            result = apply_publish(self.client, planned)
        finally:
            whole.frameworks, planned.frameworks = frameworks, results
        for fp, fr in pairs:
            if fp.id in plan.drift_refused:
                count = sum(1 for d in plan.drift.get(fp.id, []) if d.conflict)
                fr.status = FAILED
                fr.message = (
                    f"not written: publishing would overwrite {count} edit(s) made on the server since "
                    f"{plan.drift_base} (on-drift: fail); bring them into git with `competency-ci pull`, "
                    "or set on-drift to overwrite or keep"
                )
        result.frameworks = results
        return result

    def apply(self, plan: CassPlan) -> CassOutcome:
        from competency_ci.targets.cass.retire import apply_retirements

        if plan.planned.plan is None:  # nothing was read: nothing to write; the account says why
            return CassOutcome(plan.planned)
        result = self.apply_held_back(plan)
        outcome = CassOutcome(result, plan.retirements, drift_refused=set(plan.drift_refused))
        if plan.retirements and result.error is None:
            outcome.retire_error = apply_retirements(self.client, plan.retirements)
            result.requests, result.bytes_sent = self.client.requests, self.client.bytes_sent
        return outcome

    def verify(self, outcome: CassOutcome) -> Verification:
        """What CE's Publisher reads (``/api/ceasn/{uid}``) against the repository's JSON-LD.

        ``apply_publish`` read the CE view of every framework it wrote (``verify.py``); its
        account prints the differences. Here they become one line per framework for the record.
        """
        checked = [fr for fr in outcome.result.frameworks if fr.verification is not None]
        return Verification(
            lines={fr.ctid: fr.verification.summary for fr in checked if fr.verification},
            failed=tuple(fr.ctid for fr in checked if fr.verification and not fr.verification.ok),
        )

    def record(self, outcome: CassOutcome, verification: Verification) -> PublishRecord:
        return with_verification(outcome.record(), verification)

    def close(self) -> None:
        """Nothing to release: the client's session closes with the process."""


__all__ = ["NAME", "CassOutcome", "CassPlan", "CassTarget"]
