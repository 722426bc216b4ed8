"""Benchmark: convert (CSV -> CTDL-ASN JSON-LD) and diff two 100,000-competency framework versions.

Run: ``python benchmarks/convert_diff.py [--competencies N]``. Generates two versions in a temporary
directory (the second with 1% of competencies changed: text edits, additions, removals, moves) and
times the real code paths end to end (read, validate, build the model, convert or diff, render).
Target: under 3 s each.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import tempfile
import time
import uuid
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from competency_ci.cli.main import main as cli_main
from competency_ci.commands.common import gc_paused
from competency_ci.frameworks.build import assemble
from competency_ci.frameworks.config import Config
from competency_ci.frameworks.diff import diff_frameworks, totals
from competency_ci.frameworks.jsonld import dumps, framework_to_graph
from competency_ci.frameworks.model import Framework
from competency_ci.frameworks.problems import Level
from competency_ci.frameworks.table import read_table
from competency_ci.frameworks.validate import check_table
from competency_ci.report.diff import markdown, text
from competency_ci.schema import load_schema

HEADER = [
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
    "ceasn:isTopChildOf",
    "ceasn:isChildOf",
]
TOPS = 1000


def new_ctid(rng: random.Random) -> str:
    return f"ce-{uuid.UUID(int=rng.getrandbits(128), version=4)}"


def generate(count: int, rng: random.Random) -> list[dict[str, str]]:
    """A framework with ``TOPS`` top competencies, the rest spread below them as children."""
    fw = new_ctid(rng)
    rows = [
        {
            "@id": fw,
            "@type": "ceasn:CompetencyFramework",
            "ceasn:name": "Benchmark framework",
            "ceasn:description": "Generated for timing convert and diff.",
            "ceasn:inLanguage": "en-US",
            "ceasn:publisher": new_ctid(rng),
            "ceasn:publisherName": "Benchmark College",
            "ceasn:dateCreated": "2025-01-01",
        }
    ]
    per_top = count // TOPS
    for t in range(TOPS):
        top = new_ctid(rng)
        rows.append(
            {
                "@id": top,
                "@type": "ceasn:Competency",
                "ceasn:codedNotation": str(t + 1),
                "ceasn:competencyText": f"Top competency {t + 1}: plan, carry out and review work.",
                "ceasn:conceptKeyword": "planning|review",
                "ceasn:isTopChildOf": fw,
            }
        )
        for c in range(per_top - 1):
            rows.append(
                {
                    "@id": new_ctid(rng),
                    "@type": "ceasn:Competency",
                    "ceasn:codedNotation": f"{t + 1}.{c + 1}",
                    "ceasn:competencyText": f"Competency {t + 1}.{c + 1}: explain one step of it to a peer.",
                    "ceasn:isChildOf": top,
                }
            )
    return rows


def change(rows: list[dict[str, str]], share: float, rng: random.Random) -> tuple[list[dict[str, str]], str]:
    """A copy with ``share`` of the competencies edited, added, removed or moved (children only)."""
    rows = [dict(r) for r in rows]
    children = [i for i, r in enumerate(rows) if r.get("ceasn:isChildOf")]
    tops = [(i, r["@id"]) for i, r in enumerate(rows) if r.get("ceasn:isTopChildOf")]
    n = int((len(rows) - 1) * share)
    picked = rng.sample(children, n)
    edits, adds, removes, moves = (
        picked[: n * 4 // 10],
        n // 5,
        picked[n * 4 // 10 : n * 6 // 10],
        picked[n * 6 // 10 :],
    )
    for i in edits:
        rows[i]["ceasn:competencyText"] += " Revised."
    for i in moves:
        rows[i]["ceasn:isChildOf"] = rng.choice([top for at, top in tops if at < i])  # parents first
    gone = set(removes)
    rows = [r for i, r in enumerate(rows) if i not in gone]
    for k in range(adds):
        rows.append(
            {
                "@id": new_ctid(rng),
                "@type": "ceasn:Competency",
                "ceasn:codedNotation": f"new.{k + 1}",
                "ceasn:competencyText": f"New competency {k + 1}.",
                "ceasn:isChildOf": rng.choice(tops)[1],
            }
        )
    summary = f"{len(edits)} edited, {adds} added, {len(removes)} removed, {len(moves)} re-parented"
    return rows, summary


def to_csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, HEADER, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def timed(label: str, func):  # type: ignore[no-untyped-def]
    """Run ``func``; print wall-clock and CPU seconds (CPU is what a busy shared machine can't inflate)."""
    start, cpu = time.perf_counter(), time.process_time()
    result = func()
    elapsed, used = time.perf_counter() - start, time.process_time() - cpu
    print(f"  {label:<44} {elapsed:6.2f} s wall {used:6.2f} s CPU")
    return result, used


def load(path: Path, config: Config) -> tuple[list[Framework], float]:
    """``build.load_frameworks``, step by step: read, validate, build the model."""
    schema = load_schema()
    data = path.read_bytes()
    ((table, _), t_read) = timed("read (table.read_table)", lambda: read_table(str(path), data))
    (problems, t_check) = timed("validate (validate.check_table)", lambda: check_table(table, schema, config))
    assert not [p for p in problems if p.level is Level.ERROR], problems[:3]
    (frameworks, t_build) = timed("build model (build.assemble)", lambda: assemble(table, schema))
    return frameworks, t_read + t_check + t_build


def measure(old_path: Path, new_path: Path, config: Config) -> tuple[float, float]:
    """Convert the old version, then diff it with the new one; CPU seconds of each."""
    print("convert (CSV -> CTDL-ASN JSON-LD):")
    frameworks, t_load = load(old_path, config)
    (graph, t_graph) = timed(
        "model -> graph",
        lambda: framework_to_graph(frameworks[0], "https://sandbox.credentialengineregistry.org"),
    )
    (out, t_dump) = timed("graph -> JSON text", lambda: dumps(graph))
    convert_total = t_load + t_graph + t_dump
    print(f"  {'total':<44} {convert_total:6.2f} s CPU ({len(out) / 1e6:.0f} MB of JSON)")

    print("diff (old version as above, then the new one):")
    new_frameworks, t_new = load(new_path, config)
    (diffs, t_diff) = timed("diff", lambda: diff_frameworks(frameworks, new_frameworks))
    (_, t_text) = timed("render text", lambda: text(diffs))
    timed("render markdown", lambda: markdown(diffs))
    diff_total = t_load + t_new + t_diff + t_text
    print(f"  {'total (both versions read, diff, text)':<44} {diff_total:6.2f} s CPU")
    t = totals(diffs)
    print(f"  found: {t['added']} added, {t['removed']} removed, {t['changed']} changed, {t['moved']} moved")
    return convert_total, diff_total


def cli(argv: list[str]) -> int:
    with open(os.devnull, "w") as sink, redirect_stdout(sink), redirect_stderr(sink):
        code = cli_main(argv)
    assert code == 0, (argv, code)
    return code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--competencies", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=4)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    config = Config(root=Path.cwd())
    with tempfile.TemporaryDirectory() as tmp:
        old_rows = generate(args.competencies, rng)
        new_rows, summary = change(old_rows, 0.01, rng)
        old_path, new_path = Path(tmp, "old.csv"), Path(tmp, "new.csv")
        old_path.write_bytes(to_csv(old_rows))
        new_path.write_bytes(to_csv(new_rows))
        size = old_path.stat().st_size / 1e6
        print(f"{len(old_rows) - 1:,} competencies ({size:.1f} MB); version 2: {summary}")

        print("(garbage collector paused, as the convert and diff commands do)")
        with gc_paused():
            convert_total, diff_total = measure(old_path, new_path, config)
        print("end to end, the commands themselves (in-process, output to a file / discarded):")
        out_json = str(Path(tmp, "old.json"))
        _, convert_cli = timed(
            "competency-ci convert old.csv -o old.json",
            lambda: cli(["convert", str(old_path), "-o", out_json]),
        )
        _, diff_cli = timed(
            "competency-ci diff old.csv new.csv", lambda: cli(["diff", str(old_path), str(new_path)])
        )
    worst = max(convert_total, diff_total, convert_cli, diff_cli)
    print(f"target < 3 s each (CPU): {'met' if worst < 3 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
