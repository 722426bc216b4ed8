"""The action and retiring: a pull request that deletes a framework file says so in the first line
of its job summary and of its review comment, its plan lists what would be deleted, and the merge
deletes it (``retire: delete``) or deprecates it (the default). CASS sandbox and GitHub API test
server on 127.0.0.1, the composite action run by tests/actionrunner.py."""

from __future__ import annotations

import json

from competency_ci.approval.pr_comment import MARKER
from competency_ci.targets.cass.ids import md5_key
from competency_ci.targets.cass.mapping import relation_id
from publish_support import snapshot, uri
from test_action import FW, PATH, A, B, C, Job, framework, git, job, key_pem, pull_request, push

__all__ = ["job"]  # the fixture, shared with test_action

DEPRECATED = "http://credreg.net/ctdlasn/vocabs/publicationStatus/Deprecated"
KEEP = "frameworks/keep.csv"


def published(job: Job, config: str) -> str:
    """Two frameworks merged and published; returns the merge commit."""
    base = job.commit({"README.md": "x\n", ".competency-ci.yaml": config})
    other = framework().replace(FW, "ce-20000000-0000-4000-8000-000000000000")
    other = other.replace("ce-a0000000", "ce-a2000000").replace("ce-b0000000", "ce-b2000000")
    merged = job.commit({PATH: framework(), KEEP: other.replace("History", "Kept")})
    inputs = {"cass-url": job.sandbox.url, "cass-key": key_pem()}
    result = job.run("push", push(base, merged), merged, "refs/heads/main", inputs)
    assert result.exit_code == 0, result.stdout + result.stderr
    return merged


def test_pull_request_that_deletes_a_framework_says_so_first(job: Job) -> None:
    base = published(job, "retire: delete\n")
    git(job.dev, "checkout", "-q", "-b", "feature")
    git(job.dev, "rm", "-q", PATH)
    head = job.commit({"README.md": "y\n"}, branch="feature")
    writes = len(job.sandbox.writes())
    inputs = {"cass-url": job.sandbox.url, "cass-key": key_pem(), "github-token": "ghs_" + "T0k3n" * 7}
    result = job.run("pull_request", pull_request(base, head), head, "refs/pull/12/merge", inputs)
    assert result.exit_code == 0, result.stdout + result.stderr
    first = f"## competency-ci: review of pull request #12: **DELETES 1 framework from CASS: History ({FW})**"
    assert result.summary.splitlines()[0] == first
    assert (
        f"- {PATH}: History ({FW}): retire (delete): its file was deleted from the repository: "
        "DELETE the framework and 3 of its object(s)"
    ) in result.summary.splitlines()
    (comment,) = job.github.comments[12]
    assert comment["body"].splitlines()[:2] == [
        MARKER,
        f"## competency-ci review of pull request #12: **DELETES 1 framework from CASS: History ({FW})**",
    ]
    assert len(job.sandbox.writes()) == writes  # the review only reads

    # the merge deletes it, and only it
    history = {uri(FW), uri(A), uri(B), relation_id("BASE/", uri(B), uri(A), "narrows")}
    kept = {k: v for k, v in snapshot(job.sandbox).items() if k not in history}
    assert len(kept) == 4  # the other framework, its two competencies and its relation
    git(job.dev, "checkout", "-q", "main")
    git(job.dev, "rm", "-q", PATH)
    merged = job.commit({"README.md": "y\n"})
    inputs = {"cass-url": job.sandbox.url, "cass-key": key_pem()}
    result = job.run("push", push(base, merged), merged, "refs/heads/main", inputs)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert snapshot(job.sandbox) == kept
    assert f"| `{PATH}` | History | `{FW}` | deleted |" in result.summary
    assert json.loads(result.outputs["published"]) == []  # nothing written: one framework deleted


def test_merge_that_deletes_a_file_deprecates_by_default(job: Job) -> None:
    base = published(job, "paths: ['frameworks/*.csv']\n")
    before = snapshot(job.sandbox)
    git(job.dev, "rm", "-q", PATH)
    merged = job.commit({"README.md": "y\n"})
    inputs = {"cass-url": job.sandbox.url, "cass-key": key_pem()}
    result = job.run("push", push(base, merged), merged, "refs/heads/main", inputs)
    assert result.exit_code == 0, result.stdout + result.stderr
    after = snapshot(job.sandbox)
    assert after[uri(FW)]["ceasn:publicationStatusType"] == DEPRECATED
    assert set(after) == set(before)  # nothing deleted
    (entry,) = [p for p in json.loads(result.outputs["published"]) if p["ctid"] == FW]
    assert (entry["outcome"], entry["messages"]) == (
        "written",
        ["retired: deprecated in place (publicationStatusType Deprecated)"],
    )


