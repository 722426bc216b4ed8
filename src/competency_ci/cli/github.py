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


def run(args: argparse.Namespace) -> int:
    from competency_ci.commands.github import github

    return github(args.mode, args.config)
