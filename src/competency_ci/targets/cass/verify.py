"""Does CE see what the repository says? The graph ``convert`` makes from a file against CASS's
CTDL-ASN export of it (pure).

Both sides are compared as sets of statements (``registry.status.statements``: key order, list
order and JSON shape never count; language tags do). Two uses:

* ``plan``: against the export *predicted* by ``export.py`` from the objects about to be written,
  before anything is sent;
* ``publish``: against the export the server actually serves after the write. Differences the
  prediction also has are CASS's known losses (their reason comes from the descriptor);
  duplicates in ``hasChild``/``isChildOf``, removed competencies still listed, or text that is the
  previous version's are CASS's export cache defect (cass-export.md: ``/api/ceasn`` caches objects and
  never clears the cache; a restart does), reported as such rather than as a fault in the data.

A competency with no language of its own is read as having its framework's (CTDL-ASN competencies
are in their framework's language), so CE's ``inLanguage`` on every competency is a difference
only when it is another language.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from competency_ci.frameworks.jsonld import framework_to_graph
from competency_ci.report.escape import md_text, one_line
from competency_ci.schema import COMPETENCY, FRAMEWORK, load_schema
from competency_ci.targets.cass.export import ExportRules, ceasn_export, default_rules
from competency_ci.targets.cass.mapping import CassObject, MappedFramework
from competency_ci.targets.registry.status import Statement, statements

PREDICTION, EXPORT = "prediction", "export"
MISSING, EXTRA, LANGUAGE, CHANGED = "missing", "extra", "language", "changed"
HIERARCHY = ("ceasn:hasChild", "ceasn:isChildOf", "ceasn:hasTopChild")
STALE_ADVICE = (
    "the CE view looks stale: CASS's export keeps serving cached objects after an edit (a known CASS "
    "defect); restarting the CASS server clears it, and the data written is correct"
)
_LANGUAGE = "ceasn:inLanguage"
_TYPES = {"ceasn:CompetencyFramework": FRAMEWORK, "ceasn:Competency": COMPETENCY}

Json = dict[str, Any]


@dataclass(frozen=True)
class Finding:
    """One property of one kind of node that CE shows otherwise than the repository."""

    kind: str  # framework | competency
    term: str  # the CTDL-ASN property
    column: str | None  # the CSV column it comes from, when there is one
    what: str  # missing | extra | language | changed
    message: str  # in a curriculum editor's words
    count: int = 1  # nodes affected
    examples: tuple[str, ...] = ()  # CTIDs of some nodes affected
    reason: str = ""  # why (the descriptor's export reason), when known
    expected: bool = True  # the model predicts it (False: CASS did something the model does not)

    def to_dict(self) -> Json:
        return {
            "kind": self.kind,
            "property": self.term,
            "column": self.column,
            "what": self.what,
            "message": self.message,
            "count": self.count,
            "examples": list(self.examples),
            "reason": self.reason,
            "expected": self.expected,
        }

    @property
    def line(self) -> str:
        where = f" (column {self.column})" if self.column else ""
        why = f": {self.reason}" if self.reason else ""
        return f"{self.message}{where}{why}"


@dataclass
class Verification:
    """What CE will show (prediction) or shows (export) for one framework, against the file."""

    source: str  # prediction | export
    findings: list[Finding] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)  # signs of CASS's export cache defect
    error: str | None = None  # the export could not be read
    url: str = ""

    @property
    def ok(self) -> bool:
        return not self.findings and not self.stale and self.error is None

    @property
    def summary(self) -> str:
        """One line, for the publish record and tables."""
        if self.error:
            return f"CE view not verified: {self.error}"
        if self.stale:
            signs = "; ".join(self.stale)
            return (
                f"CE view looks stale ({signs}): CASS's export cache, not the data; a CASS restart clears it"
            )
        if not self.findings:
            return (
                "CE view matches the repository"
                if self.source == EXPORT
                else "CE will show what the file says"
            )
        verb = "CE shows" if self.source == EXPORT else "CE will show"
        return (
            f"{verb} {len(self.findings)} difference(s): "
            + "; ".join(f.message for f in self.findings[:3])
            + (" ..." if len(self.findings) > 3 else "")
        )

    def to_dict(self) -> Json:
        return {
            "source": self.source,
            "ok": self.ok,
            "summary": self.summary,
            "url": self.url,
            "error": self.error,
            "stale": list(self.stale),
            "findings": [f.to_dict() for f in self.findings],
        }


# --- statements ------------------------------------------------------------------------------


def _kinds(graph: Json) -> dict[str, str]:
    found: dict[str, str] = {}
    for node in graph.get("@graph") or []:
        if isinstance(node, dict):
            kind = node.get("@type")
            found[str(node.get("@id", "_:"))] = _TYPES.get(str(kind), COMPETENCY)
    return found


def _with_inherited_language(graph: Json) -> Json:
    """Competencies without ``inLanguage`` get their framework's (what the file means)."""
    nodes = [n for n in graph.get("@graph") or [] if isinstance(n, dict)]
    framework = next((n for n in nodes if n.get("@type") == "ceasn:CompetencyFramework"), None)
    language = framework.get(_LANGUAGE) if framework else None
    if not language:
        return graph
    out = []
    for node in nodes:
        if node is not framework and _LANGUAGE not in node:
            node = {**node, _LANGUAGE: language}
        out.append(node)
    return {**graph, "@graph": out}


