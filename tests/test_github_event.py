"""The pure GitHub plumbing: events, inputs, workflow-command escaping, outputs; and git changes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from actionrunner import Command, evaluate, parse_commands, parse_key_values, substitute
from competency_ci.action import plumbing as gh
from competency_ci.action.run import SECRET_ENV
from competency_ci.gitfiles import changed_files
from competency_ci.report import escape as esc

BASE, HEAD, MERGE = "a" * 40, "b" * 40, "c" * 40


def pr_payload(action: str = "opened", *, merged: bool = False, fork: bool = False) -> dict[str, object]:
    return {
        "action": action,
        "repository": {"full_name": "acme/frameworks", "default_branch": "main"},
        "pull_request": {
            "number": 7,
            "html_url": "https://github.com/acme/frameworks/pull/7",
            "merged": merged,
            "merge_commit_sha": MERGE,
            "base": {"sha": BASE, "repo": {"full_name": "acme/frameworks"}},
            "head": {"sha": HEAD, "repo": {"full_name": "fork/frameworks" if fork else "acme/frameworks"}},
        },
    }


def test_pull_request_is_reviewed_between_base_and_head() -> None:
    event = gh.parse_event("pull_request", pr_payload("synchronize"))
    assert event == gh.Event(
        "pull_request",
        gh.REVIEW,
        BASE,
        HEAD,
        repository="acme/frameworks",
        default_branch="main",
        fork=False,
        number=7,
        url="https://github.com/acme/frameworks/pull/7",
        reason="pull request",
    )


def test_fork_pull_request_is_flagged() -> None:
    assert gh.parse_event("pull_request", pr_payload(fork=True)).fork is True


def test_fork_whose_repository_was_deleted_is_a_fork() -> None:
    payload = pr_payload()
    payload["pull_request"]["head"]["repo"] = None  # type: ignore[index]
    assert gh.parse_event("pull_request", payload).fork is True


def test_merged_pull_request_publishes_the_merge_commit() -> None:
    event = gh.parse_event("pull_request", pr_payload("closed", merged=True))
    assert (event.action, event.base, event.head) == (gh.PUBLISH, BASE, MERGE)


def test_closed_unmerged_pull_request_is_ignored() -> None:
    event = gh.parse_event("pull_request", pr_payload("closed"))
    assert (event.action, event.reason) == (gh.IGNORE, "pull request closed without merging")


def push(ref: str, before: str = BASE, after: str = HEAD) -> dict[str, object]:
    return {
        "ref": ref,
        "before": before,
        "after": after,
        "repository": {"full_name": "acme/frameworks", "default_branch": "main"},
    }


def test_push_to_default_branch_publishes() -> None:
    event = gh.parse_event("push", push("refs/heads/main"))
    assert (event.action, event.base, event.head) == (gh.PUBLISH, BASE, HEAD)
    assert event.reason == "push to the default branch main"


def test_push_to_other_branch_is_reviewed() -> None:
    assert gh.parse_event("push", push("refs/heads/feature")).action == gh.REVIEW


def test_push_of_a_new_branch_has_no_base() -> None:
    event = gh.parse_event("push", push("refs/heads/main", before=gh.ZERO_SHA))
    assert (event.action, event.base, event.head) == (gh.PUBLISH, None, HEAD)


def test_branch_deletion_is_ignored() -> None:
    assert gh.parse_event("push", push("refs/heads/x", after=gh.ZERO_SHA)).action == gh.IGNORE


def test_manual_run_on_default_branch_publishes_everything() -> None:
    event = gh.parse_event("workflow_dispatch", push("refs/heads/main"), ref="refs/heads/main")
    assert (event.action, event.base) == (gh.PUBLISH, None)


@pytest.mark.parametrize(
    ("name", "payload", "message"),
    [
        ("pull_request", [], "the event payload is not a JSON object"),
        ("pull_request", {"action": "opened"}, "pull_request event without a pull_request object"),
        ("pull_request", {"pull_request": {"base": {}}}, "pull_request event without pull_request.head.sha"),
        ("issues", {}, "event 'issues' is not handled in auto mode"),
    ],
)
def test_unusable_events_are_refused(name: str, payload: object, message: str) -> None:
    with pytest.raises(gh.ActionError, match=message):
        gh.parse_event(name, payload)


def test_settings_from_inputs() -> None:
    env = {
        "CCI_MODE": "plan",
        "CCI_PATHS": "frameworks/*.csv\nother.csv, third.csv",
        "CCI_CASS_KEY": "  -----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n",
        "CCI_APPROVERS": "@alice, bob",
        "CCI_STRICT": "true",
        "CCI_TARGET": "",
        "CCI_GITHUB_TOKEN": "ghs_token",
    }
    settings = gh.settings_from_env(env)
    assert settings.mode == "plan"
    assert settings.paths == ["frameworks/*.csv", "other.csv", "third.csv"]
    assert settings.cass_key == "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----"
    assert settings.approvers == ["alice", "bob"]
    assert settings.strict is True
    assert settings.target == "cass"
    assert settings.github_token == "ghs_token"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CCI_MODE": "deploy"}, "input mode: expected one of auto, validate, plan, publish, got 'deploy'"),
        ({"CCI_TARGET": "x"}, "input target: expected one of cass, registry, got 'x'"),
        ({"CCI_APPROVAL": "email"}, "input approval: expected one of github-issue, webhook, none"),
        ({"CCI_STRICT": "maybe"}, "input strict: expected true or false, got 'maybe'"),
    ],
)
def test_bad_inputs_are_refused(env: dict[str, str], message: str) -> None:
    with pytest.raises(gh.ActionError, match=message):
        gh.settings_from_env(env)


def test_escaping_keeps_untrusted_text_inside_one_command() -> None:
    text = "50% done\r\n::error::owned"
    line = esc.command("error", text, file="a,b.csv", line=3, title="bad: cell")
    assert line == "::error file=a%2Cb.csv,line=3,title=bad%3A cell::50%25 done%0D%0A::error::owned"
    assert parse_commands(line) == [
        # the runner reads one command whose message is the original text
        Command("error", {"file": "a,b.csv", "line": "3", "title": "bad: cell"}, text)
    ]


def test_stop_commands_silence_untrusted_lines() -> None:
    text = "ok\n::error::owned\n::set-output name=x::y"
    wrapped = esc.stop_commands(text, token="t0k3n")
    assert wrapped == "::stop-commands::t0k3n\nok\n::error::owned\n::set-output name=x::y\n::t0k3n::"
    assert parse_commands(wrapped + "\n::notice::after") == [Command("notice", {}, "after")]


def test_masks_cover_each_line_of_a_multiline_secret() -> None:
    key = "-----BEGIN KEY-----\nAAAA%BBBB\n-----END KEY-----"
    assert gh.mask_commands([key, "tok"]) == [
        "::add-mask::-----BEGIN KEY-----%0AAAAA%25BBBB%0A-----END KEY-----",
        "::add-mask::-----BEGIN KEY-----",
        "::add-mask::AAAA%25BBBB",
        "::add-mask::-----END KEY-----",
    ]


def test_output_records_round_trip() -> None:
    single = gh.output_record("url", "https://x/1")
    multi = gh.output_record("published", '[\n  {"path": "a.csv"}\n]', delimiter="EOF_1")
    assert single == "url=https://x/1\n"
    assert multi == 'published<<EOF_1\n[\n  {"path": "a.csv"}\n]\nEOF_1\n'
    assert parse_key_values(single + multi) == {
        "url": "https://x/1",
        "published": '[\n  {"path": "a.csv"}\n]',
    }
    with pytest.raises(ValueError, match="delimiter occurs in the value"):
        gh.output_record("x", "a\nEOF\n", delimiter="EOF")


def test_summary_is_cut_at_the_limit() -> None:
    text = "".join(f"| row {i} |\n" for i in range(1000))
    cut = gh.fit_summary(text, limit=2000)
    assert len(cut.encode()) <= 2000
    assert cut.endswith("exceeds GitHub's 1 MiB limit. Run the command locally.**\n")
    assert cut.startswith("| row 0 |\n")
    assert gh.fit_summary("short") == "short"


def test_markdown_cell_cannot_break_the_table() -> None:
    assert esc.md_cell("a|b\n<script>\\") == "a\\|b &lt;script&gt;\\\\"


# --- the local runner's expression evaluator (used by the end-to-end tests) -----------------------


def test_expression_evaluator() -> None:
    context = {
        "inputs": {"cass-key": "", "mode": "auto"},
        "github": {"token": "T", "event": {"pull_request": {"merged": True}}},
        "steps": {"run": {"outputs": {"changed-frameworks": "[]"}}},
    }
    assert evaluate("inputs.cass-key || github.token", context) == "T"
    assert evaluate("github.event.pull_request.merged == true && 'yes'", context) == "yes"
    assert evaluate("!(inputs.mode != 'AUTO')", context) is True
    assert evaluate("steps.run.outputs['changed-frameworks']", context) == "[]"
    assert substitute("x=${{ inputs.missing }};y=${{ github.token }}", context) == "x=;y=T"


# --- git -----------------------------------------------------------------------------------------


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(cwd), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def make_repo(path: Path) -> tuple[str, str]:
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.email", "t@example.org")
    git(path, "config", "user.name", "t")
    (path / "keep.csv").write_text("a\n")
    (path / "old.csv").write_text("x\n" * 20)
    (path / "gone.csv").write_text("g\n")
    git(path, "add", ".")
    git(path, "commit", "-q", "-m", "base")
    base = git(path, "rev-parse", "HEAD")
    (path / "keep.csv").write_text("b\n")
    git(path, "mv", "old.csv", "new.csv")
    git(path, "rm", "-q", "gone.csv")
    (path / "added.csv").write_text("n\n")
    git(path, "add", ".")
    git(path, "commit", "-q", "-m", "head")
    return base, git(path, "rev-parse", "HEAD")


def test_base_commit_is_fetched_into_a_shallow_checkout(tmp_path: Path) -> None:
    base, head = make_repo(tmp_path / "repo")
    git(tmp_path, "clone", "-q", "--bare", str(tmp_path / "repo"), "origin.git")
    git(tmp_path / "origin.git", "config", "uploadpack.allowAnySHA1InWant", "true")
    git(tmp_path, "clone", "-q", "--depth=1", f"file://{tmp_path / 'origin.git'}", "shallow")
    shallow = tmp_path / "shallow"
    assert not gh.has_commit(shallow, base)
    assert gh.ensure_commit(shallow, base) is True
    assert gh.has_commit(shallow, base)
    changes = changed_files(base, head, [":(glob)**/*.csv", ":(glob,exclude)gone.csv"], shallow)
    assert [(c.status, c.old_path, c.new_path) for c in changes] == [
        ("added", None, "added.csv"),
        ("modified", "keep.csv", "keep.csv"),
        ("renamed", "old.csv", "new.csv"),
    ]


def test_unreachable_commit_is_reported_missing(tmp_path: Path) -> None:
    make_repo(tmp_path / "repo")
    assert gh.ensure_commit(tmp_path / "repo", "d" * 40) is False


# --- `competency-ci github` refusing unusable settings (in-process) -------------------------------


@pytest.fixture
def action_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """On Actions, but no action inputs, no secrets and no event in the environment; cwd is an empty
    directory. (Without GITHUB_ACTIONS the run would be a local one: tests/test_github_local.py.)"""
    monkeypatch.chdir(tmp_path)
    for name in (*gh.ENV.values(), *SECRET_ENV, "GITHUB_EVENT_NAME", "GITHUB_EVENT_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    return monkeypatch


def test_masks_are_printed_even_when_the_inputs_are_unusable(run_cli, action_env: pytest.MonkeyPatch) -> None:
    action_env.setenv("CCI_GITHUB_TOKEN", "ghs_secret_value")
    action_env.setenv("CCI_WEBHOOK_SECRET", "hook-secret")
    action_env.setenv("CASS_KEY", "key-from-the-environment")
    action_env.setenv("CCI_MODE", "deploy")
    code, out, err = run_cli("github")
    assert code == 2
    assert out.splitlines() == [
        "::add-mask::hook-secret",
        "::add-mask::ghs_secret_value",
        "::add-mask::key-from-the-environment",
        "::error title=competency-ci::input mode: expected one of auto, validate, plan, publish, "
        "got 'deploy'",
    ]
    assert err == ""


def test_missing_event_is_a_usage_error(run_cli, action_env: pytest.MonkeyPatch) -> None:
    code, out, _ = run_cli("github")
    assert code == 2
    assert out == (
        "::error title=competency-ci::GITHUB_EVENT_NAME and GITHUB_EVENT_PATH are not set: "
        "run this on GitHub Actions\n"
    )


def test_unreadable_event_payload_is_a_usage_error(
    run_cli, action_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "event.json").write_text("{not json")
    action_env.setenv("GITHUB_EVENT_NAME", "push")
    action_env.setenv("GITHUB_EVENT_PATH", str(tmp_path / "event.json"))
    code, out, _ = run_cli("github")
    assert code == 2
    assert out.startswith(
        f"::error title=competency-ci::cannot read the event payload {tmp_path / 'event.json'}: "
    )
