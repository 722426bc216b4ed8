"""`competency-ci github` outside GitHub Actions: a local run that prints, as plain text, what the
action would report on a pull request (problems, job summary, step outputs), and never publishes."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from validate_support import GOOD, set_cell

ENV = ("GITHUB_ACTIONS", "GITHUB_EVENT_NAME", "GITHUB_EVENT_PATH", "GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT")
BAD = set_cell(GOOD, 2, "ceasn:dateCreated", "2025-13-01")


def git(repo: Path, *args: str) -> None:
    env = {
        **os.environ,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "T",
        "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "T",
        "GIT_COMMITTER_EMAIL": "t@example.org",
    }
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, timeout=60)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository whose second commit breaks a date in frameworks/kitchen.csv; not on Actions."""
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    git(tmp_path, "init", "-q")
    (tmp_path / "frameworks").mkdir()
    (tmp_path / "frameworks" / "kitchen.csv").write_text(GOOD)
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "kitchen")
    (tmp_path / "frameworks" / "kitchen.csv").write_text(BAD)
    git(tmp_path, "commit", "-q", "-am", "bad date")
    return tmp_path


def test_a_local_review_prints_the_problems_and_the_summary_as_text(repo: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli("github", "--base", "HEAD~1")
    assert (code, err) == (1, "")
    assert not any(line.startswith("::") for line in out.splitlines())  # no workflow command
    head, summary = out.split(
        "\n--- job summary (Markdown, as the action writes it to $GITHUB_STEP_SUMMARY) ---\n"
    )
    assert head.splitlines() == [
        'frameworks/kitchen.csv:2: H2 (ceasn:dateCreated): error [bad-date] Not a valid date: "2025-13-01"',
        "    hint: Write the date as `YYYY-MM-DD`.",
        "1 error, 0 warnings, 0 notices in 1 file",
    ]
    markdown, outputs = summary.split("\n--- step outputs ($GITHUB_OUTPUT) ---\n")
    assert markdown.startswith(
        "## competency-ci: review of local run: the changes since HEAD\\~1\n\n### Validation\n\n"
        "1 error, 0 warnings, 0 notices in 1 file\n"
    )
    assert (
        "| `frameworks/kitchen.csv` | 2 | H2 (`ceasn:dateCreated`) | error | `bad-date` | "
        'Not a valid date: "2025-13-01"'
        " Hint: Write the date as \\`YYYY-MM-DD\\`. |\n"
    ) in markdown
    assert outputs == (
        'changed-frameworks=[{"path": "frameworks/kitchen.csv", "status": "modified", '
        '"old-path": "frameworks/kitchen.csv"}]\n'
        "published=[]\n"
        "approval-issue-url=\n"
    )


def test_the_runner_files_are_not_written_locally(
    repo: Path, run_cli, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    (repo / "frameworks" / "kitchen.csv").write_text(GOOD)
    summary, outputs = repo / "summary.md", repo / "outputs.txt"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    code, out, _ = run_cli("github", "--local", "--mode", "validate")
    assert code == 0
    assert out.startswith("1 file OK\n\n--- job summary")
    assert "## competency-ci: review of local run: every framework file\n" in out
    assert not summary.exists() and not outputs.exists()


def test_a_local_run_never_publishes(repo: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("github", "--mode", "publish") == (
        2,
        "error: a local run only reviews; publish with `competency-ci publish`\n",
        "",
    )


def test_an_unknown_base_is_unusable_input(repo: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("github", "--base", "no-such-branch") == (
        2,
        "error: --base no-such-branch: no such commit\n",
        "",
    )


def test_actions_output_can_be_asked_for_outside_actions(repo: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("github", "--actions") == (
        2,
        "::error title=competency-ci::GITHUB_EVENT_NAME and GITHUB_EVENT_PATH are not set: "
        "run this on GitHub Actions\n",
        "",
    )
