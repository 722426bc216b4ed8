"""How fast is `competency-ci validate`? Whole processes, start-up included, against a bare
``csv.reader`` pass and frictionless.

Generates a realistic framework (default 100,000 competencies in 4 levels, 12 columns, CTIDs as
``@id``s, parents before children) in three shapes, and times, best of ``--repeat`` runs each
(the best, because a shared machine only ever adds time):

* ``clean``: nothing to report;
* ``warnings``: as CE's own samples are, the header lacks recommended columns (no
  ``ceasn:dateCreated``, which CE's publishing API asks for: a warning; no ``ceasn:publisherName``);
* ``errors``: 1% of the competencies with an error (a misspelt ``@type``, an empty
  ``ceasn:competencyText``, a parent that is no row's ``@id``, in turn);
* for each shape, a bare ``csv.reader`` pass over the same file in a fresh process: the floor any
  CSV validator in Python stands on (target: ours at most 3x it), run in turn with ours so that
  both see the same load;
* ``frictionless validate`` with our descriptor on a 20,000-competency file, and ours on the same
  file (target: ours at least 10x faster);
* a 10-row file (the pre-commit case; target under 0.1 s).

Wall time is measured around the process; CPU time and peak memory (maximum resident set, target
under 250 MB) by GNU ``/usr/bin/time``. Prints a table with the targets and PASS/FAIL. Not a test:
run it by hand::

    python benchmarks/validate_large.py [--competencies N] [--out DIR] [--repeat 5]
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


def side_by_side(runs: list[tuple[str, list[str]]], cwd: Path, repeat: int) -> list[Run]:
    """The best of ``repeat`` runs of each command, taken in turn (a, b, a, b, ...), so that the
    commands compared see the same load on a shared machine."""
    best: list[Run | None] = [None] * len(runs)
    for _ in range(repeat):
        for i, (label, argv) in enumerate(runs):
            run = timed(label, argv, cwd, 1)
            if (found := best[i]) is None or run.seconds < found.seconds:
                best[i] = run
    return [run for run in best if run is not None]


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


# A bare csv.reader pass over a file, in a fresh process: what reading the CSV costs at all.
CSV_PASS = (
    "import csv, sys\n"
    "with open(sys.argv[1], encoding='utf-8', newline='') as f:\n"
    "    for row in csv.reader(f):\n"
    "        pass\n"
)


def without(rows: list[list[str]], names: list[str]) -> list[list[str]]:
    """The rows without some columns."""
    drop = {rows[0].index(name) for name in names}
    return [[cell for i, cell in enumerate(row) if i not in drop] for row in rows]


def with_errors(rows: list[list[str]], share: float = 0.01, seed: int = 11) -> list[list[str]]:
    """``share`` of the competencies with one error each: a misspelt ``@type``, an empty
    ``ceasn:competencyText`` and a parent that is no row's ``@id``, in turn."""
    rng = random.Random(seed)
    out = [list(row) for row in rows]
    col = out[0].index
    text, parent = col("ceasn:competencyText"), col("ceasn:isChildOf")
    competencies = [i for i, row in enumerate(out) if row[1] == "ceasn:Competency"]
    for n, i in enumerate(sorted(rng.sample(competencies, int(len(competencies) * share)))):
        row = out[i]
        if n % 3 == 0:
            row[1] = "ceasn:competency"
        elif n % 3 == 1:
            row[text] = ""
        else:
            row[parent] = "ce-" + str(uuid.UUID(int=rng.getrandbits(128), version=4))
            row[col("ceasn:isTopChildOf")] = ""
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--competencies", type=int, default=100_000, metavar="N")
    parser.add_argument("--frictionless", type=int, default=20_000, metavar="N", help="competencies")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR", help="where to write the files")
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement (best is kept)")
    args = parser.parse_args()
    if not os.access(TIME, os.X_OK):
        parser.error(f"{TIME} (GNU time) is needed to measure peak memory")
    out = args.out or Path(tempfile.mkdtemp(prefix="competency-ci-bench-"))
    rows = framework_rows(args.competencies)
    shapes = {
        "clean": (rows, 0),
        "warnings": (without(rows, ["ceasn:dateCreated", "ceasn:publisherName"]), 0),
        "errors": (with_errors(rows), 1),
    }
    bindir = Path(sys.executable).parent
    ours = str(bindir / "competency-ci")
    checks: list[tuple[Run, str, bool]] = []
    for shape, (shape_rows, expected) in shapes.items():
        path = out / shape / "framework.csv"
        write_csv(path, shape_rows)
        size = path.stat().st_size / 1e6
        print(f"{path}: {len(shape_rows) - 2:,} competencies, {len(shape_rows[0])} columns, {size:.1f} MB")
        floor, mine = side_by_side(
            [
                (f"csv.reader pass ({shape})", [sys.executable, "-c", CSV_PASS, path.name]),
                (f"competency-ci ({shape})", [ours, "validate", path.name]),
            ],
            path.parent,
            args.repeat,
        )
        ratio = mine.seconds / floor.seconds
        checks.append((floor, "the floor", floor.exit_code == 0))
        checks.append(
            (
                mine,
                f"{ratio:.2f}x csv.reader (<= 3x), <= 250 MB, exit {expected}",
                ratio <= 3 and mine.peak_mb <= 250 and mine.exit_code == expected,
            )
        )

    medium = out / "frictionless" / "framework.csv"
    write_csv(medium, framework_rows(args.frictionless))
    package_for(medium)
    theirs, mine = side_by_side(
        [
            (
                f"frictionless ({args.frictionless:,})",
                [sys.executable, "-m", "frictionless", "validate", "datapackage.json"],
            ),
            (f"competency-ci ({args.frictionless:,})", [ours, "validate", medium.name]),
        ],
        medium.parent,
        args.repeat,
    )
    speedup, cpu = theirs.seconds / mine.seconds, theirs.cpu_seconds / mine.cpu_seconds
    checks.append((theirs, "exit 0", theirs.exit_code == 0))
    checks.append(
        (
            mine,
            f"{speedup:.1f}x faster than frictionless (>= 10x; CPU {cpu:.1f}x)",
            speedup >= 10 and mine.exit_code == 0,
        )
    )

    small = out / "small" / "framework.csv"
    write_csv(small, framework_rows(9))
    tiny = timed("competency-ci (10 rows)", [ours, "validate", small.name], small.parent, args.repeat)
    checks.append((tiny, "< 0.1 s, exit 0", tiny.seconds < 0.1 and tiny.exit_code == 0))

    print(f"\nbest of {args.repeat} runs each; the commands compared ran in turn")
    print(f"{'measurement':<30} {'wall s':>7} {'CPU s':>6} {'peak MB':>8} {'exit':>4}  target")
    for run, target, ok in checks:
        verdict = "PASS" if ok else "FAIL"
        print(
            f"{run.label:<30} {run.seconds:>7.2f} {run.cpu_seconds:>6.2f} {run.peak_mb:>8.0f}"
            f" {run.exit_code:>4}  {target}: {verdict}"
        )
    print(f"load average after the runs: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    return 0 if all(ok for _, _, ok in checks) else 1


if __name__ == "__main__":
    raise SystemExit(main())
