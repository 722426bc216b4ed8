"""The GitHub REST endpoints competency-ci uses, in memory, following docs.github.com/rest/issues.

- ``GET  /repos/{owner}/{repo}/issues?state=&labels=&direction=&per_page=&page=`` (pull requests are
  issues too and carry a ``pull_request`` key; pages are linked with a ``Link: <...>; rel="next"`` header)
- ``POST /repos/{owner}/{repo}/issues`` ``{title, body, labels, assignees}`` -> 201
- ``PATCH /repos/{owner}/{repo}/issues/{n}`` ``{title?, body?, state?, state_reason?}`` -> 200
- ``POST /repos/{owner}/{repo}/issues/{n}/assignees`` ``{assignees}`` -> 201
- ``GET/POST /repos/{owner}/{repo}/issues/{n}/comments`` (a pull request's conversation comments are
  its issue's: ``add_issue(..., pull_request=True, number=12)``); each comment has ``user``
  ``{login, type}``: the token's identity, ``github-actions[bot]`` (a ``Bot``), or whoever
  ``add_comment`` names
- ``PATCH /repos/{owner}/{repo}/issues/comments/{id}`` ``{body}`` -> 200; 403 "Resource not accessible
  by integration" when the comment is not the token's own and ``edit_others=False``
- a comment body over 65,536 characters -> 422 "Validation Failed"; writing comments without the
  permission (``can_comment=False``) -> 403 "Resource not accessible by integration"
- ``GET /repos/{owner}/{repo}/pulls?state=open&head={owner}:{branch}`` and
  ``POST /repos/{owner}/{repo}/pulls`` ``{title, head, base, body}`` -> 201 (docs.github.com/rest/pulls);
  422 "Validation Failed" without a title, head or base, or when an open pull request from ``head``
  exists
Auth: ``Authorization: Bearer <token>``; anything else -> 401 ``{"message": "Bad credentials"}``.
"Only users with push access can set labels / assignees for new issues. Labels / assignees are
silently dropped otherwise." (docs.github.com, Create an issue): ``push_access=False`` does that.
"""

from __future__ import annotations

import re
from typing import Any

from servers.recording import RecordingServer, Reply, Request

ROUTE = re.compile(
    r"^/repos/(?P<repo>[^/]+/[^/]+)/issues(?:/(?P<number>\d+)(?:/(?P<sub>comments|assignees))?)?$"
)
COMMENT_ROUTE = re.compile(r"^/repos/(?P<repo>[^/]+/[^/]+)/issues/comments/(?P<id>\d+)$")
BOT = {"login": "github-actions[bot]", "type": "Bot"}
COMMENT_LIMIT = 65_536  # "body is too long (maximum is 65536 characters)"


def _too_long(body: Any) -> Reply | None:
    text = body.get("body") if isinstance(body, dict) else None
    if isinstance(text, str) and len(text) > COMMENT_LIMIT:
        return Reply(422, {"message": "Validation Failed", "errors": [{"code": "custom", "field": "body"}]})
    return None


