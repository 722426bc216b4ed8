"""The rough edges of plan / publish / request-approval / the sandbox key (issue 13), over HTTP.

Real servers on 127.0.0.1: the CASS sandbox, the Registry test server, the GitHub REST test server.
Each test asserts the exact lines a user reads and the exit code.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from approval_fixtures import API_KEY, GITHUB_TOKEN, KITCHEN, KNIVES, SERVICE, write_repository
from competency_ci.approval.request import read_state
from competency_ci.commands.approval import NOTHING_OFFLINE, NOTHING_WAITING, NOTHING_WRITTEN
from competency_ci.frameworks.build import load_frameworks
from competency_ci.frameworks.config import load_config
from competency_ci.frameworks.jsonld import framework_to_graph
from competency_ci.sandbox import SandboxServer
from competency_ci.targets.cass.publish import RERUN_NOTE
from competency_ci.targets.cass.target import OWNER_NOTE
from servers.github_api import GitHubServer
from servers.registry import RegistryServer

REPO = "acme/frameworks"
NAMES = {KITCHEN: "Safe Kitchen Practice", KNIVES: "Knife Skills", SERVICE: "Guest Service"}
FILES = {KITCHEN: "kitchen.csv", KNIVES: "knives.csv", SERVICE: "service.csv"}
ORDER = (KITCHEN, KNIVES, SERVICE)
TOKEN_ERROR = (
    "competency-ci publish: configuration error: github-issue approval needs a GitHub token in "
    "GITHUB_TOKEN (on GitHub Actions pass `GITHUB_TOKEN: ${{ github.token }}` with "
    "`permissions: issues: write`)\n"
)


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """A repository of three frameworks, the sandbox, the Registry and GitHub; no CASS key set."""
    with (
        SandboxServer("127.0.0.1", 0) as cass,
        RegistryServer(API_KEY) as registry,
        GitHubServer(GITHUB_TOKEN, REPO) as github,
    ):
        config = write_repository(tmp_path, registry.url, extra=f"cass:\n  url: {cass.url}\n")
        (tmp_path / ".git").mkdir()
        for name in ("CASS_KEY", "GITHUB_TOKEN", "GITHUB_SHA", "GITHUB_REPOSITORY", "GITHUB_RUN_ID"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("GITHUB_API_URL", github.url)
        monkeypatch.chdir(tmp_path)
        yield {"config": str(config), "cass": cass, "registry": registry, "github": github, "root": tmp_path}


def writes(cass: SandboxServer) -> list[str]:
    """The sandbox's write requests (a search is a POST, and writes nothing)."""
    return [r.path for r in cass.request_log if r.path.endswith(("/multiPut", "/multiDelete"))]


def accounted(out: str) -> list[str]:
    """The account's one line per framework (other lines, such as the CE-view check, left out)."""
    return [ln for ln in out.splitlines() if ln.startswith(("  written: ", "  unchanged: ", "  NOT "))]


def line(ctid: str, outcome: str, detail: str) -> str:
    return f"  {outcome}: frameworks/{FILES[ctid]}: {NAMES[ctid]} ({ctid}): {detail}"


def key_note(server: str, *, created: bool) -> str:
    verb = "generated a sandbox key in" if created else "using the sandbox key"
    where = f"for {server}, a server on this machine"
    return f"No CASS key configured: {verb} .competency-ci/sandbox-key.pem {where}"


# --- plan and publish with no path --------------------------------------------------------------


def test_plan_and_publish_without_a_path_read_the_repository(world: dict[str, Any], run_cli: Any) -> None:
    cass = world["cass"]
    code, out, err = run_cli("plan")
    assert (code, err) == (0, key_note(cass.url, created=True) + "\n")
    summaries = [ln for ln in out.splitlines() if ln.startswith("frameworks/")]
    assert [s.split(": ")[0] for s in summaries] == [f"frameworks/{FILES[c]}" for c in ORDER]
    assert writes(cass) == []
    code, out, err = run_cli("publish")
    assert code == 0, err
    assert accounted(out) == [
        line(KITCHEN, "written", "3 created"),
        line(KNIVES, "written", "4 created"),
        line(SERVICE, "written", "2 created"),
    ]


def test_a_path_that_cannot_be_read_is_named(world: dict[str, Any], run_cli: Any) -> None:
    from competency_ci.frameworks.validate import validate_paths

    reason = validate_paths(["missing.csv"], load_config(world["config"])).unusable["missing.csv"]
    for command in ("plan", "publish"):
        code, _out, err = run_cli(command, "missing.csv")
        assert code == 2
        assert err.splitlines()[0] == f"competency-ci {command}: missing.csv: {reason}"
        assert err.splitlines()[-1] == "Nothing was sent: fix the problems above first."
    assert world["cass"].request_log == []


# --- approval settings checked before the first write; a failed request is made again ----------


