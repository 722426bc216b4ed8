"""Apply a plan to a CASS server: read, plan, write what differs, delete what left, account exactly.

Order of work (cass-api.md §6): ping; bulk reads; a search for objects earlier runs left behind; the
plan; then per framework, in an order that keeps one invariant at every moment, whatever request
fails or whichever answer is lost: *every object this key wrote for a framework is listed by the
framework object the server holds, or already deleted*.

1. ``multiPut`` the changed objects that already exist;
2. ``multiDelete`` what left the framework (still listed by the stored framework until step 3);
3. ``multiPut`` the framework object (it may list objects step 4 has not created yet);
4. ``multiPut`` the new objects.

So the next run finds every leftover in the stored framework's own list. The search (relations of
ours that touch the framework's competencies but that no framework lists) also finds what runs
before this order left behind. A framework that lists objects not there yet, or no longer there,
is tolerated by CASS's export (``ceasn.js`` skips what it cannot load) and repaired by the next run.

Requests are bounded by count and bytes (``CassClient.batches``). A write whose answer is lost is
not sent again blindly: what the server holds is read back, and only what is missing is resent.
Every sent id must come back from multiPut (a missing one was refused: not an owner, or a mapping
error). When a run fails, the account says what the server holds, read back, not what was sent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from competency_ci.frameworks.config import Config
from competency_ci.frameworks.model import Framework
from competency_ci.http import progress as report_progress
from competency_ci.targets.cass.client import (
    SEARCH_IDS,
    AuthError,
    CassClient,
    CassError,
    SearchTruncated,
    WriteInDoubt,
    frameworks_query,
    json_size,
    relations_query,
)
from competency_ci.targets.cass.ids import short_id
from competency_ci.targets.cass.mapping import (
    STRUCTURE_KEYS,
    CassObject,
    cass_mapping,
    is_owner,
    map_framework,
    versioned_id,
)
from competency_ci.targets.cass.plan import (
    CREATE,
    DELETE,
    UPDATE,
    FrameworkPlan,
    Plan,
    canonical,
    make_plan,
)
from competency_ci.targets.cass.signing import cass_pem
from competency_ci.targets.cass.verify import Verification, predict_ce_views, read_written, text_lines
from competency_ci.targets.record import Changes, PublishedFramework, PublishRecord

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

WRITTEN, UNCHANGED, FAILED, NOT_ATTEMPTED = "written", "unchanged", "failed", "not attempted"
RERUN_NOTE = "Re-running is safe: publish reads what the server holds and writes only what still differs."


@dataclass
class FrameworkResult:
    path: str
    name: str
    ctid: str
    id: str
    url: str  # the stored framework object on the server
    export_url: str = ""  # its CTDL-ASN export, what CE's Publisher reads (cass-api.md §5)
    status: str = NOT_ATTEMPTED
    created: int = 0
    updated: int = 0
    deleted: int = 0
    left_in_place: int = 0
    objects_written: int = 0
    objects_planned: int = 0
    message: str = ""
    verification: Verification | None = None  # its CE view read back after the write (verify.py)

    def to_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["verification"] = self.verification.to_dict() if self.verification else None
        return data


@dataclass
class PublishResult:
    server: str
    frameworks: list[FrameworkResult] = field(default_factory=list)
    plan: Plan | None = None
    error: str | None = None  # a failure that stopped the run (printed with the account)
    requests: int = 0
    bytes_sent: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None and all(f.status in (WRITTEN, UNCHANGED) for f in self.frameworks)

    @property
    def exit_code(self) -> int:
        """3 a remote failure (a CE view that could not be read too); 1 CE shows something else
        (read back after a write, or, for a framework left unchanged, as the plan predicts)."""
        predicted = {fp.id: fp.prediction for fp in self.plan.frameworks} if self.plan else {}
        checked = [f.verification or predicted.get(f.id) for f in self.frameworks]
        if not self.ok or any(v.error for v in checked if v):
            return 3
        return 0 if all(v.ok for v in checked if v) else 1

    def by_status(self, status: str) -> list[FrameworkResult]:
        return [f for f in self.frameworks if f.status == status]

    def record(self) -> PublishRecord:
        """What this run did, in the shape ``request-approval`` and the GitHub Action read."""
        plans = {fp.id: fp for fp in self.plan.frameworks} if self.plan else {}
        frameworks = []
        for fr in self.frameworks:
            fp = plans.get(fr.id)
            outcome = fr.status if fr.status in (WRITTEN, UNCHANGED) else FAILED
            messages = (fr.message,) if fr.message else ()
            changes = None if fp is None else plan_changes(fp)
            verified = fr.verification.summary if fr.verification else None
            frameworks.append(
                PublishedFramework(
                    fr.ctid, fr.name, fr.path, outcome, changes, fr.url or None, messages, verified
                )
            )
        return PublishRecord("cass", self.server, tuple(frameworks))

    def to_dict(self) -> dict[str, Any]:
        return {
            "server": self.server,
            "ok": self.ok,
            "error": self.error,
            "requests": self.requests,
            "bytes_sent": self.bytes_sent,
            "frameworks": [f.to_dict() for f in self.frameworks],
        }


def plan_changes(fp: FrameworkPlan) -> Changes:
    """Counts of a framework plan in CSV terms: competencies added, removed, changed, moved (an
    existing competency that gets a new parent relation), and framework properties changed."""
    competencies = [c for c in fp.changes if c.kind == "competency"]
    created = {c.id for c in fp.changes if c.action == CREATE}
    members = {
        short_id(str(i))
        for item in fp.writes
        if item.kind == "framework"
        for i in item.data.get("competency", [])
    }
    new_parents = {
        short_id(str(item.data.get("source")))
        for item in fp.writes
        if item.kind == "relation"
        and item.id in created
        and item.data.get("relationType") == "narrows"
        and short_id(str(item.data.get("target"))) in members
    }
    framework_fields = [
        f for c in fp.changes if c.kind == "framework" and c.action == UPDATE for f in c.fields
    ]
    return Changes(
        added=sum(1 for c in competencies if c.action == CREATE),
        removed=sum(1 for c in competencies if c.action == DELETE),
        changed=sum(1 for c in competencies if c.action == UPDATE),
        moved=len(new_parents - created),
        properties=sum(1 for f in framework_fields if f not in STRUCTURE_KEYS),
        new=any(c.kind == "framework" and c.action == CREATE for c in fp.changes),
    )


def account(result: PublishResult) -> str:
    """The exact account of a run that did not fully succeed (or did)."""
    lines = []
    if result.error:
        lines.append(f"publish stopped: {result.error}")
    for status, title in (
        (WRITTEN, "written"),
        (UNCHANGED, "unchanged"),
        (FAILED, "NOT written"),
        (NOT_ATTEMPTED, "not attempted"),
    ):
        for fr in result.by_status(status):
            detail = f": {fr.message}" if fr.message else ""
            lines.append(f"  {title}: {fr.path}: {fr.name} ({fr.ctid}){detail}")
            if fr.verification is not None and not fr.verification.ok:
                lines += text_lines(fr.verification, "    ")
    if not result.ok:
        lines.append(RERUN_NOTE)
    return "\n".join(lines) + "\n"


def read_server(
    client: CassClient, frameworks: Sequence[Framework], registry_url: str, owner_pem: str
) -> tuple[dict[str, dict[str, Any]], dict[str, list[str]]]:
    """Two bulk reads (every object we would write, then whatever the stored frameworks list
    besides), then the search for what earlier runs left behind, per framework id."""
    mapping = cass_mapping()
    first = [
        map_framework(
            fw, registry_url=registry_url, cass_base=client.server, owner_pem=owner_pem, mapping=mapping
        )
        for fw in frameworks
    ]
    wanted = [i for mf in first for i in mf.ids]
    current = client.multi_get(wanted)
    listed: list[str] = []
    for obj in list(current.values()):
        if obj.get("@type") == "Framework":
            listed.extend(_members(obj))
    missing = [i for i in dict.fromkeys(listed) if i not in current]
    if missing:
        current.update(client.multi_get(missing))
    ends = {mf.id: _competencies(mf, current) for mf in first}
    return current, find_left_behind(client, ends, frozenset(wanted), current, owner_pem)


def _members(framework: Mapping[str, Any]) -> list[str]:
    return [
        short_id(str(i)) for i in [*(framework.get("competency") or []), *(framework.get("relation") or [])]
    ]


def _competencies(mf: Any, current: Mapping[str, dict[str, Any]]) -> set[str]:
    """The framework's competencies: those the file wants, and those the stored framework lists."""
    ends = {item.id for item in mf.items if item.kind == "competency"}
    stored = current.get(mf.id)
    ends.update(short_id(str(c)) for c in (stored or {}).get("competency") or [])
    return ends


