"""GitHub Actions plumbing: the action's inputs, the event, workflow commands, outputs, summaries.

The pure part turns what the runner hands us (environment variables, the event payload) into
dataclasses, and what we want to say into exact text (masks, escaped commands, `$GITHUB_OUTPUT`
records, summary sections). The thin shell at the end fetches a missing base commit and appends to
the runner's files. Nothing here validates or publishes: `cli/github.py` wires these pieces to the
core; which files changed is `gitfiles.changed_files`.
"""

from __future__ import annotations

import secrets as _secrets
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from competency_ci.report.escape import command, md_cell, md_code, md_link, one_line, stop_commands

if TYPE_CHECKING:
    from competency_ci.frameworks.problems import Problem
    from competency_ci.targets.record import PublishRecord

ZERO_SHA = "0" * 40
MODES = ("auto", "validate", "plan", "publish")
TARGETS = ("cass", "registry")
SCOPES = ("changed", "all")  # what a merge reads and plans: the frameworks it changed, or every one
APPROVALS = ("github-issue", "webhook", "none")
SUMMARY_LIMIT = 1024 * 1024  # GitHub rejects a step summary above 1 MiB
TRUE, FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off", "")


class ActionError(Exception):
    """Unusable action inputs or event payload (exit code 2)."""


# --- settings -------------------------------------------------------------------------------------

# action.yml input -> the environment variable its run step sets (composite actions get no INPUT_*).
ENV = {
    name: "CCI_" + name.upper().replace("-", "_")
    for name in (
        "paths",
        "config",
        "mode",
        "cass-url",
        "cass-key",
        "registry",
        "organization-ctid",
        "target",
        "registry-api-key",
        "approval",
        "approvers",
        "webhook-url",
        "webhook-secret",
        "github-token",
        "strict",
        "pr-comment",
        "scope",
        "publish-record",
        "drift-pull-request",
    )
}
SECRET_INPUTS = ("cass-key", "registry-api-key", "webhook-secret", "github-token")


@dataclass(frozen=True)
class Settings:
    """The action's inputs. Empty strings mean "not given": the configuration file decides."""

    mode: str = "auto"
    paths: list[str] = field(default_factory=list)
    config: str | None = None
    cass_url: str | None = None
    cass_key: str | None = None
    registry: str | None = None
    organization: str | None = None
    target: str = "cass"
    registry_api_key: str | None = None
    approval: str | None = None
    approvers: list[str] = field(default_factory=list)
    webhook_url: str | None = None
    webhook_secret: str | None = None
    github_token: str | None = None
    strict: bool = False
    pr_comment: bool = True  # keep the review comment on the pull request
    scope: str = "changed"  # a merge plans the frameworks it changed (and unfinished ones), or all
    publish_record: str | None = None  # the record file kept between runs (unfinished frameworks)
    drift_pull_request: bool = False  # open a pull request with edits made in CASS (action/drift_pr.py)


def _words(value: str) -> list[str]:
    """Newline-, comma- or space-separated list (YAML block scalars make newlines natural)."""
    return [w for w in value.replace(",", " ").split() if w]


def settings_from_env(env: Mapping[str, str]) -> Settings:
    def get(name: str) -> str | None:
        return env.get(ENV[name], "").strip() or None

    def choice(name: str, allowed: tuple[str, ...]) -> str | None:
        value = get(name)
        if value is not None and value not in allowed:
            raise ActionError(f"input {name}: expected one of {', '.join(allowed)}, got {value!r}")
        return value

    strict = (get("strict") or "false").lower()
    if strict not in TRUE + FALSE:
        raise ActionError(f"input strict: expected true or false, got {strict!r}")
    pr_comment = (get("pr-comment") or "true").lower()
    if pr_comment not in TRUE + FALSE:
        raise ActionError(f"input pr-comment: expected true or false, got {pr_comment!r}")
    drift_pr = (get("drift-pull-request") or "false").lower()
    if drift_pr not in TRUE + FALSE:
        raise ActionError(f"input drift-pull-request: expected true or false, got {drift_pr!r}")
    return Settings(
        mode=choice("mode", MODES) or "auto",
        paths=_words(env.get(ENV["paths"], "")),
        config=get("config"),
        cass_url=get("cass-url"),
        cass_key=get("cass-key"),  # a PEM keeps its inner line breaks
        registry=get("registry"),
        organization=get("organization-ctid"),
        target=choice("target", TARGETS) or "cass",
        registry_api_key=get("registry-api-key"),
        approval=choice("approval", APPROVALS),
        approvers=[a.lstrip("@") for a in _words(env.get(ENV["approvers"], ""))],
        webhook_url=get("webhook-url"),
        webhook_secret=get("webhook-secret"),
        github_token=get("github-token"),
        strict=strict in TRUE,
        pr_comment=pr_comment in TRUE,
        scope=choice("scope", SCOPES) or "changed",
        publish_record=get("publish-record"),
        drift_pull_request=drift_pr in TRUE,
    )


