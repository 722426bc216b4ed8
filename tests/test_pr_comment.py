"""The pull-request review comment: exact bodies (approval/pr_comment.py), the Mermaid label escaper,
the size limit (judged by the GitHub API test server, which refuses bodies GitHub refuses) and the
comment calls of githubapi.py against that server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from competency_ci.approval.pr_comment import LIMIT, MARKER, MAX_TREE, Review, render, utf16_length
from competency_ci.frameworks.build import load_frameworks
from competency_ci.frameworks.config import Config
from competency_ci.frameworks.diff import diff_frameworks
from competency_ci.frameworks.model import Framework
from competency_ci.frameworks.problems import Level, Problem
from competency_ci.githubapi import GitHub, GitHubError
from competency_ci.report.escape import mermaid_label
from servers.github_api import GitHubServer

TOKEN = "ghs_" + "c0mm3nt" * 5
REPOSITORY = "acme/frameworks"
FW = "ce-10000000-0000-4000-8000-000000000000"
HEADER = "@id,@type,ceasn:name,ceasn:inLanguage,ceasn:competencyText,ceasn:isTopChildOf,ceasn:isChildOf"
SUMMARY = "https://github.com/acme/frameworks/actions/runs/7"
FOOTER = f"---\nThe full report is in the [job summary]({SUMMARY}).\n"


def ctid(n: int) -> str:
    return f"ce-{n:08x}-0000-4000-8000-000000000000"


def frameworks(tmp: Path, name: str, rows: list[tuple[int, str, int | None]]) -> list[Framework]:
    """(number, text, parent number or None) rows under FW."""
    lines = [HEADER, f"{FW},ceasn:CompetencyFramework,History,en,,,"]
    for n, text, parent in rows:
        top, up = (FW, "") if parent is None else ("", ctid(parent))
        lines.append(f"{ctid(n)},ceasn:Competency,,,{text},{top},{up}")
    path = tmp / name
    (tmp / ".git").mkdir(exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return load_frameworks(path, Config(root=tmp, rules={"missing-column": Level.WARNING}))


def review(old: list[Framework], new: list[Framework], **extra: object) -> Review:
    base = Review("pull request #3", diffs=diff_frameworks(old, new), old=old, new=new, summary_url=SUMMARY)
    for name, value in extra.items():
        setattr(base, name, value)
    return base


def test_mermaid_labels_cannot_break_out() -> None:
    assert mermaid_label('a"] --> x[evil') == "a#34;#93; --#62; x#91;evil"
    assert mermaid_label("line\nbreak\u2028%%{init}%%:::c `x`") == (
        "line break #37;#37;#123;init#125;#37;#37;#58;#58;#58;c #96;x#96;"
    )
    assert mermaid_label("<img src=x onerror=alert(1)>", width=80) == (
        "#60;img src#61;x onerror#61;alert#40;1#41;#62;"
    )
    assert mermaid_label("Café\u202edéjà #1") == "Café#8238;déjà #35;1"
    assert mermaid_label("x" * 70) == "x" * 59 + "#8230;"


def test_removed_and_moved_competencies_in_the_tree(tmp_path: Path) -> None:
    old = frameworks(
        tmp_path, "old.csv", [(1, "Alpha", None), (2, "Bravo", 1), (3, "Charlie", 2), (4, "Delta", None)]
    )
    new = frameworks(tmp_path, "new.csv", [(1, "Alpha", None), (4, "Delta", None), (3, "Charlie", 4)])
    body = render(review(old, new))
    assert body == (
        f"{MARKER}\n## competency-ci review of pull request #3\n\n"
        "1 framework with changes (competencies: 1 removed, 1 moved)\n\n"
        f"### Changes\n\n#### History (`{FW}`): changed\n\n"
        "```mermaid\ngraph TD\n"
        '  fw["History"]\n'
        '  fw --> n1["Alpha"]\n'
        '  n1 -.-> n2["Bravo"]:::removed\n'
        '  fw --> n3["Delta"]\n'
        '  n3 --> n4["Charlie"]:::moved\n'
        "  classDef added fill:#dafbe1,stroke:#1a7f37\n"
        "  classDef removed fill:#ffebe9,stroke:#cf222e,stroke-dasharray:4 3\n"
        "  classDef moved fill:#fff8c5,stroke:#9a6700\n"
        "  classDef changed fill:#ddf4ff,stroke:#0969da\n"
        "```\n\n<sub>green: added · red, dashed: removed · yellow: moved · blue: changed</sub>\n\n"
        f"**Removed**\n\n- Bravo (`{ctid(2)}`)\n\n"
        f"**Moved**\n\n- Charlie (`{ctid(3)}`): under `{ctid(2)}`, #1 → under `{ctid(4)}`, #1\n\n"
        f"{FOOTER}"
    )


def test_problems_come_first_and_are_escaped(tmp_path: Path) -> None:
    problem = Problem(
        path="frameworks/a|b.csv",
        line=4,
        level=Level.ERROR,
        code="unknown-type",
        message='Unknown `@type`: "<script>" @bob',
        hint="Use exactly `ceasn:Competency`.",
    )
    body = render(
        Review("pull request #3", problems=[problem], problems_headline="1 error", summary_url=None)
    )
    assert body == (
        f"{MARKER}\n## competency-ci review of pull request #3\n\n"
        "**1 error**: fix them before merging\n\n"
        "### Validation\n\n"
        "| file | line | level | code | message |\n|---|---:|---|---|---|\n"
        '| `frameworks/a\\|b.csv` | 4 | error | `unknown-type` | Unknown \\`@\u200btype\\`: "&lt;script&gt;" '
        "@\u200bbob Hint: Use exactly \\`ceasn:Competency\\`. |\n\n"
        "---\nThe full report is in the job summary.\n"
    )


def test_a_large_change_has_no_tree_and_stays_under_the_limit(tmp_path: Path) -> None:
    rows = [(n, f"Competency {n} " + "long text " * 20, None) for n in range(1, 1201)]
    old = frameworks(tmp_path, "old.csv", rows)
    new = frameworks(tmp_path, "new.csv", [(n, text + "(revised)", p) for n, text, p in rows])
    body = render(review(old, new))
    assert "```mermaid" not in body  # 1,200 changed competencies: more than MAX_TREE nodes
    assert MAX_TREE < 1200
    assert utf16_length(body) <= LIMIT
    assert body.endswith(
        "> [!NOTE]\n> The comment stops here: GitHub takes at most 65,536 characters. The rest is in the "
        f"[job summary]({SUMMARY}).\n\n{FOOTER}"
    )
    rows_shown = body.count("| `ceasn:competencyText` |")
    assert 0 < rows_shown < 1200
    whole = render(review(old, new), limit=10**9)
    assert utf16_length(whole) > LIMIT and whole.count("| `ceasn:competencyText` |") == 1200
    with GitHubServer(TOKEN, REPOSITORY) as server:  # GitHub takes the cut body and refuses the whole
        server.add_issue("pr", "", [], pull_request=True, number=3)
        github = GitHub(TOKEN, REPOSITORY, server.url)
        github.create_comment(3, body)
        with pytest.raises(GitHubError, match="HTTP 422 Validation Failed"):
            github.create_comment(3, whole)


@pytest.fixture
def server() -> Iterator[GitHubServer]:
    with GitHubServer(TOKEN, REPOSITORY) as github:
        github.add_issue("a pull request", "", [], pull_request=True, number=7)
        yield github


def test_comments_are_listed_with_their_author_created_and_edited(server: GitHubServer) -> None:
    person = server.add_comment(7, "hello")
    github = GitHub(TOKEN, REPOSITORY, server.url)
    made = github.create_comment(7, "first")
    assert (made.author, made.author_type) == ("github-actions[bot]", "Bot")
    edited = github.update_comment(made.id, "second")
    assert (edited.id, edited.body) == (made.id, "second")
    assert [(c.id, c.body, c.author, c.author_type) for c in github.list_comments(7)] == [
        (person, "hello", "mallory", "User"),
        (made.id, "second", "github-actions[bot]", "Bot"),
    ]
    assert [(r.method, r.route, r.body) for r in server.requests] == [
        ("POST", f"/repos/{REPOSITORY}/issues/7/comments", {"body": "first"}),
        ("PATCH", f"/repos/{REPOSITORY}/issues/comments/{made.id}", {"body": "second"}),
        ("GET", f"/repos/{REPOSITORY}/issues/7/comments", None),
    ]
    with pytest.raises(GitHubError, match="HTTP 403 Resource not accessible by integration"):
        github.update_comment(person, "taken over")
