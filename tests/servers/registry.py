"""The Credential Registry's public graph reads and the Registry Assistant's framework endpoints.

Contract: `registry-and-approval.md` §2 (2020-21 server code). One server answers both:

- ``GET /graph/{ctid}`` -> 200 the live graph, or 404 ``{"errors": ["No matching resource found"]}``
- ``POST /assistant/CompetencyFramework/format`` (no key) -> ``{Successful, Messages, Payload}``
- ``POST /assistant/CompetencyFramework/publishGraph`` with ``Authorization: ApiToken <36-char key>``
  -> ``RegistryAssistantResponse``; validation failures are HTTP 200 with ``Successful: false`` and
  CE's messages (§2.6); a successful publish makes the graph live at ``/graph/{ctid}`` and reports
  ``WasChanged: false`` when the graph equals the live one.
- ``DELETE /assistant/CompetencyFramework/delete`` with the key and a JSON ``DeleteRequest``
  (``{CTID | CTIDList[<=50], PublishForOrganizationIdentifier}``, §2.3, §2.7) -> ``{Successful,
  Messages}``; the frameworks leave ``/graph``. CE's messages: no CTID or organization, more than 50
  CTIDs, a framework another organization published, one that is not there (§2.6).

Tests script transient failures with ``force(Reply(503, headers={"Retry-After": "0"}))`` and make
frameworks live (as if CE had approved them) with ``make_live(graph)``. A large publish that CE
finishes after the client gave up is ``lose_answers = n`` (the next n publishGraph requests are
carried out, but answered 504 as a gateway does) with ``slow_reads = k`` (the new version shows at
``/graph`` only from the k+1-th read on, as while CE is still working on it).
"""

from __future__ import annotations

import json
import re
from typing import Any

from servers.recording import RecordingServer, Reply, Request

