"""The Credential Registry (public graph reads) and the Registry Assistant API (format, publishGraph).

Contract: `registry-and-approval.md` §2. The Assistant answers validation failures with HTTP 200 and
``Successful: false``, so an answer is judged by its body, never by its status alone; CE sometimes
echoes a bad API key in ``Messages``, so messages are redacted before anyone sees them.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from competency_ci.http import Budget, new_session, progress, redact, send

if TYPE_CHECKING:
    import requests

API_KEY_ENV = "CE_REGISTRY_API_KEY"
CTDLASN_CONTEXT = "https://credreg.net/ctdlasn/schema/context/json"


class RegistryError(Exception):
    """The Registry or the Assistant answered something we cannot use (not a transient failure)."""


@dataclass
class AssistantResponse:
    """``RegistryAssistantResponse`` (§2.5); ``Payload`` is kept as CE returns it (a JSON string)."""

    successful: bool
    was_changed: bool | None = None
    messages: list[str] = field(default_factory=list)
    ctid: str | None = None
    graph_url: str | None = None
    envelope_url: str | None = None
    payload: str | None = None
    status: int = 200

    @classmethod
    def from_api(cls, data: dict[str, Any], status: int, secrets: list[str | None]) -> AssistantResponse:
        messages = data.get("Messages") or []
        changed = data.get("WasChanged")
        return cls(
            successful=data["Successful"],
            was_changed=changed if isinstance(changed, bool) else None,
            messages=[redact(str(m), secrets) for m in messages] if isinstance(messages, list) else [],
            ctid=data.get("CTID"),
            graph_url=data.get("GraphUrl"),
            envelope_url=data.get("EnvelopeUrl"),
            payload=data.get("Payload") if isinstance(data.get("Payload"), str) else None,
            status=status,
        )


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


class Assistant:
    """``{assistant}/CompetencyFramework/...``; the API key is needed for publishing only."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        budget: Budget | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.budget = budget or Budget()
        self._key = api_key
        self._session = session or new_session()

    @classmethod
    def from_env(cls, base_url: str, *, budget: Budget | None = None) -> Assistant:
        return cls(base_url, os.environ.get(API_KEY_ENV) or None, budget=budget)

    @property
    def has_key(self) -> bool:
        return bool(self._key)

    def _post(
        self,
        endpoint: str,
        body: dict[str, Any],
        *,
        auth: bool,
        method: str = "POST",
        replay: bool = True,
        timeout: float | None = None,
    ) -> AssistantResponse:
        """``replay=False``: a lost answer raises ``AnswerLost`` (the caller reads the Registry);
        ``timeout``: the read timeout for this request (capped by the time budget)."""
        headers = {"Accept": "application/json"}
        if auth:
            if not self._key:
                raise RegistryError(f"no Registry API key: set {API_KEY_ENV}")
            headers["Authorization"] = f"ApiToken {self._key}"
        url = f"{self.base_url}/CompetencyFramework/{endpoint}"
        policy = self.budget.policy(method, url)
        if timeout is not None:  # sized to the payload, never beyond what the budget has left
            policy = replace(policy, timeout=min(timeout, policy.total))
        response = send(self._session, method, url, policy=policy, json=body, headers=headers, replay=replay)
        data = _json(response)
        if not isinstance(data, dict) or not isinstance(data.get("Successful"), bool):
            raise RegistryError(
                f"{method} {url}: HTTP {response.status_code}, not a Registry Assistant response"
            )
        return AssistantResponse.from_api(data, response.status_code, [self._key])

    def format(self, request: dict[str, Any]) -> AssistantResponse:
        """Validate and format a ``CompetencyFrameworkRequest`` without publishing (no key needed)."""
        return self._post("format", request, auth=False)

    def publish_graph(self, ctid: str, organization: str, graph: dict[str, Any]) -> AssistantResponse:
        """Publish one framework graph; idempotent per CTID (a re-publish is an update).

        A large framework can take CE up to 30 minutes (§2.7), so the read timeout grows with the
        payload (:func:`publish_timeout`), the wait is reported every :data:`TICK` seconds, and a
        lost answer is never answered by sending the graph again while the first copy may still be
        running: ``AnswerLost`` is raised and the caller reads ``/graph/{ctid}`` (§2.7: "the
        publish activity may have still been successful")."""
        body = {
            "CTID": ctid,
            "PublishForOrganizationIdentifier": organization,
            "CompetencyFrameworkGraph": graph,
        }
        size = len(json.dumps(body, ensure_ascii=False).encode("utf-8"))
        timeout = publish_timeout(size)
        nodes = len(graph.get("@graph") or [])
        left = self.budget.end - self.budget.clock()
        if timeout > left:
            progress(
                f"{ctid}: a framework this large can take CE up to {timeout:.0f} s, but the time limit "
                f"leaves {max(left, 0):.0f} s (raise --timeout)"
            )
        if size < NOTEWORTHY:  # answered within seconds: no line
            return self._post("publishGraph", body, auth=True, replay=False, timeout=timeout)
        progress(
            f"{ctid}: sending {nodes} node(s), {size / 1_000_000:.1f} MB, to the Registry Assistant; "
            f"waiting up to {min(timeout, max(left, 1.0)):.0f} s for its answer"
        )
        with ticking(f"{ctid}: still waiting for the Registry Assistant"):
            return self._post("publishGraph", body, auth=True, replay=False, timeout=timeout)

    def delete_frameworks(self, ctids: list[str], organization: str) -> AssistantResponse:
        """``DELETE {assistant}/CompetencyFramework/delete`` (§2.3): at most :data:`DELETE_BATCH`
        CTIDs in ``CTIDList``. Deleting again is harmless (CE answers "not found"), so a lost answer
        may be retried."""
        if not 0 < len(ctids) <= DELETE_BATCH:
            raise ValueError(f"1 to {DELETE_BATCH} CTIDs per delete request")
        body: dict[str, Any] = {"PublishForOrganizationIdentifier": organization}
        body.update({"CTID": ctids[0]} if len(ctids) == 1 else {"CTIDList": ctids})
        return self._post("delete", body, auth=True, method="DELETE")


