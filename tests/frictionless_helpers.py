"""Running the reference engine, frictionless, as a user would: on a CSV with our descriptor.

Frictionless is pointed at a file through a copy of our data package whose one resource ``path``
is that file, written next to it: the same schema *and* dialect (comma, UTF-8) as the validator
reads, no dialect sniffing, and a relative path frictionless accepts without ``--trusted``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from competency_ci.schema import load_schema


def package_for(csv_path: Path) -> Path:
    """Write ``<csv>.datapackage.json`` beside ``csv_path``: our descriptor with the path replaced."""
    descriptor: dict[str, Any] = json.loads(json.dumps(load_schema().descriptor))
    descriptor["resources"][0]["path"] = csv_path.name
    target = csv_path.with_name(csv_path.name + ".datapackage.json")
    target.write_text(json.dumps(descriptor), encoding="utf-8")
    return target


def copy_with_package(csv_path: Path, directory: Path) -> Path:
    """Copy a CSV into ``directory`` with its data package; returns the package path."""
    target = directory / csv_path.name
    shutil.copyfile(csv_path, target)
    return package_for(target)


def frictionless_cli(package: Path) -> dict[str, Any]:
    """``frictionless validate --json`` on a package, as a whole process; the parsed report."""
    done = subprocess.run(
        [sys.executable, "-m", "frictionless", "validate", package.name, "--json"],
        cwd=package.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return report