def _by_property(found: Iterable[Statement]) -> dict[tuple[str, str], set[tuple[str, str]]]:
    grouped: defaultdict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
    for subject, predicate, value, kind in found:
        grouped[subject, predicate].add((value, kind))
    return dict(grouped)


def _tags(values: set[tuple[str, str]]) -> list[str]:
    return sorted({k[6:] for _, k in values if k.startswith("@lang:")} or {"no language"})


def _what(want: set[tuple[str, str]], got: set[tuple[str, str]]) -> tuple[str, str]:
    """(kind of difference, detail) for one property of one node."""
    if not got:
        return MISSING, ""
    if not want:
        return EXTRA, ", ".join(sorted(_show(v) for v, _ in got))
    if {v for v, _ in want} == {v for v, _ in got}:
        return LANGUAGE, f"{'/'.join(_tags(got))} instead of {'/'.join(_tags(want))}"
    if any(k.startswith("@lang:") for _, k in want | got) or len(want | got) > 6:
        return CHANGED, ""  # texts differ per node: not spelled out
    return CHANGED, f"{_values(got)} instead of {_values(want)}"


def _values(values: set[tuple[str, str]]) -> str:
    return ", ".join(sorted(_show(v) for v, _ in values))


def _show(value: str, width: int = 60) -> str:
    value = " ".join(value.split())
    return f'"{value}"' if len(value) <= width else f'"{value[: width - 1]}…"'


def _name(term: str) -> str:
    return term.split(":", 1)[-1]


def _message(kind: str, term: str, what: str, detail: str, count: int, total: int, verb: str) -> str:
    name = _name(term)
    on = "" if kind == FRAMEWORK else f" on {count} of {total} competencies" if total > 1 else ""
    if what == MISSING:
        return f"{verb} {name} as missing{on}"
    if what == EXTRA:
        return f"{verb} a {name} the file does not have{on} ({detail})"
    if what == LANGUAGE:
        return f"{verb} the {name} tagged {detail}{on}"
    return f"{verb} {name} {detail}{on}" if detail else f"{verb} a different {name}{on}"


def findings(
    ours: Json,
    theirs: Json,
    *,
    verb: str = "CE will show",
    rules: ExportRules | None = None,
    predicted: Json | None = None,
) -> list[Finding]:
    """Differences of ``theirs`` from ``ours``, grouped per node kind, property and kind of difference.

    ``predicted``: for an actual export, the model's prediction; a difference it lacks is marked
    ``expected=False``.
    """
    rules = rules or default_rules()
    schema = load_schema()
    ours = _with_inherited_language(ours)
    said, seen = statements(ours), statements(theirs)
    if said == seen:
        return []  # the common case, without grouping 10,000 competencies' statements
    kinds = {**_kinds(theirs), **_kinds(ours)}
    want, got = _by_property(said), _by_property(seen)
    foreseen: dict[tuple[str, str], set[tuple[str, str]]] | None = None
    if predicted is not None:
        foreseen = _by_property(statements(predicted))
    total = sum(1 for k in _kinds(ours).values() if k == COMPETENCY)
    groups: dict[tuple[str, str, str, str], list[tuple[str, bool]]] = {}
    for key in sorted(set(want) | set(got)):
        mine, shown = want.get(key, set()), got.get(key, set())
        if mine == shown:
            continue
        subject, term = key
        what, detail = _what(mine, shown)
        if what == EXTRA and term == "@type":
            continue  # a node only CE has is reported by its properties
        expected = foreseen is None or foreseen.get(key, set()) == shown
        kind = kinds.get(subject, COMPETENCY)
        groups.setdefault((kind, term, what, detail if what != EXTRA else ""), []).append((subject, expected))
    result = []
    for (kind, term, what, detail), subjects in groups.items():
        if what == EXTRA:
            detail = ", ".join(sorted({_show(v) for s, _ in subjects for v, _ in got.get((s, term), set())}))[
                :200
            ]
        known = schema.columns.get(term)
        column = term if known is not None and known.applies_to(kind) else rules.column_for(kind, term)
        reason = rules.reason_for(kind, column) if column else ""
        result.append(
            Finding(
                kind,
                term,
                column,
                what,
                _message(kind, term, what, detail, len(subjects), total, verb),
                len(subjects),
                tuple(_ctid(s) for s, _ in subjects[:3]),
                reason,
                all(e for _, e in subjects),
            )
        )
    result.sort(key=lambda f: (f.kind != FRAMEWORK, f.term, f.what))
    return result