# --- the event ------------------------------------------------------------------------------------

REVIEW, PUBLISH, IGNORE = "review", "publish", "ignore"


@dataclass(frozen=True)
class Event:
    """What triggered the run, reduced to what we act on.

    ``base`` is None when there is nothing to compare with (a new branch, a manual run): then
    every framework file counts as changed.
    """

    name: str
    action: str  # review | publish | ignore
    base: str | None
    head: str | None
    repository: str | None = None
    default_branch: str | None = None
    fork: bool = False
    number: int | None = None
    url: str | None = None
    reason: str = ""


def _get(payload: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(payload, dict):
            return None
        payload = payload.get(key)
    return payload


def _sha(value: Any) -> str | None:
    return value if isinstance(value, str) and value and value != ZERO_SHA else None


def parse_event(name: str, payload: Any, ref: str | None = None) -> Event:
    """Decide what an event asks for (`auto` mode). Raises ActionError on an unusable payload."""
    if not isinstance(payload, dict):
        raise ActionError("the event payload is not a JSON object")
    repository = _get(payload, "repository", "full_name")
    default_branch = _get(payload, "repository", "default_branch")
    if name in ("pull_request", "pull_request_target"):
        pr = payload.get("pull_request")
        if not isinstance(pr, dict):
            raise ActionError(f"{name} event without a pull_request object")
        base, head = _sha(_get(pr, "base", "sha")), _sha(_get(pr, "head", "sha"))
        if head is None:
            raise ActionError(f"{name} event without pull_request.head.sha")
        head_repo = _get(pr, "head", "repo", "full_name")
        base_repo = _get(pr, "base", "repo", "full_name")
        common = {
            "repository": repository or base_repo,
            "default_branch": default_branch,
            "fork": head_repo != base_repo,
            "number": pr.get("number") if isinstance(pr.get("number"), int) else None,
            "url": pr.get("html_url") if isinstance(pr.get("html_url"), str) else None,
        }
        if payload.get("action") == "closed":
            if pr.get("merged") is True:
                merge = _sha(pr.get("merge_commit_sha")) or head
                return Event(name, PUBLISH, base, merge, reason="pull request merged", **common)
            return Event(name, IGNORE, base, head, reason="pull request closed without merging", **common)
        return Event(name, REVIEW, base, head, reason="pull request", **common)
    if name == "push":
        after = _sha(payload.get("after"))
        if after is None:
            return Event(name, IGNORE, None, None, repository, default_branch, reason="branch deleted")
        push_ref = payload.get("ref") if isinstance(payload.get("ref"), str) else ref
        on_default = bool(default_branch) and push_ref == f"refs/heads/{default_branch}"
        return Event(
            name,
            PUBLISH if on_default else REVIEW,
            _sha(payload.get("before")),
            after,
            repository,
            default_branch,
            url=payload.get("compare") if isinstance(payload.get("compare"), str) else None,
            reason=f"push to the default branch {default_branch}" if on_default else "push",
        )
    if name in ("workflow_dispatch", "schedule"):
        on_default = bool(default_branch) and ref == f"refs/heads/{default_branch}"
        return Event(
            name,
            PUBLISH if on_default else REVIEW,
            None,
            None,
            repository,
            default_branch,
            reason=f"{name} on {'the default branch' if on_default else ref or 'a branch'}",
        )
    raise ActionError(
        f"event {name!r} is not handled in auto mode: run on pull_request and push, "
        "or set the mode input (validate, plan or publish)"
    )


# --- workflow commands ----------------------------------------------------------------------------


def mask_commands(values: Iterable[str]) -> list[str]:
    """`::add-mask::` lines for every secret, line by line (GitHub masks single lines: PEM keys)."""
    lines: list[str] = []
    for value in values:
        for part in [value, *value.splitlines()]:
            part = part.strip()
            if len(part) >= 4 and command("add-mask", part) not in lines:
                lines.append(command("add-mask", part))
    return lines


@dataclass(frozen=True)
class Console:
    """How a run says what it finds: workflow commands on GitHub Actions, or, in a local run
    (``competency-ci github --local``, the default outside Actions), the same findings as plain
    text, so a person sees in a terminal what the action would report on a pull request."""

    local: bool = False

    def masks(self, values: Iterable[str]) -> list[str]:
        """Masks tell the runner what to hide; a terminal has no runner (and nothing prints a secret)."""
        return [] if self.local else mask_commands(values)

    def annotation(self, level: str, message: str) -> str:
        """``::error title=competency-ci::…`` on Actions; ``error: …`` locally."""
        if self.local:
            return f"{level}: {one_line(message)}"
        return command(level, message, title="competency-ci")

    def untrusted(self, text: str) -> str:
        """Text that may quote files: between stop-commands on Actions; a ``note:`` line locally."""
        return f"note: {one_line(text)}" if self.local else stop_commands(text)

    def report(self, summary: str, outputs: Mapping[str, str]) -> str:
        """What the action hands the runner at the end (the job summary, the step outputs), printed
        locally; on Actions nothing: they go to the runner's files."""
        if not self.local:
            return ""
        records = "".join(output_record(name, value) for name, value in outputs.items())
        return (
            f"\n--- job summary (Markdown, as the action writes it to $GITHUB_STEP_SUMMARY) ---\n"
            f"{summary.rstrip()}\n\n--- step outputs ($GITHUB_OUTPUT) ---\n{records}"
        )


def output_record(name: str, value: str, delimiter: str | None = None) -> str:
    """One `$GITHUB_OUTPUT` record; the heredoc form with a random delimiter takes any value."""
    if "\n" not in value and "\r" not in value:
        return f"{name}={value}\n"
    delimiter = delimiter or f"ghadelimiter_{_secrets.token_hex(16)}"
    if delimiter in value:
        raise ValueError("delimiter occurs in the value")
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


def fit_summary(markdown: str, limit: int = SUMMARY_LIMIT) -> str:
    """Cut a job summary to GitHub's size limit, saying so, instead of losing the upload."""
    data = markdown.encode("utf-8")
    if len(data) <= limit:
        return markdown
    note = "\n\n**The summary was cut here: it exceeds GitHub's 1 MiB limit. Run the command locally.**\n"
    keep = data[: limit - len(note.encode("utf-8"))].decode("utf-8", "ignore")
    return keep[: keep.rfind("\n") + 1] + note


# --- the shell: runner files and git --------------------------------------------------------------


def append_file(path: str | None, text: str) -> None:
    """Append to a runner file (`$GITHUB_OUTPUT`, `$GITHUB_STEP_SUMMARY`); no-op outside Actions."""
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text)


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, encoding="utf-8", check=False
    )


