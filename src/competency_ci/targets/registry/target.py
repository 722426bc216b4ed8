"""The Registry Assistant behind the target interface (``targets/base.py``): plan, apply, verify, record.

The work is in ``publish.py``: ``read_live`` reads what the Registry serves, ``plan_entries`` says
what would be sent (checked by CE's ``format`` endpoint for ``plan``), ``publish_entries`` sends it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from competency_ci.frameworks.config import ConfigError
from competency_ci.targets.base import Verification, with_verification

if TYPE_CHECKING:
    from competency_ci.frameworks.config import Config
    from competency_ci.frameworks.model import Framework
    from competency_ci.http import Budget
    from competency_ci.targets.record import PublishRecord
    from competency_ci.targets.registry.publish import (
        LiveFramework,
        RegistryOutcome,
        RegistryPlanItem,
        RegistryPublishResult,
    )
    from competency_ci.targets.registry.retire import RegistryRetirement
    from competency_ci.targets.retire import Baseline, Retirement

NAME = "registry"


@dataclass
class RegistryPlan:
    assistant_url: str
    entries: list[LiveFramework] = field(default_factory=list)
    items: list[RegistryPlanItem] = field(default_factory=list)
    checked: bool = False  # each framework to send was checked by CE's format endpoint
    error: str | None = None
    retirements: list[RegistryRetirement] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return all(i.action == "no change" for i in self.items) and all(r.empty for r in self.retirements)

    @property
    def deletes_frameworks(self) -> list[RegistryRetirement]:
        return [r for r in self.retirements if r.deletes]

    @property
    def problems(self) -> int:
        """Frameworks CE's ``format`` check rejects."""
        return sum(1 for i in self.items if not i.successful)

    def render(self, out_format: str) -> str:
        """The checked plan in full. Before a publish the plan is not checked, and the outcome lines
        that follow name every framework with its action, so text and markdown print nothing here."""
        from competency_ci.targets.registry import retire
        from competency_ci.targets.registry.publish import render_plan

        if self.error is not None:
            return ""
        if out_format == "json":
            return json.dumps(self.to_dict(), indent=2) + "\n"
        # before a publish the plan is not checked: only what it retires is said first
        text = render_plan(self.items, self.assistant_url, out_format) if self.checked else ""
        return text + retire.render(self.retirements, out_format)

    def to_dict(self) -> dict[str, Any] | None:
        if self.error is not None:
            return None
        return {
            "assistant": self.assistant_url,
            "frameworks": [i.to_dict() for i in self.items],
            "retire": [r.to_dict() for r in self.retirements],
        }


@dataclass
class RegistryRunOutcome:
    result: RegistryPublishResult
    retirements: list[RegistryRetirement] = field(default_factory=list)
    retire_error: str | None = None

    @property
    def retired_ok(self) -> bool:
        from competency_ci.targets.registry.retire import FAILED, PENDING

        return self.retire_error is None and all(r.status not in (FAILED, PENDING) for r in self.retirements)

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
        from competency_ci.targets.registry import retire
        from competency_ci.targets.registry.publish import account

        if out_format != "markdown":
            return account(self.result) + retire.account(self.retirements)
        return markdown_account(self.result) + retire.render(self.retirements, "markdown")

    def to_dict(self) -> dict[str, Any]:
        return {**self.result.to_dict(), "ok": self.ok, "retire": [r.to_dict() for r in self.retirements]}

    def record(self) -> PublishRecord:
        from dataclasses import replace

        record = self.result.record()
        retired = tuple(r.record() for r in self.retirements)
        return replace(record, frameworks=(*record.frameworks, *retired)) if retired else record


def markdown_account(result: RegistryPublishResult) -> str:
    from competency_ci.report.escape import md_cell, md_code

    lines = ["### Registry publish result", ""]
    if result.error:
        lines += [f"> **publish stopped:** {md_cell(result.error)}", ""]
    lines += ["| file | framework | CTID | outcome | messages |", "|---|---|---|---|---|"]
    for f in result.frameworks:
        s = f.status
        messages = "<br>".join(md_cell(m) for m in f.messages)
        lines.append(
            f"| {md_code(s.path, table=True)} | {md_cell(s.name)} | {md_code(s.ctid, table=True)} "
            f"| {f.outcome} | {messages} |"
        )
    return "\n".join(lines) + "\n"


