"""The Registry side of the flow: what is live, what publishing would change, and publishing by API.

Everything starts from :func:`read_live`: the graph the repository produces next to the graph the
Registry serves, classified by ``status.compare``. ``status`` prints it, ``request-approval`` asks
for approval of what waits, ``plan --target registry`` adds CE's own checks (the Assistant's
``format`` endpoint, no key), and ``publish --target registry`` sends only the frameworks that
differ from the live copy, judging each answer by ``Successful``/``WasChanged``/``Messages``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from competency_ci.frameworks.config import Config, ConfigError
from competency_ci.frameworks.model import Framework
from competency_ci.http import AnswerLost, RemoteError
from competency_ci.report.escape import md_cell, md_code, md_text, one_line
from competency_ci.targets.record import Changes, PublishedFramework, PublishRecord
from competency_ci.targets.registry.client import Assistant, RegistryError, RegistryReader, format_request
from competency_ci.targets.registry.status import FrameworkStatus, State, compare

WRITTEN, UNCHANGED, FAILED, NOT_ATTEMPTED = "written", "unchanged", "failed", "not attempted"
POLL = 15.0  # seconds between reads of /graph/{ctid} while an answer is outstanding
ACTIONS = {State.NOT_LIVE: "create", State.OUTDATED: "update", State.CURRENT: "no change"}


@dataclass
class LiveFramework:
    framework: Framework
    graph: dict[str, Any]
    live: dict[str, Any] | None
    status: FrameworkStatus


def repo_path(path: str, config: Config) -> str:
    """A framework file as the repository names it (relative to the root, ``/``-separated)."""
    from pathlib import Path

    try:
        return Path(path).resolve().relative_to(config.root.resolve()).as_posix()
    except ValueError:
        return path


def read_live(
    frameworks: Sequence[Framework],
    config: Config,
    reader: RegistryReader,
    ignore: frozenset[str] = frozenset(),
) -> list[LiveFramework]:
    """Read ``{registry}/graph/{ctid}`` for each framework and compare it with the repository's graph."""
    from competency_ci.frameworks.jsonld import framework_to_graph

    result = []
    for fw in frameworks:
        graph = framework_to_graph(fw, config.registry_url, config.language)
        live = reader.read_graph(fw.ctid)
        path, url = repo_path(fw.path, config), reader.graph_url(fw.ctid)
        status = compare(fw.ctid, fw.name, path, url, graph, live, ignore)
        result.append(LiveFramework(fw, graph, live, status))
    return result


def changes_since_live(entry: LiveFramework) -> Changes:
    """What approving would change: the repository's framework against the Registry's copy."""
    from competency_ci.frameworks.diff import diff_framework
    from competency_ci.frameworks.jsonld import GraphError, graph_to_frameworks

    old = None
    if entry.live is not None:
        try:
            read = graph_to_frameworks(entry.live, entry.framework.path)
        except GraphError:
            read = None
        old = next((f for f in read.frameworks if f.ctid == entry.framework.ctid), None) if read else None
    return Changes.from_diff(diff_framework(old, entry.framework))


def require_organization(config: Config) -> str:
    if not config.organization:
        raise ConfigError(
            "the Registry target needs the organization's CTID: set `organization` in the configuration"
        )
    return config.organization


# --- plan -------------------------------------------------------------------------------------


@dataclass
class RegistryPlanItem:
    status: FrameworkStatus
    action: str
    successful: bool
    messages: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.status.to_dict(),
            "action": self.action,
            "successful": self.successful,
            "messages": self.messages,
        }


def plan_registry(
    frameworks: Sequence[Framework], config: Config, reader: RegistryReader, assistant: Assistant
) -> list[RegistryPlanItem]:
    """What ``publish --target registry`` would send, each checked by CE's ``format`` endpoint."""
    require_organization(config)
    return plan_entries(read_live(frameworks, config, reader), config, assistant)


def plan_entries(
    entries: Sequence[LiveFramework], config: Config, assistant: Assistant | None
) -> list[RegistryPlanItem]:
    """The action per framework; with ``assistant``, each one to send checked by CE's ``format``."""
    from competency_ci.frameworks.jsonld import language_key

    organization = require_organization(config)
    items = []
    for entry in entries:
        action = ACTIONS[entry.status.state]
        if action == "no change" or assistant is None:
            items.append(RegistryPlanItem(entry.status, action, True))
            continue
        lang = language_key(entry.framework, config.language)
        answer = assistant.format(format_request(entry.graph, organization, lang))
        items.append(RegistryPlanItem(entry.status, action, answer.successful, answer.messages))
    return items


