"""The real CE/CASS sample files (read in place) validate without errors; the notices and warnings
they do get are exactly the documented ones (docs/pages/guide/validate.md, "The sample files")."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from competency_ci.frameworks.config import Config
from competency_ci.frameworks.validate import validate_paths
from conftest import SAMPLES

EXPECTED = {
    # no publisher/dateCreated columns; the framework's description repeats its name
    "ce-minimum-data-hist101.csv": {
        ("required-if-available-missing", "warning", None): 2,
        ("description-equals-name", "notice", "C"): 1,
    },
    # no publisher/dateCreated columns; O*NET's CTIDs are version-1 UUIDs (1 framework + 71 competencies)
    "ce-benchmark-onet-abilities.csv": {
        ("required-if-available-missing", "warning", None): 2,
        ("ctid-not-v4", "notice", "A"): 72,
    },
    # no publisher column
    "cass-export-harvard-ei.csv": {
        ("required-if-available-missing", "warning", None): 1,
    },
}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_sample_has_no_errors_and_only_the_documented_findings(name: str, tmp_path: Path) -> None:
    result = validate_paths([str(SAMPLES / name)], Config(root=tmp_path))
    assert result.files and not result.unusable
    assert Counter((p.code, p.level.value, p.letter) for p in result.problems) == EXPECTED[name]
    assert result.exit_code(strict=False) == 0


def test_missing_columns_are_named() -> None:
    result = validate_paths([str(SAMPLES / "ce-minimum-data-hist101.csv")], Config(root=SAMPLES))
    messages = sorted(p.message for p in result.problems if p.code == "required-if-available-missing")
    assert [m.split(": ", 1)[1] for m in messages] == [
        "there is no ceasn:dateCreated column (1 row needs it)",
        "there is no ceasn:publisher column (1 row needs it)",
    ]
