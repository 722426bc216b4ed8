"""One retry rule for every remote service we call (CASS, Registry, Assistant, GitHub, webhooks).

Transient failures (connection errors, timeouts, 429 and 5xx) are retried with exponential backoff,
honouring ``Retry-After``, inside a bounded total time; then :class:`RemoteError` gives an exact
account of every attempt (exit code 3). Any other answer is returned to the caller, who alone knows
what a 4xx or a ``Successful: false`` body means. ``requests`` is imported only when a request is
actually sent, so commands that never reach the network do not pay for it.

A write that must not run twice at once (``replay=False``) is retried only when the server surely
did not start it (no connection, 429, 503) or has finished with it (500). When the answer is lost
after the request went out (a read timeout, a dropped or cut connection, a gateway's 502/504), the
first copy may still be running on the server, so :class:`AnswerLost` is raised at once: the caller
reads back what the server holds and sends only what is missing.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from competency_ci import __version__

# Progress lines (a retry and its wait, a batch of a large publish): re-exported from a module
# the command line can route without importing this one.
from competency_ci.progress import Progress as Progress
from competency_ci.progress import progress as progress
from competency_ci.progress import set_progress as set_progress

if TYPE_CHECKING:
    import requests

USER_AGENT = f"competency-ci/{__version__}"


def is_loopback(host: str) -> bool:
    """Whether a host name or address is this machine (plain http and a listening sandbox are
    allowed only there)."""
    if host.lower() == "localhost":
        return True
    try:
        import ipaddress  # off the hooks' start-up path

        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class UrlError(ValueError):
    """A service URL we refuse to use (exit code 2); the message never holds URL credentials."""


_INSECURE_ORIGINS: set[tuple[str, str, int | None]] = set()  # plain http the user allowed
_USERINFO = re.compile(r"(?<=//)[^/?#@]*@")


def without_credentials(url: str) -> str:
    """The URL as it may be printed: any ``user:password@`` part replaced by ``***@``."""
    return _USERINFO.sub("***@", url)


def check_url(url: str, service: str, *, allow_insecure_http: bool = False) -> str:
    """The one URL policy for every remote service (CASS, Registry, Assistant, GitHub, webhook).

    The URL is parsed by ``urllib3.util.parse_url``, the parser ``requests`` connects with, and the
    standard library's reading must agree on the host: ``http://example.org\\@127.0.0.1/`` (which
    connects to example.org) is refused, not taken for loopback. Refused, as ``UrlError``: an
    unparsable URL (bad port, brackets), a scheme other than http(s), a missing host, credentials in
    the URL, and plain http to a host that is not loopback unless ``allow_insecure_http`` (which is
    then remembered for that origin, so :func:`send` lets it through). Returns the URL.
    """
    from urllib3.exceptions import LocationParseError
    from urllib3.util import parse_url

    try:
        parts = parse_url(url)
        std = urlsplit(url)
        std_port = std.port
    except (LocationParseError, ValueError):
        raise UrlError(f"{service}: not a usable URL: {without_credentials(url)!r}") from None
    # printed as requests would use it: the credentials it would send, and only those, hidden
    shown = url.replace(f"{parts.auth}@", "***@", 1) if parts.auth else url
    scheme, host = (parts.scheme or "").lower(), (parts.host or "").lower()
    if scheme not in ("http", "https") or not host:
        raise UrlError(f"{service}: expected an http(s) URL with a host, got {shown!r}")
    if host.strip("[]") != (std.hostname or "") or parts.port != std_port or "\\" in url:
        raise UrlError(f"{service}: ambiguous URL (parsers disagree on its host): {shown!r}")
    if parts.auth is not None or std.username is not None or std.password is not None:
        raise UrlError(
            f"{service}: credentials in the URL are refused (they would be printed and logged): "
            f"{shown!r}; give them as the configured secret instead"
        )
    origin = (scheme, host, parts.port)
    if scheme == "http" and not is_loopback(host):
        if allow_insecure_http:
            _INSECURE_ORIGINS.add(origin)
        elif origin not in _INSECURE_ORIGINS:
            raise UrlError(
                f"{service}: refusing plain http:// to {host}: secrets and signatures would travel "
                "unencrypted; use https:// (or, for CASS, pass --allow-insecure-http)"
            )
    return url


RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# A gateway's "the backend did not answer in time / answered badly": the request may still be running.
IN_DOUBT_STATUSES = frozenset({502, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try. ``total`` bounds attempts plus waits, so a CI job never hangs."""

    attempts: int = 5
    first_delay: float = 1.0
    max_delay: float = 30.0
    total: float = 120.0
    timeout: float = 60.0


