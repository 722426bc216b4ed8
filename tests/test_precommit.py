"""The real `pre-commit` runs our hooks from `.pre-commit-hooks.yaml` in a throwaway repository.

pre-commit clones the hook repository at a commit, so the test commits a copy of this checkout's
current files (not its git history: uncommitted work must be tested too) and points the user
repository's `.pre-commit-config.yaml` at that copy. The hook environment (a virtualenv with this
package installed) is built once per test run and shared by the tests, also across xdist workers.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from identify import identify

from conftest import REPO

CTID = re.compile(r"ce-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
FW = "ce-0b6f8c57-3e4a-4d3b-9a59-1f0d1e2c3b4a"
HEADER = (
    "@id,@type,ceasn:name,ceasn:description,ceasn:inLanguage,ceasn:publisher,ceasn:publisherName,"
    "ceasn:dateCreated,ceasn:competencyText,ceasn:isTopChildOf,ceasn:isChildOf\n"
)
FRAMEWORK_ROW = (
    f"{FW},ceasn:CompetencyFramework,Bike Repair,Fixing common bicycle faults safely.,en,"
    "ce-617ce9ba-cf8d-46b6-a503-28d378ac768f,Northside Bike Co-op,2025-04-01,,,\n"
)
GOOD = (
    HEADER
    + FRAMEWORK_ROW
    + f"ce-1c7e9d68-4f5b-4e4c-8b6a-2a1e2f3d4c5b,ceasn:Competency,,,,,,,Patch an inner tube.,{FW},\n"
)
# another framework whose second competency names a parent that is not in the file (cell K4)
BAD = (
    GOOD.replace("ce-0b6f8c57", "ce-9b6f8c57").replace("ce-1c7e9d68", "ce-9c7e9d68")
    + "ce-9d8fae79-5a6c-4f5d-9c7b-3b2f3a4e5d6c,ceasn:Competency,,,,,,,True a wheel.,,"
    "ce-00000000-0000-4000-8000-000000000000\n"
)
PROJECT_FILES = ("pyproject.toml", "README.md", "LICENSE", ".pre-commit-hooks.yaml")
IGNORED = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")


@dataclass
class HookRepo:
    path: Path
    rev: str
    home: Path  # PRE_COMMIT_HOME: where pre-commit keeps its clones and hook environments


def run(args: list[str], cwd: Path, home: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.org",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.org",
        "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
        "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
        "NO_COLOR": "1",
    }
    env.pop("GITHUB_ACTIONS", None)
    if home is not None:
        env["PRE_COMMIT_HOME"] = str(home)
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=600)


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HookRepo]:
    """This checkout's working files committed to a fresh repository (one per test run)."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # one run's workers
    with open(shared / "hook-repo.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        path, home = shared / "hook-repo", shared / "pre-commit-home"
        if not (path / ".git").exists():
            shutil.copytree(REPO / "src", path / "src", ignore=IGNORED)
            for name in PROJECT_FILES:
                if (REPO / name).exists():
                    shutil.copy2(REPO / name, path / name)
            if not (path / "README.md").exists():  # pyproject.toml names it
                (path / "README.md").write_text("competency-ci\n")
            for args in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "hooks"]):
                assert run(["git", *args], path).returncode == 0
        rev = run(["git", "rev-parse", "HEAD"], path).stdout.strip()
    yield HookRepo(path, rev, home)


@pytest.fixture
def user_repo(tmp_path: Path, hook_repo: HookRepo) -> Path:
    """A repository that uses both hooks, fix first, with pre-commit installed as its git hook."""
    repo = tmp_path / "frameworks-repo"
    (repo / "frameworks").mkdir(parents=True)
    (repo / ".pre-commit-config.yaml").write_text(
        "repos:\n"
        f"  - repo: {hook_repo.path}\n"
        f"    rev: {hook_repo.rev}\n"
        "    hooks:\n"
        "      - id: fix-competency-frameworks\n"
        "      - id: validate-competency-frameworks\n"
    )
    assert run(["git", "init", "-q"], repo).returncode == 0
    installed = run([sys.executable, "-m", "pre_commit", "install"], repo, hook_repo.home)
    assert installed.returncode == 0, installed.stderr
    return repo


