"""Shared test fixtures. Samples in ../shared are read in place, never copied."""

from __future__ import annotations

from pathlib import Path

import pytest

from competency_ci.cli.main import main

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
SAMPLES = SHARED / "samples"
VECTORS = SHARED / "vectors"
EXAMPLES = REPO / "examples" / "frameworks"


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
