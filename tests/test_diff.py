"""`competency-ci diff` on hand-made revisions: every kind of change, and what is no change."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from competency_ci.frameworks.build import load_frameworks
from competency_ci.frameworks.config import Config
from competency_ci.frameworks.diff import _longest_increasing, diff_frameworks
from competency_ci.report.diff import markdown

COLUMNS = [
    "@id",
    "@type",
    "ceasn:name",
    "ceasn:description",
    "ceasn:inLanguage",
    "ceasn:publisher",
    "ceasn:publisherName",
    "ceasn:dateCreated",
    "ceasn:conceptKeyword",
    "ceasn:codedNotation",
    "ceasn:competencyText",
    "ceasn:comment",
    "ceasn:isTopChildOf",
    "ceasn:isChildOf",
]
F = "ce-f0000000-0000-4000-8000-000000000000"
F2 = "ce-f2000000-0000-4000-8000-000000000000"
ORG = "ce-99999999-9999-4999-8999-999999999999"


def ctid(n: int) -> str:
    return f"ce-c0000000-0000-4000-8000-{n:012d}"


T1, A1, A2, A3, G, T2, B1, N = (ctid(i) for i in range(1, 9))


def fw_row(id_: str = F, name: str = "Data", **extra: str) -> dict[str, str]:
    row = {
        "@id": id_,
        "@type": "ceasn:CompetencyFramework",
        "ceasn:name": name,
        "ceasn:description": "What to do with data",
        "ceasn:inLanguage": "en-US",
        "ceasn:publisher": ORG,
        "ceasn:publisherName": "Lakeside",
        "ceasn:dateCreated": "2025-01-01",
    }
    return row | extra


def comp(id_: str, code: str, text: str, parent: str, **extra: str) -> dict[str, str]:
    link = "ceasn:isTopChildOf" if parent.startswith("ce-f") else "ceasn:isChildOf"  # F, F2, ...
    row = {"@id": id_, "@type": "ceasn:Competency", "ceasn:codedNotation": code, "ceasn:competencyText": text}
    return row | {link: parent} | extra


def base_rows() -> list[dict[str, str]]:
    return [
        fw_row(),
        comp(T1, "1", "Alpha", F),
        comp(A1, "1.1", "Find data", T1),
        comp(G, "1.1.1", "Read the codebook", A1),
        comp(A2, "1.2", "Judge data", T1),
        comp(A3, "1.3", "Clean data", T1),
        comp(T2, "2", "Beta", F),
        comp(B1, "2.1", "Summarize data", T2),
    ]


def write(
    path: Path, rows: list[dict[str, str]], *, quoting: int = csv.QUOTE_MINIMAL, newline: str = "\n"
) -> Path:
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS, quoting=quoting, lineterminator=newline)
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes(out.getvalue().encode("utf-8"))
    return path


def changed_rows() -> list[dict[str, str]]:
    """Every kind of change at once."""
    return [
        fw_row(name="Data Skills", **{"ceasn:conceptKeyword": "data|skills"}),
        comp(T1, "1", "Alpha", F),
        comp(A3, "1.3", "Clean data", T1),  # moved before its siblings
        comp(A1, "1.1", "Find data", T1),
        comp(A2, "1.2", "Judge data sets", T1, **{"ceasn:comment": "Hard"}),  # changed
        comp(N, "1.4", "Share data", T1),  # added
        comp(T2, "2", "Beta", F),
        comp(G, "1.1.1", "Read the codebook", T2),  # new parent
        # B1 removed
    ]


EXPECTED_TEXT = f"""\
framework {F} "Data Skills": changed
  file: {{new}} (was {{old}})
  ceasn:name: "Data" -> "Data Skills"
  ceasn:conceptKeyword: (none) -> ["data", "skills"]
  + {N} 1.4 Share data (under {T1}, position 4)
  - {B1} 2.1 Summarize data
  ~ {A2} 1.2 Judge data sets: ceasn:competencyText, ceasn:comment
      ceasn:competencyText: "Judge data" -> "Judge data sets"
      ceasn:comment: (none) -> ["Hard"]
  > {A3} 1.3 Clean data: under {T1}, position 3 -> under {T1}, position 1
  > {G} 1.1.1 Read the codebook: under {A1}, position 1 -> under {T2}, position 1
