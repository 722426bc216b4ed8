"""Reporters: exact text, JSON and GitHub output for a small bad file; workflow-command injection."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from competency_ci.report.escape import escape_data, escape_property
from validate_support import C1, C2, FW, HEADER, ORG

ROWS = [
    HEADER,
    f"{FW},ceasn:CompetencyFramework,Kitchen,Kitchen,en,{ORG},Riverside Kitchen,2025-03-14,,,",
    f'{C1},ceasn:Competency,,,,,,," Wash, then dry",{FW},',
    f"{C2},ceasn:Competency,,,,,,,Dry hands,,https://example.org/x y",
]
BAD = "\n".join(ROWS) + "\n"
PATH = "frameworks/bad.csv"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / ".competency-ci.yaml").write_text("")
    (tmp_path / "frameworks").mkdir()
    (tmp_path / PATH).write_text(BAD)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_text(repo: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli("validate", PATH)
    assert (code, err) == (1, "")
    assert out.splitlines() == [
        f"{PATH}:2: D2 (ceasn:description): notice [description-equals-name] "
        'The description repeats the name: "Kitchen"',
        "    hint: CE's publishing API can reject a description that only repeats the name: "
        "describe the framework.",
        f"{PATH}:3: I3 (ceasn:competencyText): warning [cell-spaces] "
        'The cell has leading or trailing spaces: " Wash, then dry"',
        "    hint: Remove them; `competency-ci fix` does it.",
        f'{PATH}:4: K4 (ceasn:isChildOf): error [bad-uri] Not a valid URI: "https://example.org/x y"',
        "    hint: Write an absolute `http(s)://` URI (or a CTID where the column allows one).",
        "1 error, 1 warning, 1 notice in 1 file",
    ]
    assert out.endswith("in 1 file\n")


def test_json(repo: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run_cli("validate", "--format", "json", PATH)
    assert code == 1
    document = json.loads(out)
    assert document["version"] == 1
    assert document["files"] == [PATH]
    assert document["unusable"] == []
    assert document["summary"] == {"files": 1, "errors": 1, "warnings": 1, "notices": 1}
    assert document["problems"][2] == {
        "path": PATH,
        "line": 4,
        "row": 4,
        "column": "ceasn:isChildOf",
        "letter": "K",
        "cell": "K4",
        "level": "error",
        "code": "bad-uri",
        "message": 'Not a valid URI: "https://example.org/x y"',
        "hint": "Write an absolute `http(s)://` URI (or a CTID where the column allows one).",
    }
    assert [(p["code"], p["cell"]) for p in document["problems"]] == [
        ("description-equals-name", "D2"),
        ("cell-spaces", "I3"),
        ("bad-uri", "K4"),
    ]


def col(line: int, index: int) -> int:
    """1-based character column of cell ``index`` on a line of BAD (no quoted commas before it)."""
    return len(",".join(ROWS[line - 1].split(",")[:index])) + 2


def test_github(repo: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run_cli("validate", "--format", "github", PATH)
    assert code == 1
    hint = {
        2: "CE's publishing API can reject a description that only repeats the name: describe the framework.",
        3: "Remove them; `competency-ci fix` does it.",
        4: "Write an absolute `http(s)://` URI (or a CTID where the column allows one).",
    }
    assert out.splitlines() == [
        f"::notice file={PATH},line=2,col={col(2, 3)},title=description-equals-name (D2 ceasn%3Adescription)"
        f'::The description repeats the name: "Kitchen" hint: {hint[2]}',
        f"::warning file={PATH},line=3,col={col(3, 8)},title=cell-spaces (I3 ceasn%3AcompetencyText)"
        f'::The cell has leading or trailing spaces: " Wash, then dry" hint: {hint[3]}',
        f"::error file={PATH},line=4,col={col(4, 10)},title=bad-uri (K4 ceasn%3AisChildOf)"
        f'::Not a valid URI: "https://example.org/x y" hint: {hint[4]}',
        "1 error, 1 warning, 1 notice in 1 file",
    ]


def test_github_column_counts_quoted_commas(repo: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    line = ROWS[2]
    _, out, _ = run_cli("validate", "--format", "github", PATH)
    warning = next(x for x in out.splitlines() if x.startswith("::warning"))
    start = line.index(',"') + 2
    assert f"col={start}," in warning


def test_github_actions_selects_github_format(repo: Path, run_cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    _, text_out, _ = run_cli("validate", PATH)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    _, out, _ = run_cli("validate", PATH)
    assert out.startswith(f"::notice file={PATH},line=2,")
    assert not text_out.startswith("::")
    _, forced, _ = run_cli("validate", "--format", "text", PATH)
    assert forced == text_out


def test_escaping_rules() -> None:
    assert escape_data("100%\r\nnext::x") == "100%25%0D%0Anext::x"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


COMMAND = re.compile(r"::(error|warning|notice) file=[^:,]*,line=\d+(,col=\d+)?,title=[^:,]*::[^\r\n]*")


def test_cell_text_cannot_issue_a_workflow_command(
    tmp_path: Path, run_cli, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    evil = "::error::pwned%0A\n::add-mask::secret\r\n::warning file=x,line=1::y\n"
    header = HEADER.replace("ceasn:isChildOf", '"Notes\n::error::header"')
    rows = [
        header,
        f'{FW},ceasn:CompetencyFramework,Kitchen,Kitchen work,en,"{evil}",Riverside Kitchen,2025-03-14,,,',
        f'{C1},ceasn:Competency,,,,,,,"{evil}",{FW},"{evil}"',
    ]
    (tmp_path / ".competency-ci.yaml").write_text("")
    (tmp_path / "evil.csv").write_text("\n".join(rows) + "\n")
    monkeypatch.chdir(tmp_path)
    code, out, _ = run_cli("validate", "--format", "github", "evil.csv")
    assert code == 1
    lines = out.splitlines()
    assert lines[-1] == "1 error, 3 warnings, 0 notices in 1 file"
    commands = lines[:-1]
    # every line is exactly one of our commands, properties intact: no cell text starts a line
    assert [COMMAND.fullmatch(line) is not None for line in commands] == [True] * 4
    assert [line.split(" ", 1)[0] for line in commands] == ["::warning", "::error", "::warning", "::warning"]
    assert "title=unknown-column (K1 Notes%0A%3A%3Aerror%3A%3Aheader)::" in commands[0]
    # a literal %0A in a cell is escaped, so the runner cannot turn it into a line break
    assert "pwned%250A" in commands[1]
    assert "%0A" not in commands[1].replace("%250A", "")
