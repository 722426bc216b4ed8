"""How fast is `competency-ci validate`? Whole processes, start-up included, against frictionless.

Generates a realistic framework (default 100,000 competencies in 4 levels, 12 columns, CTIDs as
``@id``s, parents before children) and a 10-row one, then times, best of ``--repeat`` runs each:

* ``competency-ci validate`` on the large file,
* ``frictionless validate`` on the same file with our descriptor (a copy of the data package whose
  resource path is the file),
* ``competency-ci validate`` on the 10-row file (the pre-commit case),
* ``competency-ci validate`` on the large file with one misspelt ``@type`` half-way down: a file
  with a problem is read twice (the bulk acceptor gives up, the precise checks report), so this is
  the slow case.

Wall time is measured around the process; peak memory (maximum resident set) by GNU
``/usr/bin/time``. Prints a table with the targets and PASS/FAIL. Not a test: run it by hand::

    python benchmarks/validate_large.py [--competencies N] [--out DIR] [--repeat 3]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from competency_ci.schema import load_schema

COLUMNS = [
    "@id",
    "@type",
    "ceasn:name",
    "ceasn:description",
    "ceasn:inLanguage",
    "ceasn:publisher",
    "ceasn:publisherName",
    "ceasn:dateCreated",
    "ceasn:competencyText",
    "ceasn:codedNotation",
    "ceasn:isTopChildOf",
    "ceasn:isChildOf",
]
LEVELS = 4
TIME = "/usr/bin/time"
WORDS = [
    "analyze",
    "apply",
    "assess",
    "build",
    "communicate",
    "compare",
    "construct",
    "data",
    "describe",
    "design",
    "evaluate",
    "explain",
    "identify",
    "interpret",
    "measure",
    "model",
    "organize",
    "plan",
    "present",
    "report",
    "research",
    "select",
    "solve",
    "summarize",
    "test",
]


@dataclass
class Run:
    label: str
    seconds: float
    cpu_seconds: float
    peak_mb: float
    exit_code: int


def branching(n: int, levels: int) -> int:
    """The smallest fan-out b with b + b^2 + ... + b^levels >= n."""
    b = 1
    while sum(b**k for k in range(1, levels + 1)) < n:
        b += 1
    return b


def framework_rows(n: int, seed: int = 7) -> list[list[str]]:
    """One framework row, then ``n`` competencies depth first (each parent right above its subtree)."""
    rng = random.Random(seed)

    def ctid() -> str:
        return "ce-" + str(uuid.UUID(int=rng.getrandbits(128), version=4))

    def text() -> str:
        return " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 14))).capitalize() + "."

    fw = ctid()
    rows = [
        COLUMNS,
        [fw, "ceasn:CompetencyFramework", "Benchmark framework", "A generated framework for timing."],
    ]
    rows[1] += ["en-US", ctid(), "Benchmark College", "2025-01-15", "", "", "", ""]
    fan = branching(n, LEVELS)
    count = 0

    def add(parent: str | None, code: str, depth: int) -> None:
        nonlocal count
        for i in range(1, fan + 1):
            if count >= n:
                return
            me, notation = ctid(), f"{code}.{i}" if code else str(i)
            top, child = (fw, "") if parent is None else ("", parent)
            rows.append([me, "ceasn:Competency", "", "", "", "", "", "", text(), notation, top, child])
            count += 1
            if depth < LEVELS:
                add(me, notation, depth + 1)

    add(None, "", 1)
    return rows


def write_csv(path: Path, rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    # An empty configuration beside the file makes its directory the repository root, so the
    # cross-file CTID index covers this file only.
    (path.parent / ".competency-ci.yaml").write_text("", encoding="utf-8")


def package_for(path: Path) -> Path:
    descriptor = json.loads(json.dumps(load_schema().descriptor))
    descriptor["resources"][0]["path"] = path.name
    package = path.with_name("datapackage.json")
    package.write_text(json.dumps(descriptor), encoding="utf-8")
    return package


def timed(label: str, argv: list[str], cwd: Path, repeat: int) -> Run:
    """Best wall time of ``repeat`` runs, with its CPU time (user + system) and peak RSS, measured
    by ``/usr/bin/time`` for the process itself.

    The child's own ``ru_maxrss`` would be wrong here: a forked child starts with the parent's
    resident pages (the generated rows), so ``time`` forks the measured process from itself.
    """
    best: Run | None = None
    for _ in range(repeat):
        with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
            start = time.perf_counter()
            code = subprocess.call(
                [TIME, "-f", "%U %S %M", "-o", rss.name, *argv],
                cwd=cwd,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            seconds = time.perf_counter() - start
            user, system, peak_kb = rss.read().split()[-3:]
        run = Run(label, seconds, float(user) + float(system), int(peak_kb) / 1024, code)
        if best is None or run.seconds < best.seconds:
            best = run
    assert best is not None
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--competencies", type=int, default=100_000, metavar="N")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR", help="where to write the files")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (best is kept)")
    args = parser.parse_args()
    if not os.access(TIME, os.X_OK):
        parser.error(f"{TIME} (GNU time) is needed to measure peak memory")
    out = args.out or Path(tempfile.mkdtemp(prefix="competency-ci-bench-"))
    large, small = out / "large" / "framework.csv", out / "small" / "framework.csv"
    broken = out / "broken" / "framework.csv"
    rows = framework_rows(args.competencies)
    write_csv(large, rows)
    middle = len(rows) // 2
    misspelt = [rows[middle][0], "ceasn:competency", *rows[middle][2:]]
    write_csv(broken, [*rows[:middle], misspelt, *rows[middle + 1 :]])
    write_csv(small, framework_rows(9))
    package_for(large)
    bindir = Path(sys.executable).parent
    ours = str(bindir / "competency-ci")
    size = large.stat().st_size / 1e6
    print(f"{large}: {args.competencies:,} competencies, {len(COLUMNS)} columns, {size:.1f} MB")

    mine = timed("competency-ci validate (large)", [ours, "validate", large.name], large.parent, args.repeat)
    theirs = timed(
        "frictionless validate (large)",
        [sys.executable, "-m", "frictionless", "validate", "datapackage.json"],
        large.parent,
        args.repeat,
    )
    tiny = timed(
        "competency-ci validate (10 rows)", [ours, "validate", small.name], small.parent, args.repeat
    )

    bad = timed(
        "competency-ci validate (one error)", [ours, "validate", broken.name], broken.parent, args.repeat
    )

    speedup = theirs.seconds / mine.seconds
    cpu_speedup = theirs.cpu_seconds / mine.cpu_seconds
    checks = [
        (
            mine,
            "<= 2.0 s, <= 250 MB, exit 0",
            mine.seconds <= 2.0 and mine.peak_mb <= 250 and mine.exit_code == 0,
        ),
        (
            theirs,
            f"{speedup:.1f}x our wall time, {cpu_speedup:.1f}x our CPU time (target >= 10x)",
            speedup >= 10 and theirs.exit_code == 0,
        ),
        (tiny, "<= 0.25 s, exit 0", tiny.seconds <= 0.25 and tiny.exit_code == 0),
        (
            bad,
            "<= 2.0 s, <= 250 MB, exit 1",
            bad.seconds <= 2.0 and bad.peak_mb <= 250 and bad.exit_code == 1,
        ),
    ]
    print(f"\n{'measurement':<34} {'wall s':>7} {'CPU s':>6} {'peak MB':>8} {'exit':>4}  target")
    for run, target, ok in checks:
        verdict = "PASS" if ok else "FAIL"
        print(
            f"{run.label:<34} {run.seconds:>7.2f} {run.cpu_seconds:>6.2f} {run.peak_mb:>8.0f}"
            f" {run.exit_code:>4}  {target}: {verdict}"
        )
    print(f"load average during the runs: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    return 0 if all(ok for _, _, ok in checks) else 1


if __name__ == "__main__":
    raise SystemExit(main())
