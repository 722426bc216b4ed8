"""`competency-ci template`: write a blank framework CSV to stdout or a file.

The work is in ``competency_ci.commands.template``; this module parses the options.
"""

from __future__ import annotations

import argparse

from competency_ci.commands.template import TEMPLATE_TIERS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tier",
        choices=TEMPLATE_TIERS,
        default="required-if-available",
        help="which columns: CE's minimum data (required), plus what CE's publishing API needs "
        "(required-if-available, the default: a filled-in file validates without warnings), plus CE's "
        "benchmark columns (benchmark), or every column (all)",
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
    parser.add_argument(
        "--collection",
        action="store_true",
        help="a collection file instead (ceterms:Collection rows listing competencies in ceterms:hasMember)",
    )
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    parser.add_argument("--force", action="store_true", help="overwrite FILE if it exists")


def run(args: argparse.Namespace) -> int:
    from competency_ci.commands.template import TemplateOptions, template

    return template(
        TemplateOptions(
            tier=args.tier,
            with_sample=args.with_sample,
            with_instructions=args.with_instructions,
            output=args.output,
            force=args.force,
            collection=args.collection,
        )
    )
