"""Validating framework CSVs: the checks on one table, and the run over files and directories.

``check_table`` is pure (a Table in, Problems out); ``validate_paths`` is the thin shell that finds
and reads the files, and indexes the CTIDs of every framework file of the repository so that
duplicates across files are found even when pre-commit passes the files in batches.
"""

from __future__ import annotations

import csv
import gc
import io
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from competency_ci.frameworks.checks.cells import check_description, check_rows, is_temporary_id
from competency_ci.frameworks.checks.header import check_header
from competency_ci.frameworks.checks.registry import check_registry
from competency_ci.frameworks.checks.structure import CtidIndex, check_structure
from competency_ci.frameworks.config import REGISTRIES, Config
from competency_ci.frameworks.problems import Level, Problem
from competency_ci.frameworks.table import Table, read_table
from competency_ci.schema import COLLECTION, TemplateSchema, load_schema

if TYPE_CHECKING:
    from competency_ci.frameworks.checks import bulk
    from competency_ci.frameworks.checks.collection import MemberIndex

__all__ = [
    "CtidIndex",
    "ValidationResult",
    "check_table",
    "display_path",
    "expand_paths",
    "find_files",
    "git_pathspecs",
    "is_framework_path",
    "is_temporary_id",
    "validate_paths",
]

# Files at least this large go to the bulk acceptor first. Below it the precise checks finish
# before the acceptor's row pattern is even compiled (10 rows: 0.5 ms against 5-10 ms; even at
# 800 rows), so a pre-commit run never imports or compiles it.
SETTLE_BYTES = 100_000
# Directories never searched for framework files (version control, tool caches, JS packages).
SKIP_DIRS = ("node_modules",)


@dataclass
class ValidationResult:
    """Everything one validate run found: the files, their problems, and what could not be read."""

    problems: list[Problem] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    # path -> why it could not be used (unreadable, missing, a directory without framework files)
    unusable: dict[str, str] = field(default_factory=dict)
    tables: dict[str, Table] = field(default_factory=dict, repr=False)
    # files settled clean in bulk: their bytes, parsed into a Table only when asked for
    settled: dict[str, bytes] = field(default_factory=dict, repr=False)
    excluded: int = 0  # matching files the configuration's ``exclude`` skipped
    # given directories without a framework file, when nothing at all was found (also in unusable)
    empty: list[str] = field(default_factory=list)

    def table(self, path: str) -> Table:
        """The parsed table of a file that was read (clean files are parsed on first use)."""
        if path not in self.tables:
            table, _ = read_table(path, self.settled.pop(path))
            assert table is not None, "a settled file parses"
            self.tables[path] = table
        return self.tables[path]

    def char_column(self, problem: Problem) -> int | None:
        """1-based character column of a problem's cell in its file (None for file-level problems)."""
        table = self.tables.get(problem.path)
        if table is None or problem.index is None:
            return None
        return table.char_column(problem.line, problem.index)

    def count(self, level: Level) -> int:
        return sum(1 for p in self.problems if p.level is level)

    def exit_code(self, strict: bool = False) -> int:
        """0 clean, 1 errors (or warnings with ``strict``), 2 unusable input."""
        if self.unusable:
            return 2
        if self.count(Level.ERROR) or (strict and self.count(Level.WARNING)):
            return 1
        return 0


def apply_levels(problems: Iterable[Problem], config: Config) -> list[Problem]:
    """Levels from the configuration's ``rules``; ``off`` drops the problem."""
    if not config.rules:
        return list(problems)
    out = []
    for p in problems:
        level = config.rules.get(p.code)
        if level is None:
            out.append(p)
        elif level is not Level.OFF:
            out.append(replace(p, level=level))
    return out


def _ctid_search(schema: TemplateSchema) -> re.Pattern[str]:
    """The CTID pattern of the schema's ctid column, for finding a CTID inside a URL."""
    column = next(c for c in schema.columns.values() if c.kind == "ctid")
    assert column.pattern is not None
    return re.compile(column.pattern.pattern)


