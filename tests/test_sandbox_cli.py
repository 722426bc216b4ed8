"""`competency-ci sandbox serve`: foreground server, Ctrl-C exits 0, loopback only by default."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from conftest import REPO


def ignore_sigint() -> None:
    """What a parent that ignores Ctrl-C hands its children (Python keeps an inherited SIG_IGN)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize(
    ("stop", "inherited"),
    [(signal.SIGINT, None), (signal.SIGINT, ignore_sigint), (signal.SIGTERM, None)],
    ids=["ctrl-c", "ctrl-c-with-sigint-ignored-by-the-parent", "sigterm"],
)
def test_serve_answers_and_stops_cleanly_on_ctrl_c(
    tmp_path: Path, stop: signal.Signals, inherited: Callable[[], None] | None
) -> None:
    db = tmp_path / "s.sqlite3"
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_ACTIONS"}
    process = subprocess.Popen(
        [sys.executable, "-m", "competency_ci", "sandbox", "serve", "--port", "0", "--db", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=env,
        preexec_fn=inherited,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        match = re.fullmatch(
            r"CASS sandbox listening on (http://127\.0\.0\.1:\d+/api/) \(database: (.+)\); Ctrl-C stops it\n",
            banner,
        )
        assert match, banner
        assert match.group(2) == str(db)
        assert process.stdout.readline() == (
            f"Publish to it with: competency-ci publish --server {match.group(1)} (without CASS_KEY or "
            "cass.key-file, publish signs with the sandbox key .competency-ci/sandbox-key.pem of the "
            "repository it runs in)\n"
        )
        assert requests.get(match.group(1) + "ping", timeout=10).json()["ping"] == "pong"
        process.send_signal(stop)
        out, err = process.communicate(timeout=20)
        assert out == ""
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0
    lines = err.splitlines()
    assert len(lines) == 2, err
    assert re.fullmatch(r"GET /api/ping 200 in=0B out=\d+B", lines[0])
    assert lines[1] == "sandbox stopped"
    assert db.is_file()


def test_non_loopback_host_needs_allow_remote(run_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli("sandbox", "serve", "--host", "0.0.0.0", "--db", ":memory:")
    assert code == 2
    assert out == ""
    assert err == (
        "competency-ci sandbox: refusing to listen on 0.0.0.0: the sandbox is for local use; "
        "add --allow-remote to expose it\n"
    )


def test_unreadable_admin_key_is_a_usage_error(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "admin.pem"
    bad.write_text("not a key", "utf-8")
    code, out, err = run_cli("sandbox", "serve", "--port", "0", "--db", ":memory:", "--admin-key", str(bad))
    assert (code, out) == (2, "")
    assert err == f"competency-ci sandbox: {bad} is not a PEM RSA public key\n"


def test_action_is_required(run_cli) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run_cli("sandbox")
    assert code == 2
    assert "the following arguments are required: action" in err


def test_port_in_use_is_a_usage_error(run_cli) -> None:  # type: ignore[no-untyped-def]
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, out, err = run_cli("sandbox", "serve", "--port", str(port), "--db", ":memory:")
    assert (code, out) == (2, "")
    assert err.startswith(f"competency-ci sandbox: cannot listen on 127.0.0.1:{port}: ")