def test_merge_never_overwrites_an_edit_made_in_cass(job: Job) -> None:
    """Someone edits a competency in CASS; a merge that changes the framework's file leaves that
    framework unwritten (on-drift: fail) and says who edited what; the other framework is published."""
    from competency_ci.targets.cass.client import CassClient
    from publish_support import our_key

    base = published(job, "paths: ['frameworks/*.csv']\n")
    client = CassClient(job.sandbox.url, our_key(), timeout=30)
    client.ping()
    stored = client.multi_get([uri(B)])[uri(B)]
    client.multi_put([{**stored, "name": {"@value": "Bravo from the CASS editor", "@language": "en-us"}}])
    merged = job.commit({PATH: framework(with_c=True)})
    inputs = {"cass-url": job.sandbox.url, "cass-key": key_pem(), "drift-pull-request": "true"}
    result = job.run("push", push(base, merged), merged, "refs/heads/main", inputs)
    assert result.exit_code == 1, result.stdout + result.stderr
    drift = result.summary[result.summary.index("#### Drift") :].splitlines()
    assert drift[:7] == [
        f"#### Drift: edited on the server since {base[:12]}",
        "",
        f"- {PATH}: History ({FW}): 1 object(s) edited outside git",
        f'- ! competency {B} "Bravo": edited (owners: this key); the plan would change it',
        '  - ceasn:competencyText: git "Bravo"; server "Bravo from the CASS editor"',
        "",
        "1 server edit(s) the plan would overwrite: "
        "publish will not write these frameworks (on-drift: fail).",
    ]
    assert snapshot(job.sandbox)[uri(B)]["name"]["@value"] == "Bravo from the CASS editor"
    assert uri(C) not in snapshot(job.sandbox)  # the framework was not written at all
    record = json.loads((job.tmp / f"run{job.runs}" / "temp" / "competency-ci-publish.json").read_text())
    assert record["commit"] == merged
    assert next((f["ctid"], f["outcome"]) for f in record["frameworks"]) == (FW, "failed")

    # the pull request that brings the edit into git: one branch, one pull request
    branch = f"competency-ci/drift-{merged[:12]}"
    (pull,) = job.github.pulls
    assert (pull["head"]["ref"], pull["base"]["ref"], pull["title"]) == (
        branch,
        "main",
        "Bring edits made in CASS into git",
    )
    assert result.outputs["drift-pull-request-url"] == pull["html_url"]
    pulled = git(job.origin, "show", f"{branch}:{PATH}")
    assert "Bravo from the CASS editor" in pulled and C not in pulled  # the server's version
    subject = git(job.origin, "log", "-1", "--format=%s", branch)
    assert subject == f"Edits made in CASS since {merged[:12]}: {PATH}"
    again = job.run("push", push(base, merged), merged, "refs/heads/main", inputs)
    assert again.exit_code == 1 and len(job.github.pulls) == 1  # not opened twice
    assert "The pull request with the edits made in CASS is already open" in again.summary


KEPT = "ce-20000000-0000-4000-8000-000000000000"


def test_merge_plans_only_what_it_changed_and_what_was_left_unfinished(job: Job) -> None:
    base = published(job, "paths: ['frameworks/*.csv']\n")
    inputs = {"cass-url": job.sandbox.url, "cass-key": key_pem(), "publish-record": "state/record.json"}
    merged = job.commit({PATH: framework(with_c=True)})
    start = len(job.sandbox.request_log)
    result = job.run("push", push(base, merged), merged, "refs/heads/main", inputs)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert (
        "Planned 1 framework(s) this event changed; the other 1 are not read (scope: changed). A "
        "scheduled run or `scope: all` reconciles every framework and checks it for drift."
    ) in result.summary.splitlines()
    assert [p["ctid"] for p in json.loads(result.outputs["published"])] == [FW]
    routes = [f"{r.method} {r.path}" for r in job.sandbox.request_log[start:]]
    assert routes == [  # one framework read, planned, written and its CE view read back: the other untouched
        "GET /api/ping",
        "POST /api/sky/repo/multiGet",
        "POST /api/data/",
        "POST /api/sky/repo/multiPut",
        "POST /api/sky/repo/multiPut",
        f"GET /api/ceasn/{md5_key(uri(FW))}",
    ]
    record = json.loads((job.tmp / f"run{job.runs}" / "workspace" / "state" / "record.json").read_text())
    assert [(f["ctid"], f["outcome"]) for f in record["frameworks"]] == [(FW, "written")]

    # a record (restored from the cache) says the other framework was left unfinished
    unfinished = {**record, "frameworks": [{**record["frameworks"][0], "ctid": KEPT, "outcome": "failed"}]}
    second = job.commit({"state/record.json": json.dumps(unfinished), "README.md": "z\n"})
    result = job.run("push", push(merged, second), second, "refs/heads/main", inputs)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert (
        result.summary.splitlines().count(
            "Planned 0 framework(s) this event changed, and 1 an earlier run left unfinished; the other 1 "
            "are not read (scope: changed). A scheduled run or `scope: all` reconciles every framework and "
            "checks it for drift."
        )
        == 1
    )
    record = json.loads((job.tmp / f"run{job.runs}" / "workspace" / "state" / "record.json").read_text())
    assert [(f["ctid"], f["outcome"]) for f in record["frameworks"]] == [(KEPT, "unchanged")]
