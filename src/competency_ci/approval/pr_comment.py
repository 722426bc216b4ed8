"""The review comment the action keeps on a pull request (pure: a review in, a comment body out).

One comment per pull request, found again by :data:`MARKER` on its first line and edited in place
on every run, so a reviewer reads the current state in the conversation rather than a stack of
comments. It holds, in this order, what a reviewer needs first:

1. the validation problems (a pull request with errors gets no diff and no plan);
2. the semantic diff, every changed value shown before and after, and where the hierarchy changed a
   Mermaid tree of the changed part (changed competencies, their ancestors up to the framework,
   added, removed and moved ones styled apart), drawn when it has at most :data:`MAX_TREE` nodes;
3. the publish plan as the job summary shows it (or the note that says why there is none).

GitHub refuses a comment over 65,536 characters, so the body is built in blocks and cut at the
last block that fits, with a link to the job summary, which holds everything. Every string from a
file, a file name or a server is escaped where it lands (``report/escape.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from competency_ci.frameworks.csvwrite import ordered
from competency_ci.frameworks.diff import FrameworkDiff, PropertyChange, key, label
from competency_ci.frameworks.model import Competency, Framework, Value
from competency_ci.frameworks.problems import Level, Problem
from competency_ci.report.diff import summary_line
from competency_ci.report.escape import md_cell, md_code, md_link, md_text, mermaid_label

MARKER = "<!-- competency-ci:pull-request-review -->"
LIMIT = 65_536  # GitHub's maximum comment body, in characters
MAX_TREE = 50  # nodes: a larger change reads better in the tables
MAX_PROBLEMS = 200  # rows: the job summary lists them all
CLASSES = (
    "classDef added fill:#dafbe1,stroke:#1a7f37",
    "classDef removed fill:#ffebe9,stroke:#cf222e,stroke-dasharray:4 3",
    "classDef moved fill:#fff8c5,stroke:#9a6700",
    "classDef changed fill:#ddf4ff,stroke:#0969da",
)


@dataclass
class Review:
    """What one review run found, as the action hands it over."""

    title: str  # Markdown, escaped by the caller: "pull request #12"
    problems: list[Problem] = field(default_factory=list)
    problems_headline: str = ""
    diffs: list[FrameworkDiff] | None = None  # None: not computed (validation failed)
    old: list[Framework] = field(default_factory=list)
    new: list[Framework] = field(default_factory=list)
    plan: str = ""  # Markdown, as the job summary shows it ("" when there is none)
    commit: str | None = None
    summary_url: str | None = None


def utf16_length(text: str) -> int:
    """Length as GitHub counts it (at most this: UTF-16 code units are never fewer than characters)."""
    return len(text.encode("utf-16-le")) // 2


def render(review: Review, limit: int = LIMIT) -> str:
    """The comment body: the marker, then the blocks that fit under ``limit``."""
    head = [MARKER, f"## competency-ci review of {review.title}", "", _headline(review), ""]
    blocks = [*_problems(review), *_changes(review), *_plan(review)]
    summary = md_link("job summary", review.summary_url) if review.summary_url else "job summary"
    footer = f"---\nThe full report is in the {summary}."
    cut = (
        f"> [!NOTE]\n> The comment stops here: GitHub takes at most {LIMIT:,} characters. "
        f"The rest is in the {summary}.\n"
    )
    body = "\n".join(head)
    size = utf16_length(body)
    for number, block in enumerate(blocks):
        extra = utf16_length(block) + 1
        last = number == len(blocks) - 1
        reserve = utf16_length(footer) + 2 + (0 if last else utf16_length(cut) + 1)
        if size + extra + reserve > limit:
            return f"{body}\n{cut}\n{footer}\n"
        body += "\n" + block
        size += extra
    return f"{body}\n{footer}\n"


def _headline(review: Review) -> str:
    parts = []
    errors = sum(1 for p in review.problems if p.level is Level.ERROR)
    if errors:
        parts.append(f"**{errors} error{'s' if errors != 1 else ''}**: fix them before merging")
    elif review.problems_headline:
        parts.append(md_text(review.problems_headline))
    if review.diffs is not None:
        parts.append(md_text(summary_line(review.diffs)))
    if review.commit:
        parts.append(f"at commit {md_code(review.commit[:12])}")
    return " · ".join(parts)


# --- validation ---------------------------------------------------------------------------------


def _problems(review: Review) -> list[str]:
    if not review.problems:
        return []
    listed = sorted(review.problems, key=lambda p: (-p.level.rank, p.path, p.line, p.code))
    blocks = ["### Validation\n", "| file | line | level | code | message |\n|---|---:|---|---|---|"]
    for p in listed[:MAX_PROBLEMS]:
        message = md_cell(p.message + (f" Hint: {p.hint}" if p.hint else ""))
        path = md_code(p.path, table=True)
        blocks.append(f"| {path} | {p.line} | {p.level.value} | `{p.code}` | {message} |")
    if len(listed) > MAX_PROBLEMS:
        blocks.append(f"\n… and {len(listed) - MAX_PROBLEMS} more: see the job summary.")
    blocks[-1] += "\n"
    return blocks


# --- the semantic diff --------------------------------------------------------------------------


def _shown(value: Value | None) -> str:
    """A value as a reviewer reads it: the text itself, items separated by `` | ``."""
    if value is None:
        return "*(none)*"
    return md_cell(value if isinstance(value, str) else " | ".join(value)) or "*(empty)*"


def _rows(changes: Iterable[PropertyChange], who: str = "") -> list[str]:
    return [f"| {who}{md_code(c.name, table=True)} | {_shown(c.old)} | {_shown(c.new)} |" for c in changes]


def _changes(review: Review) -> list[str]:
    if review.diffs is None:
        return []
    if not review.diffs:
        return ["### Changes\n\nNo framework changes.\n"]
    old = {key(fw): fw for fw in review.old}
    new = {key(fw): fw for fw in review.new}
    blocks = ["### Changes\n"]
    for d in review.diffs:
        blocks.append(f"#### {md_text(d.name)} ({md_code(d.ctid)}): {d.status}\n")
        if d.status != "changed":
            noun = "competency" if d.competencies == 1 else "competencies"
            blocks.append(f"Framework {d.status} with {d.competencies} {noun}.\n")
            continue
        if d.properties:
            blocks.append("| framework property | before | after |\n|---|---|---|")
            blocks += _rows(d.properties)
            blocks[-1] += "\n"
        tree = hierarchy_tree(d, old.get(d.ctid), new.get(d.ctid))
        if tree:
            blocks.append(tree)
        if d.changed:
            blocks.append("| competency | property | before | after |\n|---|---|---|---|")
            for change in d.changed:
                who = f"{md_cell(change.item.label)} ({md_code(change.item.ctid, table=True)})"
                blocks += [row.replace("| ", f"| {who} | ", 1) for row in _rows(change.changes)]
            blocks[-1] += "\n"
        for title, items in (("Added", d.added), ("Removed", d.removed)):
            if items:
                lines = [f"- {md_text(i.label)} ({md_code(i.ctid)})" for i in items]
                blocks.append(f"**{title}**\n\n" + "\n".join(lines) + "\n")
        if d.moved:
            lines = [
                f"- {md_text(m.new.label)} ({md_code(m.new.ctid)}): {_place(m.old.parent, m.old.position)}"
                f" → {_place(m.new.parent, m.new.position)}"
                for m in d.moved
            ]
            blocks.append("**Moved**\n\n" + "\n".join(lines) + "\n")
    return blocks


def _place(parent: str | None, position: int) -> str:
    return ("top" if parent is None else f"under {md_code(parent)}") + f", #{position}"


# --- the tree -----------------------------------------------------------------------------------


def hierarchy_tree(diff: FrameworkDiff, old: Framework | None, new: Framework | None) -> str | None:
    """A Mermaid tree of the changed part of one framework's hierarchy, or None when it would not
    help (no competency changed, or more than ``MAX_TREE`` nodes)."""
    if old is None or new is None or not (diff.added or diff.removed or diff.moved or diff.changed):
        return None
    marks: dict[str, str] = {}
    for change in diff.changed:
        marks[change.item.ctid] = "changed"
    for move in diff.moved:
        marks[move.new.ctid] = "moved"
    for item in diff.added:
        marks[item.ctid] = "added"
    in_new = {key(c): c for c in new.competencies}
    in_old = {key(c): c for c in old.competencies}
    shown: set[str] = set()
    for k in marks:
        up: Competency | None = in_new.get(k)
        while up is not None and key(up) not in shown:
            shown.add(key(up))
            up = up.parent
    removed: dict[str | None, list[Competency]] = {}  # by the shown node they hang from
    for item in diff.removed:
        comp = in_old.get(item.ctid)
        if comp is None:
            continue
        anchor = comp.parent
        while anchor is not None and key(anchor) not in in_new:
            anchor = anchor.parent
        if anchor is not None:
            up = in_new[key(anchor)]
            while up is not None and key(up) not in shown:
                shown.add(key(up))
                up = up.parent
        removed.setdefault(key(anchor) if anchor is not None else None, []).append(comp)
    count = 1 + len(shown) + sum(len(v) for v in removed.values())
    if count > MAX_TREE:
        return None
    ids: dict[str, str] = {}
    lines = ["```mermaid", "graph TD", f'  fw["{mermaid_label(new.name)}"]']

    def node(comp: Competency, mark: str | None) -> str:
        ident = ids.setdefault(f"{mark == 'removed'}:{key(comp)}", f"n{len(ids) + 1}")
        style = f":::{mark}" if mark else ""
        return f'{ident}["{mermaid_label(label(comp))}"]{style}'

    def hang(parent_id: str, parent_key: str | None) -> None:
        for comp in removed.get(parent_key, []):
            lines.append(f"  {parent_id} -.-> {node(comp, 'removed')}")

    hang("fw", None)
    for comp in ordered(new):  # parents before their children
        if key(comp) not in shown:
            continue
        parent_id = "fw" if comp.parent is None else ids[f"False:{key(comp.parent)}"]
        lines.append(f"  {parent_id} --> {node(comp, marks.get(key(comp)))}")
        hang(ids[f"False:{key(comp)}"], key(comp))
    lines += [f"  {c}" for c in CLASSES] + ["```"]
    legend = "green: added · red, dashed: removed · yellow: moved · blue: changed"
    return "\n".join(lines) + f"\n\n<sub>{legend}</sub>\n"


# --- the plan -----------------------------------------------------------------------------------


def _plan(review: Review) -> list[str]:
    text = review.plan.strip()
    if not text:
        return []
    if not text.startswith("#"):
        text = "### Publish plan\n\n" + text
    return [block + "\n" for block in text.split("\n\n")]
