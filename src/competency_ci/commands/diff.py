"""`competency-ci diff`: what changed between two versions of framework files, keyed by CTID."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from competency_ci.commands.common import gc_paused, print_problems
from competency_ci.frameworks.build import InvalidFrameworks, load_frameworks
from competency_ci.frameworks.config import Config, load_config
from competency_ci.frameworks.model import Collection, Framework

Loaded = list[Framework | Collection]
T = TypeVar("T", Framework, Collection)

PROG = "competency-ci diff"


class Unusable(Exception):
    """Input that cannot be read at all (exit 2)."""


class Invalid(Exception):
    """A version with errors (exit 1): its problems, and which version it is."""

    def __init__(self, where: str, problems: InvalidFrameworks) -> None:
        super().__init__(where)
        self.where = where
        self.problems = problems.problems


@dataclass(frozen=True)
class DiffOptions:
    files: list[str] = field(default_factory=list)
    config: str | None = None
    git: str | None = None
    format: str = "text"
    exit_code: bool = False


def diff(options: DiffOptions) -> int:
    with gc_paused():
        return _run(options)


def _run(options: DiffOptions) -> int:
    from competency_ci.frameworks.diff import diff_frameworks
    from competency_ci.report.diff import render

    config = load_config(options.config)
    try:
        if options.git is not None:
            old, new = _git_versions(options.git, list(options.files), config)
        else:
            if len(options.files) != 2:
                print(f"{PROG}: give two files (OLD NEW), or --git BASE [HEAD] [PATH ...]", file=sys.stderr)
                return 2
            old = _load(Path(options.files[0]), config)
            new = _load(Path(options.files[1]), config)
    except Unusable as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    except Invalid as exc:
        print_problems(exc.where, exc.problems)
        print(f"{PROG}: {exc.where} has errors; fix them first (competency-ci validate)", file=sys.stderr)
        return 1
    from competency_ci.frameworks.collection import diff_collections

    diffs = diff_frameworks(_only(old, Framework), _only(new, Framework))
    diffs += diff_collections(_only(old, Collection), _only(new, Collection))
    sys.stdout.write(render(diffs, options.format))
    return 1 if options.exit_code and diffs else 0


def _only(items: Loaded, kind: type[T]) -> list[T]:
    return [item for item in items if isinstance(item, kind)]


def _load(path: Path, config: Config, data: bytes | None = None, rev: str | None = None) -> Loaded:
    """A file's frameworks, or its collections when it is a collection file."""
    try:
        loaded: Loaded = list(load_frameworks(path, config, data=data))
        if not loaded:
            from competency_ci.frameworks.collection import load_collections

            loaded = list(load_collections(path, config, data=data))
        return loaded
    except OSError as exc:
        raise Unusable(f"cannot read {path}: {exc.strerror}") from None
    except InvalidFrameworks as exc:
        raise Invalid(f"{path} at {rev}" if rev else str(path), exc) from None


def _git_versions(base: str, rest: list[str], config: Config) -> tuple[Loaded, Loaded]:
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
        old: Loaded = []
        new: Loaded = []
        for change in changes:
            if change.old_path is not None:
                old += _load(Path(change.old_path), config, read_at(base, change.old_path, top), base)
            if change.new_path is not None:
                new += _load(Path(change.new_path), config, read_at(head, change.new_path, top), head)
    except GitError as exc:
        raise Unusable(f"git: {exc}") from None
    return old, new
