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
    from competency_ci.targets.cass.publish import PublishResult
    from competency_ci.targets.cass.retire import RetirePlan
    from competency_ci.targets.record import PublishRecord
    from competency_ci.targets.retire import Retirement

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
        return self.blocked + differing + sum(1 for r in self.retirements if r.blocked)

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
            data["empty"] = self.empty
            return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        text = (render_markdown if out_format == "markdown" else render_text)(plan, server)
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
        return {**self.planned.plan.to_dict(), "retire": [r.to_dict() for r in self.retirements]}


@dataclass
class CassOutcome:
    result: PublishResult
    retirements: list[RetirePlan] = field(default_factory=list)
    retire_error: str | None = None

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
        return self.result.exit_code or (0 if self.retired_ok else 3)

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

    def plan(self, frameworks: Sequence[Framework], retirements: Sequence[Retirement] = ()) -> CassPlan:
        from competency_ci.targets.cass.client import CassError
        from competency_ci.targets.cass.publish import plan_publish
        from competency_ci.targets.cass.retire import plan_retirements
        from competency_ci.targets.cass.signing import cass_pem

        planned = CassPlan(plan_publish(frameworks, self.config, self.client, self.key))
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

    def apply(self, plan: CassPlan) -> CassOutcome:
        from competency_ci.targets.cass.publish import apply_publish
        from competency_ci.targets.cass.retire import apply_retirements

        if plan.planned.plan is None:  # nothing was read: nothing to write; the account says why
            return CassOutcome(plan.planned)
        result = apply_publish(self.client, plan.planned)
        outcome = CassOutcome(result, plan.retirements)
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
