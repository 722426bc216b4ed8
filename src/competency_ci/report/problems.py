"""Reporters: the same problems as text for people, JSON for tools, or GitHub workflow commands."""

from __future__ import annotations

import json

from competency_ci.frameworks.problems import Level, Problem
from competency_ci.frameworks.validate import ValidationResult

FORMATS = ("text", "json", "github")


def sort_key(p: Problem) -> tuple[str, int, int, str]:
    return (p.path, p.line, -1 if p.index is None else p.index, p.code)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def summary(result: ValidationResult) -> str:
    files = len(result.files)
    counts = [result.count(level) for level in (Level.ERROR, Level.WARNING, Level.NOTICE)]
    if not any(counts):
        line = f"{_plural(files, 'file')} OK"
    else:
        errors, warnings, notices = counts
        line = (
            f"{_plural(errors, 'error')}, {_plural(warnings, 'warning')}, {_plural(notices, 'notice')}"
            f" in {_plural(files, 'file')}"
        )
    if result.unusable:
        line += f"; {_plural(len(result.unusable), 'path')} could not be read"
    return line


def _location(p: Problem) -> str:
    if p.index is None:
        return f"{p.path}:{p.line}:"
    return f"{p.path}:{p.line}: {p.cell or p.letter} ({p.column}):"


def text(result: ValidationResult) -> str:
    lines = []
    for p in sorted(result.problems, key=sort_key):
        lines.append(f"{_location(p)} {p.level.value} [{p.code}] {p.message}")
        if p.hint:
            lines.append(f"    hint: {p.hint}")
    lines.append(summary(result))
    return "\n".join(lines) + "\n"


def json_report(result: ValidationResult) -> str:
    document = {
        "version": 1,
        "files": result.files,
        "unusable": [{"path": path, "reason": reason} for path, reason in result.unusable.items()],
        "problems": [p.to_dict() for p in sorted(result.problems, key=sort_key)],
        "summary": {
            "files": len(result.files),
            "errors": result.count(Level.ERROR),
            "warnings": result.count(Level.WARNING),
            "notices": result.count(Level.NOTICE),
        },
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def escape_data(value: str) -> str:
    """GitHub workflow command message escaping (actions/toolkit ``escapeData``)."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """GitHub workflow command property escaping (actions/toolkit ``escapeProperty``)."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


_COMMANDS = {Level.ERROR: "error", Level.WARNING: "warning", Level.NOTICE: "notice"}


def github(result: ValidationResult) -> str:
    """One workflow command per problem, so GitHub annotates the line in the pull request diff.

    ``col`` is the 1-based character column of the problem's cell (omitted for file-level ones).
    Every property and the message are escaped, so no cell text can start a workflow command of its
    own: a newline becomes ``%0A`` and the command stays on one line.
    """
    lines = []
    for p in sorted(result.problems, key=sort_key):
        props = [f"file={escape_property(p.path)}", f"line={p.line}"]
        col = result.char_column(p)
        if col is not None:
            props.append(f"col={col}")
        title = p.code if p.column is None else f"{p.code} ({p.cell} {p.column})"
        props.append(f"title={escape_property(title)}")
        message = p.message + (f" hint: {p.hint}" if p.hint else "")
        lines.append(f"::{_COMMANDS[p.level]} {','.join(props)}::{escape_data(message)}")
    lines.append(summary(result))
    return "\n".join(lines) + "\n"


REPORTERS = {"text": text, "json": json_report, "github": github}
