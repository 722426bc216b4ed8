"""The sandbox under attack (issue 14): no id takeover, bounded bodies, socket timeouts, clean 400/413,
IPv6. Every test talks to a real server on loopback, over requests or a raw socket."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from competency_ci.sandbox import SandboxServer
from test_sandbox import KEY, NOW, OWNER, REG, Client, obj

CTID = "ce-0a9e3c1b-7d24-4f6e-8b15-c3d2e1f0a912"


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with SandboxServer(clock=lambda: NOW, post_max_size=10_000, socket_timeout=0.5) as running:
        yield running


def raw(server: SandboxServer, data: bytes, wait: float = 5.0) -> bytes:
    """Send bytes on a fresh connection; everything the server answers until it closes."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=wait) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize(
    "victim_id",
    ["{url}data/" + CTID, REG + CTID],
    ids=["server-id", "registry-uri"],
)
def test_an_unsigned_client_cannot_take_over_another_owners_id(server: SandboxServer, victim_id: str) -> None:
    client = Client(server)
    victim = obj(victim_id.format(url=server.url), "mine", owner=[OWNER])
    assert client.put([victim], KEY) == [victim]
    attacker = obj("https://evil.example/x/" + CTID, "pwned")  # same last segment, no owner
    assert client.put([attacker]) == [attacker]  # stored: it is a new object of its own
    assert client.name(CTID) == "mine"  # but the victim's guid still names the victim's object
    renamed = {**victim, "name": "still mine"}
    assert client.put([renamed], KEY) == [renamed]  # and the victim can still write it
    assert client.name(CTID) == "still mine"


def test_the_owner_may_move_its_own_alias(server: SandboxServer) -> None:
    client = Client(server)
    first = obj("https://a.example/x/" + CTID, "first", owner=[OWNER])
    second = obj("https://b.example/y/" + CTID, "second", owner=[OWNER])
    client.put([first], KEY)
    client.put([second], KEY)
    assert client.name(CTID) == "second"


def test_content_length_is_checked_before_the_body_is_read(server: SandboxServer, capfd: Any) -> None:
    head = (
        b"POST /api/sky/repo/multiPut HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: multipart/form-data; boundary=b\r\n"
    )
    answer = raw(server, head + b"Content-Length: 200000000\r\n\r\n" + b"x" * 1000)
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert answer.endswith(b"\r\n\r\nPayload Too Large")
    answer = raw(server, head + b"Content-Length: " + b"9" * 5000 + b"\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400 ") and answer.endswith(b"Bad Request: malformed Content-Length")
    assert "Traceback" not in capfd.readouterr().err
    assert [(r.path, r.status) for r in server.request_log] == [
        ("/api/sky/repo/multiPut", 413),
        ("/api/sky/repo/multiPut", 400),
    ]


@pytest.mark.parametrize(
    ("chunks", "status", "text"),
    [
        (b"ffffffffffffffff\r\n", 413, b"Payload Too Large"),
        (b"f" * 5000 + b"\r\n", 400, b"Bad Request: malformed chunk size"),
        (b"zz\r\n", 400, b"Bad Request: malformed chunk size"),
        (b"".join(b"1000\r\n" + b"a" * 4096 + b"\r\n" for _ in range(300)), 413, b"Payload Too Large"),
    ],
    ids=["huge-size", "5000-digit-size", "not-hex", "too-many-chunks"],
)
def test_chunked_bodies_are_bounded_as_they_arrive(
    server: SandboxServer, capfd: Any, chunks: bytes, status: int, text: bytes
) -> None:
    head = b"POST /api/sky/repo/multiPut HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    answer = raw(server, head + chunks)
    assert answer.startswith(b"HTTP/1.1 %d " % status) and answer.endswith(text)
    assert "Traceback" not in capfd.readouterr().err


def test_a_silent_connection_is_closed_after_the_socket_timeout(server: SandboxServer) -> None:
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"POST /api/sky/repo/multiPut HTTP/1.1\r\n")  # then nothing: half a request
        assert sock.recv(1024) == b""  # the server gave up and closed
    assert time.monotonic() - start < 5


def test_a_5000_digit_version_is_a_bad_request(server: SandboxServer) -> None:
    client = Client(server)
    response = client.get("Competency/" + CTID + "/" + "9" * 5000)
    assert (response.status_code, response.text) == (400, "Version number too large: " + "9" * 24 + "…")
    response = client.post("sky/repo/multiPut", [obj(REG + CTID + "/" + "7" * 5000, "x")])
    assert response.status_code == 400
    assert client.get("Competency/" + CTID + "/" + "9" * 19).status_code == 400  # past 2**63 - 1
    assert server.store.count() == 0


def _ipv6() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _ipv6(), reason="this machine has no IPv6 loopback")
def test_the_sandbox_listens_on_ipv6_loopback() -> None:
    with SandboxServer(host="::1") as running:
        assert running.url == f"http://[::1]:{running.port}/api/"
        assert requests.get(running.url + "ping", timeout=5).json()["ping"] == "pong"