def _search_relations(client: CassClient, ends: list[str]) -> list[str]:
    """Ids of relations touching ``ends``; a part too big for one page is asked in halves."""
    try:
        return client.search_ids(relations_query(ends), index_hint="*relation")
    except SearchTruncated:
        if len(ends) == 1:
            raise CassError(f"search: more relations touch {ends[0]} than one search can list") from None
        half = len(ends) // 2
        return _search_relations(client, ends[:half]) + _search_relations(client, ends[half:])


def find_left_behind(
    client: CassClient,
    ends: Mapping[str, set[str]],
    wanted: frozenset[str],
    current: dict[str, dict[str, Any]],
    owner_pem: str,
) -> dict[str, list[str]]:
    """Per framework id, the objects of ours an earlier run left behind: relations touching the
    framework's competencies (``ends``), and through them competencies, that this run does not want
    and that no framework on the server lists. Found by search, not from the framework's own list,
    which a failed run may already have rewritten; one search per 400 competencies of the whole run.
    Fetched objects are added to ``current``."""
    home: dict[str, str] = {}  # competency -> the framework it was reached from
    for framework_id, competencies in ends.items():
        for end in competencies:
            home.setdefault(end, framework_id)
    frontier = sorted(home)
    left: dict[str, list[str]] = {framework_id: [] for framework_id in ends}
    while frontier:
        found: list[str] = []
        for start in range(0, len(frontier), SEARCH_IDS):
            found.extend(_search_relations(client, frontier[start : start + SEARCH_IDS]))
        unknown = [
            i for i in dict.fromkeys(short_id(f) for f in found) if i not in current and i not in wanted
        ]
        current.update(client.multi_get(unknown) if unknown else {})
        far: dict[str, str] = {}
        for rid in unknown:
            rel = current.get(rid)
            if not rel or rel.get("@type") != "Relation" or not is_owner(rel, owner_pem):
                continue
            rel_ends = [short_id(str(rel.get(end, ""))) for end in ("source", "target")]
            near = [e for e in rel_ends if e in home]
            if not near:  # the search matched words of a longer id: not one of ours
                continue
            left[home[near[0]]].append(rid)
            for end in rel_ends:
                if end not in home and end not in wanted:
                    far.setdefault(end, home[near[0]])
        current.update(client.multi_get(sorted(i for i in far if i not in current)) if far else {})
        frontier = sorted(
            i
            for i in far
            if (obj := current.get(i)) is not None
            and obj.get("@type") == "Competency"
            and is_owner(obj, owner_pem)
        )
        home.update(far)
        for competency in frontier:
            left[far[competency]].append(competency)
    candidates = [i for found in left.values() for i in found]
    if not candidates:
        return left
    listed = _listed_anywhere(client, candidates, current)
    return {framework_id: [i for i in found if i not in listed] for framework_id, found in left.items()}


