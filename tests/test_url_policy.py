"""One URL policy for every remote service, no redirects for signed requests, no secret echoed (issue 14).

Servers are real, on 127.0.0.1: a tiny redirecting/erroring HTTP server here, the sandbox and the
GitHub API test server through the Action's own run.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from approval_fixtures import write_repository
from competency_ci.frameworks.config import ConfigError, parse_config
from competency_ci.githubapi import GitHub, GitHubError
from competency_ci.http import RemoteError, UrlError, check_url, new_session, redact, send
from test_action import PATH, Job, errors, framework, job, push  # noqa: F401  (job is a fixture)

TOKEN = "ghs_" + "S3cr3t" * 6


class Handler(http.server.BaseHTTPRequestHandler):
    """``/redirect`` answers 307 to ``/target``; ``/error`` a 403 whose text holds the token at
    character 190 (a 200-character cut before redaction leaked its prefix)."""

    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.handle_any()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.handle_any()

    def handle_any(self) -> None:
        Handler.hits.append(self.path)
        if self.path.startswith("/redirect"):
            self.send_response(307)
            local = f"http://127.0.0.1:{self.server.server_port}/target"
            self.send_header("Location", "http://example.org/x" if self.path == "/redirect-out" else local)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = ("x" * 190 + TOKEN + " trailing").encode() if "/error" in self.path else b"{}"
        self.send_response(403 if "/error" in self.path else 200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    Handler.hits = []
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "http://example.org\\@127.0.0.1/api/",
            "cass: ambiguous URL (parsers disagree on its host): 'http://example.org\\\\@127.0.0.1/api/'",
        ),
        (
            "https://alice:hunter2@cass.example.org/api/",
            "cass: credentials in the URL are refused (they would be printed and logged): "
            "'https://***@cass.example.org/api/'; give them as the configured secret instead",
        ),
        (
            "https://cass.example.org:99999/api/",
            "cass: not a usable URL: 'https://cass.example.org:99999/api/'",
        ),
        ("http://[::1/api/", "cass: not a usable URL: 'http://[::1/api/'"),
        ("https://h:port/", "cass: not a usable URL: 'https://h:port/'"),
        (
            "ftp://cass.example.org/",
            "cass: expected an http(s) URL with a host, got 'ftp://cass.example.org/'",
        ),
        ("http:///api/", "cass: expected an http(s) URL with a host, got 'http:///api/'"),
        (
            "http://cass.example.org/api/",
            "cass: refusing plain http:// to cass.example.org: secrets and signatures would travel "
            "unencrypted; use https:// (or, for CASS, pass --allow-insecure-http)",
        ),
    ],
)
def test_refused_urls(url: str, message: str) -> None:
    with pytest.raises(UrlError) as caught:
        check_url(url, "cass")
    assert str(caught.value) == message
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080/api/", "http://localhost/api/", "http://[::1]:9/", "https://x.org/api/"]
)
def test_accepted_urls(url: str) -> None:
    assert check_url(url, "cass") == url


def test_allowed_plain_http_is_remembered_for_that_origin_only() -> None:
    check_url("http://allowed.example.org/api/", "cass", allow_insecure_http=True)
    assert check_url("http://allowed.example.org/api/data/x", "POST request")
    with pytest.raises(UrlError):
        check_url("http://allowed.example.org:81/api/", "POST request")


def test_a_redirect_is_never_followed(server: str) -> None:
    session = new_session()
    with pytest.raises(RemoteError) as caught:
        send(session, "POST", f"{server}/redirect", data={"signatureSheet": "[sig]"})
    assert str(caught.value) == (
        f"POST {server}/redirect: gave up after 1 attempt in {caught.value.elapsed:.1f} s (307): "
        f"redirected to '{server}/target'; not followed (it would carry the request's signature or "
        "token elsewhere): configure the final URL"
    )
    assert Handler.hits == ["/redirect"]  # the target never saw the signature sheet


def test_send_refuses_a_url_the_policy_refuses(server: str) -> None:
    with pytest.raises(UrlError, match="credentials in the URL are refused"):
        send(new_session(), "GET", server.replace("//", "//u:p@") + "/x")
    assert Handler.hits == []


def test_github_error_bodies_are_redacted_before_they_are_cut(server: str) -> None:
    gh = GitHub(TOKEN, "acme/frameworks", f"{server}/error")
    with pytest.raises(GitHubError) as caught:
        gh.list_issues("competency-approval")
    text = str(caught.value)
    assert TOKEN[:8] not in text and "S3cr3t" not in text
    assert text.endswith(": HTTP 403 " + "x" * 190 + "***" + " trailing"[:7] + "…")


def test_redact_then_cut() -> None:
    assert redact("a" * 5 + "SECRET", ["SECRET"], limit=6) == "aaaaa*…"
    assert redact("see https://bob:pw@h.org/x", []) == "see https://***@h.org/x"


def test_cli_refuses_bad_server_urls_without_a_traceback(tmp_path: Path, run_cli: Any) -> None:
    config = write_repository(tmp_path, "https://registry.invalid")
    for url, message in [
        ("http://example.org\\@127.0.0.1/api/", "ambiguous URL (parsers disagree on its host)"),
        ("https://cass.example.org:99999/", "not a usable URL"),
        ("http://[::1/", "not a usable URL"),
        ("https://u:pw@cass.example.org/", "credentials in the URL are refused"),
    ]:
        code, _, err = run_cli("plan", "--config", str(config), "--server", url)
        assert code == 2, err
        assert message in err and "Traceback" not in err and "pw@" not in err


def test_a_pasted_key_in_key_env_is_not_printed_back() -> None:
    pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----"
    with pytest.raises(ConfigError) as caught:
        parse_config({"cass": {"key-env": pem}}, Path("."))
    assert str(caught.value) == (
        "cass.key-env: expected the name of an environment variable (letters, digits and _), not its "
        f"value; the value given ({len(pem)} characters) is not shown"
    )
    with pytest.raises(ConfigError) as caught:
        parse_config({"approval": {"webhook-secret-env": "whsec-9f8e7d6c5b4a"}}, Path("."))
    assert "whsec-9f8e7d6c5b4a" not in str(caught.value)


def test_config_type_errors_name_the_type_not_the_value() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"cass": {"url": 12345678}}, Path("."))
    assert str(caught.value) == "cass.url: expected a string, got a number"
    with pytest.raises(ConfigError) as caught:
        parse_config({"approval": {"approvers": {"token": "ghp_x"}}}, Path("."))
    assert str(caught.value) == "approval.approvers: expected a string or a list of strings, got a mapping"


def test_the_action_checks_the_cass_url_too(job: Job) -> None:  # noqa: F811
    sha = job.commit({PATH: framework()})
    inputs = {"mode": "publish", "cass-url": "http://cass.example.org/api/", "cass-key": "x" * 40}
    result = job.run("push", push("0" * 40, sha), sha, "refs/heads/main", inputs)
    assert result.exit_code == 2
    assert [c.data for c in errors(result)] == [
        "cass-url: refusing plain http:// to cass.example.org: secrets and signatures would travel "
        "unencrypted; use https:// (or, for CASS, pass --allow-insecure-http)"
    ]
    assert job.sandbox.request_log == []


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"registry": "https://u:hunter2@registry.example.org"}, "registry"),
        ({"assistant": "https://u:hunter2@assistant.example.org"}, "assistant"),
        ({"cass": {"url": "https://u:hunter2@cass.example.org/api/"}}, "cass.url"),
        ({"approval": {"webhook-url": "https://hunter2@hooks.example.org/x"}}, "approval.webhook-url"),
    ],
)
def test_configured_urls_with_credentials_are_refused_unprinted(raw: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, Path("."))
    assert str(caught.value) == (
        f"{key}: credentials in the URL are refused (they would be printed and logged); "
        "give them as the configured secret instead"
    )


def test_a_read_without_secrets_may_follow_redirects_under_the_policy(server: str) -> None:
    response = send(new_session(), "GET", f"{server}/redirect", redirects=5)
    assert (response.status_code, Handler.hits) == (200, ["/redirect", "/target"])


def test_a_followed_redirect_to_plain_http_elsewhere_is_refused(server: str) -> None:
    with pytest.raises(UrlError, match=r"refusing plain http:// to example\.org"):
        send(new_session(), "GET", f"{server}/redirect-out", redirects=5)
    assert Handler.hits == ["/redirect-out"]
