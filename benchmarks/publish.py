"""Benchmark: publish a 10,000-competency framework to the sandbox over loopback HTTP.

Three runs against one sandbox (127.0.0.1, ephemeral port, in-memory SQLite), timed end to end
through ``publish_frameworks`` (ping, bulk reads, plan, signed multiPuts, multiDelete):

1. first publish (everything is created);
2. unchanged re-publish (target: zero writes; reads only: ping, one multiGet per 1,000 objects, one
   search per 400 competencies for objects earlier runs left behind);
3. 1% of competencies changed (text edits) (target: only the changed objects written).

Every request is bounded (at most 1,000 objects and 4 MiB, cass-api.md: one 19,901-object multiPut
took 91 s on the real server); the largest request is reported.

Requests and bytes are read from the sandbox's own request log. Not a test: run it by hand::

    python benchmarks/publish.py [--competencies 10000] [--change 0.01]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

from competency_ci.frameworks.build import load_frameworks
from competency_ci.frameworks.config import Config
from competency_ci.sandbox import SandboxServer
from competency_ci.targets.cass.publish import PublishResult, publish_frameworks

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from publish_support import HEADER, our_key, with_publisher


def ctid(kind: str, n: int) -> str:
    return f"ce-{uuid.uuid5(uuid.NAMESPACE_URL, f'bench/{kind}/{n}')}"


def generate(path: Path, count: int, changed: set[int]) -> None:
    """A framework of ``count`` competencies: 100 top-level ones, the rest children of those."""
    fw = ctid("fw", 0)
    rows = [f"{fw},ceasn:CompetencyFramework,Benchmark,A large framework.,en-US,Bench Org,,,,"]
    for n in range(count):
        text = f"Competency number {n}" + (" (revised)" if n in changed else "")
        if n < 100:
            rows.append(f"{ctid('c', n)},ceasn:Competency,,,,,{text},,{fw},")
        else:
            rows.append(f"{ctid('c', n)},ceasn:Competency,,,,,{text},,,{ctid('c', n % 100)}")
    path.write_text("\n".join(with_publisher(HEADER, rows)) + "\n", encoding="utf-8")


def measure(label: str, sandbox: SandboxServer, path: Path) -> dict[str, object]:
    config = Config(root=path.parent)
    started = time.perf_counter()
    frameworks = load_frameworks(path, config)
    loaded = time.perf_counter()
    before = len(sandbox.request_log)
    result: PublishResult = publish_frameworks(frameworks, config, sandbox.url, our_key(), timeout=600)
    finished = time.perf_counter()
    log = sandbox.request_log[before:]
    writes = [r for r in log if r.is_write]
    fr = result.frameworks[0]
    assert result.ok, result.error or fr.message
    return {
        "run": label,
        "status": fr.status,
        "objects written": fr.objects_written,
        "deleted": fr.deleted,
        "requests": len(log),
        "write requests": len(writes),
        "bytes sent": sum(r.request_bytes for r in log),
        "bytes received": sum(r.response_bytes for r in log),
        "largest request bytes": max((r.request_bytes for r in log), default=0),
        "load+validate s": round(loaded - started, 2),
        "publish s": round(finished - loaded, 2),
        "routes": [f"{r.method} {r.path.removeprefix('/api/')}" for r in log],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--competencies", type=int, default=10_000)
    parser.add_argument("--change", type=float, default=0.01, help="fraction of competencies edited in run 3")
    args = parser.parse_args()
    step = max(1, round(1 / args.change))
    changed = {n for n in range(args.competencies) if n % step == 7}
    with tempfile.TemporaryDirectory() as tmp, SandboxServer("127.0.0.1", 0) as sandbox:
        path = Path(tmp) / "bench.csv"
        generate(path, args.competencies, set())
        runs = [measure("1 create", sandbox, path), measure("2 unchanged", sandbox, path)]
        generate(path, args.competencies, changed)
        runs.append(measure(f"3 {len(changed)} changed", sandbox, path))
    print(json.dumps(runs, indent=2))
    no_op, edit = runs[1], runs[2]
    objects = 2 * args.competencies  # competencies and their relations (the framework aside)
    reads = 1 + -(-(objects + 1) // 1000) + -(-args.competencies // 400)
    checks = {
        "unchanged: zero writes": no_op["write requests"] == 0 and no_op["objects written"] == 0,
        f"unchanged: reads only, at most {reads} requests": int(str(no_op["requests"])) <= reads,
        "1% change: only the changed objects written": edit["objects written"] == len(changed),
        "no request over 4 MiB": all(int(str(r["largest request bytes"])) <= 4 * 1024 * 1024 for r in runs),
    }
    for name, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {name}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
