"""`competency-ci template`: write a blank framework CSV to stdout or a file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from competency_ci.frameworks.template import TEMPLATE_TIERS, template_text
from competency_ci.schema import load_schema


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tier",
        choices=TEMPLATE_TIERS,
        default="required",
        help="which columns: CE's minimum data (required, the default), plus what publishing needs "
        "(required-if-available), plus CE's benchmark columns (benchmark), or every column (all)",
    )
    parser.add_argument(
        "--with-sample",
        action="store_true",
        help="add row 2 with an example value in each column (its @type starts with 'sample')",
    )
    parser.add_argument(
        "--with-instructions",
        action="store_true",
        help="add a row of guidance for each column (its @type starts with 'instruction')",
    )
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    parser.add_argument("--force", action="store_true", help="overwrite FILE if it exists")


def run(args: argparse.Namespace) -> int:
    text = template_text(
        load_schema(), args.tier, sample=args.with_sample, instructions=args.with_instructions
    )
    if args.output is None:
        sys.stdout.write(text)
        return 0
    path = Path(args.output)
    if path.exists() and not args.force:
        print(f"competency-ci template: {path} exists; use --force to overwrite it", file=sys.stderr)
        return 2
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="")
    except OSError as exc:
        print(f"competency-ci template: cannot write {path}: {exc.strerror}", file=sys.stderr)
        return 2
    print(f"wrote {path} ({args.tier} columns)", file=sys.stderr)
    return 0
