"""`competency-ci status`: which frameworks are live in the Credential Registry, and current.

Exit codes: 0 read everything (and, with ``exit_code``, nothing waits); 1 with ``exit_code`` when a
framework is not live or its live copy is older than the repository; 2 unusable input or
configuration; 3 the Registry (or GitHub, for ``close_approval_issue``) failed.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from competency_ci.commands.common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_REMOTE,
    SetupFailed,
    budget,
    load_frameworks_checked,
)
from competency_ci.frameworks.config import Config, ConfigError, load_config

if TYPE_CHECKING:
    from competency_ci.frameworks.model import Collection
    from competency_ci.targets.registry.client import RegistryReader
    from competency_ci.targets.registry.status import FrameworkStatus


@dataclass(frozen=True)
class StatusOptions:
    paths: list[str] = field(default_factory=list)
    config: str | None = None
    format: str = "text"
    exit_code: bool = False
    close_approval_issue: bool = False
    ignore_property: list[str] = field(default_factory=list)
    timeout: float = 120.0


def status(options: StatusOptions) -> int:
    from competency_ci.approval.request import close_when_live
    from competency_ci.githubapi import GitHub, GitHubError
    from competency_ci.http import RemoteError
    from competency_ci.targets.registry import status as live
    from competency_ci.targets.registry.client import RegistryError, RegistryReader
    from competency_ci.targets.registry.publish import read_live

    config = load_config(options.config)
    shared = budget(options.timeout)
    collections: list[Collection] = []
    try:
        frameworks = load_frameworks_checked(
            list(options.paths), config, options.format, "status", collections=collections
        )
    except SetupFailed as exc:
        return exc.code
    try:
        reader = RegistryReader(config.registry_url, budget=shared)
        entries = read_live(frameworks, config, reader, frozenset(options.ignore_property))
        results = [e.status for e in entries]
        results += _collections_live(collections, config, reader, frozenset(options.ignore_property))
    except (RemoteError, RegistryError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_REMOTE
    if config.organization and any(r.state is live.State.NOT_LIVE for r in results):
        try:
            published = reader.is_published(config.organization)
        except (RemoteError, RegistryError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_REMOTE
        results = live.waiting_for_organization(results, published)
    sys.stdout.write(live.RENDERERS[options.format](results))
    if options.close_approval_issue:
        try:
            gh = GitHub.from_env(config.approval.repository, budget=shared)
        except GitHubError as exc:
            raise ConfigError(f"--close-approval-issue: {exc}") from None
        try:
            outcome = close_when_live(gh, config.approval.label, results)
        except (RemoteError, GitHubError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_REMOTE
        print(f"approval issue: {outcome.detail}", file=sys.stderr)
    return EXIT_PROBLEMS if options.exit_code and live.any_waiting(results) else EXIT_OK


def _collections_live(
    collections: list[Collection], config: Config, reader: RegistryReader, ignore: frozenset[str]
) -> list[FrameworkStatus]:
    """Each collection's ``{registry}/graph/{ctid}`` against the graph the repository's file gives,
    classified as frameworks are (live and current, outdated, not live)."""
    from competency_ci.frameworks.collection import collection_to_graph
    from competency_ci.targets.registry.publish import repo_path
    from competency_ci.targets.registry.status import compare

    results = []
    for c in collections:
        graph = collection_to_graph(c, config.registry_url, config.language)
        path, url = repo_path(c.path, config), reader.graph_url(c.ctid)
        results.append(compare(c.ctid, c.name, path, url, graph, reader.read_graph(c.ctid), ignore))
    return results
