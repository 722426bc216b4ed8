"""HTTP client for the CASS repository API (cass-api.md §1, §2, §6).

Every write is ``multipart/form-data`` with the fields ``data`` and ``signatureSheet`` (a JSON body
is silently a no-op, §1.1). Transient failures are retried by the project's one retry rule
(``competency_ci.http.send``) inside one overall time budget; authentication failures are
translated into plain words and never retried. Messages never contain key material.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from competency_ci.frameworks.config import ConfigError
from competency_ci.http import (
    Budget,
    RemoteError,
    RetryPolicy,
    UrlError,
    check_url,
    new_session,
    redact,
    send,
)
from competency_ci.targets.cass.ids import guid, md5_key, short_id
from competency_ci.targets.cass.signing import signature_sheet

if TYPE_CHECKING:
    import requests
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

CassObject = dict[str, Any]
DEFAULT_POST_MAX_SIZE = 52_428_800  # cass-api.md §1.1: the server default, when ping omits it

# cass-api.md §1.3: what each refusal means, in words a CI log reader can act on.
AUTH_CAUSES = {
    401: "not an owner: the server holds objects owned by other keys, and this key is not one of them",
    403: "access denied by the server's network or single sign-on guard",
    419: "the signature expired: this machine's clock and the server's differ, or requests took too long",
    422: "the signature sheet was refused (invalid signature version or missing expiry)",
    451: "the signature did not verify (wrong key, or the server refuses the hash algorithm)",
    496: "the server could not read the signature sheet (missing or malformed)",
}


def check_server_url(url: str, allow_insecure_http: bool) -> str:
    """A usable API base URL (ending in ``/``) under the one URL policy (``http.check_url``)."""
    try:
        check_url(url, "--server", allow_insecure_http=allow_insecure_http)
    except UrlError as exc:
        raise ConfigError(str(exc)) from None
    return url if url.endswith("/") else url + "/"


class CassError(Exception):
    """The server did not do what was asked (exit code 3). The message holds no secrets."""


class AuthError(CassError):
    """Refused for an authentication or ownership reason; retrying cannot help."""

    def __init__(self, status: int, body: str) -> None:
        self.status = status
        cause = AUTH_CAUSES.get(status, f"refused with HTTP {status}")
        detail = redact(" ".join(body.split()), [], limit=200)
        super().__init__(f"{cause} (HTTP {status}{': ' + detail if detail else ''})")

    @property
    def fatal(self) -> bool:
        """Signature problems affect every request; a 401 concerns only the objects it names."""
        return self.status != 401


@dataclass(frozen=True)
class ServerInfo:
    """What ``GET /api/ping`` tells (§1.2, §6 step 1)."""

    offset_ms: int
    post_max_size: int
    hash_name: str
    version: str


def data_key(object_id: str) -> str:
    """``data/{uid}`` for multiGet and multiDelete: guid for native ids, md5(short id) otherwise (§3.2)."""
    if "/api/data/" in object_id:
        return f"data/{guid(object_id)}"
    return f"data/{md5_key(object_id)}"


def json_size(objects: Sequence[Any]) -> int:
    return len(json.dumps(list(objects), ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def batches(objects: Sequence[Any], limit: int) -> Iterator[list[Any]]:
    """Consecutive runs of objects whose JSON array stays under ``limit`` bytes (order kept).

    A single object above the limit is yielded alone; the caller reports it.
    """
    batch: list[Any] = []
    size = 2  # "[]"
    for obj in objects:
        one = len(json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
        extra = one + (1 if batch else 0)
        if batch and size + extra >= limit:
            yield batch
            batch, size, extra = [], 2, one
        batch.append(obj)
        size += extra
    if batch:
        yield batch


class CassClient:
    """One server, one key, one time budget (``timeout`` seconds for everything this client sends)."""

    def __init__(
        self,
        server: str,
        key: RSAPrivateKey | None,
        *,
        timeout: float = 300.0,
        first_delay: float = 0.5,
        max_delay: float = 15.0,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall_ms: Callable[[], int] = lambda: int(time.time() * 1000),
    ) -> None:
        self.server = server if server.endswith("/") else server + "/"
        self.key = key
        self.session = session or new_session()
        self.sleep, self.clock, self.wall_ms = sleep, clock, wall_ms
        # one budget for every request of the run (the project's retry rule, competency_ci.http)
        policy = RetryPolicy(attempts=100, first_delay=first_delay, max_delay=max_delay, total=timeout)
        self.budget = Budget(policy, clock)
        self.info: ServerInfo | None = None
        self.requests = 0
        self.bytes_sent = 0
        self.bytes_received = 0

    # -- plumbing -------------------------------------------------------------------------------

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        url = self.server + path
        try:
            policy = self.budget.policy(method, url)
            response = send(
                self.session, method, url, policy=policy, sleep=self.sleep, clock=self.clock, **kwargs
            )
        except RemoteError as exc:
            raise CassError(str(exc)) from None
        self.requests += 1
        body = response.request.body
        self.bytes_sent += len(body) if isinstance(body, bytes | str) else 0
        self.bytes_received += len(response.content)
        if response.status_code in AUTH_CAUSES:
            raise AuthError(response.status_code, response.text)
        if response.status_code != 200:
            detail = redact(" ".join(response.text.split()), [], limit=200)
            raise CassError(f"{method} {url}: HTTP {response.status_code}{': ' + detail if detail else ''}")
        return response

    def server_now_ms(self) -> int:
        return self.wall_ms() + (self.info.offset_ms if self.info else 0)

    def _form(self, data: Any) -> dict[str, tuple[None, str]]:
        """The multipart fields of a write (§1.1): ``data`` and a fresh ``signatureSheet``."""
        fields = {"data": (None, json.dumps(data, ensure_ascii=False, separators=(",", ":")))}
        if self.key is not None:
            hash_name = self.info.hash_name if self.info else "SHA-256"
            sheet = signature_sheet(self.key, self.server, now_ms=self.server_now_ms(), hash_name=hash_name)
            fields["signatureSheet"] = (None, sheet)
        return fields

    @staticmethod
    def _json(response: requests.Response, what: str) -> Any:
        try:
            return response.json() if response.content.strip() else None
        except ValueError:
            raise CassError(f"{what}: the server's answer is not JSON") from None

    # -- the API ------------------------------------------------------------------------------------

    def ping(self) -> ServerInfo:
        """Clock offset, ``postMaxSize`` and hash algorithm; proves the URL is a CASS server."""
        before = self.wall_ms()
        response = self._send("GET", "ping")
        after = self.wall_ms()
        data = self._json(response, "ping")
        if not isinstance(data, dict) or data.get("ping") != "pong":
            raise CassError(f"{self.server}ping did not answer like a CASS server")
        server_time = data.get("time")
        offset = int(server_time) - (before + after) // 2 if isinstance(server_time, int | float) else 0
        hash_name = str(data.get("signatureSheetHashAlgorithm") or "SHA-256")
        self.info = ServerInfo(
            offset_ms=offset,
            post_max_size=int(data.get("postMaxSize") or DEFAULT_POST_MAX_SIZE),
            hash_name=hash_name if hash_name in ("SHA-256", "SHA-1") else "SHA-256",
            version=str(data.get("version", "")),
        )
        return self.info

    @property
    def limit(self) -> int:
        return self.info.post_max_size if self.info else DEFAULT_POST_MAX_SIZE

    def multi_get(self, ids: Sequence[str]) -> dict[str, CassObject]:
        """The stored objects among ``ids``, by short id (missing ones are simply absent)."""
        found: dict[str, CassObject] = {}
        keys = list(dict.fromkeys(data_key(i) for i in ids))
        for batch in batches(keys, self.limit):
            response = self._send("POST", "sky/repo/multiGet", files=self._form(batch))
            for obj in self._json(response, "multiGet") or []:
                if isinstance(obj, dict) and "@id" in obj:
                    found[short_id(str(obj["@id"]))] = obj
        return found

    def multi_put(self, objects: Sequence[CassObject]) -> set[str]:
        """Write one batch; return the short ids the server reports as saved (§1.2)."""
        response = self._send("POST", "sky/repo/multiPut", files=self._form(list(objects)))
        saved = self._json(response, "multiPut")
        if not isinstance(saved, list):
            raise CassError("multiPut: the server did not answer with the list of saved objects")
        return {short_id(str(o["@id"])) for o in saved if isinstance(o, dict) and "@id" in o}

    def multi_delete(self, ids: Sequence[str]) -> None:
        """Delete objects this key owns (the server skips the rest, §1.2 ``multiDelete``)."""
        keys = [data_key(i) for i in ids]
        for batch in batches(keys, self.limit):
            self._send("POST", "sky/repo/multiDelete", files=self._form(batch))

    def search(self, query: str, *, size: int = 100, limit: int = 10_000) -> list[CassObject]:
        """Every object ``GET /api/data?q=`` finds (Elasticsearch ``query_string``, §1.2), page by page."""
        found: list[CassObject] = []
        while len(found) < limit:
            params = {"q": query, "start": str(len(found)), "size": str(size)}
            page = self._json(self._send("GET", "data", params=params), "search")
            if not isinstance(page, list):
                raise CassError("search: the server did not answer with a list of objects")
            found.extend(o for o in page if isinstance(o, dict))
            if len(page) < size:
                break
        return found

    def object_url(self, object_id: str) -> str:
        """Where the stored object is read (``GET /api/data/{uid}``)."""
        return f"{self.server}{data_key(object_id)}"

    def export_url(self, object_id: str) -> str:
        """A framework's CTDL-ASN export, ``/api/ceasn/{md5(@id)}``: what CE's Publisher pulls (§5)."""
        return f"{self.server}ceasn/{data_key(object_id).removeprefix('data/')}"
