"""`competency-ci request-approval`: ask the approvers to approve frameworks in CE's Publisher.

The flow is in ``competency_ci.commands.approval``; this module parses the options.
"""

from __future__ import annotations

import argparse

from competency_ci.cli.options import add_format, add_timeout
from competency_ci.commands.approval import KINDS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths", nargs="*", help="framework CSV files or directories (default: the repository)"
    )
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
    parser.add_argument(
        "--result",
        metavar="FILE",
        help="a publish result file (publish --result-file): request approval of what that publish wrote",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print the request (issue text, or webhook JSON with --format json) and send nothing; "
        "reads no service unless --check-registry is given",
    )
    parser.add_argument(
        "--check-registry",
        action="store_true",
        help="with --dry-run: read the Registry as a real run does (what is live, the organization)",
    )
    add_format(parser)
    add_timeout(parser, 120)


def run(args: argparse.Namespace) -> int:
    from competency_ci.commands.approval import RequestOptions, request_approval

    return request_approval(
        RequestOptions(
            paths=list(args.paths),
            config=args.config,
            kind=args.kind,
            commit=args.commit,
            run_url=args.run_url,
            result=args.result,
            dry_run=args.dry_run,
            check_registry=args.check_registry,
            format=args.format,
            timeout=args.timeout,
        )
    )
