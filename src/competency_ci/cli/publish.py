"""`competency-ci publish`: validate, print the plan, write what differs, account exactly, ask for approval.

Exit codes: 0 every framework written or unchanged; 1 validation problems (nothing sent);
2 unusable configuration or key; 3 the server failed or refused (the account says what was written).
"""

from __future__ import annotations

import argparse

from competency_ci.cli.options import add_approval_argument, add_publish_arguments


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_publish_arguments(parser)
    parser.add_argument("--dry-run", action="store_true", help="print the plan only; write nothing")
    parser.add_argument(
        "--result-file",
        metavar="FILE",
        help="write the outcome per framework as JSON (read by request-approval --result)",
    )
    add_approval_argument(parser)


def run(args: argparse.Namespace) -> int:
    from competency_ci.commands.publish import PublishOptions, publish

    return publish(
        PublishOptions(
            paths=list(args.paths),
            config=args.config,
            target=args.target,
            server=args.server,
            allow_insecure_http=args.allow_insecure_http,
            timeout=args.timeout,
            format=args.format,
            git_base=args.git_base,
            record=args.record,
            dry_run=args.dry_run,
            result_file=args.result_file,
            request_approval=args.request_approval,
        )
    )