def render_plan(items: list[RegistryPlanItem], assistant_url: str, out_format: str) -> str:
    if out_format == "json":
        return (
            json.dumps({"assistant": assistant_url, "frameworks": [i.to_dict() for i in items]}, indent=2)
            + "\n"
        )
    lines = []
    if out_format == "markdown":
        lines += [
            f"## Registry plan ({md_text(assistant_url)})",
            "",
            "| Framework | CTID | Action | CE check |",
            "|---|---|---|---|",
        ]
        for i in items:
            check = "ok" if i.successful else "<br>".join(md_cell(m) for m in i.messages)
            lines.append(
                f"| {md_cell(i.status.name)} | {md_code(i.status.ctid, table=True)} | {i.action} | {check} |"
            )
        lines.append("")
    else:
        for i in items:
            verdict = (
                "" if i.action == "no change" else ("; CE check: ok" if i.successful else "; CE check FAILED")
            )
            lines.append(f"{i.status.path}: {i.status.name} ({i.status.ctid}): {i.action}{verdict}")
            lines.extend(f"  - {m}" for m in i.messages)
    sending = sum(1 for i in items if i.action != "no change")
    failing = sum(1 for i in items if not i.successful)
    lines.append(f"{len(items)} framework(s): {sending} to publish, {failing} rejected by CE's checks")
    return "\n".join(one_line(line) for line in lines) + "\n"


# --- publish ----------------------------------------------------------------------------------


@dataclass
class RegistryOutcome:
    status: FrameworkStatus
    outcome: str = NOT_ATTEMPTED
    messages: list[str] = field(default_factory=list)
    graph_url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.status.path,
            "name": self.status.name,
            "ctid": self.status.ctid,
            "state_before": str(self.status.state),
            "outcome": self.outcome,
            "messages": self.messages,
            "graph_url": self.graph_url,
        }


@dataclass
class RegistryPublishResult:
    assistant: str
    frameworks: list[RegistryOutcome] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and all(f.outcome in (WRITTEN, UNCHANGED) for f in self.frameworks)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 3

    def to_dict(self) -> dict[str, Any]:
        return {
            "assistant": self.assistant,
            "ok": self.ok,
            "error": self.error,
            "frameworks": [f.to_dict() for f in self.frameworks],
        }

    def record(self) -> PublishRecord:
        """The result file ``request-approval --result`` reads (``publish_record``)."""
        return PublishRecord(
            "registry",
            self.assistant,
            tuple(
                PublishedFramework(
                    f.status.ctid,
                    f.status.name,
                    f.status.path,
                    f.outcome if f.outcome in (WRITTEN, UNCHANGED) else FAILED,
                    None,
                    f.graph_url,
                    tuple(f.messages),
                )
                for f in self.frameworks
            ),
        )


def publish_registry(
    frameworks: Sequence[Framework],
    config: Config,
    reader: RegistryReader,
    assistant: Assistant,
    *,
    on_outcome: Callable[[RegistryOutcome], None] | None = None,
) -> RegistryPublishResult:
    """POST each framework that differs from the Registry's copy to ``publishGraph``.

    A framework CE rejects (``Successful: false``) does not stop the others; a service failure
    after retries does, and the rest are reported as not attempted.
    """
    require_organization(config)
    try:
        entries = read_live(frameworks, config, reader)
    except (RemoteError, RegistryError) as exc:
        return RegistryPublishResult(assistant.base_url, error=str(exc))
    return publish_entries(entries, config, assistant, on_outcome=on_outcome)


