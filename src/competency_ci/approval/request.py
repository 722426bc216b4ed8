"""Asking people to approve published frameworks: a GitHub issue, a webhook, or nothing.

No public CE API approves a framework (`registry-and-approval.md` §3.2): a person with Publisher
access does. So a request tells the approvers exactly what to approve and where, once. The request
document and its renderings are pure; :func:`request_github_issue` and :func:`send_webhook` are
the only functions that talk to a service.

Idempotence: every request has a digest (SHA-256 of its content without the run URL). The approval
issue keeps the digest of the last request it carries in a hidden state block, and each comment
carries its own digest, so re-running the same request changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

from competency_ci.http import Budget, RemoteError, new_session, send
from competency_ci.report.escape import md_code, md_link, md_text, one_line
from competency_ci.targets.record import Changes, PublishRecord

if TYPE_CHECKING:
    from competency_ci.frameworks.config import Config
    from competency_ci.frameworks.model import Framework
    from competency_ci.githubapi import GitHub
    from competency_ci.targets.registry.status import FrameworkStatus

SCHEMA_VERSION = 2
EVENT = "approval-requested"
MARKER = "<!-- competency-ci:approval -->"
TITLE = "Approve competency frameworks in the Credential Engine Publisher"
_STATE = re.compile(r"<!-- competency-ci:state (\{.*?\}) -->", re.S)
_COMMENT = re.compile(r"<!-- competency-ci:request sha256=([0-9a-f]{64}) -->")
_CHECKED = re.compile(r"^- \[[xX]\] .*?`(ce-[0-9a-f-]{36})`", re.M)


@dataclass(frozen=True)
class Item:
    """One framework to approve, with every link the approver needs."""

    ctid: str
    name: str
    path: str
    registry_uri: str
    graph_url: str
    cass_url: str | None = None
    changes: Changes | None = None
    outcome: str | None = None
    verification: str | None = None
    was_live: bool | None = None  # live in the Registry before this change: approved once already

    @property
    def changes_text(self) -> str:
        return str(self.changes) if self.changes is not None else "changes not recorded"


@dataclass(frozen=True)
class Request:
    items: tuple[Item, ...]
    publisher_url: str
    registry_url: str
    repository: str | None = None
    commit: str | None = None
    run_url: str | None = None
    summary_url: str | None = None
    organization: str | None = None
    organization_live: bool | None = None  # None: not checked (a dry run, or no organization CTID)

    @property
    def digest(self) -> str:
        """Identity of the request: same frameworks, changes, links and commit -> same digest."""
        data = asdict(self)
        data.pop("run_url")
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def cass_link(cass_url: str | None, registry_uri: str) -> str | None:
    """Where CE's Publisher reads the framework from CASS: ``{cass}/api/ceasn/{md5(uri)}``."""
    if not cass_url:
        return None
    from competency_ci.targets.cass.ids import md5_key

    base = cass_url if cass_url.endswith("/") else cass_url + "/"
    return f"{base}ceasn/{md5_key(registry_uri)}"


def build_request(
    frameworks: Sequence[Framework],
    config: Config,
    *,
    record: PublishRecord | None = None,
    changes: dict[str, Changes] | None = None,
    repository: str | None = None,
    commit: str | None = None,
    run_url: str | None = None,
    organization_live: bool | None = None,
    was_live: dict[str, bool] | None = None,
) -> Request:
    """The frameworks to approve: all given ones, or with a publish record only those it wrote."""
    from competency_ci.frameworks.jsonld import graph_uri, resource_uri
    from competency_ci.targets.registry.publish import repo_path

    written = {f.ctid: f for f in record.frameworks if f.outcome == "written"} if record else None
    cass_url = (record.server if record and record.target == "cass" else None) or config.cass.url
    items = []
    for fw in frameworks:
        if written is not None and fw.ctid not in written:
            continue
        published = written.get(fw.ctid) if written is not None else None
        uri = resource_uri(config.registry_url, fw.ctid)
        items.append(
            Item(
                ctid=fw.ctid,
                name=fw.name,
                path=repo_path(fw.path, config),
                registry_uri=uri,
                graph_url=graph_uri(config.registry_url, fw.ctid),
                cass_url=cass_link(cass_url, uri),
                changes=(published.changes if published else None) or (changes or {}).get(fw.ctid),
                outcome=published.outcome if published else None,
                verification=published.verification if published else None,
                was_live=(was_live or {}).get(fw.ctid),
            )
        )
    return Request(
        tuple(items),
        config.publisher_url,
        config.registry_url,
        repository or config.approval.repository,
        commit,
        run_url,
        config.organization_summary_url,
        config.organization,
        organization_live if config.organization else None,
    )


