"""Shared test fixtures. Everything a test reads is inside the repository (``tests/data``, ``examples``);
reference data the project does not ship is reached only through :func:`reference`, which skips."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from competency_ci.cli.main import main
from competency_ci.sandbox import SandboxServer

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data"
SAMPLES = DATA / "samples"  # public CE and CASS files, provenance in tests/data/samples/README.md
VECTORS = DATA / "vectors"  # cassproject's own signatures, provenance in tests/data/vectors/README.md
# Reference data the project may not ship (CASS's term maps, CE's schema files): present only beside a
# development checkout. A test that cross-checks against it asks `reference(...)`, which skips when absent.
REFERENCE = Path(os.environ.get("COMPETENCY_CI_REFERENCE", REPO.parent / "shared" / "reference"))
EXAMPLES = REPO / "examples" / "frameworks"


def reference(relative: str) -> Path:
    """A reference file, or skip the test with the reason when this checkout has none beside it."""
    path = REFERENCE / relative
    if not path.exists():
        pytest.skip(
            f"reference data {relative} is not shipped with competency-ci and is absent here ({path}); "
            "set COMPETENCY_CI_REFERENCE to a folder holding it to run this cross-check"
        )
    return path


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Run ``competency-ci`` in-process; returns (exit code, stdout, stderr).

    GITHUB_ACTIONS is cleared so the output format is the plain-text default unless a test sets it.
    """
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    """A fresh, empty CASS sandbox on 127.0.0.1 (any free port) for one test."""
    with SandboxServer("127.0.0.1", 0) as server:
        yield server
