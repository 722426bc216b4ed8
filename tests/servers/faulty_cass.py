"""A fault-injecting HTTP proxy on 127.0.0.1 in front of a CASS server (the sandbox).

Faults follow what a real deployment does to a client: 500/503 answers, 429 with ``Retry-After``,
a connection dropped after the server did the work (the client never sees the answer), and a
``multiPut`` answer that silently leaves out an object (cass-api.md §1.2: refused objects are
omitted from a 200 answer). Everything else is forwarded unchanged. ``log`` records what happened
to each request, in order, so tests assert exactly which requests were made.
"""

from __future__ import annotations

import http.client
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Fault:
    route: str  # matched against the end of the request path, e.g. "multiPut", "ping"
    action: str  # "status" | "drop" | "omit"
    status: int = 500
    retry_after: str | None = None
    first: int = 1  # the first matching request (1-based) affected
    times: int | None = 1  # how many matching requests from ``first`` on; None = all
    forward: bool = True  # "drop": let the server do the work first, then lose the answer
    body: str = "injected failure"  # "status": the plain-text answer (CASS errors are plain text)

    def applies(self, number: int) -> bool:
        return number >= self.first and (self.times is None or number < self.first + self.times)


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
        route = self.path.split("?", 1)[0]
        fault = proxy.fault_for(route)
        if fault is not None and fault.action == "status":
            proxy.record(self.command, route, f"injected {fault.status}")
            text = fault.body.encode("utf-8")
            self.send_response(fault.status)
            if fault.retry_after is not None:
                self.send_header("Retry-After", fault.retry_after)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(text)))
            self.end_headers()
            self.wfile.write(text)
            return
        if fault is not None and fault.action == "drop" and not fault.forward:
            proxy.record(self.command, route, "dropped")
            self.close_connection = True
            return
        status, headers, answer = proxy.forward(self.command, self.path, self.headers, body)
        if fault is not None and fault.action == "drop":
            proxy.record(self.command, route, f"dropped after forwarding ({status})")
            self.close_connection = True
            return
        if fault is not None and fault.action == "omit":
            objects = json.loads(answer)
            omitted = objects.pop(0)["@id"]
            answer = json.dumps(objects).encode("utf-8")
            proxy.record(self.command, route, f"omitted {omitted}")
        else:
            proxy.record(self.command, route, f"forwarded {status}")
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    proxy: FaultyCass


class FaultyCass:
    """``FaultyCass(faults)``; set ``upstream`` (the server's ``.../api/`` URL) before requests arrive."""

    def __init__(self, faults: list[Fault], upstream: str | None = None) -> None:
        self.faults = faults
        self.upstream = upstream
        self.log: list[str] = []
        self._counts: dict[int, int] = {}
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.proxy = self
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/api/"
        self._thread: threading.Thread | None = None

    def fault_for(self, route: str) -> Fault | None:
        with self._lock:
            for index, fault in enumerate(self.faults):
                if route.endswith(fault.route):
                    self._counts[index] = number = self._counts.get(index, 0) + 1
                    if fault.applies(number):
                        return fault
        return None

    def record(self, method: str, route: str, what: str) -> None:
        with self._lock:
            self.log.append(f"{method} {route.removeprefix('/api/')}: {what}")

    def forward(
        self, method: str, path: str, headers: Any, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        assert self.upstream is not None, "FaultyCass.upstream is not set"
        target = urlsplit(self.upstream)
        connection = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port, timeout=30)
        try:
            forwarded = {k: v for k, v in headers.items() if k.lower() not in ("host", "connection")}
            connection.request(method, path, body=body or None, headers=forwarded)
            response = connection.getresponse()
            return response.status, list(response.getheaders()), response.read()
        finally:
            connection.close()

    def start(self) -> FaultyCass:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="faulty-cass", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> FaultyCass:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
