"""`competency-ci fix PATH...`: repair framework CSVs in place (the pre-commit fixer).

Exit codes follow pre-commit's convention for fixers and agree with ``validate`` on every file:
0 nothing to do; 1 a file was changed (or, with ``--check``/``--diff``, would be), or holds a
problem no fix can repair (not UTF-8, a workbook, no header: ``validate`` exits 1 on it too; the
file is left untouched); 2 only for unusable input: a path that does not exist or cannot be read or
written, a directory without framework files.

The work is in ``competency_ci.commands.fix``; this module parses the options.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="framework CSV files or directories")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="write nothing; exit 1 if any file needs fixing")
    mode.add_argument("--diff", action="store_true", help="print a unified diff instead of writing")


def run(args: argparse.Namespace) -> int:
    from competency_ci.commands.fix import FixOptions, fix

    return fix(
        FixOptions(
            paths=list(args.paths),
            config=args.config,
            check=args.check,
            diff=args.diff,
        )
    )
