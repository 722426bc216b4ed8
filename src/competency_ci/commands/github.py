"""`competency-ci github`: what the GitHub Action runs (the run itself is ``competency_ci.action.run``)."""

from __future__ import annotations

import os

from competency_ci.action.plumbing import MODES

__all__ = ["MODES", "github"]


def github(
    mode: str | None, config: str | None, *, local: bool | None = None, base: str | None = None
) -> int:
    """The action's run; ``local`` (None: outside Actions) prints its report as plain text."""
    from competency_ci.action.run import run_action

    return run_action(mode, config, dict(os.environ), local=local, base=base)
