"""`competency-ci status`: which frameworks are live in the Credential Registry, and current.

Exit codes: 0 read everything (and, with ``--exit-code``, nothing waits); 1 with ``--exit-code``
when a framework is not live or its live copy is older than the repository; 2 unusable input or
configuration; 3 the Registry (or GitHub, for ``--close-approval-issue``) failed.
"""

from __future__ import annotations

import argparse
import sys

from competency_ci.frameworks.config import ConfigError
from competency_ci.http import Budget, RetryPolicy

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_REMOTE = 0, 1, 2, 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths", nargs="*", help="framework CSV files or directories (default: the repository)"
    )
    parser.add_argument(
        "--format", choices=["text", "json", "markdown"], default="text", help="output format"
    )
    parser.add_argument(
        "--exit-code", action="store_true", help="exit 1 when any framework is not live or not current"
    )
    parser.add_argument(
        "--close-approval-issue",
        action="store_true",
        help="close the open approval issue, with a comment, once every framework in it is live and current",
    )
    parser.add_argument(
        "--ignore-property",
        action="append",
        default=[],
        metavar="TERM",
        help="leave this property out of the comparison, e.g. ceasn:dateModified (repeatable)",
    )
    add_timeout(parser)


def add_timeout(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--timeout",
        type=float,
        default=120.0,
        metavar="SECONDS",
        help="overall time limit for all requests, retries included (default: 120)",
    )


def budget(args: argparse.Namespace) -> Budget:
    if args.timeout <= 0:
        raise ConfigError("--timeout: expected a positive number of seconds")
    return Budget(RetryPolicy(total=args.timeout))


def run(args: argparse.Namespace) -> int:
    from competency_ci.approval.request import close_when_live
    from competency_ci.cli.plan import SetupFailed, load_frameworks_checked
    from competency_ci.frameworks.config import load_config
    from competency_ci.githubapi import GitHub, GitHubError
    from competency_ci.http import RemoteError
    from competency_ci.targets.registry import status
    from competency_ci.targets.registry.client import RegistryError, RegistryReader
    from competency_ci.targets.registry.publish import read_live

    config = load_config(args.config)
    shared = budget(args)
    try:
        frameworks = load_frameworks_checked(list(args.paths) or [str(config.root)], config, args.format)
    except SetupFailed as exc:
        return exc.code
    try:
        reader = RegistryReader(config.registry_url, budget=shared)
        entries = read_live(frameworks, config, reader, frozenset(args.ignore_property))
    except (RemoteError, RegistryError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_REMOTE
    results = [e.status for e in entries]
    sys.stdout.write(status.RENDERERS[args.format](results))
    if args.close_approval_issue:
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
    return EXIT_PROBLEMS if args.exit_code and status.any_waiting(results) else EXIT_OK
