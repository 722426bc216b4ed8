"""The validator's checks, one module per layer: header, cells (row by row), structure (across rows).

Every check reads its rules from the template schema (``competency_ci.schema``); none keeps its own
list of columns, patterns or vocabularies.
"""

from __future__ import annotations

import json


def quote(value: str, limit: int = 80) -> str:
    """A value as shown in messages: quoted, escapes visible, long values shortened."""
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return json.dumps(value, ensure_ascii=False)