def organization_published(config: Config, budget: Budget | None = None) -> bool | None:
    """Is the organization live in the Registry (``{registry}/graph/{ctid}``)? Frameworks cannot be
    approved before it is. None when there is no organization CTID or the Registry did not answer:
    the request then states the prerequisite instead of its result."""
    from competency_ci.targets.registry.client import RegistryError, RegistryReader

    if not config.organization:
        return None
    try:
        return RegistryReader(config.registry_url, budget=budget).is_published(config.organization)
    except (RemoteError, RegistryError):
        return None


# --- renderings -------------------------------------------------------------------------------


AGAIN = "approved before, changed since: approve again"
FINDER = "the Credential Finder shows a framework about 30 minutes after it is published"


def procedure(request: Request, *, markdown: bool = True) -> list[str]:
    """CE's own steps ("Uploading and Approving Competency Framework Data"), in its words."""
    b = _bold if markdown else str

    def link(text: str, url: str) -> str:
        return f"[{text}]({url})" if markdown else f"{text} ({url})"

    if request.summary_url:
        where = f"Open the organization's {link(b('Organization Summary Page'), request.summary_url)}"
    else:
        where = (
            f"Sign in to the {link('Credential Engine Publisher', request.publisher_url)}, open "
            f"{b('My Organization')} and go to the organization's {b('Organization Summary Page')} (set "
            "`approval.publisher-organization-id` to link it here)"
        )
    return [
        f"1. {where}.",
        f"2. Select the {b('Frameworks')} tab.",
        f"3. Select the frameworks listed below (or {b('Select All')}).",
        f"4. Click {b('Approve All Selected Items')}.",
    ]


def _where(request: Request) -> str:
    if request.summary_url:
        return f"[Organization Summary Page]({request.summary_url})"
    return f"[Credential Engine Publisher]({request.publisher_url})"


def _bold(text: str) -> str:
    return f"**{text}**"


def prerequisite(request: Request, *, markdown: bool = True) -> list[str]:
    """The organization must be approved and published before its frameworks can be approved."""
    b = _bold if markdown else str
    steps = (
        f"use {b('Approve my Organization')} on the {b('My Organization')} tab of the Publisher and wait "
        "for Credential Engine's email that the organization is published"
    )
    if request.organization_live is False:
        org = f"{md_code(request.organization or '')}" if markdown else request.organization
        return [
            f"{b('First, the organization.')} Frameworks cannot be approved until the organization itself "
            f"has been approved and published, and {org} is not in the Credential Registry yet: {steps}. "
            "Then approve the frameworks as below."
        ]
    if request.organization_live is None:
        return [
            "Frameworks cannot be approved until the organization itself has been approved and published "
            f"(not checked for this request). If it is not yet, first {steps}."
        ]
    return []


def _line(item: Item, checked: bool = False, again: bool = False) -> str:
    links = [md_link("Registry", item.graph_url)]
    if item.cass_url:
        links.insert(0, md_link("CE view in CASS", item.cass_url))
    verified = f"; CE view: {md_text(item.verification)}" if item.verification else ""
    flag = f" **{AGAIN}**." if again else ""
    return (
        f"- [{'x' if checked else ' '}] **{md_text(item.name)}** `{item.ctid}`: "
        f"{item.changes_text}{verified}; "
        f"{' · '.join(links)} · {md_code(item.path)}{flag}"
    )


def _again(request: Request, approved: set[str]) -> set[str]:
    """Frameworks of this request that were approved once already: ticked in the issue, or live."""
    return {i.ctid for i in request.items if i.ctid in approved or i.was_live}


def _origin(request: Request) -> str:
    parts = []
    if request.commit:
        parts.append(f"commit {request.commit[:12]}")
    if request.run_url:
        parts.append(md_link("workflow run", request.run_url))
    return f" ({', '.join(parts)})" if parts else ""


@dataclass
class IssueState:
    """What the approval issue tracks, kept in its body as hidden JSON."""

    last: str = ""
    items: list[Item] = field(default_factory=list)

    def to_comment(self) -> str:
        data = {"version": SCHEMA_VERSION, "last": self.last, "frameworks": [asdict(i) for i in self.items]}
        text = json.dumps(data, sort_keys=True).replace("-->", "--\\u003e").replace("<", "\\u003c")
        return f"<!-- competency-ci:state {text} -->"


