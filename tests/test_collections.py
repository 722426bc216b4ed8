"""Collection files (``ceterms:Collection`` rows, CASS's collection import): template, validate,
fix, convert both ways and diff, with exact outcomes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from competency_ci.frameworks.config import load_config
from competency_ci.frameworks.problems import Problem
from competency_ci.frameworks.validate import validate_paths
from validate_support import C1, C2, C3, FW, GOOD

COL = "ce-7c1f3f4e-2d7b-4a39-9a55-0b8f2b6e1d10"
COL2 = "ce-8d2a4b6c-1e3f-4a5b-9c7d-2e4f6a8b0c12"
HEADER = "@id,@type,ceterms:ctid,ceterms:name,ceterms:description,ceterms:inLanguage,ceterms:hasMember"
#          A   B     C            D            E                   F                  G
COLLECTION = f"{HEADER}\n{COL},ceterms:Collection,,Hand care,What every volunteer does first.,en,{C1}|{C2}\n"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository with one framework file (GOOD: a framework FW with competencies C1..C3)."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "kitchen.csv").write_text(GOOD, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def problems_of(repo: Path, text: str, name: str = "collection.csv") -> set[tuple[str, int, str | None]]:
    (repo / name).write_text(text, encoding="utf-8")
    result = validate_paths([name], load_config(None))
    return {_key(p) for p in result.problems}


def _key(p: Problem) -> tuple[str, int, str | None]:
    return p.code, p.line, p.cell


def test_a_collection_of_repository_competencies_is_clean(repo: Path) -> None:
    assert problems_of(repo, COLLECTION) == set()


def test_the_bulk_acceptor_declines_collection_files(repo: Path) -> None:
    from competency_ci.frameworks.checks import bulk
    from competency_ci.schema import load_schema

    assert bulk.settle("collection.csv", COLLECTION.encode(), load_schema()) is None
    assert bulk.settle("kitchen.csv", GOOD.encode(), load_schema()) is not None


def test_members_must_be_competencies_of_the_repository_or_registry_uris(repo: Path) -> None:
    unknown = "ce-00000000-0000-4000-8000-000000000000"
    sandbox = f"https://sandbox.credentialengineregistry.org/resources/{unknown}"
    production = f"https://credentialengineregistry.org/resources/{C3}"
    members = f"{C1}|{unknown}|{FW}|https://example.org/c/9|{sandbox}|{production}|ce-{C1[3:].upper()}"
    text = f"{HEADER}\n{COL},ceterms:Collection,,Hand care,What every volunteer does first.,en,{members}\n"
    assert problems_of(repo, text) == {
        ("unresolved-member", 2, "G2"),  # a CTID in no framework file, and a URL that is no row's @id
        ("member-not-competency", 2, "G2"),  # the framework itself
        ("wrong-registry", 2, "G2"),  # a production URI while the repository publishes to sandbox
        ("duplicate-member", 2, "G2"),  # C1 again (CTIDs compare lower-cased)
    }
    (repo / "collection.csv").write_text(text, encoding="utf-8")
    messages = [p.message for p in validate_paths(["collection.csv"], load_config(None)).problems]
    assert f'"{unknown}" is in no framework file of this repository' in " ".join(messages)
    assert '"https://example.org/c/9" is in no framework file of this repository' in " ".join(messages)
    assert f'"{FW}" is a framework (kitchen.csv:2)' in " ".join(messages)


def test_a_member_may_be_a_competency_row_url_id(repo: Path) -> None:
    url = "https://example.org/kitchen/c1"
    (repo / "kitchen.csv").write_text(GOOD.replace(f"{C1},", f"{url},", 1).replace(f",{C1}\n", f",{url}\n"))
    framework = validate_paths(["kitchen.csv"], load_config(None)).problems
    assert {p.code for p in framework} == {"missing-ctid"}  # the URL row still needs a CTID to publish
    text = COLLECTION.replace(f"{C1}|{C2}", f"{url}|{C2}")
    assert problems_of(repo, text) == set()


def test_collection_rows_need_a_name_and_members(repo: Path) -> None:
    text = f"{HEADER}\n{COL},ceterms:Collection,,,,en,\n"
    assert problems_of(repo, text) == {
        ("required-missing", 2, "D2"),
        ("required-missing", 2, "G2"),
        ("required-if-available-missing", 2, "E2"),
    }


def test_collection_and_framework_rows_never_share_a_file(repo: Path) -> None:
    """CASS imports a file with a framework row as frameworks: the collection row is the odd one."""
    mixed = GOOD.rstrip("\n").split("\n")
    mixed.append(f"{COL},ceterms:Collection,,,,,,,,,")
    found = problems_of(repo, "\n".join(mixed) + "\n", "mixed.csv")
    assert ("collection-mixed", 6, "B6") in found
    assert not {code for code, _, _ in found} & {"unknown-type", "unresolved-member"}


def test_a_competency_row_in_a_collection_file_is_refused(repo: Path) -> None:
    text = COLLECTION + f"{COL2},ceasn:Competency,,,,,\n"
    assert ("collection-competency-row", 3, "B3") in problems_of(repo, text)


def test_framework_files_validate_as_before(repo: Path) -> None:
    (repo / "collection.csv").write_text(COLLECTION, encoding="utf-8")
    result = validate_paths([], load_config(None))
    assert result.problems == []
    assert sorted(result.files) == ["collection.csv", "kitchen.csv"]


# --- template -----------------------------------------------------------------------------------


def test_template_collection(run_cli) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("template", "--collection") == (
        0,
        "@id,@type,ceterms:ctid,ceterms:name,ceterms:description,ceterms:hasMember\n",
        "",
    )
    _, out, _ = run_cli("template", "--collection", "--tier", "all", "--with-sample")
    header, sample = out.splitlines()
    assert header == (
        "@id,@type,ceterms:ctid,ceterms:name,ceterms:description,ceterms:inLanguage,ceterms:keyword,"
        "ceterms:hasMember"
    )
    assert sample.split(",")[1] == "sample: ceterms:Collection"
    # framework templates hold no collection column
    _, out, _ = run_cli("template", "--tier", "all")
    assert "ceterms:hasMember" not in out and "ceterms:name" not in out.split("\n")[0].split(",")


def test_a_filled_collection_template_validates(repo: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    _, out, _ = run_cli("template", "--collection")
    row = f"{COL},ceterms:Collection,{COL},Hand care,What every volunteer does first.,{C1}|{C3}"
    (repo / "filled.csv").write_text(out + row + "\n", encoding="utf-8")
    code, out, err = run_cli("validate", "filled.csv")
    assert (code, err) == (0, ""), out


# --- fix ----------------------------------------------------------------------------------------


def test_fix_mints_ctids_and_strips_template_rows(repo: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    text = (
        f"{HEADER}\n"
        "x,sample: ceterms:Collection,,Name,Text,en,x\n"
        f"coll1,ceterms:Collection,,Hand care,What every volunteer does first.,en,{C1}\n"
        f"https://example.org/coll/2,ceterms:Collection,,Drying,Then this.,en,{C2}\n"
    )
    (repo / "fixme.csv").write_text(text, encoding="utf-8")
    _, out, err = run_cli("fix", "fixme.csv")
    err = out + err
    assert "replaced 1 temporary key, minted 1 CTID for a row whose @id is a URL" in err
    assert "removed 1 template row" in err
    lines = (repo / "fixme.csv").read_text("utf-8").splitlines()
    assert len(lines) == 3
    minted = lines[1].split(",")[0]
    assert minted.startswith("ce-") and lines[1].split(",")[2] == minted
    assert lines[1].endswith(f",{C1}")
    url_row = lines[2].split(",")
    assert url_row[0] == "https://example.org/coll/2" and url_row[2].startswith("ce-")
    assert run_cli("validate", "fixme.csv")[0] == 0


# --- convert --------------------------------------------------------------------------------------

SANDBOX = "https://sandbox.credentialengineregistry.org"


def test_convert_writes_the_collection_graph(repo: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    (repo / "collection.csv").write_text(COLLECTION, encoding="utf-8")
    code, out, err = run_cli("convert", "collection.csv")
    assert (code, err) == (0, "")
    assert json.loads(out) == {
        "@context": "https://credreg.net/ctdl/schema/context/json",
        "@id": f"{SANDBOX}/graph/{COL}",
        "@graph": [
            {
                "@id": f"{SANDBOX}/resources/{COL}",
                "@type": "ceterms:Collection",
                "ceterms:ctid": COL,
                "ceterms:name": {"en": "Hand care"},
                "ceterms:description": {"en": "What every volunteer does first."},
                "ceterms:inLanguage": ["en"],
                "ceterms:hasMember": [f"{SANDBOX}/resources/{C1}", f"{SANDBOX}/resources/{C2}"],
            }
        ],
    }
    (repo / "c.json").write_text(out, encoding="utf-8")
    assert run_cli("convert", "c.json", "-o", "back.csv") == (0, "", "wrote back.csv (2 members)\n")
    assert (repo / "back.csv").read_text("utf-8") == (
        "@id,@type,ceterms:ctid,ceterms:name,ceterms:description,ceterms:inLanguage,ceterms:hasMember\n"
        f"{COL},ceterms:Collection,{COL},Hand care,What every volunteer does first.,en,{C1}|{C2}\n"
    )


def test_convert_reads_a_published_collection_graph_with_notes(repo: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    graph = {
        "@context": "https://credreg.net/ctdl/schema/context/json",
        "@graph": [
            {
                "@id": f"{SANDBOX}/resources/{COL}",
                "@type": "ceterms:Collection",
                "ceterms:ctid": COL,
                "ceterms:name": {"en-us": "Hand care", "es": "Manos"},
                "ceterms:keyword": {"en-us": ["hands", "hygiene"]},
                "ceterms:hasMember": [f"{SANDBOX}/resources/{C1}", "https://example.org/other/7"],
                "ceterms:ownedBy": [f"{SANDBOX}/resources/{C3}"],
            },
            {"@id": "_:m1", "@type": "ceterms:CollectionMember"},
        ],
    }
    (repo / "g.json").write_text(json.dumps(graph), encoding="utf-8")
    code, out, err = run_cli("convert", "g.json")
    assert code == 0
    assert out == (
        "@id,@type,ceterms:ctid,ceterms:name,ceterms:keyword,ceterms:hasMember\n"
        f"{COL},ceterms:Collection,{COL},Hand care,hands|hygiene,{C1}|https://example.org/other/7\n"
    )
    assert err.splitlines() == [
        "g.json: note: 1 node(s) that are not a collection were left out",
        f"g.json: note: {SANDBOX}/resources/{COL}: ceterms:name: kept 'en-us', left out es",
        f"g.json: note: {SANDBOX}/resources/{COL}: no CSV column for ceterms:ownedBy; left out",
    ]


def test_convert_refuses_a_collection_file_with_errors(repo: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    (repo / "bad.csv").write_text(f"{HEADER}\n{COL},ceterms:Collection,,,,en,{C1}\n", encoding="utf-8")
    code, _, err = run_cli("convert", "bad.csv")
    assert code == 1
    assert "required-missing" in err and err.endswith("bad.csv has errors; nothing written\n")


# --- diff ---------------------------------------------------------------------------------------


def test_diff_shows_members_added_and_removed(repo: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    (repo / "old.csv").write_text(COLLECTION, encoding="utf-8")
    new = COLLECTION.replace(f"{C1}|{C2}", f"{C2}|{C3}").replace("Hand care", "Hand work")
    (repo / "new.csv").write_text(new, encoding="utf-8")
    code, out, _ = run_cli("diff", "old.csv", "new.csv")
    assert code == 0
    assert out == (
        f'collection {COL} "Hand work": changed\n'
        "  file: new.csv (was old.csv)\n"
        '  ceterms:name: "Hand care" -> "Hand work"\n'
        f"  + {C3} (member) (position 2)\n"
        f"  - {C1} (member)\n"
        "1 collection with changes (1 collection property changed; members: 1 added, 1 removed)\n"
    )
    report = json.loads(run_cli("diff", "--format", "json", "old.csv", "new.csv")[1])
    (entry,) = report["frameworks"]
    assert entry["kind"] == "collection"
    assert [i["ctid"] for i in entry["added"]] == [C3]
    assert [i["ctid"] for i in entry["removed"]] == [C1]
    # the same members in another order and case: no change
    (repo / "same.csv").write_text(
        COLLECTION.replace(f"{C1}|{C2}", f"{C2}|{C1.upper().replace('CE-', 'ce-')}")
    )
    assert run_cli("diff", "--exit-code", "old.csv", "same.csv") == (0, "no changes\n", "")