def commit(repo: Path, home: Path) -> subprocess.CompletedProcess[str]:
    assert run(["git", "add", "-A"], repo).returncode == 0
    return run(["git", "commit", "-q", "-m", "frameworks"], repo, home)


def test_hook_definitions_run_our_commands_on_csv_files() -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text("utf-8"))
    assert [(h["id"], h["entry"], h["language"], h["types"]) for h in hooks] == [
        ("fix-competency-frameworks", "competency-ci fix", "python", ["csv"]),
        ("validate-competency-frameworks", "competency-ci validate", "python", ["csv"]),
    ]
    assert hooks[0]["require_serial"] is True
    assert "csv" in identify.tags_from_filename("frameworks/hist-101.csv")
    assert "csv" not in identify.tags_from_filename("frameworks/notes.tsv")


def test_validate_hook_blocks_the_commit_and_names_the_bad_cell(user_repo: Path, hook_repo: HookRepo) -> None:
    (user_repo / "frameworks" / "good.csv").write_text(GOOD)
    (user_repo / "frameworks" / "bad.csv").write_text(BAD)
    result = commit(user_repo, hook_repo.home)
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert re.search(r"fix competency frameworks\.+Passed", out), out
    assert re.search(r"validate competency frameworks\.+Failed", out), out
    assert "- hook id: validate-competency-frameworks\n- exit code: 1\n" in out
    assert (
        "frameworks/bad.csv:4: K4 (ceasn:isChildOf): error [dangling-reference] The reference points to"
        ' no row: "ce-00000000-0000-4000-8000-000000000000" is the @id of no row\n'
    ) in out
    assert "good.csv" not in out
    assert run(["git", "rev-list", "--all"], user_repo).stdout == ""  # nothing was committed


def test_fix_then_validate_stops_the_first_commit_and_passes_the_second(
    user_repo: Path, hook_repo: HookRepo
) -> None:
    # new rows without CTIDs, a temporary key for a new parent named by its child above it,
    # a template row, a blank row and stray spaces: all of it is fix's job
    path = user_repo / "frameworks" / "bikes.csv"
    before = (
        HEADER
        + "sample,Sample row,e.g.,e.g.,e.g.,e.g.,e.g.,e.g.,e.g.,e.g.,e.g.\n"
        + FRAMEWORK_ROW
        + ",ceasn:Competency,,,,,,,Replace a spoke.,,new:wheels\n"
        + "\n"
        + f"new:wheels,ceasn:Competency,,,,,,, Wheels ,{FW},\n"
    )
    path.write_bytes(before.encode())
    first = commit(user_repo, hook_repo.home)
    out = first.stdout + first.stderr
    assert first.returncode == 1, out
    assert re.search(r"fix competency frameworks\.+Failed", out), out
    assert "- files were modified by this hook\n" in out
    summary = (
        "frameworks/bikes.csv: minted 1 CTID, replaced 1 temporary key, removed 1 template row,"
        " dropped 1 blank row, trimmed 1 cell, moved 1 row\n"
    )
    assert summary in out
    assert re.search(r"validate competency frameworks\.+Passed", out), out

    text = path.read_text("utf-8")
    minted = [ctid for ctid in CTID.findall(text) if ctid not in before]
    assert len(minted) == 3 and len(set(minted)) == 2  # the parent's CTID is also its child's reference
    wheels, spoke = minted[0], minted[1]
    assert text == (
        HEADER
        + FRAMEWORK_ROW
        + f"{wheels},ceasn:Competency,,,,,,,Wheels,{FW},\n"
        + f"{spoke},ceasn:Competency,,,,,,,Replace a spoke.,,{wheels}\n"
    )
    second = commit(user_repo, hook_repo.home)
    assert second.returncode == 0, second.stdout + second.stderr
    assert run(["git", "show", "HEAD:frameworks/bikes.csv"], user_repo).stdout == text