class GitHubServer(RecordingServer):
    def __init__(
        self,
        token: str,
        repository: str = "acme/frameworks",
        page_size: int = 100,
        *,
        push_access: bool = True,
    ) -> None:
        super().__init__()
        self.push_access = push_access  # without it GitHub silently drops labels and assignees
        self.token = token
        self.repository = repository
        self.page_size = page_size
        self.issues: dict[int, dict[str, Any]] = {}
        self.comments: dict[int, list[dict[str, Any]]] = {}
        self.pulls: list[dict[str, Any]] = []
        self._next_comment = 1000
        self.edit_others = False  # GITHUB_TOKEN edits its own comments; refuse the others' (403)
        self.can_comment = True  # False: a token without `pull-requests: write` / `issues: write`

    def scrub(self, headers: dict[str, str]) -> dict[str, str]:
        if "Authorization" in headers:
            ok = headers["Authorization"] == f"Bearer {self.token}"
            headers = {**headers, "Authorization": "Bearer [valid]" if ok else "[invalid]"}
        return headers

    def add_issue(
        self,
        title: str,
        body: str,
        labels: list[str],
        *,
        pull_request: bool = False,
        number: int | None = None,
    ) -> int:
        number = number or len(self.issues) + 1
        issue = self._issue(number, title, body, labels, [])
        if pull_request:
            issue["pull_request"] = {"url": f"{self.url}/repos/{self.repository}/pulls/{number}"}
        self.issues[number] = issue
        return number

    def add_comment(self, number: int, body: str, user: dict[str, str] | None = None) -> int:
        """A comment made elsewhere (by a person unless ``user`` says otherwise)."""
        self._next_comment += 1
        comment = {
            "id": self._next_comment,
            "body": body,
            "html_url": f"{self.issues[number]['html_url']}#issuecomment-{self._next_comment}",
            "user": user or {"login": "mallory", "type": "User"},
        }
        self.comments[number].append(comment)
        return self._next_comment

    def _issue(
        self, number: int, title: str, body: str, labels: list[str], assignees: list[str]
    ) -> dict[str, Any]:
        self.comments.setdefault(number, [])
        return {
            "number": number,
            "title": title,
            "body": body,
            "state": "open",
            "state_reason": None,
            "html_url": f"https://github.com/{self.repository}/issues/{number}",
            "labels": [{"name": name} for name in labels],
            "assignees": [{"login": login} for login in assignees],
        }

    def handle(self, request: Request) -> Reply:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return Reply(401, {"message": "Bad credentials"})
        if request.route == f"/repos/{self.repository}/pulls":
            return self._pulls(request)
        edit = COMMENT_ROUTE.match(request.route)
        if edit and edit["repo"] == self.repository and request.method == "PATCH":
            return self._edit_comment(int(edit["id"]), request.body)
        match = ROUTE.match(request.route)
        if not match or match["repo"] != self.repository:
            return Reply(404, {"message": "Not Found"})
        number = int(match["number"]) if match["number"] else None
        issue = self.issues.get(number) if number is not None else None
        if number is not None and issue is None:
            return Reply(404, {"message": "Not Found"})
        body = request.body if isinstance(request.body, dict) else {}
        key = (request.method, match["sub"], number is None)
        if key == ("GET", None, True):
            return self._list(request)
        if key == ("POST", None, True):
            if not body.get("title"):
                return Reply(422, {"message": "Validation Failed"})
            new = len(self.issues) + 1
            labels, assignees = (
                (body.get("labels", []), body.get("assignees", [])) if self.push_access else ([], [])
            )
            self.issues[new] = self._issue(new, body["title"], body.get("body") or "", labels, assignees)
            return Reply(201, self.issues[new])
        assert issue is not None and number is not None
        if key == ("PATCH", None, False):
            for name in ("title", "body", "state", "state_reason"):
                if name in body:
                    issue[name] = body[name]
            return Reply(200, issue)
        if key == ("POST", "assignees", False):
            known = {a["login"] for a in issue["assignees"]}
            issue["assignees"] += [
                {"login": login} for login in body.get("assignees", []) if login not in known
            ]
            return Reply(201, issue)
        if key == ("GET", "comments", False):
            return Reply(200, self.comments[number])
        if key == ("POST", "comments", False):
            if not self.can_comment:
                return Reply(403, {"message": "Resource not accessible by integration"})
            if refused := _too_long(body):
                return refused
            self._next_comment += 1
            comment = {
                "id": self._next_comment,
                "body": body.get("body", ""),
                "html_url": f"{issue['html_url']}#issuecomment-{self._next_comment}",
                "user": dict(BOT),
            }
            self.comments[number].append(comment)
            return Reply(201, comment)
        return Reply(404, {"message": "Not Found"})

    def _pulls(self, request: Request) -> Reply:
        owner = self.repository.split("/")[0]
        if request.method == "GET":
            head = (request.query.get("head") or [""])[0]
            found = [p for p in self.pulls if p["state"] == "open" and f"{owner}:{p['head']['ref']}" == head]
            return Reply(200, found)
        body = request.body if isinstance(request.body, dict) else {}
        if request.method != "POST" or not all(body.get(k) for k in ("title", "head", "base")):
            return Reply(422, {"message": "Validation Failed"})
        if any(p["state"] == "open" and p["head"]["ref"] == body["head"] for p in self.pulls):
            return Reply(422, {"message": "Validation Failed"})
        number = len(self.issues) + len(self.pulls) + 100
        pull = {
            "number": number,
            "title": body["title"],
            "body": body.get("body") or "",
            "state": "open",
            "head": {"ref": body["head"]},
            "base": {"ref": body["base"]},
            "html_url": f"https://github.com/{self.repository}/pull/{number}",
        }
        self.pulls.append(pull)
        return Reply(201, pull)

    def _edit_comment(self, comment_id: int, body: Any) -> Reply:
        for comments in self.comments.values():
            for comment in comments:
                if comment["id"] != comment_id:
                    continue
                if not self.can_comment or (comment["user"] != BOT and not self.edit_others):
                    return Reply(403, {"message": "Resource not accessible by integration"})
                if not isinstance(body, dict) or not isinstance(body.get("body"), str):
                    return Reply(422, {"message": "Validation Failed"})
                if refused := _too_long(body):
                    return refused
                comment["body"] = body["body"]
                return Reply(200, comment)
        return Reply(404, {"message": "Not Found"})

    def _list(self, request: Request) -> Reply:
        query = request.query
        state = query.get("state", ["open"])[0]
        labels = set(query.get("labels", [""])[0].split(",")) - {""}
        items = [
            issue
            for issue in sorted(self.issues.values(), key=lambda i: i["number"])
            if (state == "all" or issue["state"] == state)
            and labels <= {label["name"] for label in issue["labels"]}
        ]
        if query.get("direction", ["desc"])[0] == "desc":
            items.reverse()
        size = min(int(query.get("per_page", ["30"])[0]), self.page_size)
        page = int(query.get("page", ["1"])[0])
        chunk = items[(page - 1) * size : page * size]
        headers = {}
        if page * size < len(items):
            params = "&".join(f"{k}={v[0]}" for k, v in query.items() if k != "page")
            headers["Link"] = f'<{self.url}{request.route}?{params}&page={page + 1}>; rel="next"'
        return Reply(200, chunk, headers)
