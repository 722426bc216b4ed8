"""`competency-ci github`: what the GitHub Action runs (the work is in ``competency_ci.commands.github``)."""

from __future__ import annotations

import argparse

from competency_ci.commands.github import MODES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--mode",
        choices=MODES,
        help="what to do (default: the CCI_MODE environment variable, else auto: decided by the event)",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--local",
        action="store_true",
        default=None,
        help="print what the action would report, as plain text, and only review (the default "
        "outside GitHub Actions, when GITHUB_ACTIONS and GITHUB_EVENT_NAME are unset)",
    )
    where.add_argument(
        "--actions",
        dest="local",
        action="store_false",
        help="write workflow commands and the runner's files, as on GitHub Actions",
    )
    parser.add_argument(
        "--base",
        metavar="REV",
        help="local run: review the framework files changed since REV, as a pull request against it "
        "(default: every framework file)",
    )
    parser.add_argument(
        "--all",
        dest="everything",
        action="store_true",
        help="on a merge, read and plan every framework (full reconciliation and drift checks), not "
        "only those the change touched (the input scope: all)",
    )


def run(args: argparse.Namespace) -> int:
    from competency_ci.commands.github import github

    return github(args.mode, args.config, local=args.local, base=args.base, everything=args.everything)
