"""`competency-ci plan`: show what publishing would create, update and delete, and why."""

from __future__ import annotations

import argparse

from competency_ci.cli.options import add_publish_arguments, publish_options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_publish_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from competency_ci.commands.publish import plan

    return plan(publish_options(args, dry_run=True))
