"""The sandbox's CASS behaviour: one request in, one response out, no sockets.

Every rule cites the section of ``shared/reference/cass-api.md`` it reproduces. The HTTP transport
is in ``server.py``.
"""

from __future__ import annotations

import fnmatch
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from competency_ci.sandbox import search
from competency_ci.sandbox.kbac import (
    NOT_OWNER_CHANGE,
    NOT_OWNER_DELETE,
    OBJECT_NOT_FOUND,
    HttpError,
    SignatureSheet,
    normalize_key,
    owners_of,
)
from competency_ci.sandbox.multipart import parse_form
from competency_ci.sandbox.storage import Store, Stored, Write
from competency_ci.targets.cass import ids
from competency_ci.targets.cass.export import ceasn_export, collection_export, is_collection

CASS_VERSION = "1.7.4"  # the server version cass-api.md describes
DEFAULT_POST_MAX_SIZE = 52_428_800  # §1.1: 50 MiB, advertised by /api/ping
# §3.2 (multiput.js): a stale version above this (i.e. a timestamp) is dropped, not bumped.
TIMESTAMP_FLOOR = 1_743_202_754_349
MAX_SEARCH_SIZE = 10_000  # §1.2: search size max
CEASN_LONE_COMPETENCY = (  # ceasn.js: a competency no framework lists
    "Individual competencies are not permitted to be represented in CEASN outside of a framework. "
    "See https://github.com/CredentialEngine/CompetencyFrameworks/issues/43 for more details."
)


@dataclass
class Request:
    method: str
    path: str  # without the query string
    query: str
    headers: dict[str, str]  # names lower-cased
    body: bytes


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str | None = None

    @classmethod
    def text(cls, status: int, text: str) -> Response:
        # §1.1 "Errors": the plain-text message is the body
        return cls(status, text.encode("utf-8"), "text/plain; charset=utf-8")

    @classmethod
    def json(cls, value: Any) -> Response:
        # §1.1 "Responses": JSON strings go out as application/json; charset=utf-8
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        return cls(200, text.encode("utf-8"), "application/json; charset=utf-8")

    @classmethod
    def raw_json(cls, text: str) -> Response:
        return cls(200, text.encode("utf-8"), "application/json; charset=utf-8")


@dataclass
class Settings:
    base_url: str  # e.g. http://127.0.0.1:8080/api/ ; ids containing it are CASS-native (§3.2)
    clock: Callable[[], int]
    post_max_size: int = DEFAULT_POST_MAX_SIZE
    admin_public_keys: list[str] = field(default_factory=list)
    reject_sha1: bool = False


MAX_VERSION = 2**63 - 1  # what SQLite (and a Java long in CASS's index) holds


def _version(digits: str) -> int:
    """A version number from a path or an @id; past a 64-bit integer it is a bad request (400),
    not a 500 from the integer conversion or the database."""
    if len(digits) > 19 or int(digits) > MAX_VERSION:
        raise HttpError(400, f"Version number too large: {digits[:24]}{'…' if len(digits) > 24 else ''}")
    return int(digits)


def _timestamp(object_id: str) -> int | None:
    """``ids.timestamp`` (an @id's trailing digits), bounded as :func:`_version`."""
    last = object_id[object_id.rfind("/") + 1 :]
    return _version(last) if last.isdigit() and last.isascii() else None