DEFAULT_POLICY = RetryPolicy()


@dataclass(frozen=True)
class Attempt:
    """One try: the HTTP status, or the connection error's class name when there was no answer,
    and then its underlying ``reason`` in words ("connection refused")."""

    status: int | None
    error: str | None = None
    reason: str | None = field(default=None, compare=False)

    def __str__(self) -> str:
        if self.status is not None:
            return str(self.status)
        return self.reason or self.error or "no answer"


def _runs(attempts: list[Attempt]) -> str:
    """``503, 3 × connection refused``: identical consecutive attempts counted once."""
    parts: list[tuple[str, int]] = []
    for attempt in attempts:
        text = str(attempt)
        if parts and parts[-1][0] == text:
            parts[-1] = (text, parts[-1][1] + 1)
        else:
            parts.append((text, 1))
    return ", ".join(text if n == 1 else f"{n} × {text}" for text, n in parts)


# Words for what went wrong below HTTP, matched in the text of the exception chain (fixed phrases:
# nothing from the exception itself is repeated, so no URL or header can leak through them).
_REASONS = (
    ("Connection refused", "connection refused"),
    ("Name or service not known", "host name not found"),
    ("nodename nor servname", "host name not found"),
    ("Temporary failure in name resolution", "host name not found (DNS)"),
    ("getaddrinfo failed", "host name not found"),
    ("Failed to resolve", "host name not found"),
    ("No route to host", "no route to host"),
    ("Network is unreachable", "network unreachable"),
    ("CERTIFICATE_VERIFY_FAILED", "TLS certificate not trusted"),
    ("SSLError", "TLS handshake failed"),
    ("Connection reset", "connection reset by the server"),
    ("RemoteDisconnected", "the server closed the connection without answering"),
    ("closed connection without response", "the server closed the connection without answering"),
    ("IncompleteRead", "the answer was cut off"),
    ("ChunkedEncodingError", "the answer was cut off"),
    ("Connection aborted", "connection aborted"),
)


def reason(exc: BaseException) -> str:
    """What a connection error means, in words: "connection refused", "no answer within 60 s"."""
    import requests

    if isinstance(exc, requests.ConnectTimeout):
        return "no connection within the time limit"
    if isinstance(exc, requests.ReadTimeout):
        return "no answer within the time limit"
    text = f"{type(exc).__name__} {exc!r} {exc}"
    return next((words for needle, words in _REASONS if needle in text), type(exc).__name__)


@dataclass
class RemoteError(Exception):
    """The service did not answer usably within the policy; ``str()`` holds no secrets."""

    method: str
    url: str
    attempts: list[Attempt] = field(default_factory=list)
    elapsed: float = 0.0
    detail: str = ""

    def __post_init__(self) -> None:
        self.url = without_credentials(self.url)

    def __str__(self) -> str:
        if not self.attempts:
            return f"{self.method} {self.url}: {self.detail}"
        tries = _runs(self.attempts)
        plural = "s" if len(self.attempts) != 1 else ""
        text = (
            f"{self.method} {self.url}: gave up after {len(self.attempts)} attempt{plural} "
            f"in {self.elapsed:.1f} s ({tries})"
        )
        return f"{text}: {self.detail}" if self.detail else text


@dataclass
class AnswerLost(RemoteError):
    """A write went out but its answer did not come back: the server may have acted, or still be
    acting. Never retried blindly (``send(..., replay=False)``)."""