def _listed_anywhere(client: CassClient, ids: list[str], current: dict[str, dict[str, Any]]) -> set[str]:
    """Which of ``ids`` some framework on the server lists (then they are not left behind)."""
    frameworks: list[str] = []
    for start in range(0, len(ids), SEARCH_IDS):
        frameworks.extend(client.search_ids(frameworks_query(ids[start : start + SEARCH_IDS])))
    others = [short_id(f) for f in dict.fromkeys(frameworks)]
    held = {i: current[i] for i in others if i in current}
    held.update(client.multi_get([i for i in others if i not in current]) if others else {})
    listed: set[str] = set()
    for obj in held.values():
        if obj.get("@type") == "Framework":
            listed.update(_members(obj))
    return listed


def build_plan(
    client: CassClient, frameworks: Sequence[Framework], registry_url: str, owner_pem: str
) -> tuple[Plan, dict[str, dict[str, Any]]]:
    current, left = read_server(client, frameworks, registry_url, owner_pem)
    mapping = cass_mapping()
    desired = [
        map_framework(
            fw,
            registry_url=registry_url,
            cass_base=client.server,
            owner_pem=owner_pem,
            existing=current,
            mapping=mapping,
        )
        for fw in frameworks
    ]
    plan = make_plan(desired, current, owner_pem, mapping, left_behind=left)
    predict_ce_views(plan, desired, registry_url, current)  # what CE will show (verify.py)
    return plan, current


