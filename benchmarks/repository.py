"""Benchmark: what a one-framework merge costs in a repository of many frameworks.

A git repository of N frameworks (``--frameworks``, default 200, ``--competencies`` each) is
published to the sandbox (127.0.0.1, in-memory) by the action's own run (``competency-ci github``
on a push event, in-process). Then one framework's file changes (one competency's text) and the
push is published again, twice: with ``scope: changed`` (the default: only what the change
touched is read and planned) and ``scope: all`` (full reconciliation). The same is done for a
repository of one framework, the reference: with ``scope: changed`` the requests and bytes of the
one-framework merge should not depend on the other N-1 frameworks.

Requests and bytes (sent + received) are read from the sandbox's request log. Not a test: run it
by hand::

    python benchmarks/repository.py [--frameworks 200] [--competencies 20]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from competency_ci.action.run import run_action
from competency_ci.sandbox import SandboxServer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from publish_support import HEADER, our_key, private_pem, with_publisher


def ctid(*parts: object) -> str:
    name = uuid.uuid5(uuid.NAMESPACE_URL, "bench/" + "/".join(map(str, parts)))
    return f"ce-{uuid.UUID(bytes=name.bytes, version=4)}"  # v4-shaped, stable across runs


def framework_csv(number: int, competencies: int, revised: bool = False) -> str:
    fw = ctid("fw", number)
    rows = [f"{fw},ceasn:CompetencyFramework,Framework {number},Benchmark framework.,en-US,Bench Org,,,,"]
    for n in range(competencies):
        text = f"Competency {n} of framework {number}" + (" (revised)" if revised and n == 0 else "")
        parent = "" if n < 5 else ctid("c", number, n % 5)
        rows.append(f"{ctid('c', number, n)},ceasn:Competency,,,,,{text},,{'' if parent else fw},{parent}")
    return "\n".join(with_publisher(HEADER, rows)) + "\n"


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=b", "-c", "user.email=b@example.org", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def run(root: Path, sandbox: SandboxServer, before: str, after: str, scope: str) -> tuple[int, int, float]:
    """One push event through the action; returns (requests, bytes, seconds) and checks exit 0."""
    event = root.parent / "event.json"
    repository = {"full_name": "bench/frameworks", "default_branch": "main"}
    payload = {"ref": "refs/heads/main", "before": before, "after": after, "repository": repository}
    event.write_text(json.dumps(payload), "utf-8")
    environ = {
        "PATH": os.environ["PATH"],
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "push",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_REF": "refs/heads/main",
        "GITHUB_SHA": after,
        "GITHUB_REPOSITORY": "bench/frameworks",
        "CCI_CASS_URL": sandbox.url,
        "CCI_CASS_KEY": private_pem(our_key()),
        "CCI_SCOPE": scope,
    }
    start, started = len(sandbox.request_log), time.perf_counter()
    cwd = Path.cwd()
    os.chdir(root)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            code = run_action(None, None, environ)
    finally:
        os.chdir(cwd)
    seconds = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"the action exited {code}")
    log = sandbox.request_log[start:]
    return len(log), sum(r.request_bytes + r.response_bytes for r in log), seconds


def measure(count: int, competencies: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp, SandboxServer("127.0.0.1", 0) as sandbox:
        root = Path(tmp) / "repo"
        (root / "frameworks").mkdir(parents=True)
        git(root, "init", "-q", "-b", "main")
        (root / ".competency-ci.yaml").write_text("paths: ['frameworks/*.csv']\n", "utf-8")
        git(root, "add", ".")
        git(root, "commit", "-q", "-m", "empty")
        empty = git(root, "rev-parse", "HEAD")
        for n in range(count):
            (root / "frameworks" / f"fw{n:03d}.csv").write_text(framework_csv(n, competencies), "utf-8")
        git(root, "add", ".")
        git(root, "commit", "-q", "-m", "frameworks")
        first = git(root, "rev-parse", "HEAD")
        initial = run(root, sandbox, empty, first, "changed")
        (root / "frameworks" / "fw000.csv").write_text(framework_csv(0, competencies, revised=True), "utf-8")
        git(root, "commit", "-q", "-am", "one competency revised")
        second = git(root, "rev-parse", "HEAD")
        changed = run(root, sandbox, first, second, "changed")
        # the same merge again with full reconciliation (nothing left to write: reads only)
        everything = run(root, sandbox, first, second, "all")
    return {"frameworks": count, "initial": initial, "changed": changed, "all": everything}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frameworks", type=int, default=200)
    parser.add_argument("--competencies", type=int, default=20)
    args = parser.parse_args()
    print(f"one-framework merge, {args.competencies} competencies per framework (sandbox, loopback)")
    print(f"{'repository':>12} | {'scope':>8} | {'requests':>8} | {'bytes':>10} | {'seconds':>7}")
    for count in (1, args.frameworks):
        result = measure(count, args.competencies)
        for scope in ("initial", "changed", "all"):
            requests, nbytes, seconds = result[scope]  # type: ignore[misc]
            label = "first run" if scope == "initial" else scope
            print(f"{count:>12} | {label:>8} | {requests:>8} | {nbytes:>10,} | {seconds:>7.2f}")


if __name__ == "__main__":
    main()
