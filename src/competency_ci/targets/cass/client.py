"""HTTP client for the CASS repository API (cass-api.md §1, §2, §6).

Every write is ``multipart/form-data`` with the fields ``data`` and ``signatureSheet`` (a JSON body
is silently a no-op, §1.1). Transient failures are retried by the project's one retry rule
(``competency_ci.http.send``) inside one overall time budget; authentication failures are
translated into plain words and never retried. Messages never contain key material.

Requests are sized so none runs long: every batch is bounded by a count and by bytes (at most
``postMaxSize``), and each request's timeout grows with its payload. Writes are sent with
``replay=False``: when a write's answer is lost, :class:`WriteInDoubt` tells the caller, who reads
back before sending anything again (a second copy must not race a first that is still running).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from competency_ci.frameworks.config import ConfigError
from competency_ci.http import (
    AnswerLost,
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
# Bounds of one request. The real server took 91 s for one 19,901-object multiPut (about 220
# objects a second, stored in internal batches of 100, §1.2): 1,000 objects take a few seconds.
BATCH_OBJECTS = 1_000
BATCH_BYTES = 4 * 1024 * 1024
# Relation ends per search (each end is two query clauses; Elasticsearch 7 refuses over 1,024).
SEARCH_IDS = 400
SEARCH_SIZE = 10_000  # §1.2: search size max (also Elasticsearch's result window)

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


class SearchTruncated(CassError):
    """A search filled a whole page: there may be more than one page can hold."""


class WriteInDoubt(CassError):
    """A write went out and its answer was lost: the server may hold it, or may still be writing."""


@dataclass(frozen=True)
class Timeouts:
    """Per-request timeouts: connecting, and reading an answer, which grows with the payload."""

    connect: float = 10.0
    base: float = 20.0
    per_object: float = 0.02  # 50 objects a second: four times slower than the real server measured
    per_mb: float = 10.0

    def read(self, objects: int, nbytes: int) -> float:
        return self.base + objects * self.per_object + nbytes / 1_000_000 * self.per_mb


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


def batches(objects: Sequence[Any], limit: int, count: int = BATCH_OBJECTS) -> Iterator[list[Any]]:
    """Consecutive runs of at most ``count`` objects whose JSON array stays under ``limit`` bytes
    (order kept). A single object above the limit is yielded alone; the caller reports it.
    """
    batch: list[Any] = []
    size = 2  # "[]"
    for obj in objects:
        one = len(json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
        extra = one + (1 if batch else 0)
        if batch and (size + extra >= limit or len(batch) >= count):
            yield batch
            batch, size, extra = [], 2, one
        batch.append(obj)
        size += extra
    if batch:
        yield batch


def _phrase(value: str) -> str:
    """A query_string phrase (§1.2 ``q``: Elasticsearch syntax): quotes and backslashes escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def relations_query(ends: Sequence[str]) -> str:
    """Relations with either end among ``ends``. Elasticsearch matches analysed text, so a phrase
    may also match a longer id: callers compare the ends of what comes back exactly."""
    group = " OR ".join(_phrase(e) for e in ends)
    return f"@type:Relation AND (source:({group}) OR target:({group}))"


