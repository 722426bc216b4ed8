"""Where progress lines go (a retry and its wait, a batch of a large publish).

A module of its own, with no imports, so that the command line can route them to stderr without
importing :mod:`competency_ci.http` on the validate path (a pre-commit run never talks to a server).
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str], None]
# nowhere by default; the command line sends them to stderr, tests to a list
_progress: Progress | None = None


def set_progress(sink: Progress | None) -> Progress | None:
    """Send :func:`progress` lines to ``sink`` (None: nowhere); returns the previous sink."""
    global _progress
    previous, _progress = _progress, sink
    return previous


def progress(message: str) -> None:
    """Tell a person watching a long run what is happening, e.g. ``"batch 3 of 12 written"``."""
    if _progress is not None:
        _progress(message)
