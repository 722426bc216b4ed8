"""Collection files (``ceterms:Collection`` rows, CASS's collection import): template, validate,
fix, convert both ways and diff, with exact outcomes."""

from __future__ import annotations

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
    code, out, _ = run_cli("template", "--collection", "--tier", "all", "--with-sample")
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