CTID = re.compile(r"^ce-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
FRAMEWORK, COMPETENCY = "ceasn:CompetencyFramework", "ceasn:Competency"


def _get(data: dict[str, Any], name: str) -> Any:
    """C#-style case-insensitive property binding."""
    for key, value in data.items():
        if key.lower() == name.lower():
            return value
    return None


class RegistryServer(RecordingServer):
    def __init__(self, api_key: str) -> None:
        super().__init__()
        self.api_key = api_key
        self.live: dict[str, dict[str, Any]] = {}
        self.owners: dict[str, str] = {}
        self.lose_answers = 0
        self.slow_reads = 0
        self._pending: dict[str, dict[str, Any]] = {}  # published, not yet shown (slow_reads)

    @property
    def assistant_url(self) -> str:
        return f"{self.url}/assistant"

    def scrub(self, headers: dict[str, str]) -> dict[str, str]:
        if "Authorization" in headers:
            ok = headers["Authorization"] == f"ApiToken {self.api_key}"
            headers = {**headers, "Authorization": "ApiToken [valid]" if ok else "[invalid]"}
        return headers

    def make_live(self, graph: dict[str, Any]) -> None:
        ctid = graph["@graph"][0]["ceterms:ctid"]
        self.live[ctid] = json.loads(json.dumps(graph))

    def handle(self, request: Request) -> Reply:
        route = request.route
        if request.method == "GET" and route.startswith("/graph/"):
            ctid = route.removeprefix("/graph/")
            if ctid in self._pending:
                if self.slow_reads > 0:
                    self.slow_reads -= 1
                else:
                    self.live[ctid] = self._pending.pop(ctid)
            graph = self.live.get(ctid)
            return Reply(200, graph) if graph else Reply(404, {"errors": ["No matching resource found"]})
        body = request.body if isinstance(request.body, dict) else None
        if request.method == "POST" and route == "/assistant/CompetencyFramework/format":
            if body is None:
                return Reply(200, _failed("Error - please provide a valid Competency Framework request."))
            return self._format(body)
        if route in ("/assistant/CompetencyFramework/publishGraph", "/assistant/CompetencyFramework/delete"):
            auth = request.headers.get("Authorization", "")
            if not auth.lower().startswith("apitoken ") or len(auth) <= 36:
                return Reply(401, _failed("Error a valid API key must be provided in the header"))
            if auth[len("ApiToken ") :] != self.api_key:
                return Reply(401, _failed(f"Error: invalid apiKey: {auth[len('ApiToken ') :]}"))
        if request.method == "DELETE" and route == "/assistant/CompetencyFramework/delete":
            return self._delete(body or {})
        if request.method == "POST" and route == "/assistant/CompetencyFramework/publishGraph":
            if body is None:
                return Reply(
                    200,
                    _failed(
                        "Error - please provide a valid Competency Framework request with the JSON Graph."
                    ),
                )
            ctid = str(_get(body, "CTID"))
            before = self.live.get(ctid)
            reply = self._publish(body)
            if self.lose_answers > 0 and isinstance(reply.body, dict) and reply.body.get("Successful"):
                self.lose_answers -= 1
                if self.slow_reads:  # still working on it: /graph shows the version before
                    self._pending[ctid] = self.live.pop(ctid)
                    if before is not None:
                        self.live[ctid] = before
                return Reply(504, {"Message": "The gateway timed out."})
            return reply
        return Reply(404, {"Message": "No HTTP resource was found that matches the request URI."})

    def _delete(self, body: dict[str, Any]) -> Reply:
        org = _get(body, "PublishForOrganizationIdentifier")
        listed = _get(body, "CTIDList")
        ctids = [str(c) for c in listed] if isinstance(listed, list) and listed else []
        if not ctids and isinstance(_get(body, "CTID"), str):
            ctids = [_get(body, "CTID")]
        if not ctids or not isinstance(org, str) or not org:
            return Reply(
                200,
                _delete_failed(
                    "Error - please provide a valid delete request with a CTID, and the owning organization."
                ),
            )
        if len(ctids) > 50:
            return Reply(200, _delete_failed("A maximum of 50 CTIDs may be requested at a time."))
        messages = []
        for ctid in ctids:
            if ctid not in self.live:
                messages.append(
                    "Error: The requested document was not found, so you could say the Delete was "
                    "successful, or maybe check the input CTID!"
                )
            elif self.owners.get(ctid, org) != org:
                messages.append(
                    "Error: Suspcious request. The provided data owner CTID is different from the data "
                    "owner CTID used for previous requests."
                )
            else:
                del self.live[ctid]
                self.owners.pop(ctid, None)
        return Reply(200, {"Successful": not messages, "Messages": messages})

    def _publish(self, body: dict[str, Any]) -> Reply:
        org = _get(body, "PublishForOrganizationIdentifier")
        graph = _get(body, "CompetencyFrameworkGraph")
        ctid = _get(body, "CTID")
        messages = []
        if not isinstance(org, str) or not CTID.match(org):
            messages.append("Error - please provide a valid CTID for PublishForOrganizationIdentifier.")
        if not isinstance(ctid, str) or not CTID.match(ctid):
            messages.append(
                f"Error - Invalid CTID format for {ctid}. The proper format is ce-UUID. ex. "
                "ce-84365aea-57a5-4b5a-8c1c-eae95d7a8c9b (with all lowercase letters)"
            )
        nodes = graph.get("@graph") if isinstance(graph, dict) else None
        if not isinstance(nodes, list):
            return Reply(
                200,
                _failed(
                    *messages,
                    "Error - please provide a valid Competency Framework request with the JSON Graph.",
                ),
            )
        frameworks = [n for n in nodes if n.get("@type") == FRAMEWORK]
        competencies = [n for n in nodes if n.get("@type") == COMPETENCY]
        if not frameworks:
            return Reply(200, _failed(*messages, "A ceasn:CompetencyFramework document was not found."))
        fw = frameworks[0]
        messages += _framework_messages(fw, competencies)
        for number, comp in enumerate(competencies, 1):
            if not comp.get("ceasn:competencyText"):
                messages.append(
                    f"The property competencyText must be provided for the compentency (#{number}), "
                    f"CTID: {comp.get('ceterms:ctid')}"
                )
            if not comp.get("ceasn:isTopChildOf") and not comp.get("ceasn:isChildOf"):
                messages.append(
                    "Either the isTopChildOf or the isChildOf property must be provided for the "
                    f"compentency (#{number})."
                )
        if not messages and self.owners.get(ctid, org) != org:
            messages.append(
                "The CTID has been used previously by a different Owning Organization. "
                "You may need to contact Credential Engine to resolve this issue."
            )
        if messages:
            return Reply(200, _failed(*messages))
        assert isinstance(ctid, str) and isinstance(graph, dict)
        changed = self.live.get(ctid) != graph
        self.live[ctid] = graph
        self.owners[ctid] = org
        return Reply(
            200,
            {
                "Successful": True,
                "WasChanged": changed,
                "Messages": [],
                "CTID": ctid,
                "GraphUrl": f"{self.url}/graph/{ctid}",
                "EnvelopeUrl": f"{self.url}/envelopes/{ctid[3:]}",
                "RegistryEnvelopeIdentifier": ctid[3:],
                "CredentialFinderUrl": f"https://sandbox.credentialengine.org/finder/competencyframework/{ctid}",
                "Payload": json.dumps(graph),
            },
        )

    def _format(self, body: dict[str, Any]) -> Reply:
        org = _get(body, "PublishForOrganizationIdentifier")
        fw = _get(body, "CompetencyFramework") or {}
        comps = _get(body, "Competencies") or []
        messages = []
        if not isinstance(org, str) or not CTID.match(org):
            messages.append("Error - please provide a valid CTID for PublishForOrganizationIdentifier.")
        ctid = _get(fw, "CTID")
        if not ctid:
            messages.append("Error - A CTID must be entered for the competency framework.")
        for name, message in (
            ("name", "A name must be provided for the competency framework."),
            ("description", "A description must be provided for the competency framework."),
            (
                "inLanguage",
                "At least one entry must be provided for the inLanguage of a competency framework.",
            ),
            ("dateCreated", "A dateCreated must be provided for the competency framework."),
        ):
            if not _get(fw, name):
                messages.append(message)
        if not _get(fw, "publisher") and not _get(fw, "creator"):
            messages.append(
                "At least one entry must be provided for the publisher of a competency framework."
            )
        if not comps:
            messages.append("At least one competency must be included with a competency framework.")
        for comp in comps:
            if not _get(comp, "competencyText"):
                messages.append(
                    "The property competencyText must be provided for the compentency, "
                    f"CTID: {_get(comp, 'CTID')}"
                )
            if not _get(comp, "isPartOf"):
                messages.append(
                    f"A value must be provided for isPartOf for the competency: '{_get(comp, 'CTID')}'"
                )
        payload = json.dumps(
            {"@context": "https://credreg.net/ctdlasn/schema/context/json", "CompetencyFramework": fw}
        )
        return Reply(
            200, {"Successful": not messages, "Messages": messages, "Payload": "" if messages else payload}
        )


def _framework_messages(fw: dict[str, Any], competencies: list[dict[str, Any]]) -> list[str]:
    messages = []
    for name, message in (
        ("ceasn:name", "A name must be provided for the competency framework."),
        ("ceasn:description", "A description must be provided for the competency framework."),
        (
            "ceasn:inLanguage",
            "At least one entry must be provided for the inLanguage of a competency framework.",
        ),
        ("ceasn:dateCreated", "A dateCreated must be provided for the competency framework."),
    ):
        if not fw.get(name):
            messages.append(message)
    if not fw.get("ceasn:publisher") and not fw.get("ceasn:creator"):
        messages.append("At least one entry must be provided for the publisher of a competency framework.")
    if not competencies:
        messages.append(
            "Error: No Competencies were found. A Competency Framework must have at least one Competency "
            "(and realistically multiple)."
        )
    elif not fw.get("ceasn:hasTopChild"):
        messages.append(
            "Error: Competencies exist for this framework and hasTopChild is empty. The property hasTopChild "
            "must have at least one entry."
        )
    return messages


def _failed(*messages: str) -> dict[str, Any]:
    return {"Successful": False, "WasChanged": False, "Messages": list(messages)}


def _delete_failed(*messages: str) -> dict[str, Any]:
    """Delete answers ``{Successful, Messages}`` (§2.5)."""
    return {"Successful": False, "Messages": list(messages)}
