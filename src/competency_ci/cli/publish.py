"""`competency-ci publish`: validate, print the plan, write what differs, account exactly, ask for approval.

Exit codes: 0 every framework written or unchanged; 1 validation problems (nothing sent);
2 unusable configuration or key; 3 the server failed or refused (the account says what was written).
"""

from __future__ import annotations

import argparse

from competency_ci.cli.options import add_approval_argument, add_publish_arguments, publish_options


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
    from competency_ci.commands.publish import publish

    return publish(
        publish_options(
            args,
            dry_run=args.dry_run,
            result_file=args.result_file,
            request_approval=args.request_approval,
        )
    )