class RegistryTarget:
    """The Registry (reads, no key) and its Assistant (``format`` without a key, ``publishGraph`` with)."""

    name = NAME

    def __init__(
        self,
        config: Config,
        budget: Budget,
        api_key: str | None = None,
        *,
        check: bool = False,
        on_outcome: Callable[[RegistryOutcome], None] | None = None,
    ) -> None:
        from competency_ci.targets.registry.client import Assistant, RegistryReader

        self.config = config
        self.reader = RegistryReader(config.registry_url, budget=budget)
        self.assistant = Assistant(config.assistant_url, api_key, budget=budget)
        self.check = check
        self.on_outcome = on_outcome

    @property
    def server(self) -> str:
        return self.assistant.base_url

    def plan(
        self,
        frameworks: Sequence[Framework],
        retirements: Sequence[Retirement] = (),
        baseline: Baseline | None = None,
    ) -> RegistryPlan:
        """``baseline`` is not used: edits outside git reach the Registry only through CE's Publisher
        from CASS, where ``plan --target cass`` finds them."""
        from competency_ci.http import RemoteError
        from competency_ci.targets.registry.client import RegistryError
        from competency_ci.targets.registry.publish import plan_entries, read_live
        from competency_ci.targets.registry.retire import plan_retirements

        plan = RegistryPlan(self.config.assistant_url, checked=self.check)
        try:
            plan.entries = read_live(frameworks, self.config, self.reader)
            plan.items = plan_entries(plan.entries, self.config, self.assistant if self.check else None)
            plan.retirements = plan_retirements(self.reader, retirements)
        except (RemoteError, RegistryError) as exc:
            plan.error = str(exc)
        return plan

    def apply(self, plan: RegistryPlan) -> RegistryRunOutcome:
        from competency_ci.targets.registry.publish import (
            RegistryPublishResult,
            publish_entries,
            require_organization,
        )
        from competency_ci.targets.registry.retire import apply_retirements

        if plan.error is not None:
            return RegistryRunOutcome(RegistryPublishResult(self.assistant.base_url, error=plan.error))
        result = publish_entries(
            plan.entries, self.config, self.assistant, on_outcome=self.on_outcome, reader=self.reader
        )
        outcome = RegistryRunOutcome(result, plan.retirements)
        if plan.retirements and result.error is None:
            organization = require_organization(self.config)
            outcome.retire_error = apply_retirements(
                self.reader, self.assistant, organization, plan.retirements
            )
        return outcome

    def verify(self, outcome: RegistryRunOutcome) -> Verification:
        """The Assistant answers with the Registry's verdict per framework; nothing more to read."""
        return Verification()

    def record(self, outcome: RegistryRunOutcome, verification: Verification) -> PublishRecord:
        return with_verification(outcome.record(), verification)

    def close(self) -> None:
        """Nothing to release."""


def open_registry(
    config: Config,
    budget: Budget,
    *,
    publishing: bool,
    check: bool = False,
    environ: Mapping[str, str] | None = None,
    api_key: str | None = None,
    key_source: str | None = None,
    on_outcome: Callable[[RegistryOutcome], None] | None = None,
) -> RegistryTarget:
    """The Registry target, with every setting it needs checked first (raises ``ConfigError``)."""
    from competency_ci.targets.registry.client import API_KEY_ENV
    from competency_ci.targets.registry.publish import require_organization

    require_organization(config)
    key = api_key or (os.environ if environ is None else environ).get(API_KEY_ENV) or None
    if publishing and not key:
        where = key_source or f"${API_KEY_ENV}"
        raise ConfigError(f"publishing to the Registry needs the organization's API key in {where}")
    return RegistryTarget(config, budget, key, check=check, on_outcome=on_outcome)


__all__ = ["NAME", "RegistryPlan", "RegistryRunOutcome", "RegistryTarget", "open_registry"]
