"""Drift end to end on 127.0.0.1: objects edited in the sandbox outside git, with this key and with
another owner's key, found by `plan --git BASE` / `--record FILE`, and `on-drift: fail | overwrite |
keep` deciding what `publish` does with them; `pull` brings the server's edit into the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from competency_ci.sandbox import SandboxServer
from competency_ci.targets.cass.client import CassClient
from competency_ci.targets.cass.drift import fingerprint
from publish_support import (
    FW,
    B,
    C,
    framework_rows,
    git,
    other_key,
    our_key,
    pem,
    private_pem,
    snapshot,
    uri,
    write_csv,
)

EDITED = "2026-12-04T18:00:00Z"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_cli: Any, sandbox: SandboxServer) -> Path:
    """One framework, committed and published."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CASS_KEY", private_pem(our_key()))
    write_csv(tmp_path / "frameworks" / "fw.csv", framework_rows())
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "a framework")
    code, _, err = run_cli("publish", "--server", sandbox.url, "--result-file", "record.json")
    assert code == 0, err
    return tmp_path


def edit_in_cass(sandbox: SandboxServer, key: Any, ctid: str, text: str, **extra: Any) -> None:
    """What CASS's editor does: the stored competency written back with a new name."""
    client = CassClient(sandbox.url, key, timeout=30)
    client.ping()
    stored = client.multi_get([uri(ctid)])[uri(ctid)]
    changed = {
        **stored,
        "name": {"@value": text, "@language": "en-us"},
        "schema:dateModified": EDITED,
        **extra,
    }
    assert client.multi_put([changed]) == {uri(ctid)}


def name_of(sandbox: SandboxServer, ctid: str) -> str:
    return str(snapshot(sandbox)[uri(ctid)]["name"]["@value"])


def drift_lines(ctid: str, owners: str, git_text: str, server_text: str, base: str = "HEAD") -> list[str]:
    return [
        f"Drift: edited on the server since {base}",
        f"frameworks/fw.csv: Test Framework ({FW}): 1 object(s) edited outside git",
        f'  ! competency {ctid} "{git_text}": edited (owners: {owners}; modified {EDITED}); '
        "the plan would change it",
        f'    ceasn:competencyText: git "{git_text}"; server "{server_text}"',
    ]


