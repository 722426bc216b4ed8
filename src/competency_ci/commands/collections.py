"""`plan` and `publish` of collection files: the CASS target only.

A collection goes to CASS as CASS's collection import stores it (``targets/cass/collections.py``);
the Registry Assistant documents no collection endpoint (only ``CompetencyFramework/format``,
``publish``, ``publishGraph`` and ``delete``), so that target refuses collection files before any
request rather than guess a contract.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from competency_ci.commands.common import EXIT_OK, EXIT_REMOTE, EXIT_USAGE, SetupFailed
from competency_ci.targets.cass.collections import NOT_WRITTEN, REGISTRY_REFUSAL

__all__ = ["NOT_WRITTEN", "REGISTRY_REFUSAL", "plan", "publish", "refuse_registry", "show_plan"]

if TYPE_CHECKING:
    from competency_ci.frameworks.model import Collection
    from competency_ci.targets.cass.collections import CollectionPlan


def refuse_registry(target: str, collections: list[Collection], command: str) -> None:
    """Exit 2 before any request when collections would go to the Registry Assistant."""
    if collections and target == "registry":
        ctids = ", ".join(c.ctid for c in collections)
        print(f"competency-ci {command}: {ctids}: {REGISTRY_REFUSAL}", file=sys.stderr)
        raise SetupFailed(EXIT_USAGE)


def plan(target: Any, collections: list[Collection]) -> CollectionPlan:
    """Read the stored collections from the CASS target (``CassTarget``: client and key)."""
    from competency_ci.targets.cass.collections import plan_on_target

    return plan_on_target(target, collections)


def show_plan(planned: CollectionPlan) -> int:
    """The plan's lines on stdout; exit 3 when the server could not be read."""
    if planned.error is not None:
        print(f"error: {planned.error}", file=sys.stderr)
        print("Nothing was written.", file=sys.stderr)
        return EXIT_REMOTE
    for line in planned.lines():
        print(line)
    return EXIT_OK


def publish(target: Any, planned: CollectionPlan) -> int:
    """Write, read CE's view back, and print the account (stdout when all is well, else stderr)."""
    from competency_ci.targets.cass.collections import account, apply_collections

    outcome = apply_collections(target.client, planned)
    out = sys.stdout if outcome.exit_code == 0 else sys.stderr
    for line in account(planned, outcome):
        print(line, file=out)
    return outcome.exit_code
