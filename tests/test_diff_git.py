"""`competency-ci diff --git`: framework files between revisions of a real temporary repository."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from competency_ci.gitfiles import (
    ADDED,
    DELETED,
    MODIFIED,
    RENAMED,
    FileChange,
    changed_files,
    parse_name_status,
)
from test_diff import F2, F, base_rows, comp, ctid, fw_row, write

F3 = "ce-f3000000-0000-4000-8000-000000000000"
F4 = "ce-f4000000-0000-4000-8000-000000000000"


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        [
            "git",
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.org",
            "-c",
            "commit.gpgsign=false",
            *args,
        ],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def small(fw: str, name: str, first: int) -> list[dict[str, str]]:
    return [
        fw_row(fw, name),
        *(comp(ctid(first + i), str(i + 1), f"{name} competency number {i + 1}", fw) for i in range(4)),
    ]


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two commits: a.csv modified, b.csv renamed (and edited), c.csv deleted, d.csv added."""
    root = tmp_path / "repo"
    (root / "frameworks").mkdir(parents=True)
    git(root, "init", "-q")
    write(root / "frameworks" / "a.csv", base_rows())
    write(root / "frameworks" / "b.csv", small(F2, "Bravo", 100))
    write(root / "frameworks" / "c.csv", small(F3, "Charlie", 200))
    (root / "README.txt").write_text("not a framework\n", encoding="utf-8")
    git(root, "add", ".")
    git(root, "commit", "-qm", "base")
    rows = base_rows()
    rows[1]["ceasn:competencyText"] = "Alpha, revised"
    write(root / "frameworks" / "a.csv", rows)
    git(root, "mv", "frameworks/b.csv", "frameworks/bravo.csv")
    bravo = small(F2, "Bravo", 100)
    bravo[2]["ceasn:competencyText"] = "Bravo competency number 2, revised"
    write(root / "frameworks" / "bravo.csv", bravo)
    git(root, "rm", "-q", "frameworks/c.csv")
    write(root / "frameworks" / "d.csv", small(F4, "Delta", 300))
    (root / "README.txt").write_text("still not a framework\n", encoding="utf-8")
    git(root, "add", ".")
    git(root, "commit", "-qm", "head")
    monkeypatch.chdir(root)
    return root


def test_changed_files_follow_renames(repo: Path) -> None:
    changes = changed_files("HEAD~1", "HEAD", [], repo)
    assert changes == [
        FileChange(MODIFIED, "frameworks/a.csv", "frameworks/a.csv"),
        FileChange(RENAMED, "frameworks/b.csv", "frameworks/bravo.csv"),
        FileChange(DELETED, "frameworks/c.csv", None),
        FileChange(ADDED, None, "frameworks/d.csv"),
    ]


def test_diff_between_revisions(run_cli, repo: Path) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli("diff", "--git", "HEAD~1")
    assert (code, err) == (0, "")
    assert out == (
        f'framework {F} "Data": changed\n'
        "  file: frameworks/a.csv\n"
        f"  ~ {ctid(1)} 1 Alpha, revised: ceasn:competencyText\n"
        '      ceasn:competencyText: "Alpha" -> "Alpha, revised"\n'
        f'framework {F2} "Bravo": changed\n'
        "  file: frameworks/bravo.csv (was frameworks/b.csv)\n"
        f"  ~ {ctid(101)} 2 Bravo competency number 2, revised: ceasn:competencyText\n"
        '      ceasn:competencyText: "Bravo competency number 2" -> "Bravo competency number 2, revised"\n'
        f'framework {F4} "Delta": added\n'
        "  file: frameworks/d.csv\n"
        '  ceasn:name: (none) -> "Delta"\n'
        '  ceasn:description: (none) -> "What to do with data"\n'
        '  ceasn:inLanguage: (none) -> ["en-US"]\n'
        '  ceasn:publisher: (none) -> ["ce-99999999-9999-4999-8999-999999999999"]\n'
        '  ceasn:publisherName: (none) -> ["Lakeside"]\n'
        '  ceasn:dateCreated: (none) -> "2025-01-01"\n'
        "  framework added with 4 competencies\n"
        f'framework {F3} "Charlie": removed\n'
        "  file: frameworks/c.csv\n"
        '  ceasn:name: "Charlie" -> (none)\n'
        '  ceasn:description: "What to do with data" -> (none)\n'
        '  ceasn:inLanguage: ["en-US"] -> (none)\n'
        '  ceasn:publisher: ["ce-99999999-9999-4999-8999-999999999999"] -> (none)\n'
        '  ceasn:publisherName: ["Lakeside"] -> (none)\n'
        '  ceasn:dateCreated: "2025-01-01" -> (none)\n'
        "  framework removed with 4 competencies\n"
        "4 frameworks with changes (12 framework properties changed; competencies: 4 added, 4 removed, "
        "2 changed)\n"
    )
    same_code, same_out, _ = run_cli("diff", "--git", "HEAD~1", "HEAD")
    assert (same_code, same_out) == (code, out)


