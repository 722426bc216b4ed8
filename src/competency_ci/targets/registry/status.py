"""Is each framework live in the Credential Registry, and is the live copy the repository's?

Pure: it compares the graph the repository produces (``jsonld.framework_to_graph``) with the graph
the Registry serves at ``{registry}/graph/{ctid}``, as sets of statements, so key order, list order
and whitespace of the JSON never matter. See :func:`statements` for the exact rule.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from competency_ci.frameworks.normal import normal
from competency_ci.report.escape import md_cell, md_code, md_link, one_line

Statement = tuple[str, str, str, str]  # subject, predicate, value, kind ("" | "@id-node" | "@lang:xx")


class State(StrEnum):
    NOT_LIVE = "not-live"
    CURRENT = "current"
    OUTDATED = "outdated"

    @property
    def waiting(self) -> bool:
        return self is not State.CURRENT

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    State.NOT_LIVE: "not yet live",
    State.CURRENT: "live and current",
    State.OUTDATED: "live, older than the repository (awaiting approval of the latest change)",
}


ORGANIZATION_FIRST = (
    "not yet live, waiting for the organization: frameworks cannot be approved until the organization "
    "is approved and published (Approve my Organization, on the My Organization tab of the Publisher)"
)
FINDER_DELAY = "the Credential Finder shows it about 30 minutes after it is published"


def waiting_for_organization(results: list[FrameworkStatus], published: bool) -> list[FrameworkStatus]:
    """Mark the frameworks that are not live when the organization itself is not published yet."""
    from dataclasses import replace

    if published:
        return results
    return [replace(r, waiting_for_organization=r.state is State.NOT_LIVE) for r in results]


def _is_language_map(value: dict[str, Any]) -> bool:
    return bool(value) and all(
        not key.startswith("@")
        and (isinstance(v, str) or (isinstance(v, list) and all(isinstance(x, str) for x in v)))
        for key, v in value.items()
    )


def _objects(value: Any) -> Iterator[tuple[str, str]]:
    """(value, kind) pairs for one property value; lists are sets of values."""
    if isinstance(value, list):
        for item in value:
            yield from _objects(item)
    elif isinstance(value, dict):
        if "@value" in value:
            lang = value.get("@language")
            yield str(value["@value"]), f"@lang:{lang.lower()}" if isinstance(lang, str) else ""
        elif set(value) == {"@id"}:
            yield normal(str(value["@id"])), ""
        elif _is_language_map(value):
            for lang, texts in value.items():
                for text in [texts] if isinstance(texts, str) else texts:
                    yield text, f"@lang:{lang.lower()}"
        else:  # an embedded node: compare it whole, by its own statements
            inner = sorted(statements({"@graph": [{**value, "@id": value.get("@id", "_:")}]}))
            yield json.dumps(inner), "@node"
    elif isinstance(value, str):
        yield normal(value), ""
    elif value is not None:
        yield json.dumps(value), ""


def statements(document: dict[str, Any]) -> set[Statement]:
    """Every (subject, predicate, value, kind) a CTDL-ASN graph document states.

    The rule: nodes are the items of ``@graph`` (or the document itself), keyed by ``@id``; every
    property value is one statement, and a list of values is a *set* of statements (CTDL-ASN
    properties are unordered, e.g. ``hasChild``, ``inLanguage``); a language map gives one statement
    per text, tagged with the lower-cased language (``en-US`` and ``en-us`` are the same tag); a
    URI is in the form ``frameworks.normal.normal`` compares it in (concept URIs in either published
    form, CTIDs in lower case).
    ``@context`` and the graph's own ``@id`` (``{registry}/graph/{ctid}``) are not statements.
    """
    nodes = document.get("@graph")
    if not isinstance(nodes, list):
        nodes = [document]
    found: set[Statement] = set()
    for node in nodes:
        if not isinstance(node, dict):
            continue
        subject = normal(str(node.get("@id", "_:")))
        for predicate, value in node.items():
            if predicate in ("@id", "@context"):
                continue
            for text, kind in _objects(value):
                found.add((subject, predicate, text, kind))
    return found


@dataclass
class FrameworkStatus:
    ctid: str
    name: str
    path: str
    state: State
    graph_url: str
    only_in_repository: int = 0
    only_in_registry: int = 0
    examples: list[str] = field(default_factory=list)
    waiting_for_organization: bool = False  # not live, and the organization is not published either

    @property
    def resource_url(self) -> str:
        """The framework's Registry resource, ``{registry}/resources/{ctid}``."""
        base, _, ctid = self.graph_url.rpartition("/graph/")
        return f"{base}/resources/{ctid}"

    @property
    def label(self) -> str:
        return ORGANIZATION_FIRST if self.waiting_for_organization else self.state.label

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["state"] = str(self.state)
        return data