def _ctid(uri: str) -> str:
    return uri.rstrip("/").rsplit("/", 1)[-1]


# --- stale cache -----------------------------------------------------------------------------


def stale_signs(ours: Json, actual: Json, previous: Json | None, predicted: Json) -> list[str]:
    """Signs that the export comes from CASS's stale cache rather than from what was written."""
    signs: list[str] = []
    nodes = [n for n in actual.get("@graph") or [] if isinstance(n, dict)]
    duplicated = 0
    for node in nodes:
        for term in HIERARCHY:
            values = node.get(term)
            if isinstance(values, list) and len(values) != len(set(map(str, values))):
                duplicated += 1
    if duplicated:
        signs.append(f"{duplicated} duplicated hasChild/isChildOf list(s)")
    known = set(_kinds(ours))
    listed = {str(n.get("@id")) for n in nodes}
    for node in nodes:
        for term in HIERARCHY:
            values = node.get(term)
            if isinstance(values, list):
                listed.update(str(v) for v in values)
    gone = sorted(i for i in listed - known if i not in _kinds(predicted))
    if gone:
        signs.append(f"{len(gone)} removed competenc{'y' if len(gone) == 1 else 'ies'} still listed")
    fresh = statements(predicted)
    current = statements(actual)
    if previous is not None and current != fresh:  # what the prediction shows cannot be stale
        before, after = _by_property(statements(previous)), _by_property(fresh)
        now = _by_property(current)
        kept = {subject for subject, _ in after}  # nodes still in the framework
        old = [
            key
            for key, shown in now.items()
            if key[1] not in HIERARCHY
            and key[0] in kept
            and shown != after.get(key, set())
            and shown == before.get(key)
        ]
        if old:
            signs.append(f"{len(old)} value(s) of the previous version")
    return signs


def _as_ce_takes_it(graph: Json, rules: ExportRules) -> Json:
    """The export without the columns the descriptor records as not reaching CE (``export.term``
    null): a value CASS's export still carries but CE's framework model has no place for (e.g.
    ``asn:hasProgressionModel``) is not part of what CE shows."""
    lost = {rule.column for rule in rules.terms.values() if rule.term is None}
    nodes = graph.get("@graph")
    if not lost or not isinstance(nodes, list):
        return graph
    kept = [{k: v for k, v in n.items() if k not in lost} if isinstance(n, dict) else n for n in nodes]
    return {**graph, "@graph": kept}


# --- the two uses ----------------------------------------------------------------------------


def predict(ours: Json, predicted: Json, rules: ExportRules | None = None) -> Verification:
    """``plan``: what CE will show, from the model of CASS's export, before anything is written."""
    return Verification(PREDICTION, findings(ours, predicted, rules=rules))


def check(
    ours: Json,
    actual: Json,
    predicted: Json,
    previous: Json | None = None,
    *,
    url: str = "",
    rules: ExportRules | None = None,
) -> Verification:
    """``publish``: what CE shows, read back from the server after the write.

    When the export looks stale, only the differences a fresh export would also show (the
    prediction's) are reported as the data's; the rest are the cache's.
    """
    actual = _as_ce_takes_it(actual, rules or default_rules())
    signs = stale_signs(ours, actual, previous, predicted)
    if signs:
        return Verification(EXPORT, findings(ours, predicted, verb="CE shows", rules=rules), signs, url=url)
    return Verification(
        EXPORT, findings(ours, actual, verb="CE shows", rules=rules, predicted=predicted), url=url
    )


def failed(error: str, url: str = "") -> Verification:
    return Verification(EXPORT, error=error, url=url)


# --- assembling the graphs -------------------------------------------------------------------


@dataclass
class CeView:
    """One framework's three graphs: the file's (``convert``), the export predicted from the objects
    about to be on the server, and the export of what the server held before (for staleness)."""

    ours: Json
    predicted: Json
    previous: Json | None
    prediction: Verification