def test_no_drift_when_the_server_holds_what_was_published(
    run_cli: Any, repo: Path, sandbox: SandboxServer
) -> None:
    code, out, err = run_cli("plan", "--server", sandbox.url, "--git", "HEAD", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["drift"] == {"base": "HEAD", "on_drift": "fail", "frameworks": {}, "refused": []}


def test_edit_with_this_key_fails_by_default_and_nothing_is_overwritten(
    run_cli: Any, repo: Path, sandbox: SandboxServer
) -> None:
    edit_in_cass(sandbox, our_key(), B, "Bravo, edited in CASS")
    code, out, _ = run_cli("plan", "--server", sandbox.url, "--git", "HEAD")
    assert code == 1  # a plan publish would not apply as it stands
    lines = out.splitlines()
    start = lines.index("Drift: edited on the server since HEAD")
    assert lines[start : start + 5] == [
        *drift_lines(B, "this key", "Bravo", "Bravo, edited in CASS"),
        "1 server edit(s) the plan would overwrite: "
        "publish will not write these frameworks (on-drift: fail).",
    ]
    writes = len(sandbox.writes())
    code, _, err = run_cli("publish", "--server", sandbox.url, "--git", "HEAD")
    assert code == 1
    assert (
        f"  NOT written: frameworks/fw.csv: Test Framework ({FW}): not written: publishing would overwrite "
        "1 edit(s) made on the server since HEAD (on-drift: fail); bring them into git with "
        "`competency-ci pull`, or set on-drift to overwrite or keep"
    ) in err.splitlines()
    assert len(sandbox.writes()) == writes and name_of(sandbox, B) == "Bravo, edited in CASS"

    # the publish record names the commit: it is the baseline without --git
    code, out, _ = run_cli("plan", "--server", sandbox.url, "--record", "record.json")
    head = git(repo, "rev-parse", "HEAD").strip()[:12]
    record = json.loads((repo / "record.json").read_text("utf-8"))
    assert record["commit"][:12] == head
    assert code == 1 and f"Drift: edited on the server since {head}" in out.splitlines()

    # pull brings the edit into the working tree; then git and the server agree
    code, _, err = run_cli("pull", "--server", sandbox.url, "--framework", FW, "-o", "pulled")
    assert code == 0, err
    (pulled,) = (repo / "pulled").glob("*.csv")
    assert "Bravo, edited in CASS" in pulled.read_text("utf-8")
    pulled.replace(repo / "frameworks" / "fw.csv")
    git(repo, "commit", "-q", "-am", "the edit made in CASS")
    code, out, err = run_cli("plan", "--server", sandbox.url, "--git", "HEAD")
    assert code == 0, out + err
    assert "Drift" not in out and out.splitlines()[-1] == "No changes: nothing would be written."


def test_edit_by_another_owner_names_its_key_and_overwrite_replaces_it(
    run_cli: Any, repo: Path, sandbox: SandboxServer
) -> None:
    ours, theirs = pem(our_key()), pem(other_key())
    edit_in_cass(sandbox, our_key(), C, "Charlie", owner=[ours, theirs])  # a co-owner is added
    edit_in_cass(sandbox, other_key(), C, "Charlie, by a colleague")  # who then edits it
    code, out, _ = run_cli("plan", "--server", sandbox.url, "--git", "HEAD")
    assert code == 1
    lines = out.splitlines()
    start = lines.index("Drift: edited on the server since HEAD")
    owners = f"this key, key {fingerprint(theirs)}"
    assert lines[start : start + 4] == drift_lines(C, owners, "Charlie", "Charlie, by a colleague")

    (repo / ".competency-ci.yaml").write_text("on-drift: overwrite\n", encoding="utf-8")
    code, out, err = run_cli("publish", "--server", sandbox.url, "--git", "HEAD")
    assert code == 0, err
    assert "publish will overwrite them (on-drift: overwrite)." in out
    assert name_of(sandbox, C) == "Charlie"


def test_keep_leaves_the_server_edit_and_writes_the_rest(
    run_cli: Any, repo: Path, sandbox: SandboxServer
) -> None:
    edit_in_cass(sandbox, our_key(), B, "Bravo, edited in CASS")
    (repo / ".competency-ci.yaml").write_text("on-drift: keep\n", encoding="utf-8")
    write_csv(repo / "frameworks" / "fw.csv", framework_rows(texts={C: "Charlie revised in git"}))
    code, out, err = run_cli("plan", "--server", sandbox.url, "--git", "HEAD")
    assert code == 0, out + err
    assert (
        f'  = keep competency {B} "Bravo": edited on the server since HEAD: kept (on-drift: keep)'
    ) in out.splitlines()
    code, out, err = run_cli("publish", "--server", sandbox.url, "--git", "HEAD")
    assert (
        f"  written: frameworks/fw.csv: Test Framework ({FW}): 1 updated, 1 left in place" in out.splitlines()
    )
    # CE shows the server's text for Bravo, not the file's: the CE-view check says so (exit 1)
    assert code == 1, err
    assert name_of(sandbox, B) == "Bravo, edited in CASS"  # the server's edit stays
    assert name_of(sandbox, C) == "Charlie revised in git"  # the repository's change is written


def test_on_drift_config_is_checked(run_cli: Any, repo: Path) -> None:
    (repo / ".competency-ci.yaml").write_text("on-drift: ignore\n", encoding="utf-8")
    code, _, err = run_cli("plan", "--server", "sandbox")
    assert code == 2 and "on-drift: expected fail, overwrite or keep, got 'ignore'" in err
