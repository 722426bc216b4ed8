"""A safe file name for a framework, from text a server sent (hostile: never a path, never hidden).

``{slug of the name}-{first 8 hex digits of the CTID}.csv``: readable, stable across pulls, and
distinct for two frameworks of one name. The slug keeps ASCII letters and digits only (accents
folded), so it holds no path separator, no leading dot, no control or invisible character, no
Windows device name or reserved character, and fits every file system's name limit.
"""

from __future__ import annotations

import re
import unicodedata

MAX_SLUG = 60
_NOT_WORD = re.compile(r"[^a-z0-9]+")
_DEVICES = frozenset(
    {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
)


def slug(text: str, limit: int = MAX_SLUG) -> str:
    """Lower-case ASCII words joined by ``-`` ('' when the text has none)."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    words = _NOT_WORD.sub("-", folded).strip("-")
    if len(words) > limit:
        words = words[:limit].rsplit("-", 1)[0] if "-" in words[:limit] else words[:limit]
    return words.strip("-")


def framework_file_name(name: str, ctid: str) -> str:
    """The CSV file name of a framework: ``safe-name-1234abcd.csv`` (``framework-...`` without a name)."""
    short = slug(ctid.removeprefix("ce-"), 8).replace("-", "")[:8] or "noctid"
    stem = slug(name) or "framework"
    if stem in _DEVICES:
        stem = f"framework-{stem}"
    return f"{stem}-{short}.csv"
