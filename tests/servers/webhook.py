"""A webhook receiver that checks ``X-Hub-Signature-256`` as GitHub documents it for its own webhooks.

``POST /hook``: with a secret, the header must be ``sha256=`` + hex HMAC-SHA256 of the raw body
(compared in constant time) or the answer is 401; without a secret, any JSON body is accepted.
Accepted deliveries are kept in ``deliveries`` (parsed JSON) for assertions.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from servers.recording import RecordingServer, Reply, Request


class WebhookServer(RecordingServer):
    def __init__(self, secret: str | None = None) -> None:
        super().__init__()
        self.secret = secret
        self.deliveries: list[Any] = []

    @property
    def hook_url(self) -> str:
        return f"{self.url}/hook"

    def _valid(self, request: Request) -> bool:
        if self.secret is None:
            return True
        expected = "sha256=" + hmac.new(self.secret.encode(), request.raw, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, request.headers.get("X-Hub-Signature-256", ""))

    def handle(self, request: Request) -> Reply:
        if request.method != "POST" or request.route != "/hook":
            return Reply(404, {"error": "not found"})
        if not self._valid(request):
            return Reply(401, {"error": "bad signature"})
        self.deliveries.append(request.body)
        return Reply(204)
