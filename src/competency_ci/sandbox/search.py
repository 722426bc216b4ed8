"""The sandbox's search: a subset of Elasticsearch ``query_string`` over stored objects (cass-api.md
§1.2 ``GET /data?q=``, ``POST /data/`` with ``searchParams``).

CASS hands ``q`` to Elasticsearch, which matches analysed text: a field's values are split into
lower-case words, and a phrase matches any run of consecutive words. The sandbox does the same, so
``source:"https://x/resources/ce-1"`` also matches ``https://x/resources/ce-1-2``, as on the real
server: clients must compare what comes back exactly. Supported: ``field:term``, ``field:"phrase"``,
``field:(a OR b ...)``, bare terms (any field), ``*``, ``AND`` / ``&&``, ``OR`` / ``||``, ``NOT`` /
``!``, parentheses, and juxtaposition (Elasticsearch's default operator, OR). Anything else is 400,
the status Elasticsearch gives for a query it cannot parse.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from competency_ci.sandbox.kbac import HttpError

_TOKEN = re.compile(r'\s*(\(|\)|&&|\|\||!|"(?:[^"\\]|\\.)*"|[^\s()"]+)')
_WORD = re.compile(r"\w+")

Matcher = Callable[[dict[str, Any]], bool]


@lru_cache(maxsize=65_536)
def words(text: str) -> tuple[str, ...]:
    """Elasticsearch's standard analysis, approximately: lower-case runs of letters and digits."""
    return tuple(_WORD.findall(text.lower()))


@lru_cache(maxsize=65_536)
def _joined(text: str) -> str:
    """A value's words as one string (its hash is kept: the whole-value test stays cheap)."""
    return " ".join(words(text))


def _values(value: Any) -> Iterable[str]:
    if isinstance(value, list):
        for v in value:
            yield from _values(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _values(v)
    elif value is not None:
        yield str(value)


@dataclass(frozen=True)
class _Phrases:
    """One field against several phrases (an OR group), matched by word runs in one pass."""

    field: str | None  # None: any field
    phrases: frozenset[tuple[str, ...]]
    anything: bool = False  # ``field:*``: the field exists
    lengths: frozenset[int] = frozenset()
    joined: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "lengths", frozenset(len(p) for p in self.phrases))
        object.__setattr__(self, "joined", frozenset(" ".join(p) for p in self.phrases))

    def __call__(self, obj: dict[str, Any]) -> bool:
        value = obj if self.field is None else obj.get(self.field)
        values = (value,) if isinstance(value, str) else _values(value)
        if self.anything:
            return any(True for _ in values)
        phrases, whole = self.phrases, self.joined
        for text in values:
            if _joined(text) in whole:  # the common case: a whole value, e.g. an id
                return True
            found = words(text)
            for n in self.lengths:
                if n < len(found) and any(found[i : i + n] in phrases for i in range(len(found) - n + 1)):
                    return True
        return False


class _Parser:
    def __init__(self, query: str) -> None:
        self.tokens: list[str] = []
        pos = 0
        while pos < len(query):
            match = _TOKEN.match(query, pos)
            if not match:
                if query[pos:].strip():
                    raise HttpError(400, f"Failed to parse query [{query}]")
                break
            self.tokens.append(match.group(1))
            pos = match.end()
        self.pos = 0
        self.query = query

    def fail(self) -> HttpError:
        return HttpError(400, f"Failed to parse query [{self.query}]")

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise self.fail()
        self.pos += 1
        return token

    def parse(self) -> Matcher:
        if not self.tokens:
            return lambda obj: True
        matcher = self.disjunction(None)
        if self.peek() is not None:
            raise self.fail()
        return matcher

    def disjunction(self, field: str | None) -> Matcher:
        parts = [self.conjunction(field)]
        while self.peek() not in (None, ")"):
            if self.peek() in ("OR", "||"):
                self.take()
            parts.append(self.conjunction(field))  # juxtaposition: the default operator, OR
        return _merge_or(parts)

    def conjunction(self, field: str | None) -> Matcher:
        parts = [self.negation(field)]
        while self.peek() in ("AND", "&&"):
            self.take()
            parts.append(self.negation(field))
        return parts[0] if len(parts) == 1 else lambda obj: all(p(obj) for p in parts)

    def negation(self, field: str | None) -> Matcher:
        if self.peek() in ("NOT", "!"):
            self.take()
            inner = self.negation(field)
            return lambda obj: not inner(obj)
        return self.primary(field)

    def primary(self, field: str | None) -> Matcher:
        token = self.take()
        if token == "(":
            inner = self.disjunction(field)
            if self.take() != ")":
                raise self.fail()
            return inner
        if token in (")", "AND", "OR", "&&", "||"):
            raise self.fail()
        if field is None and not token.startswith('"'):
            name, colon, rest = _split_field(token)
            if colon:
                if rest:
                    return _term(name, rest)
                if self.peek() is None:
                    raise self.fail()
                if self.peek() == "(":
                    self.take()
                    inner = self.disjunction(name)
                    if self.take() != ")":
                        raise self.fail()
                    return inner
                return _term(name, self.take())
        return _term(field, token)


def _split_field(token: str) -> tuple[str, bool, str]:
    """``name:value`` with ``\\:`` escapes in the name (``ceasn\\:name:x``)."""
    i = 0
    while i < len(token):
        if token[i] == "\\":
            i += 2
            continue
        if token[i] == ":":
            return token[:i].replace("\\", ""), True, token[i + 1 :]
        i += 1
    return token, False, ""


def _term(field: str | None, value: str) -> _Phrases:
    if value.startswith('"'):
        text = re.sub(r"\\(.)", r"\1", value[1:-1])
    else:
        text = re.sub(r"\\(.)", r"\1", value)
        if text == "*":
            return _Phrases(field, frozenset(), anything=field is not None) if field else _ALL
    phrase = words(text)
    if not phrase:
        return _Phrases(field, frozenset())
    if field == "@type":  # a type matches by its last word (``Relation`` or its full URI)
        phrase = phrase[-1:]
    return _Phrases(field, frozenset([phrase]))


_ALL = _Phrases(None, frozenset(), anything=True)


def _merge_or(parts: list[Matcher]) -> Matcher:
    """``f:(a OR b OR ...)`` becomes one matcher with a set of phrases: hundreds of ids stay fast."""
    if len(parts) == 1:
        return parts[0]
    groups: dict[str | None, set[tuple[str, ...]]] = {}
    others: list[Matcher] = []
    for part in parts:
        if isinstance(part, _Phrases) and not part.anything:
            groups.setdefault(part.field, set()).update(part.phrases)
        else:
            others.append(part)
    merged: list[Matcher] = [_Phrases(f, frozenset(p)) for f, p in groups.items()] + others
    if len(merged) == 1:
        return merged[0]
    return lambda obj: any(m(obj) for m in merged)


def compile_query(query: str) -> Matcher:
    """A predicate over stored objects for ``query``; 400 when it cannot be parsed."""
    if query.strip() in ("", "*"):
        return lambda obj: True
    return _Parser(query).parse()


def wanted_types(query: str) -> list[str] | None:
    """Types a query is limited to when it starts with ``@type:X AND``: lets storage skip the rest."""
    match = re.match(r"\s*@type\s*:\s*\"?([\w./:#-]+?)\"?\s+(?:AND|&&)\s", query + " ")
    if match is None:
        match = re.fullmatch(r"\s*@type\s*:\s*\"?([\w./:#-]+?)\"?\s*", query)
    if match is None:
        return None
    return [re.split(r"[/.#]", match.group(1))[-1]]
