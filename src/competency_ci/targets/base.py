"""The one interface every publishing target implements: plan, apply, verify, record.

The commands (``competency_ci.commands.publish``) and the GitHub Action (``competency_ci.action.run``)
drive every target the same way::

    target = cass.target.open_cass(...)        # settings checked here, before any request
    plan = target.plan(frameworks)             # reads the target, writes nothing
    outcome = target.apply(plan)               # writes what the plan says
    verification = target.verify(outcome)      # reads back what the target's consumers see
    record = target.record(outcome, verification)   # the publish record (targets/record.py)
    target.close()

Remote failures never raise out of ``plan`` or ``apply``: they are in ``plan.error`` and in the
outcome's account, so every caller reports them the same way (exit 3). Unusable settings raise
``ConfigError`` when the target is opened (exit 2), which is before the first write.

A third target is one new folder, ``targets/<name>/target.py``, with an ``open_<name>`` function
returning an object of this shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from competency_ci.frameworks.model import Framework
    from competency_ci.targets.record import PublishRecord
    from competency_ci.targets.retire import Baseline, Retirement

FORMATS = ("text", "json", "markdown")


class TargetPlan(Protocol):
    """What publishing would change; empty means zero writes."""

    @property
    def error(self) -> str | None:
        """Why the target could not be read (nothing was planned, nothing will be written)."""

    @property
    def empty(self) -> bool: ...

    @property
    def problems(self) -> int:
        """What publishing this plan would be refused, or shown otherwise than the files say, for
        (``plan`` exits 1 when there is any): objects another key owns, CE's checks, the CE view."""

    def render(self, out_format: str) -> str:
        """The plan as ``plan`` prints it, in ``text``, ``markdown`` or ``json``."""

    def to_dict(self) -> dict[str, Any] | None: ...


class TargetOutcome(Protocol):
    """What ``apply`` did, per framework, exactly."""

    @property
    def ok(self) -> bool: ...

    @property
    def error(self) -> str | None:
        """The failure that stopped the run, if one did (the account names it too)."""

    @property
    def exit_code(self) -> int: ...

    def account(self, out_format: str) -> str:
        """The closing account in ``text`` or ``markdown`` (json callers use ``to_dict``)."""

    def to_dict(self) -> dict[str, Any]: ...

    def record(self) -> PublishRecord: ...


@dataclass(frozen=True)
class Verification:
    """What the target's consumers see after ``apply``, checked against what was meant.

    ``lines`` holds one line per framework CTID, in words an approver reads (it goes into the
    publish record and the approval request); ``failed`` lists the CTIDs whose check found a
    difference. A target without such a check returns an empty Verification, which is ``ok``.
    """

    lines: dict[str, str] = field(default_factory=dict)
    failed: tuple[str, ...] = ()
    messages: tuple[str, ...] = ()  # details of the differences, printed after the account

    @property
    def ok(self) -> bool:
        return not self.failed


P = TypeVar("P", bound=TargetPlan)
R = TypeVar("R", bound=TargetOutcome)


class Target(Protocol[P, R]):
    """A place frameworks are published to (CASS, the Registry Assistant)."""

    name: str  # as in ``--target`` and the publish record

    @property
    def server(self) -> str:
        """Where it publishes, for messages."""

    def plan(
        self,
        frameworks: Sequence[Framework],
        retirements: Sequence[Retirement] = (),
        baseline: Baseline | None = None,
    ) -> P:
        """``retirements``: frameworks the repository no longer publishes; ``baseline``: the
        frameworks as last published, to find edits made on the server since (``targets/retire.py``)."""

    def apply(self, plan: P) -> R: ...

    def verify(self, outcome: R) -> Verification: ...

    def record(self, outcome: R, verification: Verification) -> PublishRecord: ...

    def close(self) -> None: ...


def with_verification(record: PublishRecord, verification: Verification) -> PublishRecord:
    """The record with each framework's verification line (the record a target's ``record`` returns)."""
    from dataclasses import replace

    if not verification.lines:
        return record
    frameworks = tuple(
        replace(f, verification=verification.lines.get(f.ctid, f.verification)) for f in record.frameworks
    )
    return replace(record, frameworks=frameworks)
