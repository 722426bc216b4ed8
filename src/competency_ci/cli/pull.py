"""`competency-ci pull`: parse the options; the work is in ``competency_ci.commands.pull``."""

from __future__ import annotations

import argparse

from competency_ci.commands.pull import PullOptions, pull


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Write frameworks that live in CASS (read through its objects, publish's mapping in reverse) "
        "or in the Registry (its published graph) as framework CSVs, one file each, ready to commit."
    )
    parser.add_argument(
        "--framework", action="append", default=[], metavar="CTID", help="a framework to pull (repeatable)"
    )
    parser.add_argument(
        "--organization",
        metavar="CTID",
        help="pull every framework the server holds for this organization (its publisher); CASS only",
    )
    parser.add_argument(
        "--server",
        metavar="URL",
        help="CASS API base URL (default: cass.url in the configuration), or 'sandbox'",
    )
    parser.add_argument(
        "--registry",
        nargs="?",
        const="",
        metavar="URL",
        help="read from the Registry instead: {URL}/graph/{ctid} (default URL: the configured registry)",
    )
    parser.add_argument("-o", "--output", default=".", metavar="DIR", help="folder to write to (default: .)")
    parser.add_argument("--force", action="store_true", help="replace files that exist with other content")
    parser.add_argument(
        "--allow-insecure-http", action="store_true", help="allow plain http:// to a non-loopback server"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=120.0,
        metavar="SECONDS",
        help="overall time limit for all requests, retries included (default: 120)",
    )


def run(args: argparse.Namespace) -> int:
    return pull(
        PullOptions(
            frameworks=list(args.framework),
            organization=args.organization,
            server=args.server,
            registry=args.registry,
            output=args.output,
            force=args.force,
            config=args.config,
            allow_insecure_http=args.allow_insecure_http,
            timeout=args.timeout,
        )
    )
