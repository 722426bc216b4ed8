"""`competency-ci validate PATH...`: check framework CSVs cell by cell.

The work is in ``competency_ci.commands.validate``; this module parses the options.
"""

from __future__ import annotations

import argparse

from competency_ci.report.problems import FORMATS, MIN_LEVELS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="framework CSV files or directories (default: the configured paths under the repository root)",
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default=None,
        help="output format (default: github on GitHub Actions, else text)",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 on warnings too")
    parser.add_argument(
        "--min-level",
        choices=MIN_LEVELS,
        default=None,
        help="show only problems of this level or above, in every format (the summary still counts all)",
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="text format: no notices, and no '… and N more' lines for repeated problems",
    )


def run(args: argparse.Namespace) -> int:
    from competency_ci.commands.validate import ValidateOptions, validate

    return validate(
        ValidateOptions(
            paths=list(args.paths),
            config=args.config,
            format=args.format,
            strict=args.strict,
            min_level=args.min_level,
            quiet=args.quiet,
        )
    )
