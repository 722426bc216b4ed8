"""The plain git hook `hooks/pre-commit`: real git, real commits, the staged content is what counts."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

FW = "ce-0b6f8c57-3e4a-4d3b-9a59-1f0d1e2c3b4a"
GOOD = (
    "@id,@type,ceasn:name,ceasn:description,ceasn:inLanguage,ceasn:publisher,ceasn:publisherName,"
    "ceasn:dateCreated,ceasn:competencyText,ceasn:isTopChildOf\n"
    f"{FW},ceasn:CompetencyFramework,Bike Repair,Fixing common bicycle faults safely.,en,"
    "ce-617ce9ba-cf8d-46b6-a503-28d378ac768f,Northside Bike Co-op,2025-04-01,,\n"
    f"ce-1c7e9d68-4f5b-4e4c-8b6a-2a1e2f3d4c5b,ceasn:Competency,,,,,,,Patch an inner tube.,{FW}\n"
    f"ce-2d8fae79-5a6c-4f5d-9c7b-3b2f3a4e5d6c,ceasn:Competency,,,,,,,Adjust rim brakes.,{FW}\n"
)
# a second framework, with its own CTIDs, whose dateCreated (cell H2) is no date
OTHER = (
    GOOD.replace("ce-0b6f8c57", "ce-9b6f8c57")
    .replace("ce-1c7e9d68", "ce-9c7e9d68")
    .replace("ce-2d8fae79", "ce-9d8fae79")
    .replace("Bike Repair", "Wheel Building")
)
BAD = OTHER.replace("2025-04-01", "2025-13-01")
BAD_LINE = "frameworks/bad.csv:2: H2 (ceasn:dateCreated): error [bad-date]"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    hook = repo / ".git" / "hooks" / "pre-commit"
    shutil.copyfile(REPO / "hooks" / "pre-commit", hook)
    hook.chmod(0o755)
    (repo / "frameworks").mkdir()
    return repo


def git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """git with this checkout's competency-ci first on PATH and no user or system configuration."""
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.org",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.org",
    }
    env.pop("GITHUB_ACTIONS", None)
    return subprocess.run(
        ["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=False, timeout=60
    )


def commits(repo: Path) -> int:
    result = git(repo, "rev-list", "--count", "--all")
    return int(result.stdout.strip() or 0)


def test_hook_blocks_a_bad_staged_framework_and_names_the_cell(repo: Path) -> None:
    (repo / "frameworks" / "good.csv").write_text(GOOD)
    (repo / "frameworks" / "bad.csv").write_text(BAD)
    git(repo, "add", ".")
    result = git(repo, "commit", "-q", "-m", "frameworks")
    assert result.returncode == 1
    assert result.stderr == (  # git shows a hook's output on stderr
        f'{BAD_LINE} Not a valid date: "2025-13-01"\n'
        "    hint: Write the date as `YYYY-MM-DD`.\n"
        "1 error, 0 warnings, 0 notices in 2 files\n"
        "competency-ci: commit blocked; fix the problems above (`competency-ci fix` repairs some),\n"
        "stage the files again and commit (git commit --no-verify skips this check).\n"
    )
    assert commits(repo) == 0


def test_hook_validates_the_staged_content_not_the_working_tree(repo: Path) -> None:
    bad = repo / "frameworks" / "bad.csv"
    bad.write_text(BAD)
    git(repo, "add", ".")
    bad.write_text(OTHER)  # repaired in the working tree, but not staged: still blocked
    blocked = git(repo, "commit", "-q", "-m", "frameworks")
    assert blocked.returncode == 1
    assert BAD_LINE in blocked.stderr
    git(repo, "add", ".")
    bad.write_text(BAD)  # the staged copy is good now; the working-tree copy does not count
    passed = git(repo, "commit", "-q", "-m", "frameworks")
    assert (passed.returncode, passed.stderr) == (0, "1 file OK\n")
    assert commits(repo) == 1
    assert git(repo, "show", "HEAD:frameworks/bad.csv").stdout == OTHER


def test_hook_lets_commits_without_csv_files_through(repo: Path) -> None:
    (repo / "notes.txt").write_text("not a framework\n")
    git(repo, "add", ".")
    assert git(repo, "commit", "-q", "-m", "notes").returncode == 0
    assert commits(repo) == 1


def test_hook_finds_a_ctid_that_an_unchanged_committed_framework_already_uses(repo: Path) -> None:
    (repo / "frameworks" / "good.csv").write_text(GOOD)
    git(repo, "add", ".")
    assert git(repo, "commit", "-q", "-m", "first").returncode == 0
    copy = OTHER.replace("ce-9c7e9d68", "ce-1c7e9d68")  # reuses a competency CTID of good.csv
    (repo / "frameworks" / "copy.csv").write_text(copy)
    git(repo, "add", ".")
    result = git(repo, "commit", "-q", "-m", "copy")
    assert result.returncode == 1
    assert result.stderr.startswith(
        "frameworks/copy.csv:3: A3 (@id): error [duplicate-ctid] The CTID is used by another row or "
        'framework file: "ce-1c7e9d68-4f5b-4e4c-8b6a-2a1e2f3d4c5b" is also in frameworks/good.csv:3\n'
    )
    assert commits(repo) == 1


NOT_INSTALLED = (
    "competency-ci: the framework CSVs of this commit were not checked: competency-ci is not installed\n"
    "({tried}).\n"
    "Install it, in the environment this hook runs in:\n"
    '    pip install "competency-ci @ git+https://github.com/competency-ci/competency-ci@v0.1.0"\n'
    "or point the hook at an installed one: COMPETENCY_CI=/path/to/venv/bin/competency-ci\n"
    "(git commit --no-verify skips this check).\n"
)


def bare_path(tmp_path: Path) -> str:
    """A PATH with the tools the hook needs and a python3 without competency_ci, nothing else."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("git", "sh", "mktemp", "rm", "mkdir", "xargs"):
        found = shutil.which(tool)
        assert found, tool
        (bin_dir / tool).symlink_to(found)
    python = bin_dir / "python3"
    python.write_text("#!/bin/sh\necho \"No module named 'competency_ci'\" >&2\nexit 1\n")
    python.chmod(0o755)
    return str(bin_dir)


@pytest.mark.parametrize(
    ("override", "tried"),
    [
        (None, "no competency-ci on PATH, and python3 has no competency_ci module"),
        ("/opt/nowhere/competency-ci", "COMPETENCY_CI=/opt/nowhere/competency-ci: no such command"),
    ],
)
def test_a_missing_installation_says_how_to_install(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, override: str | None, tried: str
) -> None:
    (repo / "frameworks" / "good.csv").write_text(GOOD)
    git(repo, "add", ".")
    monkeypatch.setenv("PATH", bare_path(tmp_path))
    if override:
        monkeypatch.setenv("COMPETENCY_CI", override)
    git_binary = shutil.which("git", path=os.environ["PATH"])
    assert git_binary and shutil.which("competency-ci", path=os.environ["PATH"]) is None
    result = subprocess.run(
        [git_binary, "commit", "-q", "-m", "frameworks"],
        cwd=repo,
        env={
            **os.environ,
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "T",
            "GIT_AUTHOR_EMAIL": "t@example.org",
            "GIT_COMMITTER_NAME": "T",
            "GIT_COMMITTER_EMAIL": "t@example.org",
        },
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert (result.returncode, result.stderr) == (1, NOT_INSTALLED.format(tried=tried))
    assert "commit blocked" not in result.stderr
    assert commits(repo) == 0


def test_upper_case_csv_files_are_checked_too(repo: Path) -> None:
    (repo / "frameworks" / "BAD.CSV").write_text(BAD)
    git(repo, "add", ".")
    result = git(repo, "commit", "-q", "-m", "frameworks")
    assert result.returncode == 1
    assert result.stderr.startswith(BAD_LINE.replace("bad.csv", "BAD.CSV"))
