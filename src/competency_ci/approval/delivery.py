"""How a request reaches the approvers, resolved before anything is written.

``publish --request-approval KIND`` writes to CASS and then asks for approval. If the token, the
repository or the webhook address were missing, the first write would already be done when the
request fails, and a re-run (which finds nothing to write) would have nothing to ask about. So
:func:`prepare_delivery` checks every setting first and returns a ready :class:`Delivery`; the
command and the GitHub Action call it before their first request.

:func:`still_waiting` is what a re-run knows: frameworks this publish left unchanged on CASS that
the Registry does not serve as they are, so an approval request that failed once is made again.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from competency_ci.frameworks.config import Config, ConfigError

if TYPE_CHECKING:
    from competency_ci.approval.request import Outcome, Request
    from competency_ci.frameworks.model import Framework
    from competency_ci.http import Budget
    from competency_ci.targets.record import Changes, PublishRecord
    from competency_ci.targets.registry.client import RegistryReader

KINDS = ("github-issue", "webhook", "none")
TOKEN_HELP = "on GitHub Actions pass `GITHUB_TOKEN: ${{ github.token }}` with `permissions: issues: write`"


@dataclass(frozen=True)
class Delivery:
    kind: str
    where: str  # in words, for messages: "issues of acme/frameworks", "POST https://..."
    send: Callable[[Request], Outcome]


def prepare_delivery(
    kind: str,
    config: Config,
    *,
    budget: Budget | None = None,
    environ: Mapping[str, str] | None = None,
    token: str | None = None,
    repository: str | None = None,
    webhook_secret: str | None = None,
) -> Delivery:
    """Every setting the delivery needs, checked now; raises ``ConfigError`` naming what is missing.

    ``token``/``repository``/``webhook_secret`` override the environment (the Action's inputs).
    """
    from competency_ci.approval import request as approval

    env = os.environ if environ is None else environ
    if kind == "none":
        return Delivery(
            kind,
            "nowhere",
            lambda _: approval.Outcome("skipped", "approval requests are off (approval.kind: none)"),
        )
    if kind == "github-issue":
        from competency_ci.githubapi import DEFAULT_API_URL, GitHub, GitHubError

        token = token or env.get("GITHUB_TOKEN")
        if not token:
            raise ConfigError(f"github-issue approval needs a GitHub token in GITHUB_TOKEN ({TOKEN_HELP})")
        repo = config.approval.repository or repository or env.get("GITHUB_REPOSITORY")
        if not repo:
            raise ConfigError(
                "github-issue approval needs the repository for the issue: set approval.repository "
                "(owner/name) in the configuration, or GITHUB_REPOSITORY"
            )
        try:
            gh = GitHub(token, repo, env.get("GITHUB_API_URL") or DEFAULT_API_URL, budget=budget)
        except GitHubError as exc:
            raise ConfigError(f"github-issue approval: {exc}") from None
        label, approvers = config.approval.label, config.approval.approvers
        return Delivery(
            kind, f"issues of {repo}", lambda r: approval.request_github_issue(gh, r, label, approvers)
        )
    if kind == "webhook":
        url = config.approval.webhook_url
        if not url:
            raise ConfigError(
                "webhook approval needs the receiver's address: set approval.webhook-url (on GitHub "
                "Actions: the webhook-url input)"
            )
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"approval.webhook-url: expected an http(s) URL, got {url!r}")
        secret = webhook_secret or env.get(config.approval.webhook_secret_env) or None
        return Delivery(kind, f"POST {url}", lambda r: approval.send_webhook(url, r, secret, budget=budget))
    raise ConfigError(f"unknown approval kind {kind!r}: expected github-issue, webhook or none")


def still_waiting(
    frameworks: Sequence[Framework], config: Config, record: PublishRecord, reader: RegistryReader
) -> tuple[list[Framework], dict[str, Changes]]:
    """Frameworks the publish left unchanged that are not live, or not current, in the Registry,
    with what approving them changes (the repository against the live copy)."""
    from competency_ci.targets.registry.publish import changes_since_live, read_live

    unchanged = {f.ctid for f in record.frameworks if f.outcome == "unchanged"}
    entries = read_live([fw for fw in frameworks if fw.ctid in unchanged], config, reader)
    waiting = [e for e in entries if e.status.state.waiting]
    return [e.framework for e in waiting], {e.framework.ctid: changes_since_live(e) for e in waiting}


def request_after_publish(
    frameworks: Sequence[Framework],
    config: Config,
    record: PublishRecord,
    reader: RegistryReader,
    *,
    repository: str | None = None,
    commit: str | None = None,
    run_url: str | None = None,
    organization_live: bool | None = None,
) -> Request:
    """What to ask after a publish: the frameworks it wrote, and those it left unchanged that still
    wait (marked ``unchanged``; the issue delivery does not list one twice). Reads the Registry."""
    from competency_ci.approval.request import build_request

    request = build_request(
        frameworks,
        config,
        record=record,
        repository=repository,
        commit=commit,
        run_url=run_url,
        organization_live=organization_live,
    )
    waiting, changes = still_waiting(frameworks, config, record, reader)
    if not waiting:
        return request
    again = build_request(
        waiting,
        config,
        changes=changes,
        repository=repository,
        commit=commit,
        run_url=run_url,
        organization_live=organization_live,
    )
    order = {fw.ctid: n for n, fw in enumerate(frameworks)}
    unchanged = [replace(i, outcome="unchanged") for i in again.items]
    return replace(request, items=tuple(sorted([*request.items, *unchanged], key=lambda i: order[i.ctid])))
