"""`competency-ci diff`: what changed between two versions of framework files, keyed by CTID.

The work is in ``competency_ci.commands.diff``; this module parses the options.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Semantic diff of framework versions: framework properties changed, competencies added, "
        "removed, changed and moved, keyed by CTID. Row order, quoting and line endings are no change."
    )
    parser.usage = "%(prog)s [options] OLD NEW\n       %(prog)s [options] --git BASE [HEAD] [PATH ...]"
    parser.add_argument("files", nargs="*", metavar="FILE", help="OLD and NEW framework files")
    parser.add_argument(
        "--git",
        metavar="BASE",
        help="compare framework files between git revisions BASE and HEAD (default HEAD: the HEAD "
        "commit); PATHs (or the configured paths) limit which files",
    )
    parser.add_argument(
        "--format", choices=("text", "json", "markdown"), default="text", help="output format (default: text)"
    )
    parser.add_argument(
        "--exit-code", action="store_true", help="exit with 1 when there are differences (like git diff)"
    )


def run(args: argparse.Namespace) -> int:
    from competency_ci.commands.diff import DiffOptions, diff

    return diff(
        DiffOptions(
            files=list(args.files),
            config=args.config,
            git=args.git,
            format=args.format,
            exit_code=args.exit_code,
        )
    )