def test_paths_limit_the_files(run_cli, repo: Path) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run_cli("diff", "--git", "HEAD~1", "HEAD", "frameworks/a.csv", "--exit-code")
    assert code == 1
    assert out.splitlines()[0] == f'framework {F} "Data": changed'
    assert out.splitlines()[-1] == "1 framework with changes (competencies: 1 changed)"
    code, out, _ = run_cli("diff", "--git", "HEAD~1", "frameworks/c.csv")  # HEAD left out
    assert out.splitlines()[0] == f'framework {F3} "Charlie": removed'
    code, out, _ = run_cli("diff", "--git", "HEAD", "--exit-code")
    assert (code, out) == (0, "no changes\n")


def test_configured_paths_and_exclude(run_cli, repo: Path) -> None:  # type: ignore[no-untyped-def]
    (repo / ".competency-ci.yaml").write_text(
        "paths: ['frameworks/*.csv']\nexclude: ['frameworks/d.csv', 'frameworks/c.csv']\n", encoding="utf-8"
    )
    code, out, _ = run_cli("diff", "--git", "HEAD~1")
    assert code == 0
    assert [line for line in out.splitlines() if line.startswith("framework ")] == [
        f'framework {F} "Data": changed',
        f'framework {F2} "Bravo": changed',
    ]


def test_git_failures(run_cli, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli("diff", "--git", "no-such-rev")
    assert (code, out, err) == (2, "", "competency-ci diff: git: unknown revision 'no-such-rev'\n")
    rows = base_rows()
    rows[2]["ceasn:isChildOf"] = ctid(999)
    write(repo / "frameworks" / "a.csv", rows)
    git(repo, "commit", "-qam", "broken")
    code, out, err = run_cli("diff", "--git", "HEAD~1")
    assert (code, out) == (1, "")
    assert "[dangling-reference]" in err.splitlines()[0]
    assert err.splitlines()[-1] == (
        "competency-ci diff: frameworks/a.csv at HEAD has errors; fix them first (competency-ci validate)"
    )
    outside = tmp_path / "plain"
    outside.mkdir()
    monkeypatch.chdir(outside)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    code, out, err = run_cli("diff", "--git", "HEAD")
    assert (code, out) == (2, "")
    assert err.startswith("competency-ci diff: git: fatal: not a git repository")


def test_parse_name_status() -> None:
    output = b"M\0a.csv\0R087\0old name.csv\0new name.csv\0A\0b.csv\0D\0c.csv\0C100\0d.csv\0e.csv\0T\0f.csv\0"
    assert parse_name_status(output) == [
        FileChange(MODIFIED, "a.csv", "a.csv"),
        FileChange(RENAMED, "old name.csv", "new name.csv"),
        FileChange(ADDED, None, "b.csv"),
        FileChange(DELETED, "c.csv", None),
        FileChange(ADDED, None, "e.csv"),
        FileChange(MODIFIED, "f.csv", "f.csv"),
    ]
    assert parse_name_status(b"") == []
