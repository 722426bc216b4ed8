"""Problems: what every check reports, with a location a spreadsheet user can find."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Level(StrEnum):
    """Severity. Ordered: error > warning > notice; ``off`` silences a code."""

    ERROR = "error"
    WARNING = "warning"
    NOTICE = "notice"
    OFF = "off"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Level.ERROR: 3, Level.WARNING: 2, Level.NOTICE: 1, Level.OFF: 0}


def column_letter(index: int) -> str:
    """Spreadsheet column letter for a 0-based column index (0 -> A, 26 -> AA)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding.

    ``line`` is the physical line in the file (what git and GitHub show); ``row`` is the
    spreadsheet row (header = 1), which differs once a quoted cell spans lines. ``column`` is the
    header text and ``index`` its 0-based position; both are None for file-level problems.
    """

    path: str
    line: int
    code: str
    level: Level
    message: str
    hint: str = ""
    row: int | None = None
    column: str | None = None
    index: int | None = None
    char: int | None = field(default=None, compare=False)

    @property
    def letter(self) -> str | None:
        return None if self.index is None else column_letter(self.index)

    @property
    def cell(self) -> str | None:
        """Spreadsheet cell reference such as ``D5``."""
        if self.index is None or self.row is None:
            return None
        return f"{column_letter(self.index)}{self.row}"

    def to_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "line": self.line,
            "row": self.row,
            "column": self.column,
            "letter": self.letter,
            "cell": self.cell,
            "level": self.level.value,
            "code": self.code,
            "message": self.message,
            "hint": self.hint,
        }