def check_table(
    table: Table,
    schema: TemplateSchema,
    config: Config,
    *,
    index: CtidIndex | None = None,
    members: MemberIndex | None = None,
) -> list[Problem]:
    """Header, row and structure checks on one table (``index``: CTIDs of the other files;
    ``members``: the repository's competencies, which a collection's members must name)."""
    header, problems = check_header(table, schema)
    if not any(p.code == "no-header" for p in problems):
        row_problems, rows, refs = check_rows(table, schema, header)
        problems += row_problems
        problems += check_description(table, rows, header)
        problems += check_registry(table, schema, header, config.registry, REGISTRIES)
        ctid_column = next(c.name for c in schema.columns.values() if c.kind == "ctid")
        id_column = next(c.name for c in schema.columns.values() if c.kind == "id")
        if header.position(id_column) is not None:  # without ids nothing can be resolved
            problems += check_structure(
                table,
                rows,
                refs,
                header.position(id_column),
                header.position(ctid_column),
                _ctid_search(schema),
                index,
            )
        if any(info.kind == COLLECTION for info in rows):  # collection checks: collection files only
            from competency_ci.frameworks.checks.collection import check_collections

            problems += check_collections(
                table, schema, header, rows, _ctid_search(schema), REGISTRIES, members
            )
    return finish(problems, config)


def finish(problems: list[Problem], config: Config) -> list[Problem]:
    """A file's problems in report order (line, cell, code), at the configured levels."""
    problems.sort(key=lambda p: (p.line, -1 if p.index is None else p.index, p.code))
    return apply_levels(problems, config)


# --- finding files -------------------------------------------------------------------------------


@cache
def _glob(pattern: str) -> re.Pattern[str]:
    """A path glob as a regex: ``**/`` spans directories, ``*`` and ``?`` stay inside one. Case is
    ignored (``*.csv`` takes ``KITCHEN.CSV``), as on the file systems of Windows and macOS, where
    spreadsheets are saved."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        else:
            ch = pattern[i]
            out.append("[^/]*" if ch == "*" else "[^/]" if ch == "?" else re.escape(ch))
            i += 1
    return re.compile("".join(out), re.IGNORECASE)


def _matches(relative: str, patterns: list[str]) -> bool:
    return any(_glob(p).fullmatch(relative) for p in patterns)


def _relative(path: Path, base: Path) -> str | None:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return None


def _walk(directory: Path) -> Iterator[Path]:
    for top, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIP_DIRS)
        for name in sorted(files):
            yield Path(top, name)


@dataclass
class Found:
    """What a search for framework files found: ``files`` to read (with the given paths that do not
    exist, for the reader to report), how many matching files ``exclude`` skipped, and the given
    directories that hold no framework file (``empty``: directory -> why)."""

    files: list[Path] = field(default_factory=list)
    excluded: int = 0
    empty: dict[str, str] = field(default_factory=dict)

    @property
    def nothing(self) -> bool:
        """Nothing to check although a directory was searched: a wrong path, or no ``.csv`` in it.
        (Files named one by one and all excluded, as pre-commit may pass them, are not an error.)"""
        return not self.files and bool(self.empty)


def _nothing_found(config: Config, excluded: int) -> str:
    """Why a directory gave no file: the globs it was searched with (a typo or another extension is
    the usual cause)."""
    reason = f"no framework files found (searched for {', '.join(config.paths) or 'nothing'}, ignoring case"
    if excluded:
        reason += f"; {_count(excluded, 'matching file')} excluded by the configuration"
    return reason + ")"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def find_files(paths: Sequence[str], config: Config) -> Found:
    """The framework files to work on: the one discovery rule of validate, fix, plan and publish.

    Files as given; directories searched with the configured ``paths`` globs (relative to the
    repository root, or to the directory when it lies outside the root), minus ``exclude``; no
    path at all means the repository root. Hidden directories and ``node_modules`` are skipped.
    """
    found = Found()
    files: dict[Path, None] = {}
    root = config.root.resolve()
    for given in paths or [str(config.root)]:
        path = Path(given)
        if path.is_dir():
            before, excluded = len(files), 0
            # one resolve per directory, not per file: a hook walks the whole repository
            inside = _relative(path, root)
            for file in _walk(path):
                below = file.relative_to(path).as_posix()
                rel = below if inside is None else f"{inside}/{below}".removeprefix("./")
                if not _matches(rel, config.paths):
                    continue
                if _matches(rel, config.exclude):
                    excluded += 1
                else:
                    files.setdefault(file, None)
            found.excluded += excluded
            if len(files) == before:
                found.empty[given] = _nothing_found(config, excluded)
        else:
            relative = _relative(path, config.root) if path.exists() else None
            if relative is not None and _matches(relative, config.exclude):
                found.excluded += 1
            else:
                files.setdefault(path, None)
    found.files = list(files)
    return found


def expand_paths(paths: list[str], config: Config) -> list[Path]:
    """Files to validate (see :func:`find_files`); paths that do not exist are returned as they are."""
    return find_files(paths, config).files


def git_pathspecs(config: Config, *, top: bool = False) -> tuple[list[str], list[str]]:
    """The configured ``paths`` and ``exclude`` globs as git pathspecs (case ignored, as here), so
    git selects the same files in other revisions; ``top`` anchors them at the top level."""
    magic = "top,glob,icase" if top else "glob,icase"
    return [f":({magic}){p}" for p in config.paths], [f":({magic},exclude){p}" for p in config.exclude]


def is_framework_path(relative: str, config: Config) -> bool:
    """Whether a path relative to the repository root is a framework file by the configuration."""
    return _matches(relative, config.paths) and not _matches(relative, config.exclude)


def display_path(path: Path) -> str:
    """How a file is named in output: relative to the working directory when inside it."""
    return _relative(path, Path.cwd()) or str(path.resolve())


# --- the cross-file CTID index -------------------------------------------------------------------


def _index_rows(
    index: CtidIndex, path: str, header: list[str], rows: Iterable[tuple[int, list[str]]]
) -> None:
    schema = load_schema()
    names = [h.strip() for h in header]
    kinds = {c.kind: c for c in schema.columns.values() if c.kind in ("id", "type", "ctid")}
    positions = {k: names.index(c.name) if c.name in names else None for k, c in kinds.items()}
    id_i, type_i, ctid_i = positions["id"], positions["type"], positions["ctid"]
    if id_i is None and ctid_i is None:
        return
    is_ctid = _ctid_search(schema).fullmatch
    known = schema.row_types
    for line, cells in rows:
        n = len(cells)
        if type_i is not None and type_i < n:
            row_type = cells[type_i]
            if row_type not in known and schema.is_template_row(row_type):
                continue
        ctid = cells[ctid_i].strip() if ctid_i is not None and ctid_i < n else ""
        if not (ctid and is_ctid(ctid)):
            ctid = cells[id_i].strip() if id_i is not None and id_i < n else ""
        if ctid and is_ctid(ctid):
            index.add(ctid, path, line)


def _scan_file(index: CtidIndex, path: str, data: bytes) -> None:
    """Add a file's CTIDs to the index without building a Table (unreadable files are skipped:
    they are reported when they are validated themselves)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return
    reader = csv.reader(io.StringIO(text, newline=""), strict=False)

    def rows() -> Iterator[tuple[int, list[str]]]:
        start = reader.line_num + 1
        for cells in reader:
            yield start, cells
            start = reader.line_num + 1

    try:
        header = next(reader, None)
        if header:
            _index_rows(index, path, header, rows())
    except csv.Error:
        return


