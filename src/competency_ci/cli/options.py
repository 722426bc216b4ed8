"""Options several commands share (argparse only): the publish options, the time limit."""

from __future__ import annotations

import argparse
from typing import Any

from competency_ci.commands.approval import KINDS
from competency_ci.commands.publish import TARGETS, PublishOptions


def add_publish_arguments(parser: argparse.ArgumentParser) -> None:
    """``plan`` and ``publish``."""
    parser.add_argument(
        "paths", nargs="*", help="framework CSV files or directories (default: the configured paths)"
    )
    parser.add_argument(
        "--server",
        metavar="URL",
        help="CASS API base URL, e.g. https://cass.example.org/api/ (default: cass.url in the "
        "configuration), or 'sandbox' for the embedded local sandbox",
    )
    parser.add_argument(
        "--allow-insecure-http",
        action="store_true",
        help="allow plain http:// to a non-loopback server (TLS certificates are always verified for https)",
    )
    add_timeout(parser, 300)
    add_format(parser)
    parser.add_argument(
        "--target",
        choices=TARGETS,
        default="cass",
        help="cass (default), or registry: the Registry Assistant API, for organizations CE approved "
        "to publish by API (key in $CE_REGISTRY_API_KEY)",
    )
    parser.add_argument(
        "--git",
        metavar="BASE",
        dest="git_base",
        help="retire the frameworks that were in the framework files at git revision BASE and are no "
        "longer in the working tree (how, by the configuration's `retire`: deprecate or delete)",
    )
    parser.add_argument(
        "--record",
        metavar="FILE",
        help="the publish record of the last publish (publish --result-file): retire the frameworks it "
        "lists that are no longer in the repository",
    )


def publish_options(args: argparse.Namespace, **more: Any) -> PublishOptions:
    """What ``plan`` and ``publish`` both parse (``add_publish_arguments``), plus ``more``."""
    return PublishOptions(
        paths=list(args.paths),
        config=args.config,
        target=args.target,
        server=args.server,
        allow_insecure_http=args.allow_insecure_http,
        timeout=args.timeout,
        format=args.format,
        git_base=args.git_base,
        record=args.record,
        **more,
    )


def add_approval_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--request-approval",
        choices=KINDS,
        metavar="KIND",
        help="after publishing to CASS, ask the approvers: github-issue, webhook or none (everything "
        "the request needs is checked before the first write)",
    )


def add_format(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format", choices=["text", "json", "markdown"], default="text", help="output format"
    )


def add_timeout(parser: argparse.ArgumentParser, default: float) -> None:
    parser.add_argument(
        "--timeout",
        type=float,
        default=default,
        metavar="SECONDS",
        help=f"overall time limit for all requests, retries included (default: {default:g})",
    )