def _new_result(fp: FrameworkPlan, client: CassClient) -> FrameworkResult:
    return FrameworkResult(
        fp.path,
        fp.name,
        fp.ctid,
        fp.id,
        client.object_url(fp.id),
        client.export_url(fp.id),
        created=fp.count(CREATE),
        updated=fp.count(UPDATE),
        deleted=len(fp.deletes),
        left_in_place=fp.count("keep"),
        objects_planned=len(fp.writes),
    )


@dataclass
class Progress:
    """What the server confirmed so far, for one framework: the base of an exact account."""

    planned: dict[str, CassObject]  # short id -> the object as it is being sent
    deletes: list[str]
    framework_id: str
    written: set[str] = field(default_factory=set)
    deleted: set[str] = field(default_factory=set)


class Refused(Exception):
    """The server answered, and left objects out of what it saved (§1.2)."""

    def __init__(self, refused: list[str]) -> None:
        super().__init__(refused)
        self.refused = refused


RESENDS = 2  # after a lost answer: read back, then resend what is missing, at most this often


def _same(stored: Mapping[str, Any] | None, sent: Mapping[str, Any]) -> bool:
    return stored is not None and canonical(stored) == canonical(sent)


def _put(client: CassClient, batch: list[CassObject], progress: Progress) -> None:
    """One multiPut; when its answer is lost, read back and resend only what the server lacks."""
    pending = batch
    for attempt in range(RESENDS + 1):
        try:
            saved = client.multi_put(pending)
        except WriteInDoubt:
            if attempt == RESENDS:
                raise
            held = client.multi_get([o["@id"] for o in pending])
            landed = [o for o in pending if _same(held.get(short_id(o["@id"])), o)]
            progress.written.update(short_id(o["@id"]) for o in landed)
            pending = [o for o in pending if o not in landed]
            if not pending:
                return
            continue
        sent = [short_id(o["@id"]) for o in pending]
        progress.written.update(i for i in sent if i in saved)
        if len(progress.planned) > client.batch_objects:  # several batches: say how far it is
            done, total = len(progress.written), len(progress.planned)
            ctid = progress.framework_id.rsplit("/", 1)[-1]
            report_progress(f"{ctid}: {done} of {total} objects written")
        refused = [i for i in sent if i not in saved]
        if refused:
            raise Refused(refused)
        return