def test_missing_token_stops_before_the_first_request(
    world: dict[str, Any], run_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run_cli("publish", "--request-approval", "github-issue")
    assert (code, out, err) == (2, "", TOKEN_ERROR)
    assert world["cass"].request_log == [] and world["registry"].requests == []
    assert world["github"].requests == []
    assert not (world["root"] / ".competency-ci").exists()  # not even the sandbox key

    # A repository is needed too (approval.repository, else GITHUB_REPOSITORY), checked as early.
    monkeypatch.setenv("GITHUB_TOKEN", GITHUB_TOKEN)
    config = Path(world["config"])
    config.write_text(config.read_text("utf-8").replace("  repository: acme/frameworks\n", ""), "utf-8")
    code, out, err = run_cli("publish", "--request-approval", "github-issue")
    assert (code, out) == (2, "")
    assert err == (
        "competency-ci publish: configuration error: github-issue approval needs the repository for "
        "the issue: set approval.repository (owner/name) in the configuration, or GITHUB_REPOSITORY\n"
    )
    assert world["cass"].request_log == []


def test_a_failed_approval_request_is_made_again_by_the_rerun(
    world: dict[str, Any], run_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    cass, github = world["cass"], world["github"]
    args = ("publish", "--request-approval", "github-issue")
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_revoked0000000000000000000000000000")  # GitHub refuses it
    code, out, err = run_cli(*args)
    assert code == 3
    assert accounted(out) == [
        line(KITCHEN, "written", "3 created"),
        line(KNIVES, "written", "4 created"),
        line(SERVICE, "written", "2 created"),
    ]
    assert err.splitlines()[-1] == (
        f"approval request failed: GET {github.url}/repos/{REPO}/issues: HTTP 401 Bad credentials"
    )
    assert github.issues == {}
    written = len(writes(cass))

    # The re-run writes nothing (CASS holds everything) and still asks: none of the three is live.
    monkeypatch.setenv("GITHUB_TOKEN", GITHUB_TOKEN)
    code, out, err = run_cli(*args)
    assert code == 0, err
    assert accounted(out) == [
        line(KITCHEN, "unchanged", "no changes"),
        line(KNIVES, "unchanged", "no changes"),
        line(SERVICE, "unchanged", "no changes"),
    ]
    assert (
        out.splitlines()[-1]
        == f"approval (github-issue): opened issue #1 (https://github.com/{REPO}/issues/1)"
    )
    assert len(writes(cass)) == written
    state = read_state(github.issues[1]["body"])
    assert state is not None and [(i.ctid, i.outcome) for i in state.items] == [
        (c, "unchanged") for c in ORDER
    ]

    # Once more: the issue already lists them; nothing is added.
    before = len(github.requests)
    code, out, err = run_cli(*args)
    assert (code, out.splitlines()[-1]) == (
        0,
        f"approval (github-issue): issue #1 already has this request (https://github.com/{REPO}/issues/1)",
    )
    assert [m for m, _ in github.log()[before:]] == ["GET"]

    # Live and current in the Registry: nothing waits, nothing is asked.
    make_live(world)
    before = len(github.requests)
    code, out, err = run_cli(*args)
    assert code == 0
    assert err.splitlines()[-1] == "No approval requested: this publish wrote no framework, and none waits."
    assert len(github.requests) == before


# --- the sandbox key ----------------------------------------------------------------------------


def test_a_local_server_uses_the_sandbox_key_and_a_lost_key_says_what_to_do(
    world: dict[str, Any], run_cli: Any
) -> None:
    cass, root = world["cass"], world["root"]
    code, out, err = run_cli("publish", "--server", cass.url)
    assert (code, err) == (0, key_note(cass.url, created=True) + "\n")

    (root / ".competency-ci" / "sandbox-key.pem").unlink()  # the key is lost
    lost = (
        "The sandbox holds these frameworks under another key: .competency-ci/sandbox-key.pem is not the "
        "key that wrote them (it was deleted or replaced since). Publishing cannot change them, and "
        "re-running will not help: put the old key back in .competency-ci/sandbox-key.pem, or start the "
        "sandbox afresh: restart `competency-ci sandbox serve` on a new database (--db NEW_FILE, or "
        "delete its database, by default .competency-ci/sandbox.sqlite3)."
    )
    code, out, err = run_cli("plan", "--server", cass.url)
    assert code == 1
    assert err == key_note(cass.url, created=True) + "\n" + lost + "\n"
    assert out.splitlines()[-1] == (
        "Blocked: 9 stored object(s) cannot be changed, because this key is not one of their owners; "
        "publish will not write the frameworks they belong to."
    )
    written = len(writes(cass))
    code, out, err = run_cli("publish", "--server", cass.url)
    assert code == 3
    lines = err.splitlines()
    assert lines[:2] == [key_note(cass.url, created=False), lost]
    assert lines[-1] == OWNER_NOTE and RERUN_NOTE not in err
    assert len(writes(cass)) == written


def test_the_embedded_sandbox_names_its_database_when_the_key_is_lost(
    world: dict[str, Any], run_cli: Any
) -> None:
    root = world["root"]
    assert run_cli("publish", "--server", "sandbox")[0] == 0
    (root / ".competency-ci" / "sandbox-key.pem").unlink()
    code, _out, err = run_cli("publish", "--server", "sandbox")
    assert code == 3
    assert err.splitlines()[2] == (
        "The sandbox holds these frameworks under another key: .competency-ci/sandbox-key.pem is not the "
        "key that wrote them (it was deleted or replaced since). Publishing cannot change them, and "
        "re-running will not help: put the old key back in .competency-ci/sandbox-key.pem, or start the "
        "sandbox afresh: delete .competency-ci/sandbox.sqlite3 (the embedded sandbox's data)."
    )
    (root / ".competency-ci" / "sandbox.sqlite3").unlink()  # what the message says: starts afresh
    code, _out, err = run_cli("publish", "--server", "sandbox")
    assert code == 0, err


def test_a_remote_server_without_a_key_names_the_key_and_the_sandbox(
    run_cli: Any, world: dict[str, Any]
) -> None:
    code, out, err = run_cli("plan", "--server", "https://cass.example.org/api/")
    assert (code, out) == (2, "")
    assert err == (
        "error: no CASS signing key: set the environment variable CASS_KEY to a PEM RSA private key, "
        "or name a file in the configuration (cass.key-file)\n"
        "To try publishing without a key, use the local sandbox: --server sandbox, or the URL that "
        "`competency-ci sandbox serve` prints (both sign with .competency-ci/sandbox-key.pem).\n"
    )


# --- formats and dry runs -----------------------------------------------------------------------


def test_publish_markdown_is_markdown_only(world: dict[str, Any], run_cli: Any) -> None:
    code, out, err = run_cli("publish", "--format", "markdown")
    assert code == 0, err
    plan, account = out.split("### CASS publish result\n")
    assert plan.startswith(f"### CASS publish plan for `{world['cass'].url}`\n")
    rows = account.splitlines()
    assert rows[:2] == ["", "| file | framework | outcome | detail | CE view |"]
    assert [r.rsplit(" | ", 1)[0] for r in rows[3:6]] == [
        "| `frameworks/kitchen.csv` | Safe Kitchen Practice | written | 3 created",
        "| `frameworks/knives.csv` | Knife Skills | written | 4 created",
        "| `frameworks/service.csv` | Guest Service | written | 2 created",
    ]
    assert not any(ln.startswith(("  written", "Plan for", "No changes")) for ln in out.splitlines())


def test_request_approval_dry_run_and_real_run_agree_when_nothing_is_to_approve(
    world: dict[str, Any], run_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", GITHUB_TOKEN)
    result = str(world["root"] / "result.json")
    assert run_cli("publish", "--result-file", result)[0] == 0
    make_live(world)
    assert run_cli("publish", "--result-file", result)[0] == 0  # the second writes nothing
    assert [f["outcome"] for f in json.loads(Path(result).read_text("utf-8"))["frameworks"]] == [
        "unchanged"
    ] * 3
    real = run_cli("request-approval", "--result", result)
    dry = run_cli("request-approval", "--result", result, "--dry-run", "--check-registry")
    assert real == dry == (0, NOTHING_WRITTEN + "\n", "")
    offline = run_cli("request-approval", "--result", result, "--dry-run")
    assert offline == (
        0,
        NOTHING_OFFLINE + "\n",
        "dry run: the Registry was not read (what is live, whether the organization is published); "
        "add --check-registry to read it\n",
    )
    real = run_cli("request-approval")
    dry = run_cli("request-approval", "--dry-run", "--check-registry")
    assert real == dry == (0, NOTHING_WAITING + "\n", "")
    assert world["github"].requests == []


def test_request_approval_from_a_rerun_result_asks_for_what_still_waits(
    world: dict[str, Any], run_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """publish --result-file, then request-approval --result: a re-run's record says "unchanged",
    and the request still lists what waits in the Registry."""
    monkeypatch.setenv("GITHUB_TOKEN", GITHUB_TOKEN)
    result = str(world["root"] / "result.json")
    assert run_cli("publish", "--result-file", result)[0] == 0
    assert run_cli("publish", "--result-file", result)[0] == 0  # the re-run: nothing written
    code, out, err = run_cli("request-approval", "--result", result)
    assert err == ""
    assert (code, out) == (
        0,
        f"approval (github-issue): opened issue #1 (https://github.com/{REPO}/issues/1)\n",
    )
    state = read_state(world["github"].issues[1]["body"])
    assert state is not None and [i.ctid for i in state.items] == list(ORDER)


def make_live(world: dict[str, Any]) -> None:
    """CE approved and published every framework of the repository, as it is."""
    config = load_config(world["config"])
    for path in sorted((world["root"] / "frameworks").glob("*.csv")):
        for fw in load_frameworks(path, config):
            world["registry"].make_live(framework_to_graph(fw, config.registry_url, config.language))


def test_registry_publish_markdown_is_markdown_only(
    world: dict[str, Any], run_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CE_REGISTRY_API_KEY", API_KEY)
    code, out, err = run_cli("publish", "--target", "registry", "--format", "markdown")
    assert (code, err) == (0, "")
    assert out == (
        "### Registry publish result\n\n"
        "| file | framework | CTID | outcome | messages |\n|---|---|---|---|---|\n"
        + "".join(f"| `frameworks/{FILES[c]}` | {NAMES[c]} | `{c}` | written |  |\n" for c in ORDER)
    )
