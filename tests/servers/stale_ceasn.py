"""A proxy on 127.0.0.1 in front of a CASS server that gives ``GET /api/ceasn/{uid}`` CASS's cache defect.

Real CASS (cassproject 5.0.12 and 5.0.19, server 1.7.4) caches the objects its CTDL-ASN export reads
and never clears that cache (it reassigns it). After the first export on a running server it serves
the text of that first export after an edit, still lists deleted competencies under ``hasChild``, and
adds duplicate ``hasChild``/``isChildOf`` entries on each call (4, 6, then 8 entries for a competency
with 2 children). This proxy reproduces exactly that: the first answer per uid is kept; the n-th
later call serves it with every ``hasChild``/``isChildOf`` list repeated n times. Every other request
is forwarded unchanged. ``restart()`` clears the cache, as restarting CASS does.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from servers.faulty_cass import forward

_GROWING = ("ceasn:hasChild", "ceasn:isChildOf")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _handle(self) -> None:
        proxy = self.server.proxy
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, headers, answer = proxy.forward(self.command, self.path, self.headers, body)
        route = self.path.split("?", 1)[0]
        if self.command == "GET" and route.startswith("/api/ceasn/") and status == 200:
            answer = proxy.cached(route, answer)
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    proxy: StaleCeasn


class StaleCeasn:
    """``StaleCeasn(upstream)`` where upstream is the server's ``.../api/`` URL."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self._cache: dict[str, tuple[dict[str, Any], int]] = {}  # route -> (first export, calls since)
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.proxy = self
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/api/"
        self._thread: threading.Thread | None = None

    def cached(self, route: str, fresh: bytes) -> bytes:
        with self._lock:
            if route not in self._cache:
                self._cache[route] = (json.loads(fresh), 1)
                return fresh
            first, calls = self._cache[route]
            calls += 1
            self._cache[route] = (first, calls)
        graph = json.loads(json.dumps(first))
        for node in graph.get("@graph", []):
            for term in _GROWING:
                if isinstance(node.get(term), list):
                    node[term] = node[term] * calls
        return json.dumps(graph, indent=2).encode("utf-8")

    def restart(self) -> None:
        with self._lock:
            self._cache.clear()

    def forward(
        self, method: str, path: str, headers: Any, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        return forward(self.upstream, method, path, headers, body)

    def __enter__(self) -> StaleCeasn:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="stale-ceasn", daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
        self._httpd.server_close()