def _member_rows(members: MemberIndex, path: str, data: bytes) -> None:
    """Add a file's rows (type, CTID, URL ``@id``) to the member index (unreadable files skipped)."""
    try:
        text = data.decode("utf-8-sig")
        reader = csv.reader(io.StringIO(text, newline=""), strict=False)
        names = [h.strip() for h in next(reader, [])]
    except (UnicodeDecodeError, csv.Error):
        return
    schema = load_schema()
    kinds = {c.kind: c.name for c in schema.columns.values() if c.kind in ("id", "type", "ctid")}
    at = {k: names.index(n) if n in names else None for k, n in kinds.items()}
    id_i, type_i, ctid_i = at["id"], at["type"], at["ctid"]
    if type_i is None or id_i is None:
        return
    is_ctid = _ctid_search(schema).fullmatch
    try:
        line = reader.line_num + 1
        for cells in reader:
            row_type = schema.row_type(cells[type_i].strip()) if type_i < len(cells) else None
            if row_type is not None:
                id_ = cells[id_i].strip() if id_i < len(cells) else ""
                own = cells[ctid_i].strip() if ctid_i is not None and ctid_i < len(cells) else ""
                ctid = own if own and is_ctid(own) else (id_ if is_ctid(id_) else None)
                members.add(row_type, path, line, ctid, id_)
            line = reader.line_num + 1
    except csv.Error:
        return


def build_members(config: Config, files: Sequence[tuple[str, bytes]]) -> MemberIndex:
    """The competencies a collection may name: the files given and every other framework file of
    the repository."""
    from competency_ci.frameworks.checks.collection import MemberIndex

    members = MemberIndex()
    read = set()
    for path, data in files:
        read.add(Path(path).resolve())
        _member_rows(members, path, data)
    for path, data in other_files(config, read):
        _member_rows(members, path, data)
    return members


