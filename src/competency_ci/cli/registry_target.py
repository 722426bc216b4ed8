"""`plan --target registry`, `publish --target registry` and `publish --request-approval KIND`.

``plan`` and ``publish`` parse the options (``add_arguments``) and hand over here; the work is in
``competency_ci.targets.registry.publish`` and ``competency_ci.approval.request``.

Exit codes (as for the CASS target): 0 every framework published or unchanged; 1 (plan only) CE's
``format`` check rejects a framework; 2 unusable input, configuration or missing API key; 3 the
Registry or the Assistant failed, or the Assistant refused a framework (its messages are printed).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from competency_ci.cli.status import EXIT_OK, EXIT_PROBLEMS, EXIT_REMOTE
from competency_ci.frameworks.config import Config, ConfigError
from competency_ci.http import Budget, RetryPolicy

if TYPE_CHECKING:
    from competency_ci.frameworks.model import Framework
    from competency_ci.targets.record import PublishRecord

TARGETS = ("cass", "registry")
APPROVAL_KINDS = ("github-issue", "webhook", "none")


def add_target_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--target",
        choices=TARGETS,
        default="cass",
        help="cass (default), or registry: the Registry Assistant API, for organizations CE approved "
        "to publish by API (key in $CE_REGISTRY_API_KEY)",
    )


def add_approval_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--request-approval",
        choices=APPROVAL_KINDS,
        metavar="KIND",
        help="after publishing to CASS, ask the approvers: github-issue, webhook or none",
    )


def _setup(args: argparse.Namespace) -> tuple[Config, list[Framework], Budget]:
    """Configuration, validated frameworks and one time budget; raises SetupFailed/ConfigError."""
    from competency_ci.cli.plan import load_frameworks_checked
    from competency_ci.frameworks.config import load_config

    config = load_config(args.config)
    if args.timeout <= 0:
        raise ConfigError("--timeout: expected a positive number of seconds")
    frameworks = load_frameworks_checked(list(args.paths) or [str(config.root)], config, args.format)
    return config, frameworks, Budget(RetryPolicy(total=args.timeout))


def run_plan(args: argparse.Namespace) -> int:
    from competency_ci.cli.plan import SetupFailed
    from competency_ci.http import RemoteError
    from competency_ci.targets.registry.client import Assistant, RegistryError, RegistryReader
    from competency_ci.targets.registry.publish import plan_registry, render_plan

    try:
        config, frameworks, budget = _setup(args)
    except SetupFailed as exc:
        return exc.code
    reader = RegistryReader(config.registry_url, budget=budget)
    try:
        items = plan_registry(frameworks, config, reader, Assistant(config.assistant_url, budget=budget))
    except (RemoteError, RegistryError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        print("Nothing was written.", file=sys.stderr)
        return EXIT_REMOTE
    sys.stdout.write(render_plan(items, config.assistant_url, args.format))
    return EXIT_OK if all(i.successful for i in items) else EXIT_PROBLEMS


def run_publish(args: argparse.Namespace) -> int:
    from competency_ci.cli.plan import SetupFailed
    from competency_ci.targets.registry.client import API_KEY_ENV, Assistant, RegistryReader
    from competency_ci.targets.registry.publish import (
        RegistryOutcome,
        account,
        publish_registry,
        render_outcome,
        require_organization,
    )

    if args.dry_run:
        return run_plan(args)
    try:
        config, frameworks, budget = _setup(args)
    except SetupFailed as exc:
        return exc.code
    require_organization(config)
    key = os.environ.get(API_KEY_ENV)
    if not key:
        raise ConfigError(f"publishing to the Registry needs the organization's API key in ${API_KEY_ENV}")
    text = args.format != "json"

    def show(outcome: RegistryOutcome) -> None:
        sys.stdout.write(render_outcome(outcome))

    result = publish_registry(
        frameworks,
        config,
        RegistryReader(config.registry_url, budget=budget),
        Assistant(config.assistant_url, key, budget=budget),
        on_outcome=show if text else None,
    )
    if args.result_file:
        Path(args.result_file).write_text(result.record().to_json(), encoding="utf-8")
    if text:
        (sys.stdout if result.ok else sys.stderr).write(account(result))
    else:
        sys.stdout.write(json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n")
    if getattr(args, "request_approval", None) not in (None, "none"):
        print("No approval requested: publishing by API goes straight to the Registry.", file=sys.stderr)
    return result.exit_code


def request_after_publish(
    args: argparse.Namespace, config: Config, frameworks: list[Framework], record: PublishRecord
) -> int:
    """``publish --request-approval KIND``: ask for approval of what this publish wrote to CASS."""
    from competency_ci.approval.request import build_request
    from competency_ci.cli.request_approval import current_commit, run_url, send

    kind = args.request_approval
    if kind in (None, "none"):
        return EXIT_OK
    commit = current_commit(config.root, getattr(args, "commit", None))
    request = build_request(
        frameworks, config, record=record, commit=commit, run_url=run_url(getattr(args, "run_url", None))
    )
    if not request.items:
        print("No approval requested: this publish wrote no framework.", file=sys.stderr)
        return EXIT_OK
    return send(request, kind, config, Budget(RetryPolicy(total=args.timeout)), args.format)
