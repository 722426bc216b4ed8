"""The pre-commit path stays light: `competency-ci validate` on a small file, in a fresh process,
imports no network, crypto, YAML or Frictionless code, and never builds the bulk acceptor.

Read from ``python -X importtime`` (every module the process imports, on stderr), so the check is the
real ``python -m competency_ci`` start-up, not an import inside the test process.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from validate_support import GOOD

# Never needed to check a small framework file with an empty (or no) configuration.
HEAVY = (
    "requests",
    "urllib3",
    "cryptography",
    "frictionless",
    "yaml",
    "socket",
    "ssl",
    "email",
    "http.client",
    "json.tool",
    "difflib",  # only for a column name that is not in the schema
    "html",  # only for Markdown output
    "competency_ci.http",
    "competency_ci.frameworks.checks.bulk",  # only for files of SETTLE_BYTES and more
    "competency_ci.frameworks.checks.collection",  # only for files with collection rows
)


def imported(cwd: Path, *args: str) -> tuple[int, str, set[str]]:
    """Exit code, stdout and the names of all modules a fresh ``competency-ci`` process imports."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "competency_ci", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )
    names = {
        line.rsplit("|", 1)[-1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    return done.returncode, done.stdout, names


def test_validate_of_a_small_file_imports_nothing_heavy(tmp_path: Path) -> None:
    (tmp_path / ".competency-ci.yaml").write_text("", encoding="utf-8")  # an empty config: the root
    (tmp_path / "framework.csv").write_text(GOOD, encoding="utf-8")
    code, out, names = imported(tmp_path, "validate", "framework.csv")
    assert (code, out) == (0, "1 file OK\n")
    assert "competency_ci.frameworks.validate" in names  # the listing is read right
    assert sorted(name for name in HEAVY if name in names) == []


def test_a_large_file_still_goes_to_the_bulk_acceptor(tmp_path: Path) -> None:
    from competency_ci.frameworks.validate import SETTLE_BYTES

    framework = GOOD.splitlines()[1].split(",")[0]
    rows, n = [GOOD], 0
    while sum(map(len, rows)) < SETTLE_BYTES:  # more top competencies, each its own CTID
        n += 1
        rows.append(f"ce-{n:08x}-0000-4000-8000-000000000000,ceasn:Competency,,,,,,,Step {n},{framework},\n")
    (tmp_path / "framework.csv").write_text("".join(rows), encoding="utf-8")
    code, out, names = imported(tmp_path, "validate", "framework.csv")
    assert (code, out) == (0, "1 file OK\n")
    assert "competency_ci.frameworks.checks.bulk" in names
