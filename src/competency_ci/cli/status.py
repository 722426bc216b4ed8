"""`competency-ci status`: which frameworks are live in the Credential Registry, and current.

The flow is in ``competency_ci.commands.status``; this module parses the options.
"""

from __future__ import annotations

import argparse

from competency_ci.cli.options import add_format, add_timeout


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths", nargs="*", help="framework CSV files or directories (default: the repository)"
    )
    add_format(parser)
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
    add_timeout(parser, 120)


def run(args: argparse.Namespace) -> int:
    from competency_ci.commands.status import StatusOptions, status

    return status(
        StatusOptions(
            paths=list(args.paths),
            config=args.config,
            format=args.format,
            exit_code=args.exit_code,
            close_approval_issue=args.close_approval_issue,
            ignore_property=list(args.ignore_property),
            timeout=args.timeout,
        )
    )
