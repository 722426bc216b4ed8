"""End to end: the composite action's own steps, run by the local runner in a simulated job.

Each test builds a real git history (an "origin" bare repository plus a shallow checkout of the
event's commit, as `actions/checkout` leaves it), an event payload, and the runner files, and
talks to the CASS sandbox and the GitHub API test server on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from actionrunner import ActionResult, Command, run_action
from competency_ci.sandbox import SandboxServer
from competency_ci.targets.cass.collections import REGISTRY_REFUSAL
from competency_ci.targets.cass.ids import md5_key
from conftest import REPO
from publish_support import our_key, pem, private_pem
from servers.faulty_cass import Fault, FaultyCass
from servers.github_api import GitHubServer
from servers.registry import RegistryServer
from servers.webhook import WebhookServer

TOKEN = "ghs_" + "T0k3n" * 7
REPOSITORY = "acme/frameworks"
FW = "ce-10000000-0000-4000-8000-000000000000"
A = "ce-a0000000-0000-4000-8000-00000000000a"
B = "ce-b0000000-0000-4000-8000-00000000000b"
C = "ce-c0000000-0000-4000-8000-00000000000c"
PUBLISHER = "https://sandbox.credentialengineregistry.org/resources/ce-99999999-0000-4000-8000-000000000000"
HEADER = (
    "@id,@type,ceasn:name,ceasn:description,ceasn:inLanguage,ceasn:publisher,ceasn:publisherName,"
    "ceasn:dateCreated,ceasn:competencyText,ceasn:isTopChildOf,ceasn:isChildOf"
)
PATH = "frameworks/history.csv"


def framework(*, language: str = "en-US", b_type: str = "ceasn:Competency", with_c: bool = False) -> str:
    rows = [
        HEADER,
        f"{FW},ceasn:CompetencyFramework,History,A framework for tests.,{language},{PUBLISHER},Acme,"
        "2026-01-02,,,",
        f"{A},ceasn:Competency,,,,,,,Alpha,{FW},",
        f"{B},{b_type},,,,,,,Bravo,,{A}",
    ]
    if with_c:
        rows.append(f"{C},ceasn:Competency,,,,,,,Charlie,,{A}")
    return "\n".join(rows) + "\n"


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout.strip()


class Job:
    """A repository on "GitHub" (a bare repo), a developer clone, and simulated workflow runs."""

    def __init__(self, tmp: Path, github: GitHubServer, sandbox: SandboxServer) -> None:
        self.tmp, self.github, self.sandbox = tmp, github, sandbox
        self.origin = tmp / "origin.git"
        git(tmp, "init", "-q", "--bare", "-b", "main", str(self.origin))
        git(self.origin, "config", "uploadpack.allowAnySHA1InWant", "true")
        self.dev = tmp / "dev"
        git(tmp, "clone", "-q", str(self.origin), str(self.dev))
        git(self.dev, "config", "user.email", "dev@example.org")
        git(self.dev, "config", "user.name", "dev")
        git(self.dev, "checkout", "-q", "-b", "main")
        self.runs = 0

    def commit(self, files: dict[str, str], branch: str = "main", message: str = "change") -> str:
        if git(self.dev, "branch", "--show-current") != branch:
            git(self.dev, "checkout", "-q", "-B", branch)
        for name, text in files.items():
            (self.dev / name).parent.mkdir(parents=True, exist_ok=True)
            (self.dev / name).write_text(text, "utf-8")
        git(self.dev, "add", "-A")
        git(self.dev, "commit", "-q", "-m", message)
        git(self.dev, "push", "-q", "origin", branch)
        return git(self.dev, "rev-parse", "HEAD")

    def run(
        self, event_name: str, payload: dict[str, object], sha: str, ref: str, inputs: dict[str, str]
    ) -> ActionResult:
        self.runs += 1
        pr = payload.get("pull_request")
        if isinstance(pr, dict) and not pr.get("merged") and pr["number"] not in self.github.issues:
            self.github.add_issue("feature", "", [], pull_request=True, number=pr["number"])  # on "GitHub"
        run_dir = self.tmp / f"run{self.runs}"
        workspace, temp = run_dir / "workspace", run_dir / "temp"
        temp.mkdir(parents=True)
        # actions/checkout with its default fetch-depth 1: only the event's commit is present.
        git(run_dir, "init", "-q", str(workspace))
        git(workspace, "remote", "add", "origin", self.origin.as_uri())
        git(workspace, "fetch", "-q", "--depth=1", "origin", sha)
        git(workspace, "checkout", "-q", "FETCH_HEAD")
        event_path = run_dir / "event.json"
        event_path.write_text(json.dumps(payload), "utf-8")
        env = {
            "PATH": os.environ["PATH"],
            "HOME": str(run_dir),
            "LANG": "C.UTF-8",
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKFLOW": "frameworks",
            "GITHUB_EVENT_NAME": event_name,
            "GITHUB_EVENT_PATH": str(event_path),
            "GITHUB_WORKSPACE": str(workspace),
            "GITHUB_REPOSITORY": REPOSITORY,
            "GITHUB_SHA": sha,
            "GITHUB_REF": ref,
            "GITHUB_API_URL": self.github.url,
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_RUN_ID": "4242",
            "RUNNER_TEMP": str(temp),
        }
        return run_action(
            REPO,
            inputs=inputs,
            env=env,
            token=TOKEN,
            prebuilt={"install": {"bin": str(Path(sys.executable).parent)}},
        )


def repository(full_name: str = REPOSITORY) -> dict[str, str]:
    return {"full_name": full_name, "default_branch": "main"}


def pull_request(base: str, head: str, *, fork: bool = False) -> dict[str, object]:
    return {
        "action": "opened",
        "repository": repository(),
        "pull_request": {
            "number": 12,
            "html_url": f"https://github.com/{REPOSITORY}/pull/12",
            "merged": False,
            "base": {"sha": base, "ref": "main", "repo": repository()},
            "head": {"sha": head, "ref": "feature", "repo": repository("mallory/x" if fork else REPOSITORY)},
        },
    }


def push(before: str, after: str) -> dict[str, object]:
    return {"ref": "refs/heads/main", "before": before, "after": after, "repository": repository()}


@pytest.fixture
def job(tmp_path: Path) -> Iterator[Job]:
    with GitHubServer(TOKEN, REPOSITORY) as github, SandboxServer() as sandbox:
        yield Job(tmp_path, github, sandbox)


def key_pem() -> str:
    return private_pem(our_key())


def publish_inputs(job: Job) -> dict[str, str]:
    return {
        "cass-url": job.sandbox.url,
        "cass-key": key_pem(),
        "approval": "github-issue",
        "approvers": "alice",
    }


def errors(result: ActionResult) -> list[Command]:
    return [c for c in result.commands if c.name == "error"]


def assert_no_secret_printed(result: ActionResult) -> None:
    """No secret outside the `::add-mask::` commands that register it."""
    key_lines = [line for line in key_pem().splitlines() if "-----" not in line]
    stdout = "\n".join(line for line in result.stdout.splitlines() if not line.startswith("::add-mask::"))
    for text in (stdout, result.stderr, result.summary):
        assert TOKEN not in text
        assert not any(line in text for line in key_lines)


def test_masks_come_before_any_other_output(job: Job) -> None:
    base = job.commit({PATH: framework()})
    head = job.commit({PATH: framework(with_c=True)}, branch="feature")
    inputs = {"cass-key": key_pem()}
    result = job.run("pull_request", pull_request(base, head), head, "refs/pull/12/merge", inputs)
    lines = result.step("run").stdout.splitlines()
    key_lines = key_pem().strip().splitlines()
    # the whole key (its line breaks escaped), then each of its lines, then the token; then the rest
    assert lines[0] == "::add-mask::" + "%0A".join(key_lines)
    assert lines[1 : len(key_lines) + 2] == [f"::add-mask::{line}" for line in [*key_lines, TOKEN]]
    assert not any(line.startswith("::add-mask::") for line in lines[len(key_lines) + 2 :])


def test_pull_request_with_a_bad_cell_is_annotated_on_the_line(job: Job) -> None:
    base = job.commit({PATH: framework(), "README.md": "x\n"})
    head = job.commit({PATH: framework(b_type="ceasn:Competncy")}, branch="feature")
    result = job.run("pull_request", pull_request(base, head), head, "refs/pull/12/merge", {})
    assert result.exit_code == 1
    assert errors(result) == [
        Command(
            "error",
            {"file": PATH, "line": "4", "col": "41", "title": "unknown-type (B4 @type)"},
            'Unknown `@type`: "ceasn:Competncy"; use ceasn:CompetencyFramework or ceasn:Competency '
            "hint: Use exactly `ceasn:CompetencyFramework` or `ceasn:Competency`.",
        )
    ]
    assert "| `frameworks/history.csv` | 4 | B4 (`@type`) | error | `unknown-type` |" in result.summary
    assert "1 error, 0 warnings, 0 notices in 1 file" in result.summary
    assert json.loads(result.outputs["changed-frameworks"]) == [
        {"path": PATH, "status": "modified", "old-path": PATH}
    ]
    assert result.outputs["published"] == "[]"
    assert "skipped `uses: actions/setup-python@" in result.log[0]
    assert job.sandbox.request_log == []


def test_clean_pull_request_gets_diff_and_plan_in_the_summary(job: Job) -> None:
    base = job.commit({PATH: framework()})
    head = job.commit({PATH: framework(with_c=True)}, branch="feature")
    inputs = {"cass-url": job.sandbox.url, "cass-key": key_pem()}
    result = job.run("pull_request", pull_request(base, head), head, "refs/pull/12/merge", inputs)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert errors(result) == []
    summary = result.summary
    assert summary.startswith("## competency-ci: review of pull request #12\n")
    assert "### Validation\n\n1 file OK\n" in summary
    assert "### History (`" + FW + "`): changed" in summary
    assert f"| Charlie | `{C}` | under `{A}`, #2 |" in summary
    assert f"### CASS publish plan for `{job.sandbox.url}`" in summary
    assert f"| `{PATH}` | History | 6 | 0 | 0 | 0 |" in summary  # 3 competencies, 2 relations, 1 framework
    assert job.sandbox.writes() == []  # the plan only reads
    assert_no_secret_printed(result)


def test_fork_pull_request_without_secrets_says_so(job: Job) -> None:
    base = job.commit({PATH: framework()})
    head = job.commit({PATH: framework(with_c=True)}, branch="feature")
    inputs = {"cass-url": job.sandbox.url, "cass-key": ""}  # GitHub passes no secrets to forks
    result = job.run("pull_request", pull_request(base, head, fork=True), head, "refs/pull/12/merge", inputs)
    assert result.exit_code == 0
    assert "> This pull request comes from a fork: GitHub gives it no secrets" in result.summary
    assert f"| Charlie | `{C}` | under `{A}`, #2 |" in result.summary
    assert job.sandbox.request_log == []


def test_pull_request_that_deletes_a_framework_shows_it_removed(job: Job) -> None:
    base = job.commit({PATH: framework(), "README.md": "x\n"})
    git(job.dev, "checkout", "-q", "-b", "feature")
    git(job.dev, "rm", "-q", PATH)
    head = job.commit({"README.md": "y\n"}, branch="feature")
    result = job.run("pull_request", pull_request(base, head), head, "refs/pull/12/merge", {})
    assert result.exit_code == 0, result.stdout + result.stderr
    assert json.loads(result.outputs["changed-frameworks"]) == [
        {"path": PATH, "status": "deleted", "old-path": PATH}
    ]
    assert f"### History (`{FW}`): removed\n\nFile: `{PATH}`\n\nFramework removed with 2 competencies." in (
        result.summary
    )


def test_merge_publishes_and_opens_the_approval_issue_then_a_second_merge_writes_nothing(job: Job) -> None:
    with RegistryServer("registry-api-key-not-used") as registry:
        merge_then_merge_again(job, registry)


def merge_then_merge_again(job: Job, registry: RegistryServer) -> None:
    base = job.commit({"README.md": "frameworks\n", ".competency-ci.yaml": f"registry: {registry.url}\n"})
    merged = job.commit({PATH: framework(with_c=True)})
    result = job.run("push", push(base, merged), merged, "refs/heads/main", publish_inputs(job))
    assert result.exit_code == 0, result.stdout + result.stderr
    published = json.loads(result.outputs["published"])
    assert [(p["path"], p["ctid"], p["name"], p["outcome"]) for p in published] == [
        (PATH, FW, "History", "written")
    ]
    changes = published[0]["changes"]
    assert (changes["added"], changes["removed"], changes["changed"], changes["moved"]) == (3, 0, 0, 0)
    assert json.loads(result.outputs["changed-frameworks"]) == [
        {"path": PATH, "status": "added", "old-path": None}
    ]
    assert result.outputs["approval-issue-url"] == f"https://github.com/{REPOSITORY}/issues/1"
    issue = job.github.issues[1]
    assert [a["login"] for a in issue["assignees"]] == ["alice"]
    assert f"`{FW}`" in issue["body"]
    assert len(job.sandbox.writes()) > 0
    assert "### Published to cass" in result.summary
    assert "1 written, 0 not written" in result.summary
    assert_no_secret_printed(result)

    # A second merge that touches no framework: the server already holds everything.
    writes, github_requests = len(job.sandbox.writes()), len(job.github.requests)
    second = job.commit({"README.md": "frameworks, again\n"})
    inputs = {**publish_inputs(job), "scope": "all"}  # every framework, not only the changed ones
    again = job.run("push", push(merged, second), second, "refs/heads/main", inputs)
    assert again.exit_code == 0, again.stdout + again.stderr
    assert len(job.sandbox.writes()) == writes  # zero writes
    issue_url = f"https://github.com/{REPOSITORY}/issues/1"
    assert again.outputs == {
        "changed-frameworks": "[]",
        "published": "[]",
        "approval-issue-url": issue_url,
        "drift-pull-request-url": "",
    }
    # The framework still waits (not live in the Registry): the issue is read, and already lists it.
    assert [r.method for r in job.github.requests[github_requests:]] == ["GET"]
    assert len(job.github.issues) == 1 and job.github.comments.get(1, []) == []
    assert "already lists these frameworks" in again.summary.split("### Approval")[1]
    assert "0 written, 1 not written" in again.summary


COL = "ce-7c1f3f4e-2d7b-4a39-9a55-0b8f2b6e1d10"
COLLECTION = (
    "@id,@type,ceterms:ctid,ceterms:name,ceterms:description,ceterms:inLanguage,ceterms:hasMember\n"
    f"{COL},ceterms:Collection,,Core,Core competencies.,en,{A}|{B}\n"
)
REGISTRY_URL = "https://sandbox.credentialengineregistry.org"


def resource(ctid: str) -> str:
    return f"{REGISTRY_URL}/resources/{ctid}"


def stored(job: Job, object_id: str) -> dict[str, object] | None:
    found = job.sandbox.store.get(md5_key(object_id))
    return None if found is None else json.loads(found.body)  # type: ignore[no-any-return]


def test_a_merge_publishes_the_collection_after_the_frameworks_it_names(job: Job) -> None:
    base = job.commit({"README.md": "frameworks\n"})
    merged = job.commit({PATH: framework(), "frameworks/core.csv": COLLECTION})
    inputs = {"cass-url": job.sandbox.url, "cass-key": key_pem()}
    result = job.run("push", push(base, merged), merged, "refs/heads/main", inputs)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert errors(result) == []
    assert [p["ctid"] for p in json.loads(result.outputs["published"])] == [FW]
    obj = stored(job, resource(COL))
    assert obj is not None
    assert {k: v for k, v in obj.items() if k not in ("signature", "@signature")} == {
        "@context": "https://schema.cassproject.org/0.4",
        "@id": resource(COL),
        "@type": "Framework",
        "subType": "Collection",
        "ceterms:ctid": COL,
        "name": {"@value": "Core", "@language": "en"},
        "description": {"@value": "Core competencies.", "@language": "en"},
        "schema:inLanguage": ["en"],
        "competency": [resource(A), resource(B)],
        "relation": [],
        "owner": [pem(our_key())],
    }
    # the frameworks are written and verified first; then the collection is read, written, verified
    routes = [r.path.split("?", 1)[0] for r in job.sandbox.request_log]
    assert routes[-4:] == [
        f"/api/ceasn/{md5_key(resource(FW))}",
        "/api/sky/repo/multiGet",
        "/api/sky/repo/multiPut",
        f"/api/ceasn/{md5_key(resource(COL))}",
    ]
    assert routes.count("/api/sky/repo/multiPut") == 3
    summary = result.summary
    published = summary.index("### Published to cass")
    section = f"### Collections published to cass `{job.sandbox.url}`\n\n"
    assert summary.index(section) > published
    assert (
        f"{section}- collection {COL}: written; CE view verified (2 members)\n\n1 written, 0 not written.\n"
        in summary
    )
    assert f"collection {COL}: written; CE view verified (2 members)" in result.stdout.splitlines()
    assert "does not plan or publish" not in result.stdout + summary  # the old note is gone
    # the next merge plans the collection again and writes nothing
    again = job.commit({"README.md": "frameworks, again\n"})
    before = len(job.sandbox.writes())
    second = job.run("push", push(merged, again), again, "refs/heads/main", inputs)
    assert second.exit_code == 0, second.stdout + second.stderr
    assert job.sandbox.writes()[before:] == []
    assert f"- collection {COL}: unchanged; CE view verified (2 members)\n\n0 written, 1 not written." in (
        second.summary
    )


def test_collections_wait_for_frameworks_that_failed_and_the_next_run_writes_both(job: Job) -> None:
    base = job.commit({"README.md": "frameworks\n"})
    merged = job.commit({PATH: framework(), "frameworks/core.csv": COLLECTION})
    with FaultyCass([Fault("multiPut", "status", status=400, times=None)], job.sandbox.url) as proxy:
        inputs = {"cass-url": proxy.url, "cass-key": key_pem()}
        result = job.run("push", push(base, merged), merged, "refs/heads/main", inputs)
        assert result.exit_code == 3
        note = (
            "The collections were not written: the frameworks did not all publish. The next run writes them."
        )
        assert f"> [!NOTE]\n> {note}\n" in result.summary
        assert stored(job, resource(COL)) is None
        assert job.sandbox.writes() == []  # the proxy refused the frameworks' writes; no collection write
        assert not [line for line in proxy.log if "ceasn" in line]  # nothing was verified either
        proxy.arm([])
        again = job.run("push", push(base, merged), merged, "refs/heads/main", inputs)
        assert again.exit_code == 0, again.stdout + again.stderr
    stored_obj = stored(job, resource(COL))
    assert stored_obj is not None and stored_obj["competency"] == [resource(A), resource(B)]
    assert f"- collection {COL}: written; CE view verified (2 members)\n" in again.summary


def test_a_merge_of_a_collection_only_publishes_it_without_a_record(job: Job) -> None:
    base = job.commit({PATH: framework()})
    inputs = {"cass-url": job.sandbox.url, "cass-key": key_pem()}
    assert job.run("push", push(base, base), base, "refs/heads/main", inputs).exit_code == 0
    merged = job.commit({"frameworks/core.csv": COLLECTION})
    result = job.run("push", push(base, merged), merged, "refs/heads/main", inputs)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "No frameworks to publish.\n" in result.summary
    assert f"- collection {COL}: written; CE view verified (2 members)\n" in result.summary
    assert "### Published to cass" not in result.summary
    assert result.outputs["published"] == "[]"
    stored_obj = stored(job, resource(COL))
    assert stored_obj is not None and stored_obj["competency"] == [resource(A), resource(B)]


def test_a_pull_request_shows_the_collection_plan_after_the_framework_plan(job: Job) -> None:
    base = job.commit({PATH: framework()})
    head = job.commit({PATH: framework(with_c=True), "frameworks/core.csv": COLLECTION}, branch="feature")
    inputs = {"cass-url": job.sandbox.url, "cass-key": key_pem()}
    result = job.run("pull_request", pull_request(base, head), head, "refs/pull/12/merge", inputs)
    assert result.exit_code == 0, result.stdout + result.stderr
    summary = result.summary
    plan = summary.index(f"### CASS publish plan for `{job.sandbox.url}`")
    collections = summary.index(f"### Collections\n\n- \\+ collection {COL} 'Core': create with 2 members\n")
    assert collections > plan
    assert job.sandbox.writes() == []  # the plan only reads


def test_the_registry_target_refuses_a_collection_before_any_request(job: Job) -> None:
    api_key = "a1b2c3d4-0000-4000-8000-" + "1234567890ab"
    with RegistryServer(api_key) as registry:
        config = f"registry: {registry.url}\nassistant: {registry.assistant_url}\n"
        base = job.commit({".competency-ci.yaml": config})
        merged = job.commit({PATH: framework(), "frameworks/core.csv": COLLECTION})
        inputs = {
            "target": "registry",
            "registry-api-key": api_key,
            "organization-ctid": "ce-99999999-0000-4000-8000-000000000000",
        }
        result = job.run("push", push(base, merged), merged, "refs/heads/main", inputs)
        assert result.exit_code == 2
        assert [c.data for c in errors(result)] == [f"{COL}: {REGISTRY_REFUSAL}"]
        assert "Nothing was published.\n" in result.summary
        assert registry.requests == [] and job.sandbox.request_log == []
        assert result.outputs["published"] == "[]"
        # the pull request's plan already refuses it, as `competency-ci plan --target registry` does
        head = job.commit({"frameworks/core.csv": COLLECTION.replace("Core,", "Core two,")}, branch="feature")
        review = job.run("pull_request", pull_request(merged, head), head, "refs/pull/12/merge", inputs)
        assert review.exit_code == 2
        assert [c.data for c in errors(review)] == [f"{COL}: {REGISTRY_REFUSAL}"]
        assert registry.requests == [] and job.sandbox.request_log == []


def test_a_missing_approval_setting_stops_the_merge_before_the_first_write(job: Job) -> None:
    base = job.commit({"README.md": "frameworks\n"})
    merged = job.commit({PATH: framework()})
    inputs = {"cass-url": job.sandbox.url, "cass-key": key_pem(), "approval": "webhook"}
    result = job.run("push", push(base, merged), merged, "refs/heads/main", inputs)
    assert result.exit_code == 2
    assert [c.data for c in errors(result)] == [
        "configuration error: webhook approval needs the receiver's address: set approval.webhook-url "
        "(on GitHub Actions: the webhook-url input)"
    ]
    assert job.sandbox.request_log == []  # not even a read: nothing was written
    assert result.outputs["published"] == "[]"


def test_merged_pull_request_publishes_the_merge_commit(job: Job) -> None:
    base = job.commit({"README.md": "frameworks\n"})
    merge = job.commit({PATH: framework()})
    payload = pull_request(base, "f" * 40)
    payload["action"] = "closed"
    payload["pull_request"].update({"merged": True, "merge_commit_sha": merge})  # type: ignore[attr-defined]
    inputs = {"cass-url": job.sandbox.url, "cass-key": key_pem()}
    result = job.run("pull_request", payload, merge, "refs/heads/main", inputs)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.summary.startswith("## competency-ci: publish (pull request merged)\n")
    assert [p["ctid"] for p in json.loads(result.outputs["published"])] == [FW]
    assert json.loads(result.outputs["changed-frameworks"]) == [
        {"path": PATH, "status": "added", "old-path": None}
    ]
    assert result.outputs["approval-issue-url"] == ""  # approval: none (the default)
    assert job.github.requests == []


def test_strict_fails_on_warnings_and_validate_mode_shows_no_plan(job: Job) -> None:
    base = job.commit({PATH: framework()})
    no_date = framework(with_c=True).replace(",2026-01-02,", ",,")
    head = job.commit({PATH: no_date}, branch="feature")
    inputs = {"strict": "true", "mode": "validate", "cass-url": job.sandbox.url, "cass-key": key_pem()}
    result = job.run("pull_request", pull_request(base, head), head, "refs/pull/12/merge", inputs)
    assert result.exit_code == 1
    assert errors(result) == []
    assert [(c.name, c.properties["line"]) for c in result.commands if c.name == "warning"] == [
        ("warning", "2")
    ]
    assert "0 errors, 1 warning, 0 notices in 1 file" in result.summary
    assert "CASS publish plan" not in result.summary
    assert job.sandbox.request_log == []


def test_cell_text_cannot_issue_workflow_commands(job: Job) -> None:
    base = job.commit({PATH: framework()})
    evil = '"en-US\n::error::owned\n::set-output name=published::x"'
    head = job.commit({PATH: framework(language=evil)}, branch="feature")
    result = job.run("pull_request", pull_request(base, head), head, "refs/pull/12/merge", {})
    assert result.exit_code == 1
    stdout_lines = result.step("run").stdout.splitlines()
    assert "::error::owned" not in stdout_lines
    assert not any(line.startswith("::set-output") for line in stdout_lines)
    # Every error the runner would raise is one of our annotations, on the cell.
    assert [(c.properties.get("file"), c.properties.get("line")) for c in errors(result)] == [(PATH, "2")]
    assert 'Not a valid language code: "en-US\\n::error::owned\\n::set-output name=published::x"' in (
        errors(result)[0].data
    )
    assert result.outputs["published"] == "[]"


def test_registry_target_publishes_by_api_and_sends_the_signed_webhook(job: Job) -> None:
    api_key = "a1b2c3d4-0000-4000-8000-" + "1234567890ab"
    secret = "whsec-" + "s3cr3t" * 4
    org = "ce-99999999-0000-4000-8000-000000000000"
    with RegistryServer(api_key) as registry, WebhookServer(secret) as hook:
        config = f"registry: {registry.url}\nassistant: {registry.assistant_url}\n"
        base = job.commit({".competency-ci.yaml": config})
        merged = job.commit({PATH: framework()})
        inputs = {
            "target": "registry",
            "registry-api-key": api_key,
            "organization-ctid": org,
            "approval": "webhook",
            "webhook-url": hook.hook_url,
            "webhook-secret": secret,
        }
        result = job.run("push", push(base, merged), merged, "refs/heads/main", inputs)
        assert result.exit_code == 0, result.stdout + result.stderr
        posts = [(r.method, r.route) for r in registry.requests if r.method == "POST"]
        assert posts == [("POST", "/assistant/CompetencyFramework/publishGraph")]
        [published] = [r for r in registry.requests if r.route.endswith("/publishGraph")]
        assert published.headers["Authorization"] == "ApiToken [valid]"  # then the organization is read
        assert [(p["ctid"], p["outcome"]) for p in json.loads(result.outputs["published"])] == [
            (FW, "written")
        ]
        assert [[f["ctid"] for f in d["frameworks"]] for d in hook.deliveries] == [[FW]]
        assert hook.deliveries[0]["commit"] == merged
        assert hook.deliveries[0]["run_url"] == f"https://github.com/{REPOSITORY}/actions/runs/4242"
        assert result.outputs["approval-issue-url"] == ""
        assert job.github.requests == [] and job.sandbox.request_log == []
        for text in (result.stdout.replace(f"::add-mask::{api_key}", ""), result.summary):
            assert api_key not in text
        assert secret not in result.summary and f"::add-mask::{secret}" in result.stdout


def test_unsupported_event_is_a_usage_error(job: Job) -> None:
    sha = job.commit({PATH: framework()})
    result = job.run("issues", {"action": "opened", "repository": repository()}, sha, "refs/heads/main", {})
    assert result.exit_code == 2
    assert [c.data for c in errors(result)] == [
        "event 'issues' is not handled in auto mode: run on pull_request and push, "
        "or set the mode input (validate, plan or publish)"
    ]


def test_install_step_builds_a_venv_under_runner_temp_from_the_action_path(tmp_path: Path) -> None:
    """Runs the real install and run steps with a stand-in interpreter that records its calls."""
    calls = tmp_path / "calls.txt"
    fake_python = tmp_path / "python3"
    fake_python.write_text(
        "#!/bin/sh\n"
        f'echo "python $*" >> "{calls}"\n'
        'if [ "$1 $2" = "-m venv" ]; then\n'
        '  mkdir -p "$3/bin"\n'
        '  cp "$0" "$3/bin/python"\n'
        f'  printf \'#!/bin/sh\\necho "competency-ci $*" >> "{calls}"\\n\' > "$3/bin/competency-ci"\n'
        '  chmod +x "$3/bin/competency-ci"\n'
        "fi\n",
        "utf-8",
    )
    fake_python.chmod(fake_python.stat().st_mode | stat.S_IEXEC)
    temp, workspace = tmp_path / "temp", tmp_path / "ws"
    temp.mkdir()
    workspace.mkdir()
    result = run_action(
        REPO,
        inputs={},
        env={"PATH": os.environ["PATH"], "RUNNER_TEMP": str(temp), "GITHUB_WORKSPACE": str(workspace)},
        uses_outputs={"actions/setup-python": {"python-path": str(fake_python)}},
    )
    assert result.exit_code == 0, result.stderr
    venv = temp / "competency-ci-venv"
    assert result.step("install").outputs == {"bin": f"{venv}/bin"}
    assert calls.read_text().splitlines() == [
        f"python -m venv {venv}",
        f"python -m pip install --quiet --disable-pip-version-check {REPO}",
        "competency-ci github",
    ]
    assert [c.name for c in result.step("install").commands] == ["group", "endgroup"]


COMMENTS = f"/repos/{REPOSITORY}/issues/12/comments"
MARKER = "<!-- competency-ci:pull-request-review -->"
TREE_CLASSES = (
    "  classDef added fill:#dafbe1,stroke:#1a7f37\n"
    "  classDef removed fill:#ffebe9,stroke:#cf222e,stroke-dasharray:4 3\n"
    "  classDef moved fill:#fff8c5,stroke:#9a6700\n"
    "  classDef changed fill:#ddf4ff,stroke:#0969da\n"
    "```\n\n<sub>green: added · red, dashed: removed · yellow: moved · blue: changed</sub>\n"
)
FOOTER = (
    "---\nThe full report is in the [job summary](https://github.com/acme/frameworks/actions/runs/4242).\n"
)


def comment_requests(job: Job, start: int = 0) -> list[tuple[str, str]]:
    return [(r.method, r.route) for r in job.github.requests[start:]]


def test_pull_request_comment_is_created_then_edited_never_duplicated(job: Job) -> None:
    base = job.commit({PATH: framework()})
    head = job.commit({PATH: framework(with_c=True)}, branch="feature")
    first = job.run("pull_request", pull_request(base, head), head, "refs/pull/12/merge", {})
    assert first.exit_code == 0, first.stdout + first.stderr
    assert comment_requests(job) == [("GET", COMMENTS), ("POST", COMMENTS)]
    (comment,) = job.github.comments[12]
    assert comment["body"] == (
        f"{MARKER}\n## competency-ci review of pull request #12\n\n"
        f"1 file OK · 1 framework with changes (competencies: 1 added) · at commit `{head[:12]}`\n\n"
        f"### Changes\n\n#### History (`{FW}`): changed\n\n"
        '```mermaid\ngraph TD\n  fw["History"]\n  fw --> n1["Alpha"]\n  n1 --> n2["Charlie"]:::added\n'
        f"{TREE_CLASSES}\n**Added**\n\n- Charlie (`{C}`)\n\n{FOOTER}"
    )
    # The author edits Bravo's text (hostile on purpose): the same comment is edited, before and after.
    revised = framework(with_c=True).replace("Bravo", '"Bravo ""quoted"" <b>[x]</b> @alice"')
    head2 = job.commit({PATH: revised}, branch="feature")
    count = len(job.github.requests)
    second = job.run("pull_request", pull_request(base, head2), head2, "refs/pull/12/merge", {})
    assert second.exit_code == 0, second.stdout + second.stderr
    edit = f"/repos/{REPOSITORY}/issues/comments/{comment['id']}"
    assert comment_requests(job, count) == [("GET", COMMENTS), ("PATCH", edit)]
    (edited,) = job.github.comments[12]
    label = "Bravo #34;quoted#34; #60;b#62;#91;x#93;#60;#47;b#62; #64;alice"
    text = 'Bravo "quoted" &lt;b&gt;[x]&lt;/b&gt; @\u200balice'
    assert edited["body"] == (
        f"{MARKER}\n## competency-ci review of pull request #12\n\n"
        "1 file OK · 1 framework with changes (competencies: 1 added, 1 changed) · "
        f"at commit `{head2[:12]}`\n\n"
        f"### Changes\n\n#### History (`{FW}`): changed\n\n"
        '```mermaid\ngraph TD\n  fw["History"]\n  fw --> n1["Alpha"]\n'
        f'  n1 --> n2["{label}"]:::changed\n  n1 --> n3["Charlie"]:::added\n{TREE_CLASSES}\n'
        "| competency | property | before | after |\n|---|---|---|---|\n"
        f"| {text} (`{B}`) | `ceasn:competencyText` | Bravo | {text} |\n\n"
        f"**Added**\n\n- Charlie (`{C}`)\n\n{FOOTER}"
    )
    # Run again on the same commit: the comment already says it, nothing is written.
    count = len(job.github.requests)
    assert job.run("pull_request", pull_request(base, head2), head2, "refs/pull/12/merge", {}).exit_code == 0
    assert comment_requests(job, count) == [("GET", COMMENTS)]
    assert len(job.github.comments[12]) == 1
    # Back to the base version: no framework file changed, and the comment says so.
    head3 = job.commit({PATH: framework()}, branch="feature")
    count = len(job.github.requests)
    assert job.run("pull_request", pull_request(base, head3), head3, "refs/pull/12/merge", {}).exit_code == 0
    assert comment_requests(job, count) == [("GET", COMMENTS), ("PATCH", edit)]
    assert [c["body"] for c in job.github.comments[12]] == [
        f"{MARKER}\n## competency-ci review of pull request #12\n\nno changes · at commit `{head3[:12]}`\n\n"
        f"### Changes\n\nNo framework changes.\n\n{FOOTER}"
    ]


def test_pull_request_comment_holds_the_plan_and_never_edits_a_persons_comment(job: Job) -> None:
    base = job.commit({PATH: framework()})
    head = job.commit({PATH: framework(with_c=True)}, branch="feature")
    job.github.add_issue("feature", "", [], pull_request=True, number=12)
    human = job.github.add_comment(12, f"{MARKER}\nlooks like the bot's, but a person wrote it")
    inputs = {"cass-url": job.sandbox.url, "cass-key": key_pem()}
    result = job.run("pull_request", pull_request(base, head), head, "refs/pull/12/merge", inputs)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert comment_requests(job) == [("GET", COMMENTS), ("POST", COMMENTS)]
    theirs, ours = job.github.comments[12]
    assert (theirs["id"], theirs["body"]) == (human, f"{MARKER}\nlooks like the bot's, but a person wrote it")
    plan = result.summary[result.summary.index(f"### CASS publish plan for `{job.sandbox.url}`") :]
    assert ours["body"].endswith(f"\n{plan.rstrip()}\n\n{FOOTER}")
    assert_no_secret_printed(result)


def test_fork_gets_no_comment_and_a_refused_comment_is_a_warning(job: Job) -> None:
    base = job.commit({PATH: framework()})
    head = job.commit({PATH: framework(with_c=True)}, branch="feature")
    fork = job.run("pull_request", pull_request(base, head, fork=True), head, "refs/pull/12/merge", {})
    assert fork.exit_code == 0
    assert job.github.requests == []
    assert "> This pull request comes from a fork: its token is read-only, so the review is not posted" in (
        fork.summary
    )
    job.github.can_comment = False  # a workflow without `pull-requests: write`
    refused = job.run("pull_request", pull_request(base, head), head, "refs/pull/12/merge", {})
    assert refused.exit_code == 0  # the review itself is in the summary
    message = (
        f"The review comment on pull request #12 could not be written: POST {job.github.url}{COMMENTS}: "
        "HTTP 403 Resource not accessible by integration. The workflow's job needs `permissions: "
        "pull-requests: write`."
    )
    assert [(c.name, c.data) for c in refused.commands if c.name == "warning"] == [("warning", message)]
    off = job.run(
        "pull_request", pull_request(base, head), head, "refs/pull/12/merge", {"pr-comment": "false"}
    )
    assert off.exit_code == 0 and len(job.github.requests) == 2  # the refused run's GET and POST only