LARGE = 1_000_000  # bytes: CE's server gives a payload over this its 30-minute timeout (§2.7)
SERVER_LIMIT = 1800.0  # seconds: the longest CE's server works on one publish (§2.7)
SMALL_TIMEOUT = 60.0
NOTEWORTHY = 100_000  # bytes: a publish this large may take minutes, so progress is shown
TICK = 30.0  # seconds between "still waiting" lines


def publish_timeout(nbytes: int) -> float:
    """How long to wait for a publishGraph answer: 60 s for a small framework, growing linearly to
    CE's own 30 minutes at 1 MB (the size from which CE's server allows itself that long)."""
    return min(SERVER_LIMIT, SMALL_TIMEOUT + nbytes / LARGE * (SERVER_LIMIT - SMALL_TIMEOUT))


@contextmanager
def ticking(message: str, every: float = TICK) -> Iterator[None]:
    """Report ``message (N s)`` every ``every`` seconds while the block runs (a long request)."""
    done = threading.Event()
    start = time.monotonic()

    def tick() -> None:
        while not done.wait(every):
            progress(f"{message} ({time.monotonic() - start:.0f} s)")

    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


DELETE_BATCH = 50  # "A maximum of 50 CTIDs may be requested at a time." (DeleteRequest.cs)
NOT_FOUND = "The requested document was not found"  # CE's answer to deleting what is gone (§2.6)


class RegistryReader:
    """Public reads of ``{registry}/graph/{ctid}``."""

    def __init__(
        self,
        registry_url: str,
        *,
        budget: Budget | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.registry_url = registry_url.rstrip("/")
        self.budget = budget or Budget()
        self._session = session or new_session()

    def graph_url(self, ctid: str) -> str:
        return f"{self.registry_url}/graph/{ctid}"

    def read_graph(self, ctid: str) -> dict[str, Any] | None:
        """The live graph, or None when the Registry has nothing under this CTID (404)."""
        url = self.graph_url(ctid)
        response = send(
            self._session,
            "GET",
            url,
            policy=self.budget.policy("GET", url),
            headers={"Accept": "application/json"},
            redirects=5,  # a public read with no key: it may follow, each hop under the URL policy
        )
        if response.status_code == 404:
            return None
        data = _json(response)
        if response.status_code != 200 or not isinstance(data, dict):
            raise RegistryError(f"GET {url}: HTTP {response.status_code}, expected a JSON-LD graph")
        return data

    def is_published(self, ctid: str) -> bool:
        """Is anything (an organization, a framework) live under this CTID?"""
        return self.read_graph(ctid) is not None


# --- the format endpoint's request, derived from the graph we publish ---------------------------


def _plain(value: Any, lang: str) -> Any:
    """A graph value as the Assistant's simplified classes take it (text in the framework language)."""
    if isinstance(value, list):
        return [_plain(v, lang) for v in value]
    if isinstance(value, dict):
        if any(key.startswith("@") for key in value) or not value:
            return {_local(k): _plain(v, lang) for k, v in value.items() if k != "@type"}
        return value.get(lang, next(iter(value.values())))  # a language map
    return value


def _local(term: str) -> str:
    return "CTID" if term == "ceterms:ctid" else term.split(":", 1)[-1]


def format_request(graph: dict[str, Any], organization: str, default_language: str) -> dict[str, Any]:
    """A ``CompetencyFrameworkRequest`` (§2.4) for ``/format``, derived from our publish graph.

    One rule, no second column list: each CTDL term becomes its local name (``ceasn:competencyText``
    -> ``competencyText``, ``ceterms:ctid`` -> ``CTID``; the Assistant binds names case-insensitively)
    and each language map becomes its text in the framework's language.
    """
    framework: dict[str, Any] = {}
    competencies: list[dict[str, Any]] = []
    for node in graph.get("@graph", []):
        lang = default_language.lower()
        fields = {_local(k): _plain(v, lang) for k, v in node.items() if not k.startswith("@")}
        if node.get("@type") == "ceasn:CompetencyFramework":
            framework = fields
        else:
            competencies.append(fields)
    return {
        "PublishForOrganizationIdentifier": organization,
        "DefaultLanguage": default_language,
        "CompetencyFramework": framework,
        "Competencies": competencies,
    }
