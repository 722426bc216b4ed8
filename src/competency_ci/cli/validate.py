"""`competency-ci validate PATH...`: check framework CSVs cell by cell."""

from __future__ import annotations

import argparse
import sys

from competency_ci.cli.main import default_format
from competency_ci.frameworks.config import load_config
from competency_ci.frameworks.problems import Level
from competency_ci.frameworks.validate import validate_paths
from competency_ci.report.problems import FORMATS, MIN_LEVELS, REPORTERS, View


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
    config = load_config(args.config)
    result = validate_paths(list(args.paths), config)
    for path, reason in result.unusable.items():
        print(f"competency-ci validate: {path}: {reason}", file=sys.stderr)
    view = View(min_level=Level(args.min_level or Level.NOTICE), quiet=args.quiet)
    sys.stdout.write(REPORTERS[args.format or default_format()](result, view))
    return result.exit_code(args.strict)
