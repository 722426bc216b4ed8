"""Apply a plan to a CASS server: read, plan, write what differs, delete what left, account exactly.

Order of work (cass-api.md §6): ping; bulk reads; the plan; then per framework ``multiPut`` batches
under the server's ``postMaxSize`` with the framework object in the last batch, so a failed request
never leaves a framework listing objects not sent yet; then ``multiDelete`` of what left the
framework. Every sent id must come back from multiPut (a missing one was refused: not an owner, or
a mapping error).
Re-running is always safe: the next run reads the server again and writes only what still differs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from competency_ci.frameworks.config import Config
from competency_ci.frameworks.model import Framework
from competency_ci.targets.cass.client import AuthError, CassClient, CassError, batches, json_size
from competency_ci.targets.cass.ids import short_id
from competency_ci.targets.cass.mapping import STRUCTURE_KEYS, cass_mapping, map_framework, versioned_id
from competency_ci.targets.cass.plan import CREATE, DELETE, UPDATE, FrameworkPlan, Plan, make_plan
from competency_ci.targets.cass.signing import cass_pem
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

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


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
        return 0 if self.ok else 3

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
            frameworks.append(
                PublishedFramework(fr.ctid, fr.name, fr.path, outcome, changes, fr.url or None, messages)
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
    if not result.ok:
        lines.append(RERUN_NOTE)
    return "\n".join(lines) + "\n"


def read_server(
    client: CassClient, frameworks: Sequence[Framework], registry_url: str, owner_pem: str
) -> dict[str, dict[str, Any]]:
    """Two bulk reads: every object we would write, then whatever the stored frameworks list besides."""
    mapping = cass_mapping()
    wanted: list[str] = []
    for fw in frameworks:
        first = map_framework(
            fw, registry_url=registry_url, cass_base=client.server, owner_pem=owner_pem, mapping=mapping
        )
        wanted.extend(first.ids)
    current = client.multi_get(wanted)
    listed: list[str] = []
    for obj in list(current.values()):
        if obj.get("@type") == "Framework":
            listed.extend(
                short_id(str(i)) for i in [*(obj.get("competency") or []), *(obj.get("relation") or [])]
            )
    missing = [i for i in dict.fromkeys(listed) if i not in current]
    if missing:
        current.update(client.multi_get(missing))
    return current


def build_plan(
    client: CassClient, frameworks: Sequence[Framework], registry_url: str, owner_pem: str
) -> tuple[Plan, dict[str, dict[str, Any]]]:
    current = read_server(client, frameworks, registry_url, owner_pem)
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
    return make_plan(desired, current, owner_pem, mapping), current


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
        if json_size([obj]) >= client.limit:
            fr.status = FAILED
            fr.message = (
                f"not written: object {short_id(obj['@id'])} is larger than "
                f"the server's postMaxSize ({client.limit} bytes)"
            )
            return
    for batch in batches(objects, client.limit):
        try:
            saved = client.multi_put(batch)
        except CassError as exc:
            fr.status = FAILED
            fr.message = _partial(fr, f"{exc}")
            raise
        sent = [short_id(o["@id"]) for o in batch]
        refused = [i for i in sent if i not in saved]
        fr.objects_written += len(sent) - len(refused)
        if refused:
            fr.status = FAILED
            shown = ", ".join(refused[:3]) + (f" and {len(refused) - 3} more" if len(refused) > 3 else "")
            cause = (
                f"the server did not save {len(refused)} object(s) ({shown}): "
                "not an owner, or rejected by the server"
            )
            fr.message = _partial(fr, cause, framework_written=fp.id in saved)
            return
    if fp.deletes:
        try:
            client.multi_delete(fp.deletes)
        except CassError as exc:
            fr.status = FAILED
            fr.message = (
                f"all {fr.objects_written} object(s) written, "
                f"but deleting {len(fp.deletes)} removed item(s) failed: {exc}"
            )
            raise
    fr.status = WRITTEN
    fr.message = _done(fr)


def _partial(fr: FrameworkResult, cause: str, *, framework_written: bool = False) -> str:
    framework = "including" if framework_written else "not including"
    written = f"{fr.objects_written} of {fr.objects_planned} object(s) were written"
    return f"{cause}; {written}, {framework} the framework object"


def _done(fr: FrameworkResult) -> str:
    parts = [f"{fr.created} created" if fr.created else "", f"{fr.updated} updated" if fr.updated else ""]
    parts += [
        f"{fr.deleted} deleted" if fr.deleted else "",
        f"{fr.left_in_place} left in place" if fr.left_in_place else "",
    ]
    return ", ".join(p for p in parts if p)


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


def plan_publish(
    frameworks: Sequence[Framework], config: Config, client: CassClient, key: RSAPrivateKey
) -> PublishResult:
    """Ping, read and plan (no write): the result holds the plan, or ``.error`` and no plan."""
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


def apply_publish(client: CassClient, result: PublishResult) -> PublishResult:
    """Write what a planned result's plan says, framework by framework, accounting as it goes."""
    assert result.plan is not None, "apply a result that plan_publish planned"
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
    return _finish(result, client)


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
