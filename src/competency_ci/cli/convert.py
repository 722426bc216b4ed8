"""`competency-ci convert`: framework CSV -> CTDL-ASN JSON-LD graph(s), and graph -> template CSV.

The work is in ``competency_ci.commands.convert``; this module parses the options.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Convert a framework CSV to the CTDL-ASN JSON-LD graph the Credential Registry publishes, "
        "or a CTDL-ASN graph (or Registry envelope) to a template CSV. The direction follows the "
        "input's extension (.csv, else JSON)."
    )
    parser.add_argument("file", metavar="FILE", help="framework CSV, or CTDL-ASN JSON-LD graph / envelope")
    parser.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="output file (default: stdout); for a CSV holding several frameworks, a directory "
        "that receives one <ctid>.json graph per framework",
    )
    parser.add_argument(
        "--registry",
        metavar="ENV",
        help="registry for resource URIs: sandbox, production or a base URL "
        "(default: the configuration's registry, else sandbox)",
    )


def run(args: argparse.Namespace) -> int:
    from competency_ci.commands.convert import ConvertOptions, convert

    return convert(
        ConvertOptions(
            file=args.file,
            config=args.config,
            output=args.output,
            registry=args.registry,
        )
    )
