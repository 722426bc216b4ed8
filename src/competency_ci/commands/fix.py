"""`competency-ci fix PATH...`: repair framework CSVs in place (the pre-commit fixer).

Exit codes follow pre-commit's convention for fixers and agree with ``validate`` on every file:
0 nothing to do; 1 a file was changed (or, with ``--check``/``--diff``, would be), or holds a
problem no fix can repair (not UTF-8, a workbook, no header: ``validate`` exits 1 on it too; the
file is left untouched); 2 only for unusable input: a path that does not exist or cannot be read or
written, a directory without framework files.
"""

from __future__ import annotations

import difflib
import io
import sys
from dataclasses import dataclass, field

from competency_ci.frameworks.config import load_config
from competency_ci.frameworks.fix import Unreadable, fix_table
from competency_ci.frameworks.table import read_table
from competency_ci.frameworks.validate import display_path, find_files
from competency_ci.schema import load_schema


@dataclass(frozen=True)
class FixOptions:
    paths: list[str] = field(default_factory=list)
    config: str | None = None
    check: bool = False
    diff: bool = False


def fix(options: FixOptions) -> int:
    config = load_config(options.config)
    schema = load_schema()
    status = 0
    found = find_files(options.paths, config)
    if found.nothing:
        for given, reason in found.empty.items():
            print(f"competency-ci fix: {given}: {reason}", file=sys.stderr)
        return 2
    for path in found.files:
        shown = display_path(path) if path.exists() else str(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            print(f"{shown}: cannot read: {exc.strerror}", file=sys.stderr)
            status = 2
            continue
        table, problems = read_table(shown, data)
        try:
            if table is None:
                raise Unreadable(problems)
            result = fix_table(table, schema, organization=config.organization)
        except Unreadable as exc:
            for p in exc.problems:
                print(f"{p.path}:{p.line}: cannot fix: {p.message} [{p.code}]", file=sys.stderr)
            status = max(status, 1)  # a problem found, as validate reports it: not unusable input
            continue
        for p in result.problems:
            print(f"{p.path}:{p.line}: left alone: {p.message} [{p.code}]")
        if not result.changed:
            continue
        status = max(status, 1)
        if options.diff:
            sys.stdout.write(unified_diff(shown, data.decode("utf-8"), result.text))
            print(f"{shown}: would fix: {result.summary()}", file=sys.stderr)
        elif options.check:
            print(f"{shown}: would fix: {result.summary()}")
        else:
            try:
                path.write_bytes(result.text.encode("utf-8"))
            except OSError as exc:
                print(f"{shown}: cannot write: {exc.strerror}", file=sys.stderr)
                status = 2
                continue
            print(f"{shown}: {result.summary()}")
    return status


def unified_diff(path: str, old: str, new: str) -> str:
    """A ``git diff``-style patch of the lines (fix never changes line ends, so they are not shown)."""

    def lines(text: str) -> list[str]:
        return [line.rstrip("\r\n") for line in io.StringIO(text, newline="")]

    diff = difflib.unified_diff(lines(old), lines(new), f"a/{path}", f"b/{path}", lineterm="")
    return "".join(f"{line}\n" for line in diff)
