"""`competency-ci github`: what the GitHub Action runs (the work is in ``competency_ci.action.run``)."""

from __future__ import annotations

import argparse
import os

from competency_ci.action import plumbing as gh


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--mode",
        choices=gh.MODES,
        help="what to do (default: the CCI_MODE environment variable, else auto: decided by the event)",
    )


def run(args: argparse.Namespace) -> int:
    from competency_ci.action.run import run_action

    return run_action(args.mode, args.config, dict(os.environ))