def publish_entries(
    entries: Sequence[LiveFramework],
    config: Config,
    assistant: Assistant,
    *,
    on_outcome: Callable[[RegistryOutcome], None] | None = None,
    reader: RegistryReader | None = None,
    poll: float = POLL,
) -> RegistryPublishResult:
    """Publish the frameworks ``read_live`` found not live or not current (the apply step). An
    answer lost after the graph went out is settled by reading the Registry (``reader``), never by
    sending the graph again (:func:`settle`)."""
    organization = require_organization(config)
    result = RegistryPublishResult(assistant.base_url)
    result.frameworks = [RegistryOutcome(e.status) for e in entries]
    for entry, outcome in zip(entries, result.frameworks, strict=True):
        if result.error:
            break
        if entry.status.state is State.CURRENT:
            outcome.outcome, outcome.graph_url = UNCHANGED, entry.status.graph_url
        else:
            try:
                answer = assistant.publish_graph(entry.framework.ctid, organization, entry.graph)
            except AnswerLost as exc:
                settle(entry, outcome, exc, reader, assistant, poll)
            except (RemoteError, RegistryError) as exc:
                result.error = str(exc)
                outcome.outcome = FAILED
                outcome.messages = [str(exc)]
            else:
                outcome.messages = answer.messages
                outcome.graph_url = answer.graph_url
                if not answer.successful:
                    outcome.outcome = FAILED
                else:
                    outcome.outcome = UNCHANGED if answer.was_changed is False else WRITTEN
        if on_outcome is not None:
            on_outcome(outcome)
    return result


def settle(
    entry: LiveFramework,
    outcome: RegistryOutcome,
    lost: AnswerLost,
    reader: RegistryReader | None,
    assistant: Assistant,
    poll: float = POLL,
) -> None:
    """The Assistant's answer was lost (a timeout, a gateway's 502/504) after the graph went out:
    CE may still be publishing it (up to 30 minutes, §2.7). Read ``/graph/{ctid}`` until it shows
    this version or the time budget ends; never send it again meanwhile. Shown: published; not
    shown: failed, with the words to re-run later (the next run compares and sends only if needed)."""
    import time

    from competency_ci.http import progress

    ctid = entry.framework.ctid
    checks = 0
    while reader is not None:
        checks += 1
        try:
            live = reader.read_graph(ctid)
        except (RemoteError, RegistryError):
            live = None
        status = compare(
            ctid, entry.status.name, entry.status.path, entry.status.graph_url, entry.graph, live
        )
        if status.state is State.CURRENT:
            outcome.outcome, outcome.graph_url = WRITTEN, entry.status.graph_url
            outcome.messages = [
                f"the Assistant's answer was lost ({_why(lost)}); "
                f"the Registry shows this version published (read {checks} time(s))"
            ]
            return
        left = assistant.budget.end - assistant.budget.clock()
        if left <= poll:
            break
        progress(
            f"{ctid}: the answer was lost; the Registry does not show this version yet, "
            f"reading again in {poll:g} s"
        )
        time.sleep(poll)
    outcome.outcome = FAILED
    outcome.messages = [
        f"the Assistant's answer was lost ({_why(lost)}) and the "
        f"Registry does not show this version{f' after {checks} read(s)' if checks else ''}; CE may still "
        "be publishing it (up to 30 minutes), so it was not sent again. Re-run later: publish compares "
        "with the live Registry and sends it only if it is still not there"
    ]


def _why(lost: AnswerLost) -> str:
    last = lost.attempts[-1] if lost.attempts else None
    if last is None:
        return "no answer"
    return f"HTTP {last.status}" if last.status is not None else last.reason or str(last)


def render_outcome(outcome: RegistryOutcome) -> str:
    s = outcome.status
    title = {WRITTEN: "published", UNCHANGED: "unchanged", FAILED: "NOT published"}.get(
        outcome.outcome, outcome.outcome
    )
    lines = [f"{s.path}: {s.name} ({s.ctid}): {title}"]
    lines.extend(f"  - {m}" for m in outcome.messages)
    return "\n".join(one_line(line) for line in lines) + "\n"


def account(result: RegistryPublishResult) -> str:
    """The closing account: counts, the stopping error, and what was not attempted."""
    counts = {
        k: sum(1 for f in result.frameworks if f.outcome == k)
        for k in (WRITTEN, UNCHANGED, FAILED, NOT_ATTEMPTED)
    }
    lines = []
    if result.error:
        lines.append(f"publish stopped: {result.error}")
    lines.extend(
        f"  not attempted: {f.status.path}: {f.status.name} ({f.status.ctid})"
        for f in result.frameworks
        if f.outcome == NOT_ATTEMPTED
    )
    lines.append(
        f"Registry: {counts[WRITTEN]} published, {counts[UNCHANGED]} unchanged, "
        f"{counts[FAILED]} not published, {counts[NOT_ATTEMPTED]} not attempted"
    )
    if not result.ok:
        lines.append(
            "Re-running is safe: publish compares with the live Registry and sends only what differs."
        )
    return "\n".join(one_line(line) for line in lines) + "\n"
