"""`competency-ci diff`: what changed between two versions of framework files, keyed by CTID."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from competency_ci.cli.shared import gc_paused, print_problems
from competency_ci.frameworks.build import InvalidFrameworks, load_frameworks
from competency_ci.frameworks.config import Config, load_config
from competency_ci.frameworks.model import Framework

PROG = "competency-ci diff"


class Unusable(Exception):
    """Input that cannot be read at all (exit 2)."""


class Invalid(Exception):
    """A version with errors (exit 1): its problems, and which version it is."""

    def __init__(self, where: str, problems: InvalidFrameworks) -> None:
        super().__init__(where)
        self.where = where
        self.problems = problems.problems


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
    with gc_paused():
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    from competency_ci.frameworks.diff import diff_frameworks
    from competency_ci.report.diff import render

    config = load_config(args.config)
    try:
        if args.git is not None:
            old, new = _git_versions(args.git, list(args.files), config)
        else:
            if len(args.files) != 2:
                print(f"{PROG}: give two files (OLD NEW), or --git BASE [HEAD] [PATH ...]", file=sys.stderr)
                return 2
            old = _load(Path(args.files[0]), config)
            new = _load(Path(args.files[1]), config)
    except Unusable as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    except Invalid as exc:
        print_problems(exc.where, exc.problems)
        print(f"{PROG}: {exc.where} has errors; fix them first (competency-ci validate)", file=sys.stderr)
        return 1
    diffs = diff_frameworks(old, new)
    sys.stdout.write(render(diffs, args.format))
    return 1 if args.exit_code and diffs else 0


def _load(path: Path, config: Config, data: bytes | None = None, rev: str | None = None) -> list[Framework]:
    try:
        return load_frameworks(path, config, data=data)
    except OSError as exc:
        raise Unusable(f"cannot read {path}: {exc.strerror}") from None
    except InvalidFrameworks as exc:
        raise Invalid(f"{path} at {rev}" if rev else str(path), exc) from None


def _git_versions(base: str, rest: list[str], config: Config) -> tuple[list[Framework], list[Framework]]:
    from competency_ci.frameworks.validate import git_pathspecs
    from competency_ci.gitfiles import GitError, changed_files, read_at, resolve, top_level

    cwd = Path.cwd()
    try:
        top = top_level(cwd)
        head = "HEAD"
        if rest and not Path(rest[0]).exists():
            try:
                resolve(rest[0], cwd)
                head, rest = rest[0], rest[1:]
            except GitError:
                pass
        include, exclude = git_pathspecs(config, top=True)
        pathspecs = [*(rest or include), *exclude]
        changes = changed_files(base, head, pathspecs, cwd)
        old: list[Framework] = []
        new: list[Framework] = []
        for change in changes:
            if change.old_path is not None:
                old += _load(Path(change.old_path), config, read_at(base, change.old_path, top), base)
            if change.new_path is not None:
                new += _load(Path(change.new_path), config, read_at(head, change.new_path, top), head)
    except GitError as exc:
        raise Unusable(f"git: {exc}") from None
    return old, new