def compare(
    ctid: str,
    name: str,
    path: str,
    graph_url: str,
    ours: dict[str, Any],
    live: dict[str, Any] | None,
    ignore: frozenset[str] = frozenset(),
) -> FrameworkStatus:
    """Classify one framework; ``live`` is None when the Registry answered 404.

    ``ignore`` names properties left out on both sides (``status --ignore-property``), for values
    the Publisher or CASS may add that the repository does not hold (e.g. ``ceasn:dateModified``).
    """
    if live is None:
        return FrameworkStatus(ctid, name, path, State.NOT_LIVE, graph_url)
    mine = {s for s in statements(ours) if s[1] not in ignore}
    theirs = {s for s in statements(live) if s[1] not in ignore}
    extra, missing = sorted(mine - theirs), sorted(theirs - mine)
    if not extra and not missing:
        return FrameworkStatus(ctid, name, path, State.CURRENT, graph_url)
    examples = [f"+ {_show(s)}" for s in extra[:3]] + [f"- {_show(s)}" for s in missing[:3]]
    return FrameworkStatus(ctid, name, path, State.OUTDATED, graph_url, len(extra), len(missing), examples)


def _show(s: Statement) -> str:
    subject = s[0].rsplit("/", 1)[-1]
    tag = f" ({s[3][6:]})" if s[3].startswith("@lang:") else ""
    value = s[2] if len(s[2]) <= 60 else s[2][:57] + "..."
    return f"{subject} {s[1]} {value!r}{tag}"


def any_waiting(results: Iterable[FrameworkStatus]) -> bool:
    return any(r.state.waiting for r in results)


def render_text(results: list[FrameworkStatus]) -> str:
    lines = []
    for r in results:
        lines.append(f"{r.path}: {r.name} ({r.ctid}): {r.label}")
        if r.state is State.CURRENT:
            lines.append(f"  live at {r.resource_url}; {FINDER_DELAY}")
        if r.state is State.OUTDATED:
            lines.append(
                f"  {r.only_in_repository} statement(s) only in the repository, "
                f"{r.only_in_registry} only in the Registry ({r.graph_url})"
            )
            lines.extend(f"    {example}" for example in r.examples)
    lines.append(summary(results))
    return "\n".join(one_line(line) for line in lines) + "\n"


def summary(results: list[FrameworkStatus]) -> str:
    counts = {state: sum(1 for r in results if r.state is state) for state in State}
    for_org = sum(1 for r in results if r.waiting_for_organization)
    return (
        f"{len(results)} framework(s): {counts[State.CURRENT]} live and current, "
        f"{counts[State.OUTDATED]} awaiting approval of a change, {counts[State.NOT_LIVE]} not yet live"
        + (f" ({for_org} waiting for the organization to be published)" if for_org else "")
    )


def render_json(results: list[FrameworkStatus]) -> str:
    return (
        json.dumps({"frameworks": [r.to_dict() for r in results], "waiting": any_waiting(results)}, indent=2)
        + "\n"
    )


def render_markdown(results: list[FrameworkStatus]) -> str:
    icons = {State.CURRENT: "✅", State.OUTDATED: "⏳", State.NOT_LIVE: "⬜"}
    lines = [
        "## Credential Registry status",
        "",
        "| | Framework | CTID | Status | File |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        status = r.label if r.state is State.NOT_LIVE else md_link(r.label, r.resource_url)
        lines.append(
            f"| {icons[r.state]} | {md_cell(r.name)} | {md_code(r.ctid, table=True)} | {status} "
            f"| {md_code(r.path, table=True)} |"
        )
    lines += ["", summary(results) + "."]
    if any(r.state is State.CURRENT for r in results):
        lines += ["", f"A framework that has just gone live: {FINDER_DELAY}."]
    return "\n".join(lines) + "\n"


RENDERERS = {"text": render_text, "json": render_json, "markdown": render_markdown}