def frameworks_query(ids: Sequence[str]) -> str:
    """Frameworks that list any of ``ids`` (the form ``ceasn.js`` itself uses: ``competency:"id"``)."""
    group = " OR ".join(_phrase(i) for i in ids)
    return f"@type:Framework AND (competency:({group}) OR relation:({group}))"


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
        batch_objects: int = BATCH_OBJECTS,
        batch_bytes: int = BATCH_BYTES,
        timeouts: Timeouts = Timeouts(),
    ) -> None:
        self.server = server if server.endswith("/") else server + "/"
        self.key = key
        self.batch_objects, self.batch_bytes, self.timeouts = batch_objects, batch_bytes, timeouts
        self.session = session or new_session()
        self.sleep, self.clock, self.wall_ms = sleep, clock, wall_ms
        # one budget for every request of the run (the project's retry rule, competency_ci.http)
        # per request, ``timeouts`` decides (it grows with the payload); the budget caps it
        policy = RetryPolicy(
            attempts=100, first_delay=first_delay, max_delay=max_delay, total=timeout, timeout=timeout
        )
        self.budget = Budget(policy, clock)
        self.info: ServerInfo | None = None
        self.requests = 0
        self.bytes_sent = 0
        self.bytes_received = 0

    # -- plumbing -------------------------------------------------------------------------------

    def _send(
        self, method: str, path: str, *, objects: int = 0, replay: bool = True, **kwargs: Any
    ) -> requests.Response:
        """One request; ``objects``: how many the payload carries (the read timeout grows with it)."""
        url = self.server + path
        files = kwargs.get("files") or {}
        nbytes = sum(len(v[1]) for v in files.values())
        try:
            policy = self.budget.policy(method, url)
            read = min(self.timeouts.read(objects, nbytes), policy.timeout)
            response = send(
                self.session,
                method,
                url,
                policy=policy,
                sleep=self.sleep,
                clock=self.clock,
                replay=replay,
                timeout=(min(self.timeouts.connect, read), read),
                **kwargs,
            )
        except AnswerLost as exc:
            self.requests += len(exc.attempts)
            raise WriteInDoubt(str(exc)) from None
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
    def post_max_size(self) -> int:
        return self.info.post_max_size if self.info else DEFAULT_POST_MAX_SIZE

    @property
    def limit(self) -> int:
        """Bytes of one request's ``data``: under ``postMaxSize``, and small enough to finish soon."""
        return min(self.post_max_size, self.batch_bytes)

    def batches(self, objects: Sequence[Any]) -> Iterator[list[Any]]:
        return batches(objects, self.limit, self.batch_objects)

    def multi_get(self, ids: Sequence[str]) -> dict[str, CassObject]:
        """The stored objects among ``ids``, by short id (missing ones are simply absent)."""
        found: dict[str, CassObject] = {}
        keys = list(dict.fromkeys(data_key(i) for i in ids))
        for batch in self.batches(keys):
            response = self._send("POST", "sky/repo/multiGet", objects=len(batch), files=self._form(batch))
            for obj in self._json(response, "multiGet") or []:
                if isinstance(obj, dict) and "@id" in obj:
                    found[short_id(str(obj["@id"]))] = obj
        return found

    def multi_put(self, objects: Sequence[CassObject]) -> set[str]:
        """Write one batch; return the short ids the server reports as saved (§1.2).

        Raises :class:`WriteInDoubt` when the answer is lost: the caller reads back."""
        response = self._send(
            "POST", "sky/repo/multiPut", objects=len(objects), replay=False, files=self._form(list(objects))
        )
        saved = self._json(response, "multiPut")
        if not isinstance(saved, list):
            raise CassError("multiPut: the server did not answer with the list of saved objects")
        return {short_id(str(o["@id"])) for o in saved if isinstance(o, dict) and "@id" in o}

    def multi_delete(self, ids: Sequence[str]) -> None:
        """Delete one batch of objects this key owns (the server skips the rest, §1.2 ``multiDelete``).

        Raises :class:`WriteInDoubt` when the answer is lost: the caller reads back."""
        keys = [data_key(i) for i in ids]
        self._send("POST", "sky/repo/multiDelete", objects=len(keys), replay=False, files=self._form(keys))

    def search_ids(self, query: str, index_hint: str | None = None) -> list[str]:
        """The ``@id``s of every object matching ``query`` (§1.2 search, ``ids``), by POST with a
        ``searchParams`` field so long queries fit. A full page may be cut short by the server's
        result window: :class:`SearchTruncated` tells the caller to ask in smaller parts."""
        params: dict[str, Any] = {"q": query, "start": 0, "size": SEARCH_SIZE, "ids": True}
        if index_hint:
            params["index_hint"] = index_hint
        fields = {"searchParams": (None, json.dumps(params, separators=(",", ":")))}
        response = self._send("POST", "data/", files=fields)
        found = self._json(response, "search")
        if not isinstance(found, list):
            raise CassError("search: the server did not answer with a list")
        if len(found) >= SEARCH_SIZE:
            raise SearchTruncated(query)
        return [str(i) for i in found if isinstance(i, str)]

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

    def ceasn(self, object_id: str, objects: int = 0) -> CassObject:
        """The framework's CTDL-ASN export (``GET /api/ceasn/{uid}``): the graph CE's Publisher reads.
        ``objects``: how many nodes it holds (its read timeout grows with them, as a write's does)."""
        path = self.export_url(object_id).removeprefix(self.server)
        graph = self._json(self._send("GET", path, objects=objects), "ceasn")
        if not isinstance(graph, dict) or not isinstance(graph.get("@graph"), list):
            raise CassError(f"GET {self.server}{path}: the answer is not a CTDL-ASN graph")
        return graph