def _delete(client: CassClient, batch: list[str], progress: Progress) -> None:
    """One multiDelete; when its answer is lost, read back and resend for what is still there."""
    pending = batch
    for attempt in range(RESENDS + 1):
        try:
            client.multi_delete(pending)
        except WriteInDoubt:
            if attempt == RESENDS:
                raise
            held = client.multi_get(pending)
            progress.deleted.update(i for i in pending if i not in held)
            pending = [i for i in pending if i in held]
            if not pending:
                return
            continue
        progress.deleted.update(pending)
        return


def apply_framework(client: CassClient, fp: FrameworkPlan, fr: FrameworkResult) -> None:
    """Write one framework's plan; raises CassError (with ``fr`` filled in so far) on failure."""
    if fp.blocked:
        labels = "; ".join(f"{c.kind} {c.label}" for c in fp.blocked[:5])
        more = f" and {len(fp.blocked) - 5} more" if len(fp.blocked) > 5 else ""
        fr.status = FAILED
        fr.message = (
            f"not written: this key is not an owner of {len(fp.blocked)} object(s) on the server "
            f"({labels}{more}); an owner must add this key as a co-owner"
        )
        return
    now = client.server_now_ms()
    objects = [{**item.data, "@id": versioned_id(item.id, fp.stored.get(item.id), now)} for item in fp.writes]
    for obj in objects:
        if json_size([obj]) >= client.post_max_size:
            fr.status = FAILED
            fr.message = (
                f"not written: object {short_id(obj['@id'])} is larger than "
                f"the server's postMaxSize ({client.post_max_size} bytes)"
            )
            return
    progress = Progress({short_id(o["@id"]): o for o in objects}, list(fp.deletes), fp.id)
    updates = [o for o in objects if short_id(o["@id"]) in fp.stored and short_id(o["@id"]) != fp.id]
    framework = [o for o in objects if short_id(o["@id"]) == fp.id]
    creates = [o for o in objects if short_id(o["@id"]) not in fp.stored and short_id(o["@id"]) != fp.id]
    try:
        for batch in client.batches(updates):
            _put(client, batch, progress)
        for ids in client.batches(fp.deletes):
            _delete(client, ids, progress)
        if framework:
            _put(client, framework, progress)
        for batch in client.batches(creates):
            _put(client, batch, progress)
    except Refused as exc:
        shown = ", ".join(exc.refused[:3]) + (
            f" and {len(exc.refused) - 3} more" if len(exc.refused) > 3 else ""
        )
        cause = (
            f"the server did not save {len(exc.refused)} object(s) ({shown}): "
            "not an owner, or rejected by the server"
        )
        _fail(fr, progress, cause)
        return
    except AuthError as exc:
        _fail(fr, progress, str(exc))
        raise
    except CassError as exc:
        _fail(fr, progress, str(exc), client=client)
        raise
    fr.objects_written = len(progress.written)
    fr.status = WRITTEN
    fr.message = _done(fr)


def _fail(fr: FrameworkResult, progress: Progress, cause: str, client: CassClient | None = None) -> None:
    """Say exactly what the server holds. After a failure whose answers may be lost (``client``
    given), read it back; otherwise the server's answers so far are exact."""
    fr.status = FAILED
    note = ""
    if client is not None:
        try:
            held = client.multi_get([*progress.planned, *progress.deletes])
        except CassError as exc:
            note = (
                f"; could not read back what the server holds ({exc}), so only what it confirmed is counted"
            )
        else:
            progress.written = {i for i, obj in progress.planned.items() if _same(held.get(i), obj)}
            progress.deleted = {i for i in progress.deletes if i not in held}
            note = "; read back from the server"
    fr.objects_written = len(progress.written)
    framework = "including" if progress.framework_id in progress.written else "not including"
    text = (
        f"{cause}{note}: {fr.objects_written} of {fr.objects_planned} object(s) are written, "
        f"{framework} the framework object"
    )
    if progress.deletes:
        text += f"; {len(progress.deleted)} of {len(progress.deletes)} removed item(s) are deleted"
    fr.message = text