def _never_sent(exc: Exception) -> bool:
    """Whether a connection error happened before the request could reach the server."""
    import requests
    from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, NewConnectionError | ConnectTimeoutError)


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date), else None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        import email.utils  # off the hooks' start-up path

        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def redact(text: str, secrets: Iterable[str | None], limit: int | None = None) -> str:
    """Remove secret values (and URL credentials) from text that came back from a service (CE
    echoes bad API keys), then cut it to ``limit`` characters: redacting first, so that a cut can
    never leave a secret's prefix behind."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    text = without_credentials(text)
    return text if limit is None or len(text) <= limit else text[:limit] + "…"


class Budget:
    """One time budget for every request of a command, so N frameworks cannot take N times ``total``."""

    def __init__(
        self, policy: RetryPolicy = DEFAULT_POLICY, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.base, self.clock = policy, clock
        self.end = clock() + policy.total

    def policy(self, method: str, url: str) -> RetryPolicy:
        remaining = self.end - self.clock()
        if remaining <= 0:
            raise RemoteError(method, url, [], 0.0, "time limit reached before this request")
        return replace(self.base, total=remaining, timeout=min(self.base.timeout, max(1.0, remaining)))


def new_session() -> requests.Session:
    import requests

    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    return session


NOTICEABLE_WAIT = 1.0  # seconds: a shorter wait before a retry is not worth a line


def _retrying(
    method: str,
    url: str,
    last: Attempt,
    delay: float,
    number: int,
    policy: RetryPolicy,
    spent: Callable[[], float],
) -> str:
    """``GET https://…: connection refused, retrying in 2 s (attempt 2 of 5)``."""
    what = f"HTTP {last.status}" if last.status is not None else str(last)
    if policy.attempts <= 10:
        left = f"attempt {number} of {policy.attempts}"
    else:  # a time budget rather than a count decides (the CASS client)
        left = f"attempt {number}; giving up within {math.ceil(max(0.0, policy.total - spent()))} s"
    return f"{method} {url}: {what}, retrying in {delay:g} s ({left})"


def send(
    session: requests.Session,
    method: str,
    url: str,
    *,
    policy: RetryPolicy = DEFAULT_POLICY,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    replay: bool = True,
    redirects: int = 0,
    **kwargs: Any,
) -> requests.Response:
    """Send one request with retries; return the first non-transient response.

    With ``replay`` (reads, publishGraph of a whole framework by CTID, an issue update) repeating a
    request whose answer was lost is safe. Without it (CASS bulk writes, whose first copy may still
    be running), a lost answer raises :class:`AnswerLost` instead of sending a second copy.

    Redirects are not followed (a signature sheet or a token would go along) unless ``redirects``
    allows that many hops, for reads that carry no secret; every hop passes :func:`check_url`.
    """
    import requests

    check_url(url, f"{method} request")
    kwargs.setdefault("timeout", policy.timeout)
    kwargs["allow_redirects"] = False  # a redirect would carry a signature sheet or a token elsewhere
    start = clock()
    attempts: list[Attempt] = []
    for number in range(1, policy.attempts + 1):
        wait: float | None = None
        try:
            response = session.request(method, url, **kwargs)
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
            attempts.append(Attempt(None, type(exc).__name__, reason(exc)))
            if not replay and not _never_sent(exc):
                raise AnswerLost(method, url, attempts, clock() - start, "the answer was lost") from None
        else:
            if response.is_redirect and redirects > 0:
                # a read that carries no secret may follow, each hop under the same URL policy
                target = urljoin(url, response.headers.get("Location", ""))
                response.close()
                kwargs.pop("allow_redirects")
                return send(
                    session, method, target, policy=policy, sleep=sleep, clock=clock,
                    replay=replay, redirects=redirects - 1, **kwargs,
                )  # fmt: skip
            if response.is_redirect:
                location = without_credentials(response.headers.get("Location", ""))
                response.close()
                raise RemoteError(
                    method,
                    without_credentials(url),
                    [Attempt(response.status_code)],
                    clock() - start,
                    f"redirected to {location!r}; not followed (it would carry the request's "
                    "signature or token elsewhere): configure the final URL",
                )
            if response.status_code not in RETRY_STATUSES:
                return response
            attempts.append(Attempt(response.status_code))
            if not replay and response.status_code in IN_DOUBT_STATUSES:
                response.close()
                raise AnswerLost(method, url, attempts, clock() - start, "the answer was lost")
            wait = retry_after(response.headers.get("Retry-After"))
            response.close()
        if number == policy.attempts:
            break
        delay = min(policy.max_delay, policy.first_delay * 2 ** (number - 1) if wait is None else wait)
        if clock() + delay - start > policy.total:
            raise RemoteError(method, url, attempts, clock() - start, "time limit reached")
        if delay >= NOTICEABLE_WAIT:
            spent = lambda: clock() - start  # noqa: E731 (read only when the line needs it)
            progress(_retrying(method, url, attempts[-1], delay, number + 1, policy, spent))
        sleep(delay)
    raise RemoteError(method, url, attempts, clock() - start)
