"""The real CE/CASS sample files (read in place) get exactly the documented findings
(docs/pages/guide/validate.md, "The sample files"): none has the `ceasn:publisher` CE's publishing
API requires (an error), and with the organization configured `fix` fills it and they have no
error left."""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

import pytest

from competency_ci.frameworks.config import Config
from competency_ci.frameworks.fix import fix_text
from competency_ci.frameworks.validate import validate_paths
from conftest import SAMPLES

EXPECTED = {
    # no publisher (error) or dateCreated column; the framework's description repeats its name
    "ce-minimum-data-hist101.csv": {
        ("missing-column", "error", None): 1,
        ("required-if-available-missing", "warning", None): 1,
        ("description-equals-name", "notice", "C"): 1,
    },
    # no publisher or dateCreated column; O*NET's CTIDs are version-1 UUIDs (1 framework + 71 competencies)
    "ce-benchmark-onet-abilities.csv": {
        ("missing-column", "error", None): 1,
        ("required-if-available-missing", "warning", None): 1,
        ("ctid-not-v4", "notice", "A"): 72,
    },
    # no publisher column; CASS's date-times in dateCreated (CE keeps only the date) on all 17 rows
    "cass-export-harvard-ei.csv": {
        ("missing-column", "error", None): 1,
        ("date-has-time", "warning", "C"): 17,
    },
}
ORGANIZATION = "ce-1abb6c52-0f8c-4b17-9f89-7e9807673106"


@pytest.mark.parametrize("name", list(EXPECTED))
def test_sample_has_only_the_documented_findings(name: str, tmp_path: Path) -> None:
    result = validate_paths([str(SAMPLES / name)], Config(root=tmp_path))
    assert result.files and not result.unusable
    assert Counter((p.code, p.level.value, p.letter) for p in result.problems) == EXPECTED[name]
    assert result.exit_code(strict=False) == 1


@pytest.mark.parametrize("name", list(EXPECTED))
def test_fix_with_the_organization_leaves_no_error(name: str, tmp_path: Path) -> None:
    """`fix` adds the publisher column (after its predecessor in the descriptor) with the configured
    organization on the framework row; then the sample has no error, only its other findings."""
    copy = tmp_path / name
    copy.write_bytes((SAMPLES / name).read_bytes())
    result = fix_text(copy.read_text("utf-8"), organization=ORGANIZATION)
    assert result.changes["filled-column"] == 1 and result.changes["filled"] == 1
    copy.write_text(result.text, encoding="utf-8")
    header, framework = list(csv.reader(io.StringIO(result.text)))[:2]
    assert framework[header.index("ceasn:publisher")] == ORGANIZATION
    assert header.index("ceasn:publisher") == header.index("ceasn:inLanguage") + 1
    after = validate_paths([str(copy)], Config(root=tmp_path))
    left = Counter((p.code, p.level.value, p.letter) for p in after.problems)
    assert left == {k: v for k, v in EXPECTED[name].items() if k[0] != "missing-column"}
    assert after.exit_code(strict=False) == 0


def test_missing_columns_are_named() -> None:
    result = validate_paths([str(SAMPLES / "ce-minimum-data-hist101.csv")], Config(root=SAMPLES))
    messages = sorted(
        p.message for p in result.problems if p.code in ("missing-column", "required-if-available-missing")
    )
    assert [m.split(": ", 1)[1] for m in messages] == [
        "there is no ceasn:publisher column (1 row needs it)",
        "there is no ceasn:dateCreated column (1 row needs it)",
    ]
