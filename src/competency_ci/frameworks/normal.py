"""The one rule for when two values mean the same thing to CE, used wherever values are compared
(``frameworks/diff.py``, ``targets/registry/status.py``).

* A concept URI names the same concept in each of its published forms: CE's concept schemes are
  served under ``purl.org`` and ``credreg.net``, over ``http`` and ``https``
  (``http://purl.org/ctdlasn/vocabs/publicationStatus/Published`` is
  ``http://credreg.net/ctdlasn/vocabs/publicationStatus/Published``). The aliases of each scheme
  are the descriptor's ``vocabularyAliases``; values compare in the form its ``vocabulary`` uses.
* A CTID inside a URI compares in lower case: the Registry Assistant lower-cases publisher,
  creator and alignment URLs (``SetUrlsToLowerCase``), so the live copy holds them so.
"""

from __future__ import annotations

import re
from functools import cache

from competency_ci.frameworks.model import Value
from competency_ci.schema import load_schema

_CTID_IN_URI = re.compile(
    r"(?<=/)ce-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE
)


@cache
def _aliases() -> tuple[re.Pattern[str], dict[str, str]]:
    pairs = dict(load_schema().vocabulary_aliases)
    pattern = "|".join(re.escape(alias) for alias in sorted(pairs, key=len, reverse=True))
    return re.compile(f"^(?:{pattern})" if pattern else "(?!)"), pairs


def normal(value: str) -> str:
    """``value`` in the form it is compared in (values that are not URIs come back unchanged)."""
    if not value.startswith(("http://", "https://")):
        return value
    aliases, canonical = _aliases()
    value = aliases.sub(lambda m: canonical[m.group(0)], value, count=1)
    return _CTID_IN_URI.sub(lambda m: m.group(0).lower(), value)


def normal_value(value: Value | None) -> Value | None:
    """A model value (string or list) with each item in its compared form."""
    if value is None:
        return None
    if isinstance(value, str):
        return normal(value)
    return [normal(v) for v in value]