def other_files(config: Config, read: set[Path]) -> Iterator[tuple[str, bytes]]:
    """The repository's other framework files (path as shown, bytes), those in ``read`` left out;
    none when the root is not a repository. A file that cannot be read is its own run's problem."""
    if not in_repository(config):
        return
    for file in expand_paths([str(config.root)], config):
        if file.resolve() in read:
            continue
        try:
            data = file.read_bytes()
        except OSError:
            continue
        yield display_path(file), data


def in_repository(config: Config) -> bool:
    """Whether the root is a repository (configured, or a git work tree) rather than the
    working directory by default: only a repository's files are searched for other frameworks."""
    return config.path is not None or (config.root / ".git").exists()


def build_index(config: Config, tables: list[Table], settled: Sequence[bulk.Settled] = ()) -> CtidIndex:
    """CTIDs of the files being validated plus every other framework file of the repository."""
    index = CtidIndex()
    read = {Path(t.path).resolve() for t in tables} | {Path(s.path).resolve() for s in settled}
    if len(read) > 1:  # a file's own CTIDs matter only to the other files
        for table in tables:
            _index_rows(index, table.path, table.header, ((r.line, r.cells) for r in table.records))
        for clean in settled:
            clean.add_to(index)
    for path, data in other_files(config, read):
        _scan_file(index, path, data)
    return index


# --- the run -------------------------------------------------------------------------------------


def validate_paths(
    paths: list[str], config: Config, schema: TemplateSchema | None = None
) -> ValidationResult:
    """Validate the files (no path: the repository root); a file whose rows the bulk acceptor
    settles as clean skips the precise checks (unless another file of the repository shares one of
    its CTIDs): what its header lacks is all it can have to report."""
    # A large file makes a million short-lived objects and no cycles: the cyclic collector would
    # only walk them again and again.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _validate_paths(paths, config, schema or load_schema())
    finally:
        if collecting:
            gc.enable()


def _members_for(
    tables: list[Table], result: ValidationResult, config: Config, schema: TemplateSchema
) -> MemberIndex | None:
    """The member index, built only when a table being checked has a collection row (the bulk
    acceptor declines such files, so they are all among ``tables``)."""
    collection = next((t for t, k in schema.row_types.items() if k == COLLECTION), None)
    type_name = next(c.name for c in schema.columns.values() if c.kind == "type")
    if collection is None or not any(
        (i := t.col(type_name)) is not None
        and (not t.text or collection in t.text)  # one search settles most files
        and any(r.get(i).strip() == collection for r in t.records)
        for t in tables
    ):
        return None
    files = []
    for path in result.files:
        try:
            files.append((path, Path(path).read_bytes()))
        except OSError:
            continue
    return build_members(config, files)


def _settle(path: str, data: bytes, schema: TemplateSchema) -> bulk.Settled | None:
    from competency_ci.frameworks.checks import bulk

    return bulk.settle(path, data, schema)


def _validate_paths(paths: list[str], config: Config, schema: TemplateSchema) -> ValidationResult:
    result = ValidationResult()
    tables: list[Table] = []
    settled: list[bulk.Settled] = []
    found = find_files(paths, config)
    result.excluded = found.excluded
    if found.nothing:
        result.unusable.update(found.empty)
        result.empty = list(found.empty)
    for file in found.files:
        shown = display_path(file) if file.exists() else str(file)
        try:
            data = file.read_bytes()
        except FileNotFoundError:
            result.unusable[shown] = "no such file or directory"
            continue
        except OSError as exc:
            result.unusable[shown] = exc.strerror or str(exc)
            continue
        result.files.append(shown)
        clean = _settle(shown, data, schema) if len(data) >= SETTLE_BYTES else None
        if clean is not None:
            settled.append(clean)
            continue
        table, problems = read_table(shown, data)
        result.problems += apply_levels(problems, config)
        if table is not None:
            tables.append(table)
            result.tables[shown] = table
    index = build_index(config, tables, settled) if tables or settled else None
    checked: list[Table | bulk.Settled] = list(tables)
    for clean in settled:
        result.settled[clean.path] = clean.data
        if index is not None and clean.clashes(index):  # the precise checks say where
            checked.append(result.table(clean.path))
        elif clean.problems:
            checked.append(clean)
    order = {path: i for i, path in enumerate(result.files)}
    members = _members_for(tables, result, config, schema)
    for item in sorted(checked, key=lambda t: order[t.path]):
        if isinstance(item, Table):
            result.problems += check_table(item, schema, config, index=index, members=members)
        else:
            result.problems += finish(list(item.problems), config)
    return result
