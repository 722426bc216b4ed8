"""Reporters: the same problems as text for people, JSON for tools, or GitHub workflow commands.

What a report shows is a :class:`View`: a minimum level for every format; for text also ``quiet``
and the grouping of repeated problems (CE's own benchmark sample has 72 ``ctid-not-v4`` notices:
after the first few of a code in a file, the rest are counted on one line). The summary line
always counts every problem found.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

from competency_ci.frameworks.problems import Level, Problem
from competency_ci.frameworks.validate import ValidationResult
from competency_ci.report.escape import command, one_line

FORMATS = ("text", "json", "github")
MIN_LEVELS = (Level.ERROR.value, Level.WARNING.value, Level.NOTICE.value)
GROUP = 3  # problems of one code shown per file before the rest are counted on one line
_MAX_RANGES = 12  # line ranges listed on a grouped line before "…"


@dataclass(frozen=True)
class View:
    """Which problems a report shows. ``quiet`` (text only): no notices and no "… and N more"
    lines. JSON and GitHub reports are complete unless ``min_level`` is raised."""

    min_level: Level = Level.NOTICE
    quiet: bool = False
    group: int = GROUP

    def shows(self, p: Problem) -> bool:
        return self.shows_level(p.level)

    def shows_level(self, level: Level) -> bool:
        return level.rank >= self.min_level.rank

    def for_text(self) -> View:
        if self.quiet and self.min_level.rank < Level.WARNING.rank:
            return View(Level.WARNING, self.quiet, self.group)
        return self


def sort_key(p: Problem) -> tuple[str, int, int, str]:
    return (p.path, p.line, -1 if p.index is None else p.index, p.code)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def summary(result: ValidationResult, view: View | None = None) -> str:
    files = len(result.files)
    counts = [result.count(level) for level in (Level.ERROR, Level.WARNING, Level.NOTICE)]
    if result.empty:
        line = "no framework files found"
    elif not files and not result.problems:
        line = "no files checked"
        if result.excluded:
            line += f": {_plural(result.excluded, 'file')} excluded by the configuration"
    elif not any(counts):
        line = f"{_plural(files, 'file')} OK"
    else:
        errors, warnings, notices = counts
        line = (
            f"{_plural(errors, 'error')}, {_plural(warnings, 'warning')}, {_plural(notices, 'notice')}"
            f" in {_plural(files, 'file')}"
        )
        hidden = [
            f"{level.value}s"
            for level in (Level.WARNING, Level.NOTICE)
            if view is not None and not view.shows_level(level) and result.count(level)
        ]
        if hidden:
            line += f" ({' and '.join(hidden)} not shown)"
    unreadable = len(result.unusable) - len(result.empty)
    if unreadable:
        line += f"; {_plural(unreadable, 'path')} could not be read"
    return line


def _location(p: Problem) -> str:
    if p.index is None:
        return f"{p.path}:{p.line}:"
    return f"{p.path}:{p.line}: {p.cell or p.letter} ({p.column}):"


def line_ranges(lines: list[int]) -> str:
    """``5-73`` or ``5, 9, 12-20``: consecutive lines as ranges (long lists end with "…")."""
    ranges: list[str] = []
    start = prev = lines[0]
    for line in [*lines[1:], None]:
        if line is not None and line == prev + 1:
            prev = line
            continue
        ranges.append(str(start) if start == prev else f"{start}-{prev}")
        if line is not None:
            start = prev = line
    if len(ranges) > _MAX_RANGES:
        ranges = [*ranges[:_MAX_RANGES], "…"]
    return ", ".join(ranges)


def text(result: ValidationResult, view: View | None = None) -> str:
    """One line per problem and its hint; past ``view.group`` problems of a code in a file, one
    line counts the rest where the first of them would be."""
    view = (view or View()).for_text()
    problems = [p for p in sorted(result.problems, key=sort_key) if view.shows(p)]
    totals = Counter((p.path, p.code) for p in problems)
    seen: Counter[tuple[str, str]] = Counter()
    lines = []
    for p in problems:
        key = (p.path, p.code)
        seen[key] += 1
        if seen[key] <= view.group or totals[key] == view.group + 1:
            lines.append(f"{_location(p)} {p.level.value} [{p.code}] {p.message}")
            if p.hint:
                lines.append(f"    hint: {p.hint}")
        elif seen[key] == view.group + 1 and not view.quiet:
            rest = [q.line for q in problems if (q.path, q.code) == key][view.group :]
            where = sorted(set(rest))
            lines.append(
                f"{p.path}:{p.line}: {p.level.value} [{p.code}] … and {len(rest)} more"
                f" ({'line' if len(where) == 1 else 'lines'} {line_ranges(where)})"
            )
    lines.append(summary(result, view))
    return "\n".join(one_line(line) for line in lines) + "\n"


def json_report(result: ValidationResult, view: View | None = None) -> str:
    view = view or View()
    document = {
        "version": 1,
        "files": result.files,
        "unusable": [{"path": path, "reason": reason} for path, reason in result.unusable.items()],
        "problems": [p.to_dict() for p in sorted(result.problems, key=sort_key) if view.shows(p)],
        "summary": {
            "files": len(result.files),
            "errors": result.count(Level.ERROR),
            "warnings": result.count(Level.WARNING),
            "notices": result.count(Level.NOTICE),
        },
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


_COMMANDS = {Level.ERROR: "error", Level.WARNING: "warning", Level.NOTICE: "notice"}


def github(result: ValidationResult, view: View | None = None) -> str:
    """One workflow command per problem, so GitHub annotates the line in the pull request diff.

    ``col`` is the 1-based character column of the problem's cell (omitted for file-level ones).
    Every property and the message are escaped, so no cell text can start a workflow command of its
    own: a newline becomes ``%0A`` and the command stays on one line.
    """
    view = view or View()
    lines = []
    for p in sorted(result.problems, key=sort_key):
        if not view.shows(p):
            continue
        props: dict[str, str | int] = {"file": p.path, "line": p.line}
        col = result.char_column(p)
        if col is not None:
            props["col"] = col
        props["title"] = p.code if p.column is None else f"{p.code} ({p.cell} {p.column})"
        message = p.message + (f" hint: {p.hint}" if p.hint else "")
        lines.append(command(_COMMANDS[p.level], message, **props))
    lines.append(summary(result, view))
    return "\n".join(lines) + "\n"


REPORTERS = {"text": text, "json": json_report, "github": github}
