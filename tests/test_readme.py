"""The documentation stays true: the README is the landing page with the set-up commands CI runs, the
site's pages (docs/pages/) hold the generated tables, every command is documented, and no page points
at a file a user does not have."""

from __future__ import annotations

import re

import pytest
import yaml

from competency_ci.cli.main import COMMANDS
from competency_ci.frameworks.codes import markdown_table
from conftest import REPO

README = (REPO / "README.md").read_text("utf-8")
DOCS = REPO / "docs"
PAGES = DOCS / "pages"


def page(name: str) -> str:
    return (PAGES / name).read_text("utf-8")


def all_pages() -> dict[str, str]:
    return {str(p.relative_to(PAGES)): p.read_text("utf-8") for p in sorted(PAGES.rglob("*.md"))}


def test_codes_table_is_generated_from_the_catalogue() -> None:
    text = page("reference/problem-codes.md")
    match = re.search(r"<!-- codes:start -->\n(.*?)\n<!-- codes:end -->", text, re.S)
    assert match, "problem-codes.md lacks the <!-- codes:start --> ... <!-- codes:end --> block"
    assert match.group(1) == markdown_table(), "regenerate with: python -m competency_ci.frameworks.codes"


def test_ci_runs_exactly_the_readme_test_command() -> None:
    match = re.search(r"<!-- test-command -->\n```sh\n(.+?)\n```", README)
    assert match, "README.md lacks the test command block"
    command = match.group(1).strip()
    ci_lines = [line.strip() for line in (REPO / ".ci" / "run").read_text("utf-8").splitlines()]
    assert command in ci_lines
    assert command in page("guide/quickstart.md"), "the quickstart shows another test command"


def test_the_first_command_needs_no_test_tools() -> None:
    """The README's first command installs the package alone and runs the main job on the sandbox."""
    first = re.search(r"```sh\n(.+?)\n```", README)
    assert first
    command = first.group(1)
    assert "pip install . &&" in command and "[test]" not in command and "npm" not in command
    assert "competency-ci publish --server sandbox examples/frameworks" in command
    assert command in page("guide/quickstart.md"), "the quickstart shows another first command"


def test_readme_is_a_short_landing_page() -> None:
    assert len(README.encode("utf-8")) <= 8 * 1024


def test_every_command_is_documented() -> None:
    reference = page("reference/commands.md")
    for name in COMMANDS:
        assert f"competency-ci {name}" in README, f"README does not list `competency-ci {name}`"
        assert f"competency-ci {name}" in reference, f"reference/commands.md lacks `competency-ci {name}`"


def test_every_page_is_in_the_site_navigation() -> None:
    config = yaml.safe_load((DOCS / "mkdocs.yml").read_text("utf-8"))
    assert config["docs_dir"] == "pages" and config["strict"] is True

    def listed(nav: object) -> set[str]:
        if isinstance(nav, str):
            return {nav}
        if isinstance(nav, list):
            return set().union(*(listed(item) for item in nav))
        if isinstance(nav, dict):
            return set().union(*(listed(item) for item in nav.values()))
        return set()

    assert listed(config["nav"]) == set(all_pages())


# Files only a development checkout has beside it, or notes that were never published.
UNSHIPPED = re.compile(
    r"\.\./shared|shared/(reference|samples|vectors)|cass-api\.md|cass-export\.md|"
    r"registry-and-approval\.md|csv-template\.md|conventions\.md|DESIGN\.md"
)


@pytest.mark.parametrize("name", [*all_pages(), "README.md"])
def test_no_page_refers_to_a_file_users_do_not_have(name: str) -> None:
    text = README if name == "README.md" else page(name)
    found = [m.group(0) for m in UNSHIPPED.finditer(text)]
    assert not found, f"{name} refers to {found}: cite the public source instead"


def test_examples_use_one_repository_name_and_the_release_tag() -> None:
    texts = [README, *all_pages().values(), *(p.read_text("utf-8") for p in (DOCS / "workflows").iterdir())]
    names = {m.group(1) for t in texts for m in re.finditer(r"github\.com/([\w.-]+/competency-ci)\b", t)}
    names |= {m.group(1) for t in texts for m in re.finditer(r"uses: ([\w.-]+/competency-ci)@", t)}
    assert names == {"competency-ci/competency-ci"}
    revs = {m.group(1) for t in texts for m in re.finditer(r"(?:rev: |competency-ci@)(v[\d.]+)", t)}
    version = re.search(r'^version = "(.+)"', (REPO / "pyproject.toml").read_text("utf-8"), re.M)
    assert version and revs == {f"v{version.group(1)}"}
