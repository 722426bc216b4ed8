"""The catalogue of problem codes: stable kebab-case names, default levels, and how to fix each.

The README's table of codes is generated from this catalogue (``python -m competency_ci.frameworks.codes``)
and a test keeps the two identical.
"""

from __future__ import annotations

from dataclasses import dataclass

from competency_ci.frameworks.problems import Level, Problem

E, W, N = Level.ERROR, Level.WARNING, Level.NOTICE


@dataclass(frozen=True)
class Code:
    """One problem code: its default level and what it means."""

    name: str
    level: Level
    group: str
    summary: str
    hint: str


_CODES = [
    # file
    Code(
        "not-utf8",
        E,
        "file",
        "The file is not UTF-8",
        "Re-save it as UTF-8: in Excel, File > Save As > 'CSV UTF-8 (Comma delimited) (*.csv)'; in LibreOffice, tick 'Edit filter settings' and pick 'Unicode (UTF-8)'.",
    ),
    Code(
        "workbook-not-csv",
        E,
        "file",
        "The file is a spreadsheet workbook, not CSV",
        "Open it in the spreadsheet program and save it as CSV: in Excel, File > Save As > 'CSV UTF-8 (Comma delimited) (*.csv)'; in LibreOffice Calc, File > Save As > 'Text CSV (.csv)' with 'Unicode (UTF-8)' and comma; in Google Sheets, File > Download > 'Comma-separated values (.csv)'.",
    ),
    Code(
        "not-comma-delimited",
        E,
        "file",
        "The file is not comma-delimited",
        "CASS guesses the delimiter, which breaks `|` multi-values: save as 'CSV UTF-8 (Comma delimited)'.",
    ),
    Code(
        "empty-file",
        E,
        "file",
        "The file is empty",
        "Start from `competency-ci template` or delete the file.",
    ),
    Code(
        "no-header",
        E,
        "file",
        "The first row is not a header of CTDL-ASN column names",
        "Row 1 must hold the column names (`@id`, `@type`, `ceasn:name`, ...); `competency-ci template` writes one.",
    ),
    Code(
        "malformed-csv",
        E,
        "file",
        "The file cannot be parsed as CSV",
        "Check the quoting around the line shown: every opening quote needs a closing quote.",
    ),
    Code(
        "blank-row",
        E,
        "file",
        "Blank row",
        "Delete the row (CASS reads it as a row without `@id` and fails the whole import); `competency-ci fix` does it.",
    ),
    Code(
        "too-many-cells",
        E,
        "file",
        "The row has more cells than the header",
        "A stray comma, or a value in a column without a header: remove it or name the column.",
    ),
    Code(
        "too-few-cells",
        E,
        "file",
        "The row has fewer cells than the header",
        "Add the missing cells (empty ones are fine): each row needs one cell per header column.",
    ),
    # header
    Code(
        "unknown-column",
        W,
        "header",
        "Unknown column: CASS would silently drop it",
        "Rename it to a CTDL-ASN column (see the suggestion) or delete it.",
    ),
    Code(
        "duplicate-column",
        E,
        "header",
        "The column appears twice",
        "Merge the two columns into one; CASS renames the second and loses its values.",
    ),
    Code(
        "column-spaces",
        E,
        "header",
        "The column name has surrounding spaces",
        "Remove the spaces: CASS matches column names exactly; `competency-ci fix` does it.",
    ),
    Code(
        "missing-id-column",
        E,
        "header",
        "There is no `@id` column",
        "Add an `@id` column; `competency-ci fix` then mints a CTID for every row.",
    ),
    Code(
        "missing-type-column",
        E,
        "header",
        "There is no `@type` column",
        "Add a `@type` column with `ceasn:CompetencyFramework` or `ceasn:Competency` in each row.",
    ),
    Code(
        "helper-column",
        E,
        "header",
        "The template's helper column A is still there",
        "Delete column A before uploading (CE's instructions); `competency-ci fix` does it.",
    ),
    Code(
        "missing-column",
        E,
        "header",
        "A column that some rows require is missing",
        "Add the column and fill it in for the rows named.",
    ),
    # rows
    Code(
        "template-row",
        N,
        "row",
        "Template sample/instruction row: CASS skips it",
        "Delete the row before uploading; `competency-ci fix` does it.",
    ),
    Code(
        "unknown-type",
        E,
        "row",
        "Unknown `@type`",
        "Use exactly `ceasn:CompetencyFramework` or `ceasn:Competency`.",
    ),
    Code(
        "missing-type",
        E,
        "row",
        "The row has no `@type`",
        "Fill in `ceasn:CompetencyFramework` or `ceasn:Competency`.",
    ),
    Code(
        "missing-id",
        E,
        "row",
        "The row has no `@id`",
        "Run `competency-ci fix` to mint a CTID, or fill one in.",
    ),
    Code(
        "temporary-id",
        E,
        "row",
        "The `@id` is a temporary key, neither a URI nor a CTID",
        "Run `competency-ci fix`: it replaces the key with a minted CTID everywhere the file uses it.",
    ),
    Code(
        "bad-ctid",
        E,
        "row",
        "Not a CTID",
        "A CTID is `ce-` followed by a UUID, e.g. `ce-e8a41a52-6ff6-48f0-9872-889c87b093b7`.",
    ),
    Code(
        "ctid-uppercase",
        N,
        "row",
        "The CTID has upper-case letters",
        "The Registry compares CTIDs in lower case; `competency-ci fix` lower-cases them.",
    ),
    Code(
        "ctid-not-v4",
        N,
        "row",
        "The CTID is not a version-4 UUID",
        "CE asks for UUID v4; existing published CTIDs must never change, so only new ones matter.",
    ),
    Code(
        "ctid-mismatch",
        E,
        "row",
        "`ceterms:ctid` differs from the CTID in `@id`",
        "Make the two equal: a row has one CTID.",
    ),
    Code(
        "missing-ctid",
        E,
        "row",
        "The row has no CTID, so it cannot be published",
        "Run `competency-ci fix`: it mints a CTID into `ceterms:ctid` (adding the column if needed) and keeps the `@id`.",
    ),
    Code("required-missing", E, "row", "A value CE requires is missing", "Fill in the cell."),
    Code(
        "required-if-available-missing",
        W,
        "row",
        "A value CE's publishing API requires is missing",
        "Fill in the cell before publishing to the Registry.",
    ),
    Code(
        "not-applicable",
        W,
        "row",
        "The column does not apply to this row type: the value is ignored",
        "Move the value to a column that applies to this row type, or clear it.",
    ),
    Code(
        "pipe-in-single-value",
        E,
        "row",
        "`|` in a single-valued column: CASS splits every cell on `|`",
        "Remove the `|` or reword; there is no escape for it.",
    ),
    Code("empty-piece", W, "row", "Empty value between `|` separators", "Remove the extra `|`."),
    Code(
        "unknown-vocabulary",
        E,
        "row",
        "Value not in the vocabulary: CASS silently drops it",
        "Use one of the short forms listed, or the full vocabulary URI.",
    ),
    Code(
        "bad-uri",
        E,
        "row",
        "Not a valid URI",
        "Write an absolute `http(s)://` URI (or a CTID where the column allows one).",
    ),
    Code("bad-date", E, "row", "Not a valid date", "Write the date as `YYYY-MM-DD`."),
    Code(
        "bad-datetime",
        E,
        "row",
        "Not a valid date-time",
        "Write an ISO 8601 date-time such as `2024-05-01T12:00:00Z`.",
    ),
    Code("bad-language", E, "row", "Not a valid language code", "Use a BCP 47 code such as `en` or `en-US`."),
    Code(
        "bad-value",
        E,
        "row",
        "The value does not have the form the column expects",
        "See the column's description in the schema reference (`competency-ci template --with-instructions` shows it too).",
    ),
    Code(
        "date-has-time",
        W,
        "row",
        "A date-time where CE takes a date: CE keeps only the date",
        "Write the date alone (`YYYY-MM-DD`); CE's publishing API truncates the time.",
    ),
    Code(
        "vocabulary-unknown-to-cass",
        W,
        "row",
        "A short form CE accepts but CASS's CSV importer silently drops",
        "Write the full concept URI; `competency-ci fix` does it.",
    ),
    Code(
        "wrong-registry",
        E,
        "row",
        "A URI of the other Credential Registry environment (sandbox vs production)",
        "Use the CTID (the publishing API turns it into the URI of the environment it publishes to) or a URI of the configured `registry`.",
    ),
    Code(
        "not-registry-uri",
        E,
        "row",
        "The column takes a CTID or a Credential Registry URI",
        "CE needs a CTID or a URI of the configured registry here (CASS's importer refuses anything else for CE).",
    ),
    Code(
        "cell-spaces",
        W,
        "row",
        "The cell has leading or trailing spaces",
        "Remove them; `competency-ci fix` does it.",
    ),
    Code(
        "formula",
        W,
        "row",
        "The cell starts with `=`: a spreadsheet formula",
        "Replace the formula with its value (paste as values).",
    ),
    Code(
        "description-equals-name",
        N,
        "row",
        "The description repeats the name",
        "CE's publishing API can reject a description that only repeats the name: describe the framework.",
    ),
    Code(
        "not-shown-by-ce",
        W,
        "row",
        "Credential Engine will not show this value when it is published through CASS",
        "Nothing in the file changes that: keep the value for CASS, or enter it in CE's Publisher; `rules: {not-shown-by-ce: off}` silences it.",
    ),
    Code(
        "reshaped-by-ce",
        W,
        "row",
        "Credential Engine will show this value in a different shape",
        "Nothing in the file changes that; `rules: {reshaped-by-ce: off}` silences it.",
    ),
    # structure
    Code(
        "duplicate-id",
        E,
        "structure",
        "The `@id` is used by another row",
        "Each row needs its own `@id`; give one row a new CTID (clear it and run `competency-ci fix`).",
    ),
    Code(
        "duplicate-ctid",
        E,
        "structure",
        "The CTID is used by another row or framework file",
        "CTIDs are unique across the registry: give one of the rows a new CTID.",
    ),
    Code(
        "dangling-reference",
        E,
        "structure",
        "The reference points to no row",
        "Use the `@id` of a row in this file, written exactly as that row's `@id`.",
    ),
    Code(
        "reference-wrong-type",
        E,
        "structure",
        "The reference points to a row of the wrong type",
        "`isTopChildOf`/`isPartOf` name a framework; `isChildOf`/`hasChild`/`hasTopChild` name competencies.",
    ),
    Code(
        "forward-reference",
        E,
        "structure",
        "The reference points to a row further down",
        "Move the row below the one it names (CASS needs frameworks and parents first); `competency-ci fix` reorders rows.",
    ),
    Code(
        "multiple-parents",
        E,
        "structure",
        "More than one parent in `ceasn:isChildOf`",
        "A competency has exactly one parent in CTDL-ASN CSV: keep one.",
    ),
    Code(
        "cycle",
        E,
        "structure",
        "The parent chain loops back on itself",
        "Break the loop: one of these competencies must have a different parent.",
    ),
    Code(
        "orphan-competency",
        E,
        "structure",
        "The competency reaches no framework",
        "Give it `ceasn:isTopChildOf` (top level), `ceasn:isChildOf` (lower level) or `ceasn:isPartOf`.",
    ),
    Code(
        "framework-mismatch",
        E,
        "structure",
        "`ceasn:isPartOf` disagrees with the framework reached through the parents",
        "Make `isPartOf` name the framework its parent chain leads to.",
    ),
    Code(
        "empty-framework",
        E,
        "structure",
        "The framework has no competencies",
        "CE's publishing API refuses a framework without competencies: add them, or delete the framework row.",
    ),
    Code(
        "duplicate-row",
        W,
        "structure",
        "The row repeats another row apart from its ids",
        "CASS's duplicate detector will ask about it: delete one row or make them differ.",
    ),
    # collections (a file of `ceterms:Collection` rows)
    Code(
        "collection-mixed",
        E,
        "collection",
        "Collection rows and framework rows share one file",
        "CASS imports a file as frameworks when it has a framework row and as collections otherwise: put the collection in a file of its own (`competency-ci template --collection`).",
    ),
    Code(
        "collection-competency-row",
        E,
        "collection",
        "A competency row in a collection file",
        "CASS's collection import creates such a row as a new competency outside any framework: list existing competencies in the collection's `ceterms:hasMember` instead.",
    ),
    Code(
        "unresolved-member",
        E,
        "collection",
        "The member is no competency of a framework in this repository nor a URI of the configured registry",
        "Write the CTID (or `@id`) of a competency in one of this repository's framework files, or the competency's URI on the configured Credential Registry.",
    ),
    Code(
        "member-not-competency",
        E,
        "collection",
        "The member is a framework or a collection, not a competency",
        "A collection's members are competencies: name the competency rows, not their framework.",
    ),
    Code(
        "duplicate-member",
        W,
        "collection",
        "The collection lists the same member twice",
        "Delete the repeated value from `ceterms:hasMember`.",
    ),
]

CODES: dict[str, Code] = {c.name: c for c in _CODES}


def problem(
    code: str,
    path: str,
    line: int,
    *,
    detail: str = "",
    hint: str | None = None,
    row: int | None = None,
    column: str | None = None,
    index: int | None = None,
) -> Problem:
    """Build a Problem with the code's default level; ``detail`` says what exactly is wrong."""
    spec = CODES[code]
    message = f"{spec.summary}: {detail}" if detail else spec.summary
    return Problem(
        path=path,
        line=line,
        code=code,
        level=spec.level,
        message=message,
        hint=spec.hint if hint is None else hint,
        row=row,
        column=column,
        index=index,
    )


def markdown_table() -> str:
    """The README's table of codes."""
    lines = ["| code | level | what it means | how to fix |", "|---|---|---|---|"]
    for c in _CODES:
        lines.append(f"| `{c.name}` | {c.level.value} | {c.summary} | {c.hint} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table())
