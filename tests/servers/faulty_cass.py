"""A fault-injecting HTTP proxy on 127.0.0.1 in front of a CASS server (the sandbox).

Faults follow what a real deployment does to a client: 500/503 answers, 429 with ``Retry-After``,
a request lost before the server sees it, an answer lost after the server acted (the connection
dropped, or the answer cut off half-way), an answer that comes too late (the client's timeout
fires while the server works), and a ``multiPut`` answer that silently leaves out an object
(cass-api.md §1.2: refused objects are omitted from a 200 answer). A fault may also take the
server away from then on (``down``: every later request is lost; ``writes_down``: every later write).
Everything else is forwarded unchanged. ``log`` records what happened to each request, in order,
with the number of objects a bulk request carried, so tests assert exactly which requests were made.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from competency_ci.sandbox.multipart import parse_form

WRITES = ("multiPut", "multiDelete")


@dataclass
class Fault:
    route: str  # matched against the end of the request path, e.g. "multiPut"; "a|b" for either
    action: str  # "status" | "drop" | "cut" | "stall" | "omit"
    status: int = 500
    retry_after: str | None = None
    first: int = 1  # the first matching request (1-based) affected
    times: int | None = 1  # how many matching requests from ``first`` on; None = all
    forward: bool = True  # "drop": let the server do the work first, then lose the answer
    body: str = "injected failure"  # "status": the plain-text answer (CASS errors are plain text)
    contains: str | None = None  # only requests whose body holds this text count (and match)
    stall: float = 1.0  # "stall": seconds to hold the answer back after the server answered
    then: str | None = None  # after the fault: "down" (every request lost) or "writes_down"

    def matches(self, route: str, body: bytes) -> bool:
        if not any(route.endswith(r) for r in self.route.split("|")):
            return False
        return self.contains is None or self.contains.encode("utf-8") in body

    def applies(self, number: int) -> bool:
        return number >= self.first and (self.times is None or number < self.first + self.times)


def forward(
    upstream: str, method: str, path: str, headers: Any, body: bytes
) -> tuple[int, list[tuple[str, str]], bytes]:
    """Send one request on to ``upstream`` as it came (less Host and Connection); its answer whole."""
    target = urlsplit(upstream)
    connection = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port, timeout=30)
    try:
        forwarded = {k: v for k, v in headers.items() if k.lower() not in ("host", "connection")}
        connection.request(method, path, body=body or None, headers=forwarded)
        response = connection.getresponse()
        return response.status, list(response.getheaders()), response.read()
    finally:
        connection.close()


def _count(route: str, headers: Any, body: bytes) -> str:
    """`` [n]``: how many objects or keys a bulk request's ``data`` field carries."""
    if not route.endswith(("multiPut", "multiDelete", "multiGet")):
        return ""
    try:
        data = json.loads(parse_form(headers.get("Content-Type"), body).get("data", b"null"))
    except ValueError:
        return ""
    return f" [{len(data)}]" if isinstance(data, list) else ""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # answers are two writes: no ~40 ms delayed-ACK stall each
    server: _Server

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _lose(self, route: str, what: str) -> None:
        self.server.proxy.record(self.command, route, what)
        self.close_connection = True

    def _handle(self) -> None:
        proxy = self.server.proxy
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        route = self.path.split("?", 1)[0] + _count(self.path.split("?", 1)[0], self.headers, body)
        plain = self.path.split("?", 1)[0]
        if proxy.is_down(plain):
            self._lose(route, "lost (server down)")
            return
        fault = proxy.fault_for(plain, body)
        if fault is not None and fault.then:
            proxy.down = fault.then
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
            self._lose(route, "dropped before the server")
            return
        status, headers, answer = proxy.forward(self.command, self.path, self.headers, body)
        if fault is not None and fault.action == "drop":
            self._lose(route, f"dropped after forwarding ({status})")
            return
        if fault is not None and fault.action == "stall":
            proxy.record(self.command, route, f"stalled after forwarding ({status})")
            time.sleep(fault.stall)
            self.close_connection = True
            return
        if fault is not None and fault.action == "omit":
            objects = json.loads(answer)
            omitted = objects.pop(0)["@id"]
            answer = json.dumps(objects).encode("utf-8")
            proxy.record(self.command, route, f"omitted {omitted}")
        elif fault is not None and fault.action == "cut":
            proxy.record(self.command, route, f"answer cut after forwarding ({status})")
        else:
            proxy.record(self.command, route, f"forwarded {status}")
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        if fault is not None and fault.action == "cut":
            self.wfile.write(answer[: len(answer) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
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
        self.down: str | None = None
        self._counts: dict[int, int] = {}
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.proxy = self
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/api/"
        self._thread: threading.Thread | None = None

    def arm(self, faults: list[Fault]) -> None:
        """New faults, counted from the next request on; the server is reachable again."""
        with self._lock:
            self.faults, self._counts, self.down = faults, {}, None
            self.log.clear()

    def is_down(self, route: str) -> bool:
        return self.down == "down" or (self.down == "writes_down" and route.endswith(WRITES))

    def fault_for(self, route: str, body: bytes = b"") -> Fault | None:
        with self._lock:
            for index, fault in enumerate(self.faults):
                if fault.matches(route, body):
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
        return forward(self.upstream, method, path, headers, body)

    def start(self) -> FaultyCass:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="faulty-cass", daemon=True
        )
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
