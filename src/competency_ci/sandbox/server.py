"""The sandbox's HTTP transport: ``http.server`` threads in front of :class:`CassApp`.

Keeps a request log (method, path, status, bytes in and out) so tests and the publish benchmark
can assert exactly which requests a run made ("an unchanged re-publish costs zero writes").
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

from competency_ci.sandbox.app import DEFAULT_POST_MAX_SIZE, CassApp, Request, Response, Settings
from competency_ci.sandbox.state import STATE_DIR, state_dir
from competency_ci.sandbox.storage import Store

EMBEDDED_DB = STATE_DIR / "sandbox.sqlite3"
SOCKET_TIMEOUT = 30.0  # seconds a connection may stay silent (headers, body or keep-alive)
BODY_MARGIN = 1024 * 1024  # room beyond postMaxSize for the signature sheet and multipart framing
MAX_LINE = 65536
_HEX = re.compile(rb"[0-9A-Fa-f]+")
_WRITE_PATHS = ("/api/sky/repo/multiPut", "/api/sky/repo/multiDelete")


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str  # as requested, query string included
    status: int
    request_bytes: int  # body bytes received
    response_bytes: int  # body bytes sent
    search: bool = False  # ``/api/data`` with ``q`` or ``searchParams``: a read (§1.2)

    @property
    def is_write(self) -> bool:
        """A request that can change stored objects (bulk or single writes and deletes)."""
        route = self.path.split("?", 1)[0]
        if self.search:
            return False
        return route in _WRITE_PATHS or (route.startswith("/api/data/") and self.method in ("POST", "DELETE"))


def _now_ms() -> int:
    return int(time.time() * 1000)


class _BodyError(Exception):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status, self.text = status, text


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a publish reuses one connection
    # headers and body go out in two writes: without this, Nagle's algorithm and the client's
    # delayed ACK hold every answer back by ~40 ms
    disable_nagle_algorithm = True
    server: _HTTPServer
    # a socket timeout: a half-open or idle connection gives its thread back after this long
    timeout = SOCKET_TIMEOUT

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _read_body(self) -> bytes:
        """The body, bounded before it is buffered: ``Content-Length`` is checked first and a chunked
        body is counted as it arrives, so no client can make the sandbox hold more than
        ``postMaxSize`` plus room for the other form fields."""
        limit = self.server.sandbox.app.settings.post_max_size + BODY_MARGIN
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            total = 0
            while True:
                size_text = self.rfile.readline(MAX_LINE + 1).split(b";")[0].strip()
                if not size_text or len(size_text) > 16 or not _HEX.fullmatch(size_text):
                    raise _BodyError(400, "Bad Request: malformed chunk size")
                size = int(size_text, 16)
                if size == 0:
                    while self.rfile.readline(MAX_LINE + 1) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > limit:
                    raise _BodyError(413, "Payload Too Large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(MAX_LINE + 1)
        text = (self.headers.get("Content-Length") or "0").strip()
        if not text.isascii() or not text.isdigit() or len(text) > 19:
            raise _BodyError(400, "Bad Request: malformed Content-Length")
        length = int(text)
        if length > limit:
            raise _BodyError(413, "Payload Too Large")
        return self.rfile.read(length) if length > 0 else b""

    def _refuse(self, error: _BodyError) -> None:
        """Answer a body we will not read, and close: the rest of it is still on the wire."""
        data = error.text.encode()
        self.close_connection = True
        self.send_response(error.status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        with contextlib.suppress(OSError):
            self.wfile.write(data)
        self.server.sandbox._record(RequestRecord(self.command, self.path, error.status, 0, len(data)))

    def _serve(self) -> None:
        sandbox = self.server.sandbox
        try:
            body = self._read_body()
        except _BodyError as error:
            self._refuse(error)
            return
        except (ValueError, OSError):
            self.close_connection = True
            return
        path, _, query = self.path.partition("?")
        request = Request(
            method=self.command,
            path=path,
            query=query,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        try:
            response = sandbox.app.handle(request)
        except Exception as exc:  # never a traceback on the wire: a plain 500 like CASS
            response = Response.text(500, f"Error: {type(exc).__name__}")
        # logged before the answer leaves, so a client that got its response sees it in the log
        search = path.rstrip("/") == "/api/data" and ("q=" in query or b'name="searchParams"' in body)
        record = RequestRecord(
            self.command, self.path, response.status, len(body), len(response.body), search
        )
        sandbox._record(record)
        self.send_response(response.status)
        if response.content_type:
            self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        try:
            self.wfile.write(response.body)
        except OSError:
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the request log replaces the default stderr lines


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    sandbox: SandboxServer


class _HTTPServer6(_HTTPServer):
    address_family = socket.AF_INET6


class SandboxServer:
    """A CASS-compatible server on ``host:port`` (0 = any free port), storing in SQLite.

    ``clock`` returns the server's time in epoch milliseconds (tests inject it to accept the
    signature vectors, whose expiry lies in the past). Use as a context manager, or ``start()`` /
    ``stop()``.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        db_path: str | Path = ":memory:",
        clock: Callable[[], int] | None = None,
        post_max_size: int = DEFAULT_POST_MAX_SIZE,
        admin_public_keys: list[str] | None = None,
        reject_sha1: bool = False,
        base_url: str | None = None,
        log: TextIO | None = None,
        socket_timeout: float = SOCKET_TIMEOUT,
    ) -> None:
        self.request_log: list[RequestRecord] = []
        self._log_lock = threading.Lock()
        self._log_stream = log
        server_class = _HTTPServer6 if ":" in host else _HTTPServer  # --host ::1 binds IPv6
        handler = type("_Handler", (_Handler,), {"timeout": socket_timeout})
        self._httpd = server_class((host.strip("[]"), port), handler, bind_and_activate=True)
        self._httpd.sandbox = self
        bound_host, bound_port = self._httpd.server_address[:2]
        host_text = bound_host.decode() if isinstance(bound_host, bytes) else str(bound_host)
        shown = f"[{host_text}]" if ":" in host_text else host_text
        self.url = f"http://{shown}:{bound_port}/api/"
        self.port = int(bound_port)
        self.db_path = str(db_path)
        self.store = Store(self.db_path)
        settings = Settings(
            base_url=base_url or self.url,
            clock=clock or _now_ms,
            post_max_size=post_max_size,
            admin_public_keys=list(admin_public_keys or []),
            reject_sha1=reject_sha1,
        )
        self.app = CassApp(self.store, settings)
        self._thread: threading.Thread | None = None

    def _record(self, record: RequestRecord) -> None:
        with self._log_lock:
            self.request_log.append(record)
        if self._log_stream is not None:
            print(
                f"{record.method} {record.path} {record.status} "
                f"in={record.request_bytes}B out={record.response_bytes}B",
                file=self._log_stream,
                flush=True,
            )

    def writes(self) -> list[RequestRecord]:
        """The logged requests that could change stored objects."""
        with self._log_lock:
            return [r for r in self.request_log if r.is_write]

    def start(self) -> SandboxServer:
        """Serve in a background thread."""
        if self._thread is None:
            self._thread = threading.Thread(
                # a short poll interval: stop() waits for the loop to notice, and tests stop often
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="cass-sandbox",
                daemon=True,
            )
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (``competency-ci sandbox serve``)."""
        self._httpd.serve_forever()

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()
        self.store.close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"SandboxServer(url={self.url!r}, db_path={self.db_path!r})"


def start_embedded(root: Path, **options: Any) -> SandboxServer:
    """The in-process sandbox behind ``--server sandbox``: loopback, any free port, and a database
    under ``<root>/.competency-ci/`` so successive runs see what earlier runs published."""
    state_dir(root)
    path = root / EMBEDDED_DB
    return SandboxServer(host="127.0.0.1", port=0, db_path=path, **options).start()