def read_state(body: str) -> IssueState | None:
    match = _STATE.search(body)
    if not match:
        return None
    try:
        data = json.loads(match.group(1))
        items = []
        for raw in data["frameworks"]:
            changes = raw.get("changes")
            items.append(Item(**{**raw, "changes": Changes(**changes) if changes else None}))
        return IssueState(str(data["last"]), items)
    except (ValueError, KeyError, TypeError):
        return None


def merge(state: IssueState | None, request: Request) -> IssueState:
    """The request's frameworks replace their earlier entries; the others stay until closed."""
    new = {i.ctid: i for i in request.items}
    kept = [i for i in (state.items if state else []) if i.ctid not in new]
    return IssueState(request.digest, kept + list(request.items))


def issue_body(state: IssueState, request: Request, previous_body: str = "") -> str:
    """The issue: CE's procedure, one checkbox per framework, and the hidden state."""
    fresh = {i.ctid for i in request.items}
    ticked = set(_CHECKED.findall(previous_body))
    checked, again = ticked - fresh, _again(request, ticked)
    before = prerequisite(request)
    lines = [
        MARKER,
        "These competency frameworks were published to CASS and wait for approval before Credential "
        "Engine publishes them to the Credential Registry. Review each one in its CE view (what CE will "
        "publish), then approve them in the Publisher:",
        "",
        *([*before, ""] if before else []),
        *procedure(request),
        "",
        "Then tick each framework's box here. Once approved, Credential Engine publishes the frameworks to "
        f"the Credential Registry; {FINDER}. `competency-ci status --close-approval-issue` closes this issue "
        "once every framework is live in the Registry and matches the repository.",
        "",
        *(_line(item, item.ctid in checked, item.ctid in again) for item in state.items),
        "",
        f"Last requested{_origin(request)}.",
        "",
        state.to_comment(),
    ]
    return "\n".join(lines) + "\n"


def comment_body(request: Request, approved: frozenset[str] = frozenset()) -> str:
    """A later publish: what to approve now, naming the frameworks that need approving again."""
    again = _again(request, set(approved))
    names = [f"**{md_text(i.name)}** `{i.ctid}`" for i in request.items if i.ctid in again]
    before = prerequisite(request) if request.organization_live is False else []
    lines = [
        f"<!-- competency-ci:request sha256={request.digest} -->",
        f"New publish{_origin(request)}: please approve these frameworks on the {_where(request)}, "
        "following the steps in the issue:",
        "",
        *([*before, ""] if before else []),
        *(_line(item, again=item.ctid in again) for item in request.items),
        *(["", f"{AGAIN[0].upper()}{AGAIN[1:]}: {', '.join(names)}."] if names else []),
    ]
    return "\n".join(lines) + "\n"


def webhook_payload(request: Request) -> dict[str, Any]:
    """The webhook document; its JSON Schema is ``schema/approval-webhook.schema.json``."""
    return {
        "schema_version": SCHEMA_VERSION,
        "event": EVENT,
        "id": request.digest,
        "repository": request.repository,
        "commit": request.commit,
        "run_url": request.run_url,
        "registry_url": request.registry_url,
        "publisher_url": request.publisher_url,
        "organization": {
            "ctid": request.organization,
            "live": request.organization_live,
            "summary_url": request.summary_url,
        },
        "procedure": [*prerequisite(request, markdown=False), *procedure(request, markdown=False)],
        "frameworks": [
            {
                "ctid": i.ctid,
                "name": i.name,
                "path": i.path,
                "outcome": i.outcome,
                "changes": asdict(i.changes) if i.changes is not None else None,
                "registry_uri": i.registry_uri,
                "graph_url": i.graph_url,
                "cass_url": i.cass_url,
                "verification": i.verification,
                "approve_again": i.was_live is True,
            }
            for i in request.items
        ],
    }


def render_text(request: Request) -> str:
    lines = []
    for i in request.items:
        lines.append(
            f"{i.path}: {i.name} ({i.ctid}): {i.changes_text}" + (f"; {AGAIN}" if i.was_live else "")
        )
        if i.verification:
            lines.append(f"  CE view: {i.verification}")
        if i.cass_url:
            lines.append(f"  CE view in CASS: {i.cass_url}")
    lines += ["", *prerequisite(request, markdown=False), *procedure(request, markdown=False)]
    return "\n".join(one_line(line) for line in lines) + "\n"


# --- delivery -----------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What a delivery did: ``created``, ``commented``, ``unchanged``, ``sent``, ``skipped``."""

    action: str
    detail: str = ""
    url: str | None = None
    number: int | None = None


def find_issue(gh: GitHub, label: str) -> Any:
    """The open approval issue: the oldest open issue with the label that carries our marker."""
    for issue in gh.list_issues(label):
        if MARKER in issue.body:
            return issue
    return None


