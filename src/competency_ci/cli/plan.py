"""`competency-ci plan`: show what publishing would create, update and delete, and why."""

from __future__ import annotations

import argparse

from competency_ci.cli.options import add_publish_arguments


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_publish_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from competency_ci.commands.publish import PublishOptions, plan

    return plan(
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
            dry_run=True,
        )
    )
