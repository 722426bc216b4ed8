"""The README stays true: its codes table is the code catalogue, its commands are the real ones."""

from __future__ import annotations

import re

from competency_ci.cli.main import COMMANDS
from competency_ci.frameworks.codes import markdown_table
from conftest import REPO

README = (REPO / "README.md").read_text("utf-8")


def test_codes_table_is_generated_from_the_catalogue() -> None:
    match = re.search(r"<!-- codes:start -->\n(.*?)\n<!-- codes:end -->", README, re.S)
    assert match, "README.md lacks the <!-- codes:start --> ... <!-- codes:end --> block"
    assert match.group(1) == markdown_table(), "regenerate with: python -m competency_ci.frameworks.codes"


def test_ci_runs_exactly_the_readme_test_command() -> None:
    match = re.search(r"<!-- test-command -->\n```sh\n(.+?)\n```", README)
    assert match, "README.md lacks the test command block"
    command = match.group(1).strip()
    ci_lines = [line.strip() for line in (REPO / ".ci" / "run").read_text("utf-8").splitlines()]
    assert command in ci_lines


def test_every_command_is_documented() -> None:
    for name in COMMANDS:
        assert f"competency-ci {name}" in README, f"README does not document `competency-ci {name}`"