def request_github_issue(gh: GitHub, request: Request, label: str, approvers: list[str]) -> Outcome:
    if not request.items:
        return Outcome("skipped", "nothing to approve")
    issue = find_issue(gh, label)
    if issue is None:
        body = issue_body(merge(None, request), request)
        created = gh.create_issue(TITLE, body, [label], approvers)
        detail = f"opened issue #{created.number}"
        if label not in created.labels:  # GitHub silently drops labels without push access
            detail += (
                f"; warning: GitHub did not apply the label {label!r}, so the next request cannot find it"
            )
        return Outcome("created", detail, created.html_url, created.number)
    state = read_state(issue.body)
    missing = [a for a in approvers if a not in issue.assignees]
    if missing:
        gh.add_assignees(issue.number, missing)
    if state is not None and state.last == request.digest:
        return Outcome(
            "unchanged", f"issue #{issue.number} already has this request", issue.html_url, issue.number
        )
    # A framework a re-run left unchanged and that still waits is asked for again only if the open
    # issue does not list it yet (an earlier request failed): listing it twice tells nobody more.
    listed = {i.ctid for i in state.items} if state is not None else set()
    fresh = tuple(i for i in request.items if i.outcome != "unchanged" or i.ctid not in listed)
    if not fresh:
        return Outcome(
            "unchanged", f"issue #{issue.number} already lists these frameworks", issue.html_url, issue.number
        )
    request = replace(request, items=fresh)
    comments = [c for c in gh.list_comments(issue.number) if _COMMENT.search(c.body)]
    last = _COMMENT.search(comments[-1].body) if comments else None
    if last is None or last.group(1) != request.digest:
        gh.create_comment(issue.number, comment_body(request, frozenset(_CHECKED.findall(issue.body))))
    gh.update_issue(issue.number, body=issue_body(merge(state, request), request, issue.body))
    return Outcome("commented", f"commented on issue #{issue.number}", issue.html_url, issue.number)


def signature(secret: str, body: bytes) -> str:
    """``X-Hub-Signature-256`` as GitHub's webhooks send it: ``sha256=<hex HMAC-SHA256 of the body>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def send_webhook(url: str, request: Request, secret: str | None, *, budget: Budget | None = None) -> Outcome:
    if not request.items:
        return Outcome("skipped", "nothing to approve")
    body = json.dumps(webhook_payload(request), sort_keys=True, ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Competency-CI-Event": EVENT,
        "X-Competency-CI-Delivery": request.digest,
    }
    if secret:
        headers["X-Hub-Signature-256"] = signature(secret, body)
    response = send(
        new_session(),
        "POST",
        url,
        policy=(budget or Budget()).policy("POST", url),
        data=body,
        headers=headers,
    )
    if not 200 <= response.status_code < 300:
        detail = f"HTTP {response.status_code}: the receiver refused the request"
        raise RemoteError("POST", url, detail=detail)
    return Outcome("sent", f"POST {url}: HTTP {response.status_code}", url)


def close_when_live(gh: GitHub, label: str, statuses: Sequence[FrameworkStatus]) -> Outcome:
    """Close the approval issue, with a comment, once every framework in it is live and current.

    A framework the issue lists but this run did not check (another path, or removed from the
    repository) keeps the issue open: nothing is closed on a guess.
    """
    from competency_ci.targets.registry.status import State

    issue = find_issue(gh, label)
    if issue is None:
        return Outcome("skipped", "no open approval issue")
    state = read_state(issue.body)
    items = state.items if state else []
    by_ctid = {s.ctid: s for s in statuses}
    waiting = [i for i in items if i.ctid not in by_ctid or by_ctid[i.ctid].state is not State.CURRENT]
    if waiting or not items:
        names = ", ".join(f"{i.name} ({i.ctid})" for i in waiting) or "no frameworks recorded"
        return Outcome(
            "unchanged", f"issue #{issue.number} stays open: {names}", issue.html_url, issue.number
        )
    lines = [
        "All frameworks of this request are live in the Credential Registry and match the repository:",
        "",
        *(
            f"- **{md_text(i.name)}** `{i.ctid}`: {md_link('live graph', by_ctid[i.ctid].graph_url)}"
            for i in items
        ),
        "",
        f"Note: {FINDER}.",
        "",
        "Closed by `competency-ci status --close-approval-issue`.",
    ]
    gh.create_comment(issue.number, "\n".join(lines) + "\n")
    gh.close_issue(issue.number)
    return Outcome("closed", f"closed issue #{issue.number}", issue.html_url, issue.number)
