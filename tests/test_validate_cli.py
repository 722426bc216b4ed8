"""`competency-ci validate`: paths and directories, exit codes, --strict, configuration, and
duplicate CTIDs across the framework files of a repository."""

from __future__ import annotations

from pathlib import Path

import pytest

from competency_ci.frameworks.config import Config
from competency_ci.frameworks.validate import expand_paths, validate_paths
from conftest import EXAMPLES
from validate_support import C1, C2, GOOD, set_cell

WARNING_ONLY = set_cell(GOOD, 3, "ceasn:competencyText", "Wash hands ")  # cell-spaces
ERROR = set_cell(GOOD, 2, "ceasn:dateCreated", "yesterday")  # bad-date
NOTICE_ONLY = set_cell(GOOD, 2, "ceasn:description", "Kitchen")  # description-equals-name


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_examples_are_clean(run_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli("validate", str(EXAMPLES / "minimal.csv"), str(EXAMPLES / "hierarchy.csv"))
    assert (code, out, err) == (0, "2 files OK\n", "")


@pytest.mark.parametrize(
    ("text", "strict", "code"),
    [
        (GOOD, False, 0),
        (GOOD, True, 0),
        (NOTICE_ONLY, True, 0),
        (WARNING_ONLY, False, 0),
        (WARNING_ONLY, True, 1),
        (ERROR, False, 1),
    ],
)
def test_exit_codes(repo: Path, run_cli, text: str, strict: bool, code: int) -> None:  # type: ignore[no-untyped-def]
    write(repo, {"f.csv": text})
    args = ["validate", "f.csv", *(["--strict"] if strict else [])]
    assert run_cli(*args)[0] == code


def test_unusable_path_exits_2_without_traceback(repo: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    write(repo, {"f.csv": GOOD})
    code, out, err = run_cli("validate", "f.csv", "missing.csv")
    assert code == 2
    assert err == "competency-ci validate: missing.csv: no such file or directory\n"
    assert out == "1 file OK; 1 path could not be read\n"


def test_unreadable_file_is_reported_with_its_line(repo: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    (repo / "f.csv").write_bytes(GOOD.replace("Kitchen,", "K\xfcche,").encode("cp1252"))
    code, out, _ = run_cli("validate", "f.csv")
    assert code == 1
    assert out.startswith("f.csv:2: error [not-utf8] The file is not UTF-8: byte 0xFC on line 2 is not UTF-8")


def test_directories_and_default_paths(repo: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    write(
        repo,
        {
            ".competency-ci.yaml": "paths: ['frameworks/**/*.csv']\nexclude: ['frameworks/drafts/*']\n",
            "frameworks/a.csv": GOOD,
            "frameworks/sub/b.csv": GOOD.replace(C1, "ce-11111111-2222-4333-8444-555555555555"),
            "frameworks/drafts/c.csv": ERROR,
            "data/export.csv": "just,some\ndata,here\n",
            ".hidden/d.csv": ERROR,
        },
    )
    config = Config(root=repo, paths=["frameworks/**/*.csv"], exclude=["frameworks/drafts/*"])
    assert [p.relative_to(repo).as_posix() for p in expand_paths([str(repo)], config)] == [
        "frameworks/a.csv",
        "frameworks/sub/b.csv",
    ]
    code, out, _ = run_cli("validate")
    assert (code, out) == (1, out)  # a.csv and b.csv share two CTIDs (FW, C2, C3)
    assert out.splitlines()[-1] == "6 errors, 0 warnings, 0 notices in 2 files"
    assert {line.split(":", 1)[0] for line in out.splitlines() if "[duplicate-ctid]" in line} == {
        "frameworks/a.csv",
        "frameworks/sub/b.csv",
    }
    # a directory given explicitly uses the same globs; an excluded file named explicitly is skipped
    code, out, _ = run_cli("validate", "frameworks/drafts/c.csv", "frameworks/sub")
    assert out.splitlines()[-1] == "3 errors, 0 warnings, 0 notices in 1 file"


def test_duplicate_ctid_across_files_names_the_other_file(repo: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    other = (
        "@id,@type,ceasn:competencyText,ceasn:isTopChildOf\n"
        "ce-aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee,ceasn:CompetencyFramework,,\n"
        f"{C1},ceasn:Competency,Borrowed,ce-aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee\n"
    )
    write(repo, {".competency-ci.yaml": "paths: ['frameworks/*.csv']\n", "frameworks/a.csv": GOOD})
    write(repo, {"frameworks/b.csv": other, "elsewhere/c.csv": GOOD})  # c.csv is outside the paths
    config = Config(root=repo, path=repo / ".competency-ci.yaml", paths=["frameworks/*.csv"])
    result = validate_paths(["frameworks/a.csv"], config)
    assert [(p.code, p.path, p.line, p.cell) for p in result.problems] == [
        ("duplicate-ctid", "frameworks/a.csv", 3, "A3")
    ]
    assert result.problems[0].message.endswith(f'"{C1}" is also in frameworks/b.csv:3')
    # pre-commit passes one batch at a time: the other file is found through the configured paths
    code, out, _ = run_cli("validate", "frameworks/a.csv")
    assert code == 1
    assert out.splitlines()[0] == (
        "frameworks/a.csv:3: A3 (@id): error [duplicate-ctid] The CTID is used by another row or framework"
        f' file: "{C1}" is also in frameworks/b.csv:3'
    )


def test_rules_change_levels_and_off_drops(repo: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    write(repo, {"f.csv": NOTICE_ONLY, ".competency-ci.yaml": "rules:\n  description-equals-name: error\n"})
    code, out, _ = run_cli("validate", "f.csv")
    assert code == 1
    assert "f.csv:2: D2 (ceasn:description): error [description-equals-name]" in out
    # a bare `off` is YAML for false: it still means off
    write(repo, {".competency-ci.yaml": "rules:\n  description-equals-name: off\n  bad-date: warning\n"})
    assert run_cli("validate", "f.csv") == (0, "1 file OK\n", "")
    write(repo, {"f.csv": ERROR})
    code, out, _ = run_cli("validate", "f.csv")
    assert (code, out.splitlines()[-1]) == (0, "0 errors, 1 warning, 0 notices in 1 file")


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("rules:\n  no-such-code: error\n", "rules: unknown key(s) no-such-code; allowed: "),
        ("rules:\n  bad-date: loud\n", "rules.bad-date: expected error, warning, notice or off, got 'loud'"),
        ("paths: [1, 2]\n", "paths: expected a string or a list of strings, got a list holding a number"),
        ("rules: [\n", "invalid YAML"),
    ],
)
def test_invalid_configuration_exits_2(repo: Path, run_cli, config: str, message: str) -> None:  # type: ignore[no-untyped-def]
    write(repo, {"f.csv": GOOD, ".competency-ci.yaml": config})
    code, out, err = run_cli("validate", "f.csv")
    assert (code, out) == (2, "")
    assert err.startswith("competency-ci validate: configuration error: ")
    assert message in err
    assert "Traceback" not in err


def test_explicit_config_file(repo: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    write(repo, {"f.csv": NOTICE_ONLY, "ci.yaml": "rules:\n  description-equals-name: error\n"})
    assert run_cli("validate", "--config", "ci.yaml", "f.csv")[0] == 1
    code, _, err = run_cli("validate", "--config", "nope.yaml", "f.csv")
    assert (code, err) == (
        2,
        "competency-ci validate: configuration error: nope.yaml: configuration file not found\n",
    )


def test_outside_a_repository_only_the_files_given_are_compared(repo: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    write(repo, {"a.csv": GOOD, "b.csv": GOOD})  # no .competency-ci.yaml, no git: nothing to search
    assert run_cli("validate", "a.csv") == (0, "1 file OK\n", "")
    code, out, _ = run_cli("validate", "a.csv", "b.csv")
    assert (code, out.splitlines()[-1]) == (1, "8 errors, 0 warnings, 0 notices in 2 files")
    (repo / ".git").mkdir()  # in a git work tree the other files are found
    code, out, _ = run_cli("validate", "a.csv")
    assert (code, out.splitlines()[-1]) == (1, "4 errors, 0 warnings, 0 notices in 1 file")


def test_the_index_reads_ctid_columns_and_skips_template_rows(repo: Path) -> None:
    other = (
        "@id,@type,ceterms:ctid,ceasn:competencyText\n"
        f"{C1},sample competency,,Example\n"  # a template row: not a framework's CTID
        f"https://example.org/c2,ceasn:Competency,ce-{C2[3:].upper()},Borrowed\n"  # in ceterms:ctid
    )
    write(repo, {".competency-ci.yaml": "", "a.csv": GOOD, "b.csv": other})
    (repo / "c.csv").write_bytes(b"@id\n\xff\n")  # unreadable files are left to their own validation
    config = Config(root=repo, path=repo / ".competency-ci.yaml")
    result = validate_paths(["a.csv"], config)
    assert [(p.code, p.cell, p.message.rsplit(": ", 1)[1]) for p in result.problems] == [
        ("duplicate-ctid", "A4", f'"{C2}" is also in b.csv:3')
    ]
