"""`competency-ci github`: what the GitHub Action runs (the run itself is ``competency_ci.action.run``)."""

from __future__ import annotations

import os

from competency_ci.action.plumbing import MODES

__all__ = ["MODES", "github"]


def github(
    mode: str | None,
    config: str | None,
    *,
    local: bool | None = None,
    base: str | None = None,
    everything: bool = False,
) -> int:
    """The action's run; ``local`` (None: outside Actions) prints its report as plain text;
    ``everything``: plan every framework on a merge (``--all``, the input ``scope: all``)."""
    from competency_ci.action.plumbing import ENV
    from competency_ci.action.run import run_action

    environ = dict(os.environ)
    if everything:
        environ[ENV["scope"]] = "all"
    return run_action(mode, config, environ, local=local, base=base)
