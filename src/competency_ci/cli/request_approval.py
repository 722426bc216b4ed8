"""`competency-ci request-approval`: ask the approvers to approve frameworks in CE's Publisher.

Input: the frameworks at the given paths (default: the repository) and, optionally, the result
file of a publish (``--result``, written by ``publish --result-file``). With a result file the
request lists the frameworks that publish wrote, with its change counts; without one it reads the
Registry and lists every framework that is not live or not current, with the changes since the
live copy. Delivery: ``approval.kind`` (or ``--kind``): github-issue, webhook or none.

Exit codes: 0 sent, already sent (nothing to do), or off; 2 unusable input or configuration;
3 the Registry, GitHub or the webhook receiver failed or refused.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from competency_ci.cli.status import EXIT_OK, EXIT_REMOTE, add_timeout, budget
from competency_ci.frameworks.config import Config, ConfigError

if TYPE_CHECKING:
    from competency_ci.approval.request import Request
    from competency_ci.frameworks.model import Framework
    from competency_ci.http import Budget
    from competency_ci.targets.record import PublishRecord

KINDS = ("github-issue", "webhook", "none")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths", nargs="*", help="framework CSV files or directories (default: the repository)"
    )
    add_request_arguments(parser)
    parser.add_argument(
        "--result",
        metavar="FILE",
        help="a publish result file (publish --result-file): request approval of what that publish wrote",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print the request (issue text, or webhook JSON with --format json) and send nothing",
    )
    parser.add_argument(
        "--format", choices=["text", "json", "markdown"], default="text", help="output format"
    )
    add_timeout(parser)


def add_request_arguments(parser: argparse.ArgumentParser) -> None:
    """How to ask and what to say about the origin of the request."""
    parser.add_argument(
        "--kind", choices=KINDS, help="how to ask: github-issue, webhook or none (default: approval.kind)"
    )
    parser.add_argument(
        "--commit", metavar="SHA", help="the commit published (default: $GITHUB_SHA, else HEAD)"
    )
    parser.add_argument(
        "--run-url",
        metavar="URL",
        help="link to the CI run (default: built from the GitHub Actions environment)",
    )


def current_commit(root: Path, given: str | None) -> str | None:
    if given or os.environ.get("GITHUB_SHA"):
        return given or os.environ.get("GITHUB_SHA")
    from competency_ci.gitfiles import GitError, git

    try:
        return git(["rev-parse", "HEAD"], root).decode().strip() or None
    except GitError:
        return None


def run_url(given: str | None) -> str | None:
    if given:
        return given
    server, repo, run_id = (
        os.environ.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")
    )
    return f"{server}/{repo}/actions/runs/{run_id}" if server and repo and run_id else None


def read_record(path: str) -> PublishRecord:
    from competency_ci.targets.record import parse_record

    try:
        return parse_record(json.loads(Path(path).read_text("utf-8")))
    except OSError as exc:
        raise ConfigError(f"--result {path}: cannot read: {exc.strerror}") from None
    except ValueError as exc:
        raise ConfigError(f"--result {path}: {exc}") from None


def make_request(
    frameworks: Sequence[Framework],
    config: Config,
    args: argparse.Namespace,
    shared: Budget,
    record: PublishRecord | None = None,
) -> Request:
    """With a publish record: what it wrote. Without: what the Registry does not have yet."""
    from competency_ci.approval.request import build_request
    from competency_ci.targets.registry.client import RegistryReader
    from competency_ci.targets.registry.publish import changes_since_live, read_live

    commit, link = current_commit(config.root, args.commit), run_url(args.run_url)
    if record is not None:
        return build_request(frameworks, config, record=record, commit=commit, run_url=link)
    entries = read_live(frameworks, config, RegistryReader(config.registry_url, budget=shared))
    waiting = [e for e in entries if e.status.state.waiting]
    changes = {e.framework.ctid: changes_since_live(e) for e in waiting}
    return build_request([e.framework for e in waiting], config, changes=changes, commit=commit, run_url=link)


def show(request: Request, kind: str, out_format: str) -> str:
    from competency_ci.approval import request as approval

    if out_format == "json":
        return json.dumps(approval.webhook_payload(request), indent=2, ensure_ascii=False) + "\n"
    if out_format == "markdown" or kind == "github-issue":
        return approval.issue_body(approval.merge(None, request), request)
    return approval.render_text(request)


def send(request: Request, kind: str, config: Config, shared: Budget, out_format: str) -> int:
    """Deliver and report; shared with ``publish --request-approval``."""
    from competency_ci.approval.request import deliver
    from competency_ci.githubapi import GitHubError
    from competency_ci.http import RemoteError

    try:
        outcome = deliver(kind, request, config, budget=shared)
    except (RemoteError, GitHubError) as exc:
        print(f"approval request failed: {exc}", file=sys.stderr)
        return EXIT_REMOTE
    if out_format == "json":
        data = {"kind": kind, "action": outcome.action, "detail": outcome.detail, "url": outcome.url}
        print(json.dumps({"approval": data}, indent=2))
    else:
        where = f" ({outcome.url})" if outcome.url else ""
        print(f"approval ({kind}): {outcome.detail}{where}")
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    from competency_ci.cli.plan import SetupFailed, load_frameworks_checked
    from competency_ci.frameworks.config import load_config
    from competency_ci.http import RemoteError
    from competency_ci.targets.registry.client import RegistryError

    config = load_config(args.config)
    kind = args.kind or config.approval.kind
    shared = budget(args)
    record = read_record(args.result) if args.result else None
    try:
        frameworks = load_frameworks_checked(list(args.paths) or [str(config.root)], config, args.format)
    except SetupFailed as exc:
        return exc.code
    try:
        request = make_request(frameworks, config, args, shared, record)
    except (RemoteError, RegistryError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_REMOTE
    if args.dry_run:
        sys.stdout.write(show(request, kind, args.format))
        return EXIT_OK
    if not request.items:
        print("Nothing to approve: every framework is live and current, or nothing was written.")
        return EXIT_OK
    return send(request, kind, config, shared, args.format)
