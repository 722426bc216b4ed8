"""Approval requests: the pure request document, the GitHub issue flow, the signed webhook."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from approval_fixtures import (
    API_KEY,
    COMMIT,
    GITHUB_TOKEN,
    KITCHEN,
    KNIVES,
    ORG,
    PUBLISHER,
    PUBLISHER_BASE,
    SERVICE,
    WEBHOOK_SECRET,
    write_repository,
)
from competency_ci.approval import request as approval
from competency_ci.approval.request import (
    Item,
    Request,
    build_request,
    issue_body,
    merge,
    read_state,
    render_text,
)
from competency_ci.frameworks.build import load_frameworks
from competency_ci.frameworks.config import load_config
from competency_ci.githubapi import GitHub, GitHubError
from competency_ci.http import Budget, RemoteError, RetryPolicy
from competency_ci.schema import descriptor_path
from competency_ci.targets.record import Changes, PublishedFramework, PublishRecord, parse_record
from competency_ci.targets.registry.status import FrameworkStatus, State
from servers.github_api import GitHubServer
from servers.recording import Reply
from servers.registry import RegistryServer
from servers.webhook import WebhookServer

SCHEMA = Path(descriptor_path()).with_name("approval-webhook.schema.json")
REPO = "acme/frameworks"
CASS = "https://cass.example.org/api/"


def item(ctid: str, name: str, changes: Changes | None = None) -> Item:
    return Item(
        ctid,
        name,
        f"frameworks/{name.lower()}.csv",
        f"https://r/resources/{ctid}",
        f"https://r/graph/{ctid}",
        None,
        changes,
    )


def request(
    *items: Item, commit: str | None = COMMIT, run_url: str | None = None, org_live: bool | None = True
) -> Request:
    return Request(tuple(items), PUBLISHER_BASE, "https://r", REPO, commit, run_url, PUBLISHER, ORG, org_live)


A = "ce-00000000-0000-4000-8000-00000000000a"
B = "ce-00000000-0000-4000-8000-00000000000b"


# --- the request document (pure) ---------------------------------------------------------------


def test_build_request_with_a_publish_record_lists_what_it_wrote(tmp_path: Path) -> None:
    config = load_config(str(write_repository(tmp_path, "https://sandbox.credentialengineregistry.org")))
    frameworks = [
        fw for p in sorted((tmp_path / "frameworks").glob("*.csv")) for fw in load_frameworks(p, config)
    ]
    record = PublishRecord(
        "cass",
        CASS,
        (
            PublishedFramework(
                KITCHEN,
                "Safe Kitchen Practice",
                "x",
                "written",
                Changes(added=1, moved=2),
                verification="CE view matches the repository",
            ),
            PublishedFramework(KNIVES, "Knife Skills", "x", "unchanged"),
            PublishedFramework(SERVICE, "Guest Service", "x", "failed"),
        ),
    )
    result = build_request(
        frameworks, config, record=record, commit=COMMIT, run_url="https://ci/run/1", organization_live=False
    )
    uri = f"https://sandbox.credentialengineregistry.org/resources/{KITCHEN}"
    md5 = hashlib.md5(uri.encode()).hexdigest()
    assert result == Request(
        (
            Item(
                KITCHEN,
                "Safe Kitchen Practice",
                "frameworks/kitchen.csv",
                uri,
                f"https://sandbox.credentialengineregistry.org/graph/{KITCHEN}",
                f"{CASS}ceasn/{md5}",
                Changes(added=1, moved=2),
                "written",
                "CE view matches the repository",
            ),
        ),
        PUBLISHER_BASE,
        "https://sandbox.credentialengineregistry.org",
        REPO,
        COMMIT,
        "https://ci/run/1",
        PUBLISHER,
        ORG,
        False,
    )


def test_digest_ignores_the_run_url_only() -> None:
    one = request(item(A, "Alpha"), run_url="https://ci/run/1")
    assert one.digest == request(item(A, "Alpha"), run_url="https://ci/run/2").digest
    assert one.digest != request(item(A, "Alpha"), commit="other").digest
    assert one.digest != request(item(A, "Alpha", Changes(added=1))).digest


PROCEDURE = [
    f"1. Open the organization's [**Organization Summary Page**]({PUBLISHER}).",
    "2. Select the **Frameworks** tab.",
    "3. Select the frameworks listed below (or **Select All**).",
    "4. Click **Approve All Selected Items**.",
]


def test_issue_body_walks_approvers_through_ces_procedure() -> None:
    alpha = replace(item(A, "Alpha <b>*x*", Changes(added=2, changed=1)), cass_url="https://c/api/ceasn/1")
    alpha = replace(alpha, verification="CE view matches the repository")
    req = request(alpha, item(B, "Beta", Changes(new=True, added=3)))
    body = issue_body(merge(None, req), req)
    state = read_state(body)
    assert state is not None
    assert (state.last, state.items) == (req.digest, list(req.items))
    assert body.splitlines() == [
        "<!-- competency-ci:approval -->",
        "These competency frameworks were published to CASS and wait for approval before Credential Engine "
        "publishes them to the Credential Registry. Review each one in its CE view (what CE will publish), "
        "then approve them in the Publisher:",
        "",
        *PROCEDURE,
        "",
        "Then tick each framework's box here. Once approved, Credential Engine publishes the frameworks to "
        "the Credential Registry; the Credential Finder shows a framework about 30 minutes after it is "
        "published. `competency-ci status --close-approval-issue` closes this issue once every framework "
        "is live in the Registry and matches the repository.",
        "",
        f"- [ ] **Alpha &lt;b&gt;\\*x\\*** `{A}`: 2 added, 1 changed; "
        "CE view: CE view matches the repository; "
        f"[CE view in CASS](https://c/api/ceasn/1) · [Registry](https://r/graph/{A}) · "
        "`frameworks/alpha <b>*x*.csv`",
        f"- [ ] **Beta** `{B}`: new framework, 3 competencies; [Registry](https://r/graph/{B}) · "
        "`frameworks/beta.csv`",
        "",
        "Last requested (commit 3f2a9c1d7e5b).",
        "",
        state.to_comment(),
    ]


def test_the_organization_comes_first_when_it_is_not_published() -> None:
    body = issue_body(merge(None, req := request(item(A, "Alpha"), org_live=False)), req)
    first = (
        "**First, the organization.** Frameworks cannot be approved until the organization itself has been "
        f"approved and published, and `{ORG}` is not in the Credential Registry yet: use **Approve my "
        "Organization** on the **My Organization** tab of the Publisher and wait for Credential Engine's "
        "email that the organization is published. Then approve the frameworks as below."
    )
    assert body.splitlines()[3:9] == [first, "", *PROCEDURE]
    unchecked = issue_body(merge(None, req := request(item(A, "Alpha"), org_live=None)), req)
    assert unchecked.splitlines()[3] == (
        "Frameworks cannot be approved until the organization itself has been approved and published (not "
        "checked for this request). If it is not yet, first use **Approve my Organization** on the **My "
        "Organization** tab of the Publisher and wait for Credential Engine's email that the organization is "
        "published."
    )


def test_without_the_publisher_id_the_request_says_how_to_find_the_page() -> None:
    req = replace(request(item(A, "Alpha")), summary_url=None)
    assert issue_body(merge(None, req), req).splitlines()[3] == (
        f"1. Sign in to the [Credential Engine Publisher]({PUBLISHER_BASE}), open **My Organization** and go "
        "to the organization's **Organization Summary Page** (set `approval.publisher-organization-id` to "
        "link it here)."
    )
    assert render_text(req).splitlines()[-4] == (
        f"1. Sign in to the Credential Engine Publisher ({PUBLISHER_BASE}), open My Organization and go to "
        "the organization's Organization Summary Page (set `approval.publisher-organization-id` to link it "
        "here)."
    )


def test_state_survives_hostile_names() -> None:
    req = request(item(A, "x --> <!-- y"))
    state = read_state(issue_body(merge(None, req), req))
    assert state is not None and state.items[0].name == "x --> <!-- y"


def test_merge_keeps_earlier_frameworks_and_their_ticks_until_they_change() -> None:
    first = request(item(A, "Alpha"), item(B, "Beta"))
    body = issue_body(merge(None, first), first).replace(f"- [ ] **Alpha** `{A}`", f"- [x] **Alpha** `{A}`")
    body = body.replace(f"- [ ] **Beta** `{B}`", f"- [x] **Beta** `{B}`")
    second = request(item(B, "Beta", Changes(changed=1)))
    merged = merge(read_state(body), second)
    new_body = issue_body(merged, second, body)
    assert f"- [x] **Alpha** `{A}`" in new_body  # untouched: stays ticked
    assert f"- [ ] **Beta** `{B}`: 1 changed" in new_body  # changed again: needs a new approval
    assert [i.ctid for i in merged.items] == [A, B]


def test_publish_record_round_trip_and_errors() -> None:
    record = PublishRecord(
        "cass", CASS, (PublishedFramework(A, "Alpha", "a.csv", "written", Changes(added=1)),)
    )
    assert parse_record(json.loads(record.to_json())) == record
    with pytest.raises(ValueError, match=r"^not a competency-ci publish result \(schema_version 1\)$"):
        parse_record({"frameworks": []})
    with pytest.raises(
        ValueError, match=r"^frameworks\[1\]\.outcome: expected one of written, unchanged, failed, deleted$"
    ):
        parse_record(
            {"schema_version": 1, "frameworks": [{"ctid": A, "name": "a", "path": "a", "outcome": "ok"}]}
        )


# --- GitHub issue ------------------------------------------------------------------------------


@pytest.fixture
def github() -> Any:
    with GitHubServer(GITHUB_TOKEN, REPO) as server:
        yield server


def client(server: GitHubServer) -> GitHub:
    return GitHub(GITHUB_TOKEN, REPO, server.url)


LIST = ("GET", f"/repos/{REPO}/issues?state=open&labels=competency-approval&direction=asc&per_page=100")


def test_first_request_opens_one_assigned_issue_and_a_rerun_changes_nothing(github: GitHubServer) -> None:
    req = request(item(A, "Alpha", Changes(added=1)))
    outcome = approval.request_github_issue(client(github), req, "competency-approval", ["alice", "bob"])
    assert (outcome.action, outcome.number) == ("created", 1)
    assert outcome.url == f"https://github.com/{REPO}/issues/1"
    assert github.log() == [LIST, ("POST", f"/repos/{REPO}/issues")]
    post = github.requests[1]
    assert post.body == {
        "title": approval.TITLE,
        "body": issue_body(merge(None, req), req),
        "labels": ["competency-approval"],
        "assignees": ["alice", "bob"],
    }
    assert post.headers == {
        "Accept": "application/vnd.github+json",
        "Authorization": "Bearer [valid]",
        "Content-Type": "application/json",
        "User-Agent": "competency-ci/0.1.0",
        "X-GitHub-Api-Version": "2022-11-28",
    }
    again = approval.request_github_issue(client(github), req, "competency-approval", ["alice", "bob"])
    assert again.action == "unchanged"
    assert github.log() == [LIST, ("POST", f"/repos/{REPO}/issues"), LIST]
    assert len(github.issues) == 1 and github.comments[1] == []


def test_a_later_publish_comments_updates_the_checklist_and_is_idempotent(github: GitHubServer) -> None:
    first, second = request(item(A, "Alpha")), request(item(B, "Beta", Changes(removed=1)), commit="abc")
    approval.request_github_issue(client(github), first, "competency-approval", ["alice"])
    outcome = approval.request_github_issue(client(github), second, "competency-approval", ["alice"])
    assert outcome.action == "commented"
    issues = f"/repos/{REPO}/issues"
    assert github.log()[2:] == [
        LIST,
        ("GET", f"{issues}/1/comments?per_page=100"),
        ("POST", f"{issues}/1/comments"),
        ("PATCH", f"{issues}/1"),
    ]
    assert github.comments[1][0]["body"] == (
        f"<!-- competency-ci:request sha256={second.digest} -->\n"
        "New publish (commit abc): please approve these frameworks on the "
        f"[Organization Summary Page]({PUBLISHER}), following the steps in the issue:\n\n"
        f"- [ ] **Beta** `{B}`: 1 removed; [Registry](https://r/graph/{B}) · `frameworks/beta.csv`\n"
    )
    state = read_state(github.issues[1]["body"])
    assert state is not None and [i.ctid for i in state.items] == [A, B] and state.last == second.digest
    count = len(github.requests)
    assert (
        approval.request_github_issue(client(github), second, "competency-approval", ["alice"]).action
        == "unchanged"
    )
    assert github.log()[count:] == [LIST]
    assert len(github.comments[1]) == 1


def test_a_framework_approved_then_changed_is_named_for_approval_again(github: GitHubServer) -> None:
    first = request(item(A, "Alpha"), item(B, "Beta"))
    approval.request_github_issue(client(github), first, "competency-approval", [])
    github.issues[1]["body"] = github.issues[1]["body"].replace(
        f"- [ ] **Alpha** `{A}`", f"- [x] **Alpha** `{A}`"
    )
    second = request(item(A, "Alpha", Changes(changed=1)), commit="abc")
    assert (
        approval.request_github_issue(client(github), second, "competency-approval", []).action == "commented"
    )
    assert github.comments[1][0]["body"].splitlines()[3:] == [
        f"- [ ] **Alpha** `{A}`: 1 changed; [Registry](https://r/graph/{A}) · `frameworks/alpha.csv` "
        "**approved before, changed since: approve again**.",
        "",
        f"Approved before, changed since: approve again: **Alpha** `{A}`.",
    ]
    lines = github.issues[1]["body"].splitlines()
    assert f"- [ ] **Alpha** `{A}`: 1 changed; [Registry](https://r/graph/{A}) · `frameworks/alpha.csv` " in [
        line.partition("**approved")[0] for line in lines
    ]
    assert (
        f"- [ ] **Beta** `{B}`: changes not recorded; [Registry](https://r/graph/{B}) · `frameworks/beta.csv`"
        in lines
    )
    # a framework the Registry had live before this change needs approving again too, ticked or not
    third = request(replace(item(B, "Beta", Changes(changed=2)), was_live=True), commit="def")
    approval.request_github_issue(client(github), third, "competency-approval", [])
    assert github.comments[1][-1]["body"].endswith(
        f"Approved before, changed since: approve again: **Beta** `{B}`.\n"
    )


def test_a_comment_already_posted_is_not_posted_twice(github: GitHubServer) -> None:
    """If the body update failed after the comment, the re-run only updates the body."""
    first, second = request(item(A, "Alpha")), request(item(B, "Beta"))
    approval.request_github_issue(client(github), first, "competency-approval", [])
    github.comments[1].append({"id": 1, "body": approval.comment_body(second), "html_url": "x"})
    approval.request_github_issue(client(github), second, "competency-approval", [])
    assert [m for m, _ in github.log()[-3:]] == ["GET", "GET", "PATCH"]
    assert len(github.comments[1]) == 1


def test_missing_approvers_are_assigned_and_pull_requests_and_foreign_issues_ignored(
    github: GitHubServer,
) -> None:
    github.add_issue("A pull request", approval.MARKER, ["competency-approval"], pull_request=True)
    github.add_issue("Someone else's issue", "hello", ["competency-approval"])
    req = request(item(A, "Alpha"))
    assert approval.request_github_issue(client(github), req, "competency-approval", ["alice"]).number == 3
    approval.request_github_issue(client(github), req, "competency-approval", ["alice", "carol"])
    assert github.log()[-1] == ("POST", f"/repos/{REPO}/issues/3/assignees")
    assert github.requests[-1].body == {"assignees": ["carol"]}
    assert [a["login"] for a in github.issues[3]["assignees"]] == ["alice", "carol"]


def test_a_label_github_dropped_is_reported() -> None:
    with GitHubServer(GITHUB_TOKEN, REPO, push_access=False) as server:
        outcome = approval.request_github_issue(
            client(server), request(item(A, "Alpha")), "approve-me", ["alice"]
        )
    assert outcome.detail == (
        "opened issue #1; warning: GitHub did not apply the label 'approve-me', "
        "so the next request cannot find it"
    )


def test_issues_are_read_across_pages() -> None:
    with GitHubServer(GITHUB_TOKEN, REPO, page_size=1) as server:
        server.add_issue("other", "x", ["competency-approval"])
        server.add_issue("ours", approval.MARKER, ["competency-approval"])
        issue = approval.find_issue(client(server), "competency-approval")
        assert issue is not None and issue.number == 2
        assert server.log()[1] == (
            "GET",
            f"/repos/{REPO}/issues?state=open&labels=competency-approval&direction=asc&per_page=100&page=2",
        )


def test_a_bad_token_is_refused_without_showing_it(github: GitHubServer) -> None:
    gh = GitHub("wrong-" + GITHUB_TOKEN, REPO, github.url)
    with pytest.raises(GitHubError) as caught:
        approval.request_github_issue(gh, request(item(A, "Alpha")), "competency-approval", [])
    assert str(caught.value) == (f"GET {github.url}/repos/{REPO}/issues: HTTP 401 Bad credentials")
    assert github.requests[0].headers["Authorization"] == "[invalid]"


def test_close_when_live_waits_for_every_framework_then_closes(github: GitHubServer) -> None:
    req = request(item(A, "Alpha"), item(B, "Beta"))
    approval.request_github_issue(client(github), req, "competency-approval", [])
    current = FrameworkStatus(A, "Alpha", "a.csv", State.CURRENT, f"https://r/graph/{A}")
    waiting = FrameworkStatus(B, "Beta", "b.csv", State.OUTDATED, f"https://r/graph/{B}")
    outcome = approval.close_when_live(client(github), "competency-approval", [current, waiting])
    assert (outcome.action, outcome.detail) == ("unchanged", f"issue #1 stays open: Beta ({B})")
    outcome = approval.close_when_live(client(github), "competency-approval", [current])
    assert outcome.action == "unchanged"  # Beta was not checked: no closing on a guess
    done = FrameworkStatus(B, "Beta", "b.csv", State.CURRENT, f"https://r/graph/{B}")
    assert approval.close_when_live(client(github), "competency-approval", [current, done]).action == "closed"
    assert github.issues[1]["state"] == "closed" and github.issues[1]["state_reason"] == "completed"
    assert github.comments[1][-1]["body"].splitlines() == [
        "All frameworks of this request are live in the Credential Registry and match the repository:",
        "",
        f"- **Alpha** `{A}`: [live graph](https://r/graph/{A})",
        f"- **Beta** `{B}`: [live graph](https://r/graph/{B})",
        "",
        "Note: the Credential Finder shows a framework about 30 minutes after it is published.",
        "",
        "Closed by `competency-ci status --close-approval-issue`.",
    ]
    assert (
        approval.close_when_live(client(github), "competency-approval", [current, done]).action == "skipped"
    )


# --- webhook -----------------------------------------------------------------------------------


def test_webhook_is_signed_valid_against_its_schema_and_retried() -> None:
    req = request(item(A, "Alpha", Changes(added=1)), run_url="https://ci/run/9")
    with WebhookServer(WEBHOOK_SECRET) as hook:
        hook.force(Reply(503, None, {"Retry-After": "0"}))
        outcome = approval.send_webhook(hook.hook_url, req, WEBHOOK_SECRET)
        assert (outcome.action, outcome.detail) == ("sent", f"POST {hook.hook_url}: HTTP 204")
        assert [r.status for r in hook.requests] == [503, 204]
        delivered = hook.requests[1]
    payload = approval.webhook_payload(req)
    assert delivered.body == payload == hook.deliveries[0]
    jsonschema.validate(payload, json.loads(SCHEMA.read_text("utf-8")))
    signature = "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), delivered.raw, hashlib.sha256).hexdigest()
    assert delivered.headers == {
        "Accept": "*/*",
        "Content-Type": "application/json",
        "User-Agent": "competency-ci/0.1.0",
        "X-Hub-Signature-256": signature,
        "X-Competency-CI-Event": "approval-requested",
        "X-Competency-CI-Delivery": req.digest,
    }
    assert WEBHOOK_SECRET not in delivered.raw.decode()


def test_webhook_schema_is_a_valid_schema_and_rejects_a_malformed_payload() -> None:
    jsonschema.Draft202012Validator.check_schema(json.loads(SCHEMA.read_text("utf-8")))
    payload = approval.webhook_payload(request(item(A, "Alpha")))
    payload["frameworks"][0]["changes"] = {"added": -1}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(payload, json.loads(SCHEMA.read_text("utf-8")))


def test_webhook_with_a_wrong_secret_is_refused_and_reported() -> None:
    with WebhookServer(WEBHOOK_SECRET) as hook, pytest.raises(RemoteError) as caught:
        approval.send_webhook(hook.hook_url, request(item(A, "Alpha")), "not-the-secret")
    assert str(caught.value) == (f"POST {hook.hook_url}: HTTP 401: the receiver refused the request")


def test_webhook_gives_up_within_the_time_budget() -> None:
    with WebhookServer() as hook:
        hook.force(*[Reply(502, None, {"Retry-After": "0"})] * 3)
        budget = Budget(RetryPolicy(attempts=3))
        with pytest.raises(RemoteError) as caught:
            approval.send_webhook(hook.hook_url, request(item(A, "Alpha")), None, budget=budget)
        assert caught.value.attempts and [str(a) for a in caught.value.attempts] == ["502", "502", "502"]
        assert "X-Hub-Signature-256" not in hook.requests[0].headers


# --- the command -------------------------------------------------------------------------------


@pytest.fixture
def servers() -> Any:
    with (
        RegistryServer(API_KEY) as registry,
        GitHubServer(GITHUB_TOKEN, REPO) as gh,
        WebhookServer(WEBHOOK_SECRET) as hook,
    ):
        yield registry, gh, hook


def test_request_approval_needs_a_token(tmp_path: Path, servers: Any, run_cli: Any, monkeypatch: Any) -> None:
    registry, _, _ = servers
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    config = write_repository(tmp_path, registry.url)
    code, out, err = run_cli("request-approval", "--config", str(config))
    assert (code, out) == (2, "")
    assert err == (
        "competency-ci request-approval: configuration error: "
        "github-issue approval needs a GitHub token in GITHUB_TOKEN (on GitHub Actions pass "
        "`GITHUB_TOKEN: ${{ github.token }}` with `permissions: issues: write`)\n"
    )
    assert registry.requests == []  # checked before anything is read or sent


def test_request_approval_by_webhook_from_a_result_file(
    tmp_path: Path, servers: Any, run_cli: Any, monkeypatch: Any
) -> None:
    registry, _, hook = servers
    monkeypatch.setenv("APPROVAL_WEBHOOK_SECRET", WEBHOOK_SECRET)
    config = write_repository(tmp_path, registry.url, extra=f"  webhook-url: {hook.hook_url}\n")
    record = PublishRecord(
        "cass", CASS, (PublishedFramework(KNIVES, "Knife Skills", "x", "written", Changes(changed=1)),)
    )
    (tmp_path / "result.json").write_text(record.to_json(), encoding="utf-8")
    args = (
        "request-approval",
        "--config",
        str(config),
        "--kind",
        "webhook",
        "--result",
        str(tmp_path / "result.json"),
    )
    code, out, err = run_cli(*args, "--commit", COMMIT, "--run-url", "https://ci/run/5")
    assert (code, err) == (0, "")
    assert out == f"approval (webhook): POST {hook.hook_url}: HTTP 204 ({hook.hook_url})\n"
    # the result file says what changed: the only Registry read is the organization's
    assert registry.log() == [("GET", f"/graph/{ORG}")]
    [delivery] = hook.deliveries
    assert [(f["ctid"], f["changes"]["changed"], f["outcome"]) for f in delivery["frameworks"]] == [
        (KNIVES, 1, "written")
    ]
    assert (delivery["commit"], delivery["run_url"], delivery["repository"]) == (
        COMMIT,
        "https://ci/run/5",
        REPO,
    )


def test_request_approval_rejects_a_bad_result_file(tmp_path: Path, servers: Any, run_cli: Any) -> None:
    registry, _, _ = servers
    config = write_repository(tmp_path, registry.url)
    (tmp_path / "result.json").write_text("[]", encoding="utf-8")
    code, out, err = run_cli(
        "request-approval", "--config", str(config), "--result", str(tmp_path / "result.json")
    )
    assert (code, out) == (2, "")
    assert err.endswith("result.json: not a competency-ci publish result (schema_version 1)\n")


def test_request_approval_none_and_dry_run_send_nothing(tmp_path: Path, servers: Any, run_cli: Any) -> None:
    registry, gh, _ = servers
    config = write_repository(tmp_path, registry.url)
    code, out, _ = run_cli("request-approval", "--config", str(config), "--kind", "none")
    assert (code, out) == (0, "approval (none): approval requests are off (approval.kind: none)\n")
    read = len(registry.requests)
    code, out, err = run_cli("request-approval", "--config", str(config), "--dry-run", "--format", "json")
    assert (code, err) == (
        0,
        "dry run: the Registry was not read (what is live, whether the organization is published); "
        "add --check-registry to read it\n",
    )
    assert len(registry.requests) == read  # offline: nothing read, nothing waited for
    payload = json.loads(out)
    jsonschema.validate(payload, json.loads(SCHEMA.read_text("utf-8")))
    assert [(f["ctid"], f["changes"]) for f in payload["frameworks"]] == [
        (KITCHEN, None),
        (KNIVES, None),
        (SERVICE, None),
    ]
    assert payload["organization"] == {"ctid": ORG, "live": None, "summary_url": PUBLISHER}
    code, out, err = run_cli(
        "request-approval", "--config", str(config), "--dry-run", "--check-registry", "--format", "json"
    )
    assert (code, err) == (0, "")
    assert registry.log()[read:] == [("GET", f"/graph/{c}") for c in (ORG, KITCHEN, KNIVES, SERVICE)]
    payload = json.loads(out)
    jsonschema.validate(payload, json.loads(SCHEMA.read_text("utf-8")))
    assert [(f["ctid"], f["changes"]["new"], f["approve_again"]) for f in payload["frameworks"]] == [
        (KITCHEN, True, False),
        (KNIVES, True, False),
        (SERVICE, True, False),
    ]
    assert payload["organization"] == {"ctid": ORG, "live": False, "summary_url": PUBLISHER}
    assert payload["procedure"][0].startswith("First, the organization. Frameworks cannot be approved")
    assert payload["procedure"][1:] == [
        f"1. Open the organization's Organization Summary Page ({PUBLISHER}).",
        "2. Select the Frameworks tab.",
        "3. Select the frameworks listed below (or Select All).",
        "4. Click Approve All Selected Items.",
    ]
    assert gh.requests == []