def _short_type(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return re.split(r"[/.#]", value)[-1]


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


class CassApp:
    """A CASS-compatible repository over a :class:`Store` (cass-api.md §4 "Fake-server checklist")."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self._lock = threading.Lock()
        self._parsed_cache: dict[str, tuple[int, dict[str, Any]]] = {}
        self.admin_keys = frozenset(
            k for k in (normalize_key(p) for p in settings.admin_public_keys) if k is not None
        )

    # ------------------------------------------------------------------ dispatch
    def handle(self, request: Request) -> Response:
        try:
            with self._lock:  # one request at a time: a multiPut's check-then-write stays atomic
                return self._route(request)
        except HttpError as exc:
            return Response.text(exc.status, exc.text)

    def _route(self, request: Request) -> Response:
        path = request.path
        if not path.startswith("/api/") and path != "/api":
            return Response.text(404, f"Cannot {request.method} {path}")
        rest = path[len("/api/") :] if path.startswith("/api/") else ""
        method = request.method
        if rest == "ping":
            return self._ping(request)
        if rest == "sky/admin":
            return Response.json(sorted(self.admin_keys))
        # §1.1: levr binds GET, POST, PUT and DELETE; a POST typed exactly application/json is
        # handed to the PUT handler, which data and multiPut ignore: 200, nothing saved.
        as_put = method == "PUT" or (
            method == "POST" and request.headers.get("content-type") == "application/json"
        )
        if rest in ("sky/repo/multiPut", "sky/repo/multiGet"):
            if as_put or method != "POST":
                return Response.json([])  # §1.1: "multiPut finds no data field and returns []"
            return self._multi_put(request) if rest.endswith("Put") else self._multi_get(request)
        if rest == "sky/repo/multiDelete":
            if as_put or method != "POST":
                return Response(200)
            return self._multi_delete(request)
        if method == "GET" and (rest.split("/")[0] in ("ceasn", "ctdlasn")):
            return self._ceasn(request, rest.partition("/")[2])  # §1.2 GET /ceasn/{uid}: the CE view
        if rest == "data" or rest.startswith("data/"):
            if as_put:
                return Response(200)  # §1.1: the data endpoint ignores PUT: 200, empty body
            return self._data(request, rest[len("data/") :] if rest.startswith("data/") else "")
        return Response.text(404, f"Cannot {method} {path}")

    # ------------------------------------------------------------------ helpers
    def _now(self) -> int:
        return int(self.settings.clock())

    def _form(self, request: Request) -> dict[str, bytes]:
        form = parse_form(request.headers.get("content-type"), request.body)
        for name, value in form.items():
            # §1.1: busboy truncates a field over postMaxSize; JSON.parse then fails: 500
            if len(value) > self.settings.post_max_size:
                raise HttpError(
                    500,
                    f"SyntaxError: field {name!r} was truncated at postMaxSize "
                    f"({self.settings.post_max_size} bytes) and is not valid JSON",
                )
        return form

    def _sheet(self, request: Request, form: dict[str, bytes] | None) -> SignatureSheet:
        # §2.3: the field and the header (any case) are merged
        return SignatureSheet(
            None if form is None else form.get("signatureSheet"),
            request.headers.get("signaturesheet"),
            self._now,
            self.settings.reject_sha1,
        )

    @staticmethod
    def _json_field(form: dict[str, bytes], name: str) -> Any:
        raw = form.get(name)
        if raw is None:
            return None
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise HttpError(500, f"SyntaxError: field {name!r} is not valid JSON") from None

    def _visible(self, stored: Stored, body: str, sheet: SignatureSheet) -> bool:
        # §2.1 "Readers": reader-restricted objects only for a sheet owner named in the object
        return not stored.readers or sheet.may_read(body, self.admin_keys)

    def _prepare(self, obj: dict[str, Any], key: str, version: int) -> Write:
        object_id = str(obj["@id"])
        readers = obj.get("reader")
        return Write(
            key=key,
            id=object_id,
            type=_short_type(obj.get("@type", obj.get("type"))),
            version=version,
            body=_dumps(obj),
            owners=owners_of(obj),
            readers=bool(readers),
            # §3.2: the permanent index also answers to guid and md5(shortId)
            aliases=[ids.guid(object_id), ids.md5_key(object_id)],
        )

    # ------------------------------------------------------------------ endpoints
    def _ping(self, request: Request) -> Response:
        # §1.2 GET /ping; §2.2: signatureSheetHashAlgorithm SHA-256
        info: dict[str, Any] = {
            "ping": "pong",
            "version": CASS_VERSION,
            "time": self._now(),
            "adminPublicKeys": sorted(self.admin_keys),
            "postMaxSize": self.settings.post_max_size,
            "signatureSheetHashAlgorithm": "SHA-256",
            "fips": 0,
            "sandbox": "competency-ci",
        }
        fields = parse_qs(request.query).get("fields")
        if fields:
            wanted = {f for value in fields for f in value.split(",")}
            info = {k: v for k, v in info.items() if k in wanted}
        return Response.json(info)

    def _multi_put(self, request: Request) -> Response:
        form = self._form(request)
        objects = self._json_field(form, "data")
        if objects is None:
            return Response.json([])  # §1.1: no data field -> []
        if not isinstance(objects, list):
            raise HttpError(500, "TypeError: data is not iterable")
        sheet = self._sheet(request, form)
        sheet.owners()  # §1.2 multiPut: any bad signature fails the whole request
        base = self.settings.base_url
        uniques: dict[str, dict[str, Any]] = {}
        for obj in objects:
            if not isinstance(obj, dict) or not isinstance(obj.get("@id"), str):
                # §1.2 / §3.1: multiPut fails with 500 when an object lacks @id
                raise HttpError(500, "TypeError: Cannot read properties of undefined (reading 'indexOf')")
            uniques[ids.storage_key(obj["@id"], base)] = obj  # §3.2 storage key; last one wins
        stored = self.store.get_many(uniques)
        saved: list[dict[str, Any]] = []
        writes: list[Write] = []
        for key, obj in uniques.items():
            old = stored.get(key)
            # §2.1 / §1.2: per-object owner check; failures are omitted from the 200 array
            if old is not None and not sheet.may_write(old.owners, self.admin_keys):
                continue
            saved.append(obj)
            version = _timestamp(obj["@id"])  # §3.2: multiPut takes the @id's trailing digits
            if version is None:
                version = 1 if old is None else old.version + 1  # §3.2: non-versioned ids count 1, 2, 3
            elif old is not None and old.version >= version:
                if old.version > TIMESTAMP_FLOOR:
                    continue  # §3.2 "Dumping": stale or equal version not written, still returned
                version = old.version + 1
            writes.append(self._prepare(obj, key if old is None else old.key, version))
        self.store.write_many(writes)
        return Response.json(saved)  # §1.2: the objects saved, as posted

    def _multi_get(self, request: Request) -> Response:
        form = self._form(request)
        wanted = self._json_field(form, "data")
        if not isinstance(wanted, list):
            return Response.json([])
        sheet = self._sheet(request, form)
        refs = [self._reference(str(w)) for w in wanted]
        stored = self.store.get_many(uid for uid, _ in refs)
        found: list[Any] = []
        for uid, version in refs:
            current = stored.get(uid)
            if current is None:
                continue  # §1.2 multiGet: missing objects omitted
            body = current.body if version in (None, current.version) else self.store.version(uid, version)
            if body is not None and self._visible(current, body, sheet):
                found.append(json.loads(body))
        return Response.json(found)

    def _reference(self, ref: str) -> tuple[str, int | None]:
        """A multiGet/multiDelete reference -> (uid, version).

        §1.2: ``"data/{uid}"`` or ``"data//{uid}/{version}"``; full @ids are accepted too.
        """
        if "://" in ref:
            version = _timestamp(ref) if ids.short_id(ref) != ref else None
            return ids.storage_key(ref, self.settings.base_url), version
        rest = ref[len("data/") :] if ref.startswith("data/") else ref
        parts = rest.split("/")
        if len(parts) >= 3 and parts[-1].isdigit():
            return parts[-2], _version(parts[-1])
        return [p for p in parts if p][-1] if any(parts) else rest, None

    def _multi_delete(self, request: Request) -> Response:
        form = self._form(request)
        wanted = self._json_field(form, "data")
        sheet = self._sheet(request, form)
        owners = sheet.owners()
        if not isinstance(wanted, list):
            return Response(200)
        stored = self.store.get_many(self._reference(str(w))[0] for w in wanted)
        doomed = []
        for current in stored.values():
            # §1.2 multiDelete: only objects that have owners and are matched by the sheet
            if current.owners and (owners & set(current.owners) or owners & self.admin_keys):
                doomed.append(current.key)
        self.store.delete_many(doomed)
        return Response(200)  # §1.2: 200 with an empty body

    def _data(self, request: Request, remainder: str) -> Response:
        params = parse_qs(request.query)
        search = {k: v[-1] for k, v in params.items()}
        if request.method == "POST":
            # data.js: a multipart ``searchParams`` field (JSON) overrides the query string
            raw = self._json_field(self._form(request), "searchParams")
            if isinstance(raw, dict):
                search.update({k: v for k, v in raw.items() if v is not None})
        if request.method in ("GET", "POST") and search.get("q") is not None:
            return self._search(request, search)
        # §1.2: /data/{uid}, /data/{dottedType}/{uid}, /data/{dottedType}/{uid}/{version}
        parts = remainder.split("/") if remainder else []
        uid: str | None = None
        version: int | None = None
        if len(parts) == 1:
            uid = parts[0]
        elif len(parts) == 2:
            uid = parts[1]
        elif len(parts) >= 3:
            uid = parts[-2]
            if not parts[-1].isdigit():
                raise HttpError(404, OBJECT_NOT_FOUND)
            version = _version(parts[-1])
        history = params.get("history", [""])[-1] == "true"
        if request.method == "DELETE":
            return self._delete(request, uid)
        if request.method == "POST":
            form = self._form(request)
            obj = self._json_field(form, "data")
            sheet = self._sheet(request, form)
            if obj is None or obj == "":
                return self._get(uid, version, history, sheet)  # §1.2: POST without data reads
            return self._put(obj, uid, version, sheet)
        return self._get(uid, version, history, self._sheet(request, None))

    def _get(self, uid: str | None, version: int | None, history: bool, sheet: SignatureSheet) -> Response:
        current = self.store.get(uid) if uid else None
        if uid and history:  # §1.2: ?history=true gives every version, newest first
            bodies = self.store.history(uid)
            if current is not None and current.readers:
                bodies = [b for b in bodies if sheet.may_read(b, self.admin_keys)]
            if not bodies:
                raise HttpError(404, OBJECT_NOT_FOUND)
            return Response.raw_json("[" + ",".join(bodies) + "]")
        if current is None or uid is None:
            raise HttpError(404, OBJECT_NOT_FOUND)  # §1.3 404
        body = current.body if version in (None, current.version) else self.store.version(uid, version)
        if body is None or not self._visible(current, body, sheet):
            raise HttpError(404, OBJECT_NOT_FOUND)
        return Response.raw_json(body)

    def _put(self, obj: Any, uid: str | None, version: int | None, sheet: SignatureSheet) -> Response:
        if not isinstance(obj, dict):
            raise HttpError(400, "Object must have an @id.")
        for required in ("@id", "@type", "@context"):  # §1.3: single POST validation, 400
            if required not in obj:
                raise HttpError(400, f"Object must have an {required}.")
        key = uid or ids.storage_key(str(obj["@id"]), self.settings.base_url)
        old = self.store.get(key)
        # §2.1: only the stored object's owners decide; new or ownerless objects need no sheet
        if old is not None and not sheet.may_write(old.owners, self.admin_keys):
            raise HttpError(401, NOT_OWNER_CHANGE)
        if old is not None:
            key = old.key
        if version is None:
            version = _timestamp(str(obj["@id"]))
        if version is None:
            version = 1 if old is None else old.version + 1
        elif old is not None and old.version > version:
            return Response(200)  # §3.2: single POST drops strictly older versions silently
        elif old is not None and old.version == version:
            version += 1  # §3.2 / §7.9: single POST rewrites an equal version as version+1
        self.store.write_many([self._prepare(obj, key, version)])
        return Response(200)  # §1.2: 200, empty body

    def _delete(self, request: Request, uid: str | None) -> Response:
        # §1.1: DELETE bodies are not read; the sheet comes in the header only
        sheet = self._sheet(request, None)
        current = self.store.get(uid) if uid else None
        if current is None:
            return Response(200)  # §1.2: a missing object still gives 200
        if not sheet.may_write(current.owners, self.admin_keys):
            raise HttpError(401, NOT_OWNER_DELETE)
        self.store.delete_many([current.key])
        return Response(200)

    def _ceasn(self, request: Request, uid: str) -> Response:
        """The framework's CTDL-ASN export, modelled by ``targets.cass.export`` (cass-export.md).

        ``{uid}`` (or ``?id=<url>``) names a framework, or a competency: then the competency's own
        node from the first framework that lists it (``ceasn.js cassFrameworkAsCeasn``).
        """
        sheet = self._sheet(request, None)
        wanted = parse_qs(request.query).get("id", [""])[-1]
        key = uid.strip("/") or (ids.storage_key(wanted, self.settings.base_url) if wanted else "")
        current = self.store.get(key) if key else None
        if current is not None and not self._visible(current, current.body, sheet):
            current = None
        if current is None:
            raise HttpError(404, OBJECT_NOT_FOUND)
        obj = json.loads(current.body)
        if current.type == "Framework" and is_collection(obj):  # the collection maps' export
            return Response.raw_json(json.dumps(collection_export(obj), indent=2, ensure_ascii=False))
        competency: str | None = None
        if current.type != "Framework":
            competency = ids.short_id(current.id)
            obj = self._framework_listing(competency, sheet)
        refs = [str(r) for r in [*(obj.get("competency") or []), *(obj.get("relation") or [])]]
        found = self.store.get_many(ids.storage_key(r, self.settings.base_url) for r in refs)
        objects = {
            ids.short_id(stored.id): json.loads(stored.body)
            for stored in found.values()
            if self._visible(stored, stored.body, sheet)
        }
        graph = ceasn_export(obj, objects)
        if competency is not None:
            node = next((n for n in graph["@graph"][1:] if ids.short_id(n["@id"]) == competency), None)
            return Response.raw_json(json.dumps(node, indent=2, ensure_ascii=False))
        return Response.raw_json(json.dumps(graph, indent=2, ensure_ascii=False))

    def _framework_listing(self, competency: str, sheet: SignatureSheet) -> dict[str, Any]:
        """The first framework that lists ``competency`` (``EcFramework.search``), else 404."""
        for stored in self.store.scan(["Framework"]):
            framework = json.loads(stored.body)
            listed = {ids.short_id(str(c)) for c in framework.get("competency") or []}
            if competency in listed and self._visible(stored, stored.body, sheet):
                return dict(framework)
        raise HttpError(404, CEASN_LONE_COMPETENCY)

    def _search(self, request: Request, params: dict[str, Any]) -> Response:
        """§1.2 search (``data.js``, ``search.js``): ``q`` in Elasticsearch ``query_string`` syntax
        (the subset in ``sandbox.search``), ``start``, ``size`` (max 10,000), ``index_hint`` and
        ``ids`` (answer with the ``@id``s only)."""
        query = str(params["q"])
        try:
            start = int(params.get("start", 0))
            size = min(int(params.get("size", 50)), MAX_SEARCH_SIZE)
        except (TypeError, ValueError):
            raise HttpError(400, "start and size must be integers") from None
        matcher = search.compile_query(query)
        hint = params.get("index_hint")
        types = search.wanted_types(query)
        sheet = self._sheet(request, None)
        hits = []
        in_index: dict[str | None, bool] = {}
        for key, type_name, version, body, readers in self.store.scan_bodies(types):
            if hint and not in_index.setdefault(type_name, _in_index(type_name, str(hint))):
                continue
            obj = self._parsed(key, version, body)
            if matcher(obj) and (not readers or sheet.may_read(body, self.admin_keys)):
                hits.append(obj)
        page = hits[start : start + size]
        if params.get("ids") is not None:
            return Response.json([o.get("@id") for o in page if o.get("@id")])
        return Response.json(page)

    def _parsed(self, key: str, version: int, body: str) -> dict[str, Any]:
        """Stored bodies parsed once per version: a publish searches the same relations many times."""
        cached = self._parsed_cache.get(key)
        if cached is None or cached[0] != version:
            if len(self._parsed_cache) > 200_000:
                self._parsed_cache.clear()
            cached = (version, json.loads(body))
            self._parsed_cache[key] = cached
        return cached[1]


def _in_index(type_name: str | None, hint: str) -> bool:
    """``index_hint`` (e.g. ``*relation``) against the type's index name (§3.1: lower-cased)."""
    index = f"schema.cassproject.org.0.4.{(type_name or '').lower()}"
    return any(fnmatch.fnmatchcase(index, h.strip().lower()) for h in hint.split(","))
