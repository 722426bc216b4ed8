"""`request-approval`, and the request ``publish --request-approval KIND`` makes after publishing.

Input: the frameworks at the given paths (default: the repository) and, optionally, the result
file of a publish (``--result``, written by ``publish --result-file``). With a result file the
request lists the frameworks that publish wrote, with its change counts; without one it reads the
Registry and lists every framework that is not live or not current, with the changes since the
live copy. Delivery: ``approval.kind`` (or ``--kind``): github-issue, webhook or none.

When nothing is to be approved, the dry run and the real run say the same line and exit 0.

Exit codes: 0 sent, already sent (nothing to do), or off; 2 unusable input or configuration;
3 the Registry, GitHub or the webhook receiver failed or refused.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from competency_ci.approval.delivery import KINDS
from competency_ci.commands.common import (
    EXIT_OK,
    EXIT_REMOTE,
    SetupFailed,
    budget,
    current_commit,
    load_frameworks_checked,
    read_record,
    run_url,
)
from competency_ci.frameworks.config import Config, load_config

if TYPE_CHECKING:
    from competency_ci.approval.delivery import Delivery
    from competency_ci.approval.request import Request
    from competency_ci.frameworks.model import Framework
    from competency_ci.http import Budget
    from competency_ci.targets.record import PublishRecord

NOTHING_WRITTEN = "Nothing to approve: the publish wrote no framework, and none waits in the Registry."
NOTHING_WAITING = "Nothing to approve: every framework is live in the Registry and current."
NOTHING_OFFLINE = "Nothing to approve: the publish wrote no framework."  # a dry run without the Registry


@dataclass(frozen=True)
class RequestOptions:
    paths: list[str] = field(default_factory=list)
    config: str | None = None
    kind: str | None = None
    commit: str | None = None
    run_url: str | None = None
    result: str | None = None
    dry_run: bool = False
    check_registry: bool = False
    format: str = "text"
    timeout: float = 120.0


def request_approval(options: RequestOptions) -> int:
    """``competency-ci request-approval``."""
    from competency_ci.approval.delivery import prepare_delivery
    from competency_ci.http import RemoteError
    from competency_ci.targets.registry.client import RegistryError

    config = load_config(options.config)
    kind = options.kind or config.approval.kind
    shared = budget(options.timeout)
    record = read_record(options.result) if options.result else None
    delivery = None if options.dry_run else prepare_delivery(kind, config, budget=shared)
    try:
        frameworks = load_frameworks_checked(list(options.paths), config, options.format, "request-approval")
    except SetupFailed as exc:
        return exc.code
    try:
        request = make_request(frameworks, config, options, shared, record)
    except (RemoteError, RegistryError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_REMOTE
    if not request.items:
        offline = options.dry_run and not options.check_registry
        print(NOTHING_WAITING if record is None else NOTHING_OFFLINE if offline else NOTHING_WRITTEN)
        return EXIT_OK
    if delivery is None:
        sys.stdout.write(show(request, kind, options.format))
        return EXIT_OK
    return send(request, delivery, options.format)


def make_request(
    frameworks: Sequence[Framework],
    config: Config,
    options: RequestOptions,
    shared: Budget,
    record: PublishRecord | None = None,
) -> Request:
    """With a publish record: what it wrote, and what it left unchanged that the Registry does not
    have yet (so a re-run publish does not drop a request). Without: what the Registry does not have yet.

    A dry run reads no service unless asked (``--check-registry``): it lists every framework given
    and says on stderr what it did not check.
    """
    from competency_ci.approval.request import build_request, organization_published
    from competency_ci.targets.registry.client import RegistryReader
    from competency_ci.targets.registry.publish import changes_since_live, read_live
    from competency_ci.targets.registry.status import State

    commit, link = current_commit(config.root, options.commit), run_url(options.run_url)
    if options.dry_run and not options.check_registry:
        print(
            "dry run: the Registry was not read (what is live, whether the organization is published); "
            "add --check-registry to read it",
            file=sys.stderr,
        )
        return build_request(frameworks, config, record=record, commit=commit, run_url=link)
    reader = RegistryReader(config.registry_url, budget=shared)
    org_live = organization_published(config, shared)
    if record is not None:  # what it wrote, and what it left unchanged that still waits (a re-run)
        from competency_ci.approval.delivery import request_after_publish as after_publish

        return after_publish(
            frameworks, config, record, reader, commit=commit, run_url=link, organization_live=org_live
        )
    entries = read_live(frameworks, config, reader)
    waiting = [e for e in entries if e.status.state.waiting]
    return build_request(
        [e.framework for e in waiting],
        config,
        changes={e.framework.ctid: changes_since_live(e) for e in waiting},
        commit=commit,
        run_url=link,
        organization_live=org_live,
        was_live={e.framework.ctid: e.status.state is State.OUTDATED for e in waiting},
    )


def request_after_publish(
    delivery: Delivery,
    config: Config,
    frameworks: list[Framework],
    record: PublishRecord,
    shared: Budget,
    *,
    commit: str | None = None,
    link: str | None = None,
    out_format: str = "text",
) -> int:
    """``publish --request-approval KIND``: ask for approval of what this publish wrote to CASS, and
    of what an earlier publish wrote that still waits (its request may have failed: a re-run finds
    nothing to write, so the record alone would drop it)."""
    from competency_ci.approval.delivery import request_after_publish as after_publish
    from competency_ci.approval.request import organization_published
    from competency_ci.http import RemoteError
    from competency_ci.targets.registry.client import RegistryError, RegistryReader

    commit, link = current_commit(config.root, commit), run_url(link)
    try:
        request = after_publish(
            frameworks,
            config,
            record,
            RegistryReader(config.registry_url, budget=shared),
            commit=commit,
            run_url=link,
            organization_live=organization_published(config, shared) if record.frameworks else None,
        )
    except (RemoteError, RegistryError) as exc:
        print(f"approval request failed: cannot read the Registry: {exc}", file=sys.stderr)
        return EXIT_REMOTE
    if not request.items:
        print("No approval requested: this publish wrote no framework, and none waits.", file=sys.stderr)
        return EXIT_OK
    return send(request, delivery, out_format)


def show(request: Request, kind: str, out_format: str) -> str:
    from competency_ci.approval import request as approval

    if out_format == "json":
        return json.dumps(approval.webhook_payload(request), indent=2, ensure_ascii=False) + "\n"
    if out_format == "markdown" or kind == "github-issue":
        return approval.issue_body(approval.merge(None, request), request)
    return approval.render_text(request)


def send(request: Request, delivery: Delivery, out_format: str) -> int:
    """Deliver and report."""
    from competency_ci.githubapi import GitHubError
    from competency_ci.http import RemoteError

    try:
        outcome = delivery.send(request)
    except (RemoteError, GitHubError) as exc:
        print(f"approval request failed: {exc}", file=sys.stderr)
        return EXIT_REMOTE
    if out_format == "json":
        data = {"kind": delivery.kind, "action": outcome.action, "detail": outcome.detail, "url": outcome.url}
        print(json.dumps({"approval": data}, indent=2))
    else:
        where = f" ({outcome.url})" if outcome.url else ""
        print(f"approval ({delivery.kind}): {outcome.detail}{where}")
    return EXIT_OK


__all__ = ["KINDS", "RequestOptions", "request_after_publish", "request_approval"]
