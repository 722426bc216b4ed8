"""Retiring frameworks end to end on 127.0.0.1: a file deleted (seen through git or the publish
record) or a framework marked Deprecated, deprecated in place or deleted, in CASS (the sandbox) and
the Registry (tests/servers/registry.py). Nothing is written before the plan says it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from approval_fixtures import API_KEY, KITCHEN, KNIVES, ORG, SERVICE, write_repository
from competency_ci.sandbox import SandboxServer
from competency_ci.targets.registry.client import Assistant
from publish_support import (
    FW,
    FW2,
    E,
    framework_rows,
    git,
    other_key,
    our_key,
    private_pem,
    second_framework_rows,
    snapshot,
    uri,
    write_csv,
)
from servers.registry import RegistryServer

DEPRECATED = "http://credreg.net/ctdlasn/vocabs/publicationStatus/Deprecated"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two framework files, committed; the key of the test vectors."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CASS_KEY", private_pem(our_key()))
    write_csv(tmp_path / "frameworks" / "fw.csv", framework_rows())
    write_csv(tmp_path / "frameworks" / "second.csv", second_framework_rows())
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "two frameworks")
    return tmp_path


def configure(root: Path, text: str) -> None:
    (root / ".competency-ci.yaml").write_text(text, encoding="utf-8")


def writes(sandbox: SandboxServer, start: int) -> list[str]:
    return [f"{r.method} {r.path}" for r in sandbox.request_log[start:] if r.is_write]


def published_then_removed(run_cli: Any, repo: Path, sandbox: SandboxServer) -> None:
    code, _, err = run_cli("publish", "--server", sandbox.url, "--result-file", "record.json")
    assert code == 0, err
    git(repo, "rm", "-q", "frameworks/second.csv")


SECOND = f"frameworks/second.csv: Second ({FW2}): retire"


def test_deleted_file_is_deprecated_in_place_by_default(
    run_cli: Any, repo: Path, sandbox: SandboxServer
) -> None:
    published_then_removed(run_cli, repo, sandbox)
    before = snapshot(sandbox)
    start = len(sandbox.request_log)
    code, out, err = run_cli("plan", "--server", sandbox.url, "--git", "HEAD")
    assert code == 0, err
    assert out.splitlines() == [
        f"Plan for {sandbox.url}",
        f"frameworks/fw.csv: Test Framework ({FW}): no changes",
        f"{SECOND} (deprecate): its file was deleted from the repository: deprecate in place: "
        "publicationStatusType becomes Deprecated",
    ]
    assert writes(sandbox, start) == []  # the plan writes nothing

    code, out, err = run_cli("publish", "--server", sandbox.url, "--git", "HEAD", "--result-file", "r2.json")
    assert code == 0, err
    assert out.splitlines()[-1] == (
        f"  retired: frameworks/second.csv: Second ({FW2}): "
        "deprecated in place (publicationStatusType Deprecated)"
    )
    after = snapshot(sandbox)
    assert after[uri(FW2)]["ceasn:publicationStatusType"] == DEPRECATED
    # only the framework object changed; its competency and the other framework are as they were
    assert {k: v for k, v in after.items() if k != uri(FW2)} == {
        k: v for k, v in before.items() if k != uri(FW2)
    }
    assert {k: v for k, v in after[uri(FW2)].items() if k != "ceasn:publicationStatusType"} == before[
        uri(FW2)
    ]
    record = json.loads((repo / "r2.json").read_text("utf-8"))
    assert [(f["ctid"], f["outcome"]) for f in record["frameworks"]] == [(FW, "unchanged"), (FW2, "written")]

    # again: nothing to write
    start = len(sandbox.request_log)
    code, out, _ = run_cli("plan", "--server", sandbox.url, "--git", "HEAD")
    assert code == 0
    assert out.splitlines()[-1] == (
        f"{SECOND} (deprecate): its file was deleted from the repository: "
        "already Deprecated: nothing to write"
    )
    assert writes(sandbox, start) == []


def test_delete_mode_deletes_the_framework_and_what_it_owns(
    run_cli: Any, repo: Path, sandbox: SandboxServer
) -> None:
    configure(repo, "retire: delete\n")
    published_then_removed(run_cli, repo, sandbox)
    kept = {k: v for k, v in snapshot(sandbox).items() if k not in (uri(FW2), uri(E))}
    start = len(sandbox.request_log)
    code, out, err = run_cli("plan", "--server", sandbox.url, "--git", "HEAD", "--format", "json")
    assert code == 0, err
    retire = json.loads(out)["retire"]
    assert [(r["ctid"], r["action"], r["deletes"], r["kept"]) for r in retire] == [
        (FW2, "delete", [uri(E), uri(FW2)], [])
    ]
    assert writes(sandbox, start) == []
    code, out, err = run_cli("publish", "--server", sandbox.url, "--git", "HEAD")
    assert code == 0, err
    assert (
        f"{SECOND} (delete): its file was deleted from the repository: "
        "DELETE the framework and 1 of its object(s)" in out
    )
    assert out.splitlines()[-1] == (
        f"  retired: frameworks/second.csv: Second ({FW2}): deleted the framework and 1 of its object(s)"
    )
    assert writes(sandbox, start) == ["POST /api/sky/repo/multiDelete"]
    assert snapshot(sandbox) == kept  # the other framework untouched, every object of the second gone
    # the next run: it is not on the server any more
    code, out, _ = run_cli("plan", "--server", sandbox.url, "--git", "HEAD")
    assert out.splitlines()[-1].endswith("not on the server: nothing to retire")


def test_delete_keeps_what_another_framework_lists(run_cli: Any, repo: Path, sandbox: SandboxServer) -> None:
    """E is also a competency of a third framework: deleting the second leaves it in place."""
    configure(repo, "retire: delete\n")
    third = "ce-30000000-0000-4000-8000-000000000000"
    rows = second_framework_rows(third, E, "Third")
    published_then_removed(run_cli, repo, sandbox)
    # the third framework is published from elsewhere (not this repository), listing E too
    other = repo.parent / "elsewhere"
    write_csv(other / "third.csv", rows)
    code, _, err = run_cli("publish", "--server", sandbox.url, str(other / "third.csv"))
    assert code == 0, err
    code, out, err = run_cli("publish", "--server", sandbox.url, "--git", "HEAD")
    assert code == 0, err
    state = snapshot(sandbox)
    assert uri(FW2) not in state and uri(E) in state and uri(third) in state
    assert out.splitlines()[-1].endswith("deleted the framework and 0 of its object(s); 1 left in place")


def test_framework_owned_by_another_key_is_blocked(
    run_cli: Any, repo: Path, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(repo, "retire: delete\n")
    monkeypatch.setenv("CASS_KEY", private_pem(other_key()))
    published_then_removed(run_cli, repo, sandbox)
    monkeypatch.setenv("CASS_KEY", private_pem(our_key()))
    before = snapshot(sandbox)
    code, out, _ = run_cli("plan", "--server", sandbox.url, "--git", "HEAD")
    assert code == 1  # a plan the server would refuse
    assert (
        f"{SECOND} (delete): its file was deleted from the repository: "
        "cannot delete: this key is not an owner of the framework object"
    ) in out.splitlines()
    code, _, err = run_cli("publish", "--server", sandbox.url, "--git", "HEAD")
    assert code == 3
    assert f"  NOT retired: frameworks/second.csv: Second ({FW2}): cannot delete" in err
    assert {k for k in snapshot(sandbox)} == set(before)


def test_marked_deprecated_in_delete_mode_is_deleted_not_published(
    run_cli: Any, repo: Path, sandbox: SandboxServer
) -> None:
    code, _, err = run_cli("publish", "--server", sandbox.url)
    assert code == 0, err
    configure(repo, "retire: delete\n")
    path = repo / "frameworks" / "second.csv"
    text = path.read_text("utf-8").splitlines()
    text[0] += ",ceasn:publicationStatusType"
    text[1] += ",Deprecated"
    text[2] += ","
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    code, out, err = run_cli("publish", "--server", sandbox.url)
    assert code == 0, err
    assert (
        f"{SECOND} (delete): its file marks it Deprecated: DELETE the framework and 1 of its object(s)" in out
    )
    state = snapshot(sandbox)
    assert uri(FW2) not in state and uri(E) not in state and uri(FW) in state


def test_publish_record_names_what_left(run_cli: Any, repo: Path, sandbox: SandboxServer) -> None:
    published_then_removed(run_cli, repo, sandbox)
    code, out, err = run_cli("plan", "--server", sandbox.url, "--record", "record.json")
    assert code == 0, err
    assert out.splitlines()[-1].startswith(f"{SECOND} (deprecate): its file was deleted from the repository")
    (repo / "bad.json").write_text("{}", encoding="utf-8")
    code, _, err = run_cli("plan", "--server", sandbox.url, "--record", "bad.json")
    assert code == 2
    assert (
        err.splitlines()[-1]
        == "error: --record bad.json: not a competency-ci publish result (schema_version 1)"
    )
    code, _, err = run_cli("plan", "--server", sandbox.url, "--git", "no-such-rev")
    assert (code, err.splitlines()[-1]) == (2, "error: --git no-such-rev: unknown revision 'no-such-rev'")


def test_retire_config_is_checked(run_cli: Any, repo: Path) -> None:
    configure(repo, "retire: remove\n")
    code, _, err = run_cli("plan", "--server", "sandbox")
    assert code == 2
    assert "retire: expected deprecate or delete, got 'remove'" in err


# --- the Registry ---------------------------------------------------------------------------------


@pytest.fixture
def registry() -> Iterator[RegistryServer]:
    with RegistryServer(API_KEY) as server:
        yield server


def registry_repo(root: Path, registry: RegistryServer, run_cli: Any, mode: str) -> str:
    config = str(write_repository(root, registry.url, extra=f"retire: {mode}\n"))
    code, _, err = run_cli(
        "publish", "--target", "registry", "--config", config, "--result-file", str(root / "record.json")
    )
    assert code == 0, err
    (root / "frameworks" / "knives.csv").unlink()
    return config


def test_registry_delete_uses_the_assistant_delete(
    tmp_path: Path, registry: RegistryServer, run_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CE_REGISTRY_API_KEY", API_KEY)
    config = registry_repo(tmp_path, registry, run_cli, "delete")
    record = str(tmp_path / "record.json")
    start = len(registry.requests)
    code, out, err = run_cli("plan", "--target", "registry", "--config", config, "--record", record)
    assert code == 0, err
    assert out.splitlines()[-1] == (
        f"frameworks/knives.csv: Knife Skills ({KNIVES}): retire (delete): its file was deleted from the "
        "repository: DELETE from the Registry (CompetencyFramework/delete)"
    )
    # the live graphs of the two frameworks left, CE's format check of none (both current), the retired one
    assert [r.method for r in registry.requests[start:]] == ["GET"] * 3
    start = len(registry.requests)
    code, out, err = run_cli("publish", "--target", "registry", "--config", config, "--record", record)
    assert code == 0, err
    deletes = [r for r in registry.requests[start:] if r.method == "DELETE"]
    assert [(r.route, r.body, r.headers["Authorization"]) for r in deletes] == [
        (
            "/assistant/CompetencyFramework/delete",
            {"PublishForOrganizationIdentifier": ORG, "CTID": KNIVES},
            "ApiToken [valid]",
        )
    ]
    assert sorted(registry.live) == sorted([KITCHEN, SERVICE])
    assert out.splitlines()[-1] == (
        f"  retired: frameworks/knives.csv: Knife Skills ({KNIVES}): deleted from the Registry"
    )


def test_registry_deprecate_republishes_the_live_graph(
    tmp_path: Path, registry: RegistryServer, run_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CE_REGISTRY_API_KEY", API_KEY)
    config = registry_repo(tmp_path, registry, run_cli, "deprecate")
    live = json.loads(json.dumps(registry.live[KNIVES]))
    code, out, err = run_cli(
        "publish", "--target", "registry", "--config", config, "--record", str(tmp_path / "record.json")
    )
    assert code == 0, err
    node = registry.live[KNIVES]["@graph"][0]
    assert node["ceasn:publicationStatusType"] == DEPRECATED
    node.pop("ceasn:publicationStatusType")
    live["@graph"][0].pop("ceasn:publicationStatusType", None)
    assert registry.live[KNIVES] == live  # nothing else changed
    assert out.splitlines()[-1].endswith("deprecated (publicationStatusType Deprecated)")


def test_assistant_delete_sends_at_most_50_ctids(registry: RegistryServer) -> None:
    assistant = Assistant(registry.assistant_url, API_KEY)
    ctids = [f"ce-{n:08d}-0000-4000-8000-000000000000" for n in range(51)]
    with pytest.raises(ValueError):
        assistant.delete_frameworks(ctids, ORG)
    answer = assistant.delete_frameworks(ctids[:50], ORG)
    assert answer.successful is False and len(answer.messages) == 50  # none of them is there
    assert registry.requests[-1].body == {"PublishForOrganizationIdentifier": ORG, "CTIDList": ctids[:50]}
    # the test server keeps the contract too: more than 50 CTIDs is refused
    import requests

    response = requests.delete(
        f"{registry.assistant_url}/CompetencyFramework/delete",
        json={"PublishForOrganizationIdentifier": ORG, "CTIDList": ctids},
        headers={"Authorization": f"ApiToken {API_KEY}"},
        timeout=10,
    )
    assert response.json() == {
        "Successful": False,
        "Messages": ["A maximum of 50 CTIDs may be requested at a time."],
    }
