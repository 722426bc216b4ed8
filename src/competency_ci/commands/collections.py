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

if TYPE_CHECKING:
    from competency_ci.frameworks.config import Config
    from competency_ci.frameworks.model import Collection
    from competency_ci.targets.cass.collections import CollectionPlan

REGISTRY_REFUSAL = (
    "the Registry Assistant documents no collection publishing endpoint (its API has "
    "CompetencyFramework/format, publish, publishGraph and delete only), so collection files are not "
    "published there; publish them to CASS (--target cass), from which CE's Publisher reads them"
)


def refuse_registry(target: str, collections: list[Collection], command: str) -> None:
    """Exit 2 before any request when collections would go to the Registry Assistant."""
    if collections and target == "registry":
        ctids = ", ".join(c.ctid for c in collections)
        print(f"competency-ci {command}: {ctids}: {REGISTRY_REFUSAL}", file=sys.stderr)
        raise SetupFailed(EXIT_USAGE)


def plan(target: Any, config: Config, collections: list[Collection]) -> CollectionPlan:
    """Read the stored collections from the CASS target (``CassTarget``: client and key)."""
    from competency_ci.targets.cass.collections import plan_collections
    from competency_ci.targets.cass.signing import cass_pem

    return plan_collections(
        target.client,
        collections,
        registry_url=config.registry_url,
        owner_pem=cass_pem(target.key.public_key()),
        default_language=config.language,
    )


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
