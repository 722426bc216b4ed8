"""Finding framework files, one rule for validate, fix, plan and publish: `.csv` in any case, and
finding nothing where a directory was searched is unusable input (exit 2), never a silent pass."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from competency_ci.frameworks.config import Config
from competency_ci.frameworks.validate import find_files, validate_paths
from validate_support import GOOD

NOTHING = "no framework files found (searched for **/*.csv, ignoring case)"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_upper_case_extensions_are_framework_files(repo: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    (repo / "frameworks").mkdir()
    (repo / "frameworks" / "KITCHEN.CSV").write_text(GOOD)
    (repo / "frameworks" / "bar.Csv").write_text(GOOD.replace("ce-", "ce-0"))  # bad CTIDs: errors
    assert run_cli("validate", "frameworks")[2] == ""
    found = find_files(["frameworks"], Config(root=repo))
    assert [p.name for p in found.files] == ["KITCHEN.CSV", "bar.Csv"]
    code, out, _ = run_cli("validate", "frameworks")
    assert code == 1 and out.endswith(" in 2 files\n")
    assert run_cli("fix", "--check", "frameworks/KITCHEN.CSV") == (0, "", "")


@pytest.mark.parametrize("command", ["validate", "fix"])
def test_a_directory_without_framework_files_exits_2_and_says_what_was_searched(
    repo: Path,
    run_cli,
    command: str,  # type: ignore[no-untyped-def]
) -> None:
    (repo / "docs").mkdir()
    (repo / "docs" / "notes.txt").write_text("not a framework\n")
    (repo / "x.csv").mkdir()  # a directory named like a file
    (repo / "x.csv" / "readme.md").write_text("hi\n")
    code, out, err = run_cli(command, "docs", "x.csv")
    assert code == 2
    assert err == f"competency-ci {command}: docs: {NOTHING}\ncompetency-ci {command}: x.csv: {NOTHING}\n"
    assert out == ("no framework files found\n" if command == "validate" else "")


def test_no_path_means_the_repository_root_and_an_empty_repository_exits_2(
    repo: Path,
    run_cli,  # type: ignore[no-untyped-def]
) -> None:
    (repo / ".competency-ci.yaml").write_text("paths: ['frameworks/**/*.csv']\n")
    code, out, err = run_cli("validate")
    assert (code, out) == (2, "no framework files found\n")
    assert err == f"competency-ci validate: {repo}: {NOTHING.replace('**/*.csv', 'frameworks/**/*.csv')}\n"
    (repo / "frameworks").mkdir()
    (repo / "frameworks" / "a.CSV").write_text(GOOD)
    assert run_cli("validate") == (0, "1 file OK\n", "")


def test_excluded_files_are_counted_in_the_reason(repo: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    (repo / ".competency-ci.yaml").write_text("exclude: ['data/**']\n")
    (repo / "data").mkdir()
    (repo / "data" / "prices.csv").write_text("item,price\n")
    code, _, err = run_cli("validate", "data")
    assert code == 2
    assert err == (
        "competency-ci validate: data: no framework files found (searched for **/*.csv, ignoring case;"
        " 1 matching file excluded by the configuration)\n"
    )


def test_files_named_one_by_one_and_all_excluded_pass_as_pre_commit_passes_them(
    repo: Path,
    run_cli,  # type: ignore[no-untyped-def]
) -> None:
    (repo / ".competency-ci.yaml").write_text("exclude: ['data/**']\n")
    (repo / "data").mkdir()
    (repo / "data" / "prices.csv").write_text("item,price\n")
    assert run_cli("validate", "data/prices.csv") == (
        0,
        "no files checked: 1 file excluded by the configuration\n",
        "",
    )
    assert run_cli("fix", "data/prices.csv") == (0, "", "")


def test_a_directory_with_files_beside_an_empty_one_is_fine(repo: Path) -> None:
    (repo / "empty").mkdir()
    (repo / "full").mkdir()
    (repo / "full" / "a.csv").write_text(GOOD)
    result = validate_paths(["empty", "full"], Config(root=repo))
    assert (result.files, result.unusable, result.exit_code()) == (["full/a.csv"], {}, 0)


def test_the_git_hook_and_git_pathspecs_take_upper_case_names_too(tmp_path: Path) -> None:
    """The action and `diff --git` select files with git pathspecs built from the same globs."""
    from competency_ci.action.run import pathspecs

    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True, env=env)
    for name in ("a.csv", "B.CSV", "old/c.Csv", "notes.txt"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("x\n")
    subprocess.run(["git", "add", "."], cwd=tmp_path, check=True, env=env)
    specs = pathspecs(Config(root=tmp_path, exclude=["old/**"]))
    listed = subprocess.run(
        ["git", "ls-files", "--", *specs], cwd=tmp_path, check=True, env=env, capture_output=True, text=True
    )
    assert listed.stdout == "B.CSV\na.csv\n"