def _done(fr: FrameworkResult) -> str:
    parts = [f"{fr.created} created" if fr.created else "", f"{fr.updated} updated" if fr.updated else ""]
    parts += [
        f"{fr.deleted} deleted" if fr.deleted else "",
        f"{fr.left_in_place} left in place" if fr.left_in_place else "",
    ]
    return ", ".join(p for p in parts if p)


def plan_publish(
    frameworks: Sequence[Framework], config: Config, client: CassClient, key: RSAPrivateKey
) -> PublishResult:
    """Ping, read and plan; writes nothing. Never raises for remote failures: see ``.error``."""
    result = PublishResult(client.server)
    owner_pem = cass_pem(key.public_key())
    try:
        client.ping()
        plan, _ = build_plan(client, frameworks, config.registry_url, owner_pem)
    except CassError as exc:
        result.error = str(exc)
        result.frameworks = [
            FrameworkResult(fw.path, fw.name, fw.ctid, "", "", message="nothing was read or written")
            for fw in frameworks
        ]
        return _finish(result, client)
    result.plan = plan
    result.frameworks = [_new_result(fp, client) for fp in plan.frameworks]
    return _finish(result, client)


def apply_publish(client: CassClient, planned: PublishResult) -> PublishResult:
    """Write what ``plan_publish`` planned, framework by framework; a failure that concerns every
    request (the server, the signature) stops the rest. Never raises for remote failures."""
    result = planned
    if result.plan is None:
        return result
    stop: str | None = None
    for fp, fr in zip(result.plan.frameworks, result.frameworks, strict=True):
        if stop is not None:
            fr.message = "stopped before this framework"
            continue
        if fp.empty:
            fr.status, fr.message = UNCHANGED, "no changes"
            continue
        try:
            apply_framework(client, fp, fr)
        except AuthError as exc:
            if exc.fatal:
                stop = str(exc)
        except CassError as exc:
            stop = str(exc)
    result.error = stop
    verify_ce_views(client, result)
    return _finish(result, client)


def verify_ce_views(client: CassClient, result: PublishResult) -> None:
    """Read the CE view (``/api/ceasn``) of every framework written and compare it (verify.py)."""

    def fetch(framework_id: str, nodes: int) -> dict[str, Any] | str:
        try:
            return client.ceasn(framework_id, objects=nodes)
        except CassError as exc:
            return f"reading the CE view failed: {exc}"

    read_written(result, fetch)


def publish_frameworks(
    frameworks: Sequence[Framework],
    config: Config,
    server: str,
    key: RSAPrivateKey,
    *,
    dry_run: bool = False,
    timeout: float = 300.0,
    on_plan: Callable[[Plan, str], object] | None = None,
    client: CassClient | None = None,
) -> PublishResult:
    """Plan and (unless ``dry_run``) apply. Never raises for remote failures: see ``.error``."""
    client = client or CassClient(server, key, timeout=timeout)
    result = plan_publish(frameworks, config, client, key)
    if result.plan is None:
        return result
    if on_plan is not None:
        on_plan(result.plan, client.server)
    if dry_run:
        for fr in result.frameworks:
            fr.status, fr.message = UNCHANGED, "dry run: nothing written"
        return _finish(result, client)
    return apply_publish(client, result)


def _finish(result: PublishResult, client: CassClient) -> PublishResult:
    result.requests, result.bytes_sent = client.requests, client.bytes_sent
    return result


__all__ = [
    "DELETE",
    "FAILED",
    "NOT_ATTEMPTED",
    "UNCHANGED",
    "WRITTEN",
    "FrameworkResult",
    "PublishResult",
    "apply_publish",
    "plan_publish",
    "publish_frameworks",
]
