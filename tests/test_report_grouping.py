"""Repeated problems do not drown the output: past a few of one code in a file, the text report
counts the rest on one line; `--quiet` and `--min-level` choose what is shown (the summary counts all)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from competency_ci.report.problems import line_ranges
from conftest import REPO
from validate_support import FW, HEADER, ORG

BENCHMARK = REPO / "tests" / "data" / "samples" / "ce-benchmark-onet-abilities.csv"
PATH = "spaces.csv"
HINT = "    hint: Remove them; `competency-ci fix` does it."


def spaced(n: int) -> str:
    """A framework whose description repeats its name (a notice) and ``n`` competencies whose text
    ends in a space (``n`` cell-spaces warnings, on lines 3 to n + 2)."""
    rows = [
        HEADER,
        f"{FW},ceasn:CompetencyFramework,Kitchen,Kitchen,en,{ORG},Riverside Kitchen,2025-03-14,,,",
    ]
    rows += [
        f"ce-{k:08d}-0000-4000-8000-000000000000,ceasn:Competency,,,,,,,Task {k} ,{FW}," for k in range(n)
    ]
    return "\n".join(rows) + "\n"


def warning(line: int) -> str:
    return (
        f"{PATH}:{line}: I{line} (ceasn:competencyText): warning [cell-spaces] "
        f'The cell has leading or trailing spaces: "Task {line - 3} "'
    )


NOTICE = [
    f"{PATH}:2: D2 (ceasn:description): notice [description-equals-name] "
    'The description repeats the name: "Kitchen"',
    "    hint: CE's publishing API can reject a description that only repeats the name: "
    "describe the framework.",
]


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_rest_of_a_repeated_code_is_counted_on_one_line(repo: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    (repo / PATH).write_text(spaced(9))
    code, out, err = run_cli("validate", PATH)
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        *NOTICE,
        warning(3),
        HINT,
        warning(4),
        HINT,
        warning(5),
        HINT,
        f"{PATH}:6: warning [cell-spaces] … and 6 more (lines 6-11)",
        "0 errors, 9 warnings, 1 notice in 1 file",
    ]


def test_several_problems_on_one_line_name_it_once(repo: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    rows = [
        HEADER,
        f"{FW},ceasn:CompetencyFramework,Kitchen,Safe work,en,{ORG},Riverside Kitchen,2025-03-14,,,",
    ]
    rows += [
        f"ce-{k:08d}-0000-4000-8000-000000000000,ceasn:Competency,,,,,,, Task {k} ,{FW} ," for k in range(3)
    ]
    (repo / PATH).write_text("\n".join(rows) + "\n")  # two cell-spaces per competency row
    out = run_cli("validate", PATH)[1].splitlines()
    assert out[-2:] == [
        f"{PATH}:4: warning [cell-spaces] … and 3 more (lines 4-5)",
        "0 errors, 6 warnings, 0 notices in 1 file",
    ]


def test_one_more_is_shown_rather_than_counted(repo: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    (repo / PATH).write_text(spaced(4))
    out = run_cli("validate", PATH)[1]
    assert out.splitlines()[2:] == [
        *(line for n in (3, 4, 5, 6) for line in (warning(n), HINT)),
        "0 errors, 4 warnings, 1 notice in 1 file",
    ]


def test_quiet_drops_notices_and_the_count_line(repo: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    (repo / PATH).write_text(spaced(9))
    assert run_cli("validate", "--quiet", PATH) == (
        0,
        "\n".join([warning(3), HINT, warning(4), HINT, warning(5), HINT])
        + "\n0 errors, 9 warnings, 1 notice in 1 file (notices not shown)\n",
        "",
    )


def test_min_level_applies_to_every_format(repo: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    (repo / PATH).write_text(spaced(9))
    assert run_cli("validate", "--min-level", "error", PATH) == (
        0,
        "0 errors, 9 warnings, 1 notice in 1 file (warnings and notices not shown)\n",
        "",
    )
    document = json.loads(run_cli("validate", "--format", "json", "--min-level", "warning", PATH)[1])
    assert [p["code"] for p in document["problems"]] == ["cell-spaces"] * 9
    assert document["summary"] == {"files": 1, "errors": 0, "warnings": 9, "notices": 1}
    github = run_cli("validate", "--format", "github", "--min-level", "warning", PATH)[1].splitlines()
    assert [line.split(" ", 1)[0] for line in github[:-1]] == ["::warning"] * 9
    assert github[-1] == "0 errors, 9 warnings, 1 notice in 1 file (notices not shown)"


def test_json_and_github_stay_complete_without_min_level(repo: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    (repo / PATH).write_text(spaced(9))
    document = json.loads(run_cli("validate", "--format", "json", "--quiet", PATH)[1])
    assert len(document["problems"]) == 10
    github = run_cli("validate", "--format", "github", PATH)[1].splitlines()
    assert len(github) == 11 and github[-1] == "0 errors, 9 warnings, 1 notice in 1 file"


def test_ces_benchmark_sample_shows_three_of_its_72_ctid_notices(
    run_cli,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.chdir(BENCHMARK.parent)
    out = run_cli("validate", BENCHMARK.name)[1].splitlines()
    notices = [line for line in out if "[ctid-not-v4]" in line]
    ctid = BENCHMARK.name + ':{0}: A{0} (@id): notice [ctid-not-v4] The CTID is not a version-4 UUID: "{1}"'
    assert notices == [
        ctid.format(2, "ce-07c257d6-9119-11e8-b852-782bcb5df6ac"),
        ctid.format(3, "ce-07c258c1-9119-11e8-b852-782bcb5df6ac"),
        ctid.format(4, "ce-07c34057-9119-11e8-b852-782bcb5df6ac"),
        f"{BENCHMARK.name}:5: notice [ctid-not-v4] … and 69 more (lines 5-73)",
    ]
    assert out[-1].endswith(", 72 notices in 1 file")
    assert len(out) < 15  # was 146 lines
    quiet = run_cli("validate", "-q", BENCHMARK.name)[1]
    assert "ctid-not-v4" not in quiet and quiet.endswith(", 72 notices in 1 file (notices not shown)\n")


@pytest.mark.parametrize(
    ("lines", "text"),
    [([5], "5"), ([5, 6, 7], "5-7"), ([5, 6, 7, 9, 12, 13], "5-7, 9, 12-13"), (list(range(1, 40, 2)), None)],
)
def test_line_ranges(lines: list[int], text: str | None) -> None:
    expected = text or "1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, …"
    assert line_ranges(lines) == expected
