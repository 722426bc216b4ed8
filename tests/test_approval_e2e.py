"""End to end: publish to the CASS sandbox, request approval as a GitHub issue, track it to the Registry.

Real servers on 127.0.0.1: the CASS sandbox, the GitHub REST test server and the Registry test
server. No secret (GitHub token, CASS key, Registry API key) appears in any output or request log.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from approval_fixtures import (
    API_KEY,
    COMMIT,
    GITHUB_TOKEN,
    KITCHEN,
    KNIVES,
    ORGANIZATION,
    PUBLISHER,
    SERVICE,
    write_repository,
)
from competency_ci.approval.request import read_state
from competency_ci.frameworks.build import load_frameworks
from competency_ci.frameworks.config import load_config
from competency_ci.frameworks.jsonld import framework_to_graph
from competency_ci.sandbox import SandboxServer
from competency_ci.targets.cass.ids import md5_key
from publish_support import our_key, private_pem
from servers.github_api import GitHubServer
from servers.registry import RegistryServer

REPO = "acme/frameworks"


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    with (
        SandboxServer("127.0.0.1", 0) as cass,
        RegistryServer(API_KEY) as registry,
        GitHubServer(GITHUB_TOKEN, REPO) as github,
    ):
        config = write_repository(tmp_path, registry.url, extra=f"cass:\n  url: {cass.url}\n")
        key = private_pem(our_key())
        monkeypatch.setenv("CASS_KEY", key)
        monkeypatch.setenv("GITHUB_TOKEN", GITHUB_TOKEN)
        monkeypatch.setenv("GITHUB_API_URL", github.url)
        monkeypatch.setenv("CE_REGISTRY_API_KEY", API_KEY)
        monkeypatch.delenv("GITHUB_SHA", raising=False)
        monkeypatch.delenv("GITHUB_REPOSITORY", raising=False)
        yield {
            "config": config,
            "cass": cass,
            "registry": registry,
            "github": github,
            "key": key,
            "root": tmp_path,
        }


def graphs(config_path: Path) -> dict[str, dict[str, Any]]:
    config = load_config(str(config_path))
    result = {}
    for path in sorted((config.root / "frameworks").glob("*.csv")):
        for fw in load_frameworks(path, config):
            result[fw.ctid] = framework_to_graph(fw, config.registry_url, config.language)
    return result


def test_publish_request_approval_and_track_until_live(world: dict[str, Any], run_cli: Any) -> None:
    config, root = str(world["config"]), world["root"]
    cass, registry, github = world["cass"], world["registry"], world["github"]
    outputs: list[str] = []

    def cli(*args: str) -> tuple[int, str]:
        code, out, err = run_cli(*args)
        outputs.extend([out, err])
        return code, out

    result = str(root / "result.json")
    assert cli("publish", "--config", config, str(root), "--result-file", result)[0] == 0

    # 1. The first request opens one issue, assigned, one checkbox per framework, with links.
    code, out = cli("request-approval", "--config", config, "--result", result, "--commit", COMMIT)
    assert (code, out) == (
        0,
        f"approval (github-issue): opened issue #1 (https://github.com/{REPO}/issues/1)\n",
    )
    issue = github.issues[1]
    assert [a["login"] for a in issue["assignees"]] == ["alice", "bob"]
    assert [label["name"] for label in issue["labels"]] == ["competency-approval"]
    resource = f"{registry.url}/resources/{KNIVES}"
    assert (
        f"- [ ] **Knife Skills** `{KNIVES}`: new framework, 2 competencies; "
        "CE view: CE view matches the repository; "  # the publish's CE-view check, from the record
        f"[CE view in CASS]({cass.url}ceasn/{md5_key(resource)}) · "
        f"[Registry]({registry.url}/graph/{KNIVES}) · `frameworks/knives.csv`"
    ) in issue["body"].splitlines()
    assert f"1. Open the organization's [**Organization Summary Page**]({PUBLISHER})." in issue["body"]
    # the organization is not in the Registry yet: the request says to approve it first
    assert issue["body"].splitlines()[3].startswith("**First, the organization.** Frameworks cannot be")
    state = read_state(issue["body"])
    assert state is not None and [i.ctid for i in state.items] == [KITCHEN, KNIVES, SERVICE]

    # 2. Re-running the same request changes nothing: no second issue, no comment, one read.
    before = len(github.requests)
    code, out = cli("request-approval", "--config", config, "--result", result, "--commit", COMMIT)
    assert (
        out
        == f"approval (github-issue): issue #1 already has this request (https://github.com/{REPO}/issues/1)\n"
    )
    assert [m for m, _ in github.log()[before:]] == ["GET"]
    assert (len(github.issues), github.comments[1]) == (1, [])

    # 3. A later publish (one competency edited) adds a comment for what it wrote, not an issue.
    knives = root / "frameworks" / "knives.csv"
    knives.write_text(
        knives.read_text("utf-8").replace("Hold a chef's knife safely.", "Hold a knife safely.")
    )
    assert cli("publish", "--config", config, str(root), "--result-file", result)[0] == 0
    assert [f["outcome"] for f in json.loads(Path(result).read_text("utf-8"))["frameworks"]] == [
        "unchanged",
        "written",
        "unchanged",
    ]
    code, out = cli("request-approval", "--config", config, "--result", result, "--commit", "b" * 40)
    assert out == f"approval (github-issue): commented on issue #1 (https://github.com/{REPO}/issues/1)\n"
    [comment] = github.comments[1]
    assert f"**Knife Skills** `{KNIVES}`: 1 changed;" in comment["body"]
    assert "Safe Kitchen Practice" not in comment["body"]
    cli("request-approval", "--config", config, "--result", result, "--commit", "b" * 40)
    assert len(github.comments[1]) == 1 and len(github.issues) == 1

    # 4. CE approves the organization, then publishes some frameworks: status shows the mix; the
    # issue stays open.
    registry.make_live(ORGANIZATION)
    current = graphs(world["config"])
    registry.make_live(current[KITCHEN])
    older = json.loads(
        json.dumps(current[KNIVES]).replace("Hold a knife safely.", "Hold a chef's knife safely.")
    )
    registry.make_live(older)
    code, out = cli("status", "--config", config, "--exit-code", "--close-approval-issue")
    assert code == 1
    assert [line.split(": ", 2)[-1] for line in out.splitlines() if line.startswith("frameworks/")] == [
        "live and current",
        "live, older than the repository (awaiting approval of the latest change)",
        "not yet live",
    ]
    assert github.issues[1]["state"] == "open"

    # 5. Everything live and current: status closes the issue with a comment.
    registry.make_live(current[KNIVES])
    registry.make_live(current[SERVICE])
    code, out = cli(
        "status", "--config", config, "--exit-code", "--close-approval-issue", "--format", "markdown"
    )
    assert code == 0
    assert out.count("| ✅ |") == 3
    assert github.issues[1]["state"] == "closed"
    assert github.comments[1][-1]["body"].startswith("All frameworks of this request are live")
    issues = f"/repos/{REPO}/issues"
    assert github.log()[-2:] == [("POST", f"{issues}/1/comments"), ("PATCH", f"{issues}/1")]

    # 6. A standalone request now has nothing to ask: every framework is live and current.
    code, out = cli("request-approval", "--config", config)
    assert (code, out) == (
        0,
        "Nothing to approve: every framework is live in the Registry and current.\n",
    )

    # No secret anywhere: our outputs, the GitHub and Registry request logs, the result file.
    logged = [
        json.dumps([r.method, r.path, r.headers, r.body]) for s in (github, registry) for r in s.requests
    ]
    written = Path(result).read_text("utf-8")
    for secret in (GITHUB_TOKEN, API_KEY, world["key"].splitlines()[1]):
        assert not any(secret in text for text in [*outputs, *logged, written])
    assert cass.request_log  # the sandbox saw the publishes


def test_publish_with_request_approval_in_one_command(world: dict[str, Any], run_cli: Any) -> None:
    config, root, github = str(world["config"]), world["root"], world["github"]
    args = ("publish", "--config", config, str(root), "--request-approval", "github-issue")
    code, out, err = run_cli(*args)
    assert code == 0
    assert out.endswith(f"approval (github-issue): opened issue #1 (https://github.com/{REPO}/issues/1)\n")
    state = read_state(github.issues[1]["body"])
    assert state is not None and [i.ctid for i in state.items] == [KITCHEN, KNIVES, SERVICE]
    # Nothing written the second time, but the three still wait in the Registry: the open issue
    # already lists them, so nothing is added to it.
    before = len(github.requests)
    code, out, err = run_cli(*args)
    assert code == 0
    assert out.endswith(
        f"approval (github-issue): issue #1 already lists these frameworks (https://github.com/{REPO}/issues/1)\n"
    )
    assert [m for m, _ in github.log()[before:]] == ["GET"]
    assert len(github.issues) == 1 and github.comments[1] == []
    assert GITHUB_TOKEN not in out + err