def has_commit(root: Path, sha: str) -> bool:
    return _git(root, "cat-file", "-e", f"{sha}^{{commit}}").returncode == 0


def ensure_commit(root: Path, sha: str, remote: str = "origin") -> bool:
    """Make ``sha`` available, fetching just that commit when the checkout is shallow (the
    default `actions/checkout` has only the head commit)."""
    if has_commit(root, sha):
        return True
    _git(root, "fetch", "--no-tags", "--quiet", "--depth=1", remote, sha)
    return has_commit(root, sha)


# --- job summary sections (Markdown; every value from a file goes through report.escape) ----------


def problems_markdown(problems: list[Problem], headline: str) -> str:
    """The full problem list: GitHub shows only 10 annotations of each level per step."""
    lines = ["### Validation", "", headline, ""]
    if problems:
        lines += ["| file | line | cell | level | code | message |", "|---|---:|---|---|---|---|"]
        for p in sorted(problems, key=lambda p: (p.path, p.line, -1 if p.index is None else p.index, p.code)):
            cell = f"{p.cell} ({md_code(p.column or '', table=True)})" if p.cell else ""
            message = md_cell(p.message + (f" Hint: {p.hint}" if p.hint else ""))
            path = md_code(p.path, table=True)
            lines.append(f"| {path} | {p.line} | {cell} | {p.level.value} | `{p.code}` | {message} |")
        lines.append("")
    return "\n".join(lines)


def published_markdown(record: PublishRecord) -> str:
    lines = [f"### Published to {record.target} {md_code(record.server)}", ""]
    if not record.frameworks:
        return "\n".join([*lines, "No frameworks.", ""])
    lines += ["| file | framework | CTID | outcome | changes |", "|---|---|---|---|---|"]
    for f in record.frameworks:
        name = md_link(f.name, f.url)
        changes = str(f.changes) if f.changes is not None else ""
        detail = "; ".join(f.messages) if f.outcome == "failed" else changes
        lines.append(
            f"| {md_code(f.path, table=True)} | {name} | {md_code(f.ctid, table=True)} | {f.outcome} "
            f"| {md_cell(detail)} |"
        )
    written = sum(1 for f in record.frameworks if f.outcome == "written")
    lines += [
        "",
        f"{written} written, {len(record.frameworks) - written} not written (unchanged or failed).",
        "",
    ]
    return "\n".join(lines)
