"""A minimal GitHub REST client: the issue calls approval requests and pull-request comments need.

Settings come from the environment GitHub Actions provides (``GITHUB_TOKEN``, ``GITHUB_REPOSITORY``,
``GITHUB_API_URL``), so the same code runs against github.com, GitHub Enterprise Server and the
local test server. The token is sent only in the ``Authorization`` header and never appears in an
error message.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from competency_ci.http import Budget, new_session, redact, send

if TYPE_CHECKING:
    import requests

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"


class GitHubError(Exception):
    """GitHub refused a request (bad token, missing repository, no permission)."""


@dataclass
class Issue:
    number: int
    title: str
    body: str
    state: str
    html_url: str
    labels: list[str] = field(default_factory=list)
    assignees: list[str] = field(default_factory=list)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Issue:
        return cls(
            number=int(data["number"]),
            title=str(data.get("title") or ""),
            body=str(data.get("body") or ""),
            state=str(data.get("state") or "open"),
            html_url=str(data.get("html_url") or ""),
            labels=[str(label["name"]) for label in data.get("labels") or []],
            assignees=[str(user["login"]) for user in data.get("assignees") or []],
        )


@dataclass
class Comment:
    id: int
    body: str
    html_url: str
    author: str = ""  # the login, e.g. ``github-actions[bot]``
    author_type: str = ""  # ``User`` or ``Bot``

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Comment:
        user = data.get("user")
        if not isinstance(user, dict):
            user = {}
        return cls(
            int(data["id"]),
            str(data.get("body") or ""),
            str(data.get("html_url") or ""),
            str(user.get("login") or ""),
            str(user.get("type") or ""),
        )


class GitHub:
    """Issues of one repository. ``repository`` is ``owner/name``."""

    def __init__(
        self,
        token: str,
        repository: str,
        api_url: str = DEFAULT_API_URL,
        *,
        budget: Budget | None = None,
        session: requests.Session | None = None,
    ) -> None:
        if repository.count("/") != 1 or not all(repository.split("/")):
            raise GitHubError(f"repository must be owner/name, got {repository!r}")
        self.repository = repository
        self.api_url = api_url.rstrip("/")
        self.budget = budget or Budget()
        self._token = token
        self._session = session or new_session()
        self._session.headers.update(
            {
                "Accept": "application/vnd.github+json",
                "Authorization": f"Bearer {token}",
                "X-GitHub-Api-Version": API_VERSION,
            }
        )

    @classmethod
    def from_env(cls, repository: str | None = None, *, budget: Budget | None = None) -> GitHub:
        """Build from ``GITHUB_TOKEN`` and ``GITHUB_API_URL``; ``repository`` (configured) beats
        ``GITHUB_REPOSITORY``, so approvals can live in another repository."""
        token = os.environ.get("GITHUB_TOKEN")
        if not token:
            raise GitHubError("GITHUB_TOKEN is not set")
        repo = repository or os.environ.get("GITHUB_REPOSITORY")
        if not repo:
            raise GitHubError("no repository: set GITHUB_REPOSITORY or approval.repository")
        return cls(token, repo, os.environ.get("GITHUB_API_URL") or DEFAULT_API_URL, budget=budget)

    def _call(self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None) -> Any:
        return self._call_url(method, f"{self.api_url}/repos/{self.repository}{path}", body, params)[0]

    def _call_url(
        self, method: str, url: str, body: Any = None, params: dict[str, Any] | None = None
    ) -> tuple[Any, str | None]:
        response = send(
            self._session, method, url, policy=self.budget.policy(method, url), json=body, params=params
        )
        if response.status_code >= 400:
            try:
                message = str(response.json().get("message", ""))
            except (ValueError, AttributeError):  # not JSON, or not an object
                message = response.text
            message = redact(message, [self._token], limit=200)  # redact first, then cut
            raise GitHubError(f"{method} {url}: HTTP {response.status_code} {message}".rstrip())
        next_url = response.links.get("next", {}).get("url")
        return (response.json() if response.content else None), next_url

    def _pages(self, path: str, params: dict[str, Any]) -> list[Any]:
        items: list[Any] = []
        url: str | None = f"{self.api_url}/repos/{self.repository}{path}"
        query: dict[str, Any] | None = {**params, "per_page": 100}
        while url:
            page, url = self._call_url("GET", url, params=query)
            items.extend(page or [])
            query = None  # the Link URL already carries the query
        return items

    def list_issues(self, label: str, state: str = "open") -> list[Issue]:
        """Issues (not pull requests) with ``label``, oldest first."""
        data = self._pages("/issues", {"state": state, "labels": label, "direction": "asc"})
        return [Issue.from_api(item) for item in data if "pull_request" not in item]

    def create_issue(self, title: str, body: str, labels: list[str], assignees: list[str]) -> Issue:
        data = {"title": title, "body": body, "labels": labels}
        if assignees:
            data["assignees"] = assignees
        return Issue.from_api(self._call("POST", "/issues", data))

    def update_issue(self, number: int, **fields: Any) -> Issue:
        return Issue.from_api(self._call("PATCH", f"/issues/{number}", fields))

    def close_issue(self, number: int) -> Issue:
        return self.update_issue(number, state="closed", state_reason="completed")

    def add_assignees(self, number: int, logins: list[str]) -> Issue:
        return Issue.from_api(self._call("POST", f"/issues/{number}/assignees", {"assignees": logins}))

    def open_pull_requests(self, head: str) -> list[str]:
        """The URLs of the open pull requests from branch ``head`` of this repository."""
        owner = self.repository.split("/")[0]
        pulls = self._pages("/pulls", {"state": "open", "head": f"{owner}:{head}"})
        return [str(p.get("html_url", "")) for p in pulls if isinstance(p, dict)]

    def create_pull_request(self, title: str, head: str, base: str, body: str) -> str:
        """Open a pull request from branch ``head`` into ``base``; returns its URL."""
        data = self._call("POST", "/pulls", {"title": title, "head": head, "base": base, "body": body})
        return str((data or {}).get("html_url", ""))

    def list_comments(self, number: int) -> list[Comment]:
        """The comments of an issue or a pull request (a pull request's conversation is its issue's)."""
        return [Comment.from_api(c) for c in self._pages(f"/issues/{number}/comments", {})]

    def create_comment(self, number: int, body: str) -> Comment:
        return Comment.from_api(self._call("POST", f"/issues/{number}/comments", {"body": body}))

    def update_comment(self, comment_id: int, body: str) -> Comment:
        """``PATCH /repos/{repo}/issues/comments/{id}``: replace a comment's body."""
        return Comment.from_api(self._call("PATCH", f"/issues/comments/{comment_id}", {"body": body}))
