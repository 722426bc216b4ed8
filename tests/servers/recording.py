"""A tiny threaded HTTP server on 127.0.0.1 that records every request it answers.

Test servers subclass :class:`RecordingServer` and implement ``handle(request) -> Reply``. Each
recorded request keeps method, path (with query), the headers a test cares about, and the parsed
JSON body, so tests assert the exact requests a client made. Secret headers are recorded as
``valid``/``invalid`` verdicts, never their values.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

# Headers worth asserting; everything else (Host, Accept-Encoding, Connection...) is noise.
RECORDED_HEADERS = (
    "Accept",
    "Authorization",
    "Content-Type",
    "User-Agent",
    "X-GitHub-Api-Version",
    "X-Hub-Signature-256",
    "X-Competency-CI-Event",
    "X-Competency-CI-Delivery",
)


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: Any = None
    raw: bytes = b""
    status: int = 0  # the status the server answered

    @property
    def route(self) -> str:
        return urlsplit(self.path).path

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.path).query)


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class RecordingServer:
    """Start with ``with Server() as s:``; ``s.url`` has no trailing slash; ``s.requests`` is the log."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self._forced: list[tuple[str | None, Reply]] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                headers = {k: v for k in RECORDED_HEADERS if (v := self.headers.get(k)) is not None}
                request = Request(self.command, self.path, headers, body, raw)
                with server._lock:
                    reply = server._take_forced(request.route)
                    if reply is None:
                        reply = server.handle(request)
                    request.headers = server.scrub(request.headers)
                    request.status = reply.status
                    server.requests.append(request)
                data = b"" if reply.body is None else json.dumps(reply.body).encode()
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if data:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def handle(self, request: Request) -> Reply:
        raise NotImplementedError

    def scrub(self, headers: dict[str, str]) -> dict[str, str]:
        """Replace secret header values with a verdict; subclasses know what is valid."""
        return headers

    def force(self, *replies: Reply, route: str | None = None) -> None:
        """Answer the next requests (to ``route`` only, if given) with these replies, in order."""
        with self._lock:
            self._forced.extend((route, reply) for reply in replies)

    def _take_forced(self, route: str) -> Reply | None:
        for number, (wanted, reply) in enumerate(self._forced):
            if wanted is None or wanted == route:
                del self._forced[number]
                return reply
        return None

    def log(self) -> list[tuple[str, str]]:
        return [(r.method, r.path) for r in self.requests]

    def start(self) -> RecordingServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