def expect(
    mapped: MappedFramework,
    registry_url: str,
    current: Mapping[str, CassObject],
    *,
    default_language: str = "en-US",
    rules: ExportRules | None = None,
) -> CeView:
    """The prediction for a planned framework (offline: ``current`` is what the plan read)."""
    rules = rules or default_rules()
    ours = framework_to_graph(mapped.framework, registry_url, default_language)
    objects = {item.id: item.data for item in mapped.items}
    predicted = ceasn_export(objects[mapped.id], objects, rules)
    stored = current.get(mapped.id)
    previous = ceasn_export(stored, current, rules) if stored else None
    return CeView(ours, predicted, previous, predict(ours, predicted, rules))


def predict_ce_views(
    plan: Any, desired: Iterable[MappedFramework], registry_url: str, current: Mapping[str, CassObject]
) -> None:
    """Give each framework plan (``plan.frameworks``, in ``desired`` order) its CE-view prediction
    and the graphs its read-back needs (``FrameworkPlan.prediction`` / ``.ce_view``)."""
    for fp, mapped in zip(plan.frameworks, desired, strict=True):
        view = expect(mapped, registry_url, current)
        fp.prediction, fp.ce_view = view.prediction, view


def read_written(result: Any, fetch: Callable[[str, int], Json | str]) -> list[tuple[Any, Verification]]:
    """Read back every framework ``result`` (a ``publish.PublishResult``) wrote and check it.

    ``fetch(framework id, node count)`` returns the export, or the error text when it could not be
    read. Each written ``FrameworkResult`` gets its ``verification``; returns (result, verification).
    """
    plans = {fp.id: fp for fp in result.plan.frameworks} if result.plan else {}
    checked = []
    for fr in result.frameworks:
        fp = plans.get(fr.id)
        if fr.status != "written" or fp is None or fp.ce_view is None:
            continue
        view: CeView = fp.ce_view
        answer = fetch(fp.id, len(view.ours.get("@graph") or []))
        if isinstance(answer, str):
            fr.verification = failed(answer, fr.export_url)
        else:
            fr.verification = read_back(view, answer, url=fr.export_url)
        checked.append((fr, fr.verification))
    return checked


def read_back(view: CeView, actual: Json, *, url: str = "", rules: ExportRules | None = None) -> Verification:
    """The check of the export read after the write, against the file and the prediction."""
    return check(view.ours, actual, view.predicted, view.previous, url=url, rules=rules)


# --- rendering -------------------------------------------------------------------------------

TITLES = {PREDICTION: "CE view (predicted from the plan)", EXPORT: "CE view (read back from CASS)"}


def text_lines(verification: Verification, indent: str = "  ", *, detail: int = 20) -> list[str]:
    """The verification under a framework's line in the plan or the account (escaped)."""
    title = TITLES[verification.source]
    if verification.ok:
        return [one_line(f"{indent}{title}: {verification.summary}")]
    lines = [f"{indent}{title}:"]
    if verification.error:
        lines.append(f"{indent}  ! not verified: {verification.error}")
    if verification.stale:
        lines.append(f"{indent}  ! {STALE_ADVICE} (seen: {'; '.join(verification.stale)})")
    for finding in verification.findings[:detail]:
        mark = "!" if finding.expected else "? unexpected:"
        lines.append(f"{indent}  {mark} {finding.line}")
    if len(verification.findings) > detail:
        lines.append(f"{indent}  ... and {len(verification.findings) - detail} more")
    return [one_line(line) for line in lines]


def markdown_lines(name: str, verification: Verification, *, detail: int = 20) -> list[str]:
    """A ``<details>`` block for the plan's or the account's Markdown (escaped)."""
    title = TITLES[verification.source]
    if verification.ok:
        return [f"- {md_text(name)}: {title}: {md_text(verification.summary)}"]
    count = len(verification.findings)
    head = f"{md_text(name)}: {title}: {count} difference(s)" + (
        ", looks stale" if verification.stale else ""
    )
    lines = ["", f"<details open><summary>{head}</summary>", ""]
    if verification.error:
        lines.append(f"- not verified: {md_text(verification.error)}")
    if verification.stale:
        lines.append(f"- {md_text(STALE_ADVICE)} (seen: {md_text('; '.join(verification.stale))})")
    lines += [
        f"- {'' if f.expected else 'unexpected: '}{md_text(f.line)}" for f in verification.findings[:detail]
    ]
    if count > detail:
        lines.append(f"- ... and {count - detail} more")
    return [*lines, "", "</details>"]