""" + (
    "1 framework with changes "
    "(2 framework properties changed; competencies: 1 added, 1 removed, 1 changed, 2 moved)\n"
)


def test_every_kind_of_change(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    old = write(tmp_path / "old.csv", base_rows())
    new = write(tmp_path / "new.csv", changed_rows())
    code, out, err = run_cli("diff", str(old), str(new))
    assert (code, err) == (0, "")
    assert out == EXPECTED_TEXT.format(old=old, new=new)
    code, out, _ = run_cli("diff", "--exit-code", str(old), str(new))
    assert (code, out) == (1, EXPECTED_TEXT.format(old=old, new=new))


def test_json_format(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    old = write(tmp_path / "old.csv", base_rows())
    new = write(tmp_path / "new.csv", changed_rows())
    code, out, _ = run_cli("diff", "--format", "json", str(old), str(new))
    assert code == 0
    document = json.loads(out)
    assert document["version"] == 1
    assert document["summary"] == {
        "frameworks": 1,
        "added": 1,
        "removed": 1,
        "changed": 1,
        "moved": 2,
        "properties": 2,
    }
    (fw,) = document["frameworks"]
    assert (fw["ctid"], fw["name"], fw["status"], fw["old_path"], fw["new_path"], fw["competencies"]) == (
        F,
        "Data Skills",
        "changed",
        str(old),
        str(new),
        7,
    )
    assert fw["properties"] == [
        {"name": "ceasn:name", "old": "Data", "new": "Data Skills"},
        {"name": "ceasn:conceptKeyword", "old": None, "new": ["data", "skills"]},
    ]
    assert fw["added"] == [{"ctid": N, "label": "1.4 Share data", "parent": T1, "position": 4}]
    assert fw["removed"] == [{"ctid": B1, "label": "2.1 Summarize data", "parent": T2, "position": 1}]
    assert fw["changed"] == [
        {
            "ctid": A2,
            "label": "1.2 Judge data sets",
            "parent": T1,
            "position": 3,
            "properties": [
                {"name": "ceasn:competencyText", "old": "Judge data", "new": "Judge data sets"},
                {"name": "ceasn:comment", "old": None, "new": ["Hard"]},
            ],
        }
    ]
    assert fw["moved"] == [
        {
            "ctid": A3,
            "label": "1.3 Clean data",
            "old": {"parent": T1, "position": 3},
            "new": {"parent": T1, "position": 1},
        },
        {
            "ctid": G,
            "label": "1.1.1 Read the codebook",
            "old": {"parent": A1, "position": 1},
            "new": {"parent": T2, "position": 1},
        },
    ]


def test_markdown_format(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    old = write(tmp_path / "old.csv", base_rows())
    new = write(tmp_path / "new.csv", changed_rows())
    code, out, _ = run_cli("diff", "--format", "markdown", str(old), str(new))
    assert code == 0
    assert out == "\n".join(
        [
            "## Competency framework changes",
            "",
            "| frameworks | properties changed | competencies added | removed | changed | moved |",
            "|---:|---:|---:|---:|---:|---:|",
            "| 1 | 2 | 1 | 1 | 1 | 2 |",
            "",
            f"### Data Skills (`{F}`): changed",
            "",
            f"File: `{new}`",
            "",
            "| properties | added | removed | changed | moved |",
            "|---:|---:|---:|---:|---:|",
            "| 2 | 1 | 1 | 1 | 2 |",
            "",
            "**2 framework properties changed**",
            "",
            "| property | old | new |",
            "|---|---|---|",
            '| `ceasn:name` | "Data" | "Data Skills" |',
            '| `ceasn:conceptKeyword` | (none) | ["data", "skills"] |',
            "",
            "**1 added**",
            "",
            "| competency | CTID | where |",
            "|---|---|---|",
            f"| 1.4 Share data | `{N}` | under `{T1}`, #4 |",
            "",
            "**1 removed**",
            "",
            "| competency | CTID |",
            "|---|---|",
            f"| 2.1 Summarize data | `{B1}` |",
            "",
            "**1 changed**",
            "",
            "| competency | CTID | properties |",
            "|---|---|---|",
            f"| 1.2 Judge data sets | `{A2}` | `ceasn:competencyText`, `ceasn:comment` |",
            "",
            "**2 moved**",
            "",
            "| competency | CTID | from | to |",
            "|---|---|---|---|",
            f"| 1.3 Clean data | `{A3}` | under `{T1}`, #3 | under `{T1}`, #1 |",
            f"| 1.1.1 Read the codebook | `{G}` | under `{A1}`, #1 | under `{T2}`, #1 |",
            "",
        ]
    )


def test_reordering_requoting_and_crlf_are_no_change(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    old = write(tmp_path / "old.csv", base_rows())
    rows = base_rows()
    # breadth-first instead of depth-first: every parent still precedes its children, and
    # siblings keep their order
    reordered = [rows[0], rows[1], rows[6], rows[2], rows[4], rows[5], rows[7], rows[3]]
    for row in reordered[1:]:
        row["ceasn:competencyText"] = f"  {row['ceasn:competencyText']} "  # cell spacing is trimmed
    new = write(tmp_path / "new.csv", reordered, quoting=csv.QUOTE_ALL, newline="\r\n")
    assert new.read_bytes().startswith(b'"@id","@type"') and b"\r\n" in new.read_bytes()
    for args in ([], ["--exit-code"]):
        code, out, err = run_cli("diff", *args, str(old), str(new))
        assert (code, out, err) == (0, "no changes\n", "")
    code, out, _ = run_cli("diff", "--format", "markdown", str(old), str(new))
    assert out == "## Competency framework changes\n\nNo framework changes.\n"
    code, out, _ = run_cli("diff", "--format", "json", str(old), str(new))
    assert json.loads(out) == {
        "version": 1,
        "summary": {"frameworks": 0, "added": 0, "removed": 0, "changed": 0, "moved": 0, "properties": 0},
        "frameworks": [],
    }


def test_inserting_or_removing_a_sibling_moves_no_other(tmp_path: Path) -> None:
    rows = base_rows()
    inserted = [*rows[:2], comp(N, "1.0", "First", T1), *rows[2:]]
    old = load_frameworks(write(tmp_path / "old.csv", rows), Config(root=tmp_path))
    new = load_frameworks(write(tmp_path / "new.csv", inserted), Config(root=tmp_path))
    (d,) = diff_frameworks(old, new)
    assert ([i.ctid for i in d.added], d.moved, d.changed, d.removed) == ([N], [], [], [])
    (d,) = diff_frameworks(new, old)
    assert ([i.ctid for i in d.removed], d.moved, d.added) == ([N], [], [])


def test_frameworks_added_and_removed(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    old = write(tmp_path / "old.csv", base_rows())
    second = [fw_row(F2, "Second"), comp(N, "9", "Ninth", F2)]
    new = write(tmp_path / "new.csv", second)
    code, out, _ = run_cli("diff", str(old), str(new))
    assert code == 0
    assert out == (
        f'framework {F2} "Second": added\n'
        f"  file: {new}\n"
        '  ceasn:name: (none) -> "Second"\n'
        '  ceasn:description: (none) -> "What to do with data"\n'
        '  ceasn:inLanguage: (none) -> ["en-US"]\n'
        f'  ceasn:publisher: (none) -> ["{ORG}"]\n'
        '  ceasn:publisherName: (none) -> ["Lakeside"]\n'
        '  ceasn:dateCreated: (none) -> "2025-01-01"\n'
        "  framework added with 1 competency\n"
        f'framework {F} "Data": removed\n'
        f"  file: {old}\n"
        '  ceasn:name: "Data" -> (none)\n'
        '  ceasn:description: "What to do with data" -> (none)\n'
        '  ceasn:inLanguage: ["en-US"] -> (none)\n'
        f'  ceasn:publisher: ["{ORG}"] -> (none)\n'
        '  ceasn:publisherName: ["Lakeside"] -> (none)\n'
        '  ceasn:dateCreated: "2025-01-01" -> (none)\n'
        "  framework removed with 7 competencies\n"
        "2 frameworks with changes (12 framework properties changed; competencies: 1 added, 7 removed)\n"
    )


def test_long_lists_fold_in_markdown(tmp_path: Path) -> None:
    rows = base_rows()
    many = rows + [comp(ctid(100 + i), f"3.{i}", f"Extra {i}", T2) for i in range(11)]
    old = load_frameworks(write(tmp_path / "old.csv", rows), Config(root=tmp_path))
    new = load_frameworks(write(tmp_path / "new.csv", many), Config(root=tmp_path))
    text = markdown(diff_frameworks(old, new))
    assert "<details>\n<summary>11 added</summary>\n\n| competency | CTID | where |\n" in text
    assert text.count("| 3.") == 11 and "</details>" in text


def test_labels_escape_markdown(tmp_path: Path) -> None:
    old = load_frameworks(write(tmp_path / "old.csv", base_rows()), Config(root=tmp_path))
    new = load_frameworks(tmp_path / "old.csv", Config(root=tmp_path))
    new[0].competencies[-1].properties["ceasn:competencyText"] = "Summarize data | pipes\\here"  # from JSON
    text = markdown(diff_frameworks(old, new))
    assert f"| 2.1 Summarize data \\| pipes\\\\here | `{B1}` | `ceasn:competencyText` |" in text


def test_unusable_and_invalid_input(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    old = write(tmp_path / "old.csv", base_rows())
    code, out, err = run_cli("diff", str(old))
    usage = "competency-ci diff: give two files (OLD NEW), or --git BASE [HEAD] [PATH ...]\n"
    assert (code, out, err) == (2, "", usage)
    missing = tmp_path / "missing.csv"
    code, out, err = run_cli("diff", str(old), str(missing))
    message = f"competency-ci diff: cannot read {missing}: No such file or directory\n"
    assert (code, out, err) == (2, "", message)
    bad = write(tmp_path / "bad.csv", [*base_rows(), comp(N, "5", "Orphan", ctid(999))])
    code, out, err = run_cli("diff", str(old), str(bad))
    assert (code, out) == (1, "")
    lines = err.splitlines()
    assert lines[0].startswith(f"{bad}:10: ") and "[dangling-reference]" in lines[0]
    assert lines[-1] == f"competency-ci diff: {bad} has errors; fix them first (competency-ci validate)"


def test_longest_increasing() -> None:
    assert _longest_increasing([]) == set()
    assert _longest_increasing([3, 1, 2]) == {1, 2}
    assert _longest_increasing([1, 2, 3]) == {0, 1, 2}
    assert len(_longest_increasing([5, 1, 6, 2, 7, 3, 8])) == 4
