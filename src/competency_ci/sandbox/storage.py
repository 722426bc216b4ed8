"""SQLite storage for the sandbox: current objects, every version, and lookup aliases.

Plays the part of CASS's Elasticsearch indexes (cass-api.md §3.2): the type index (``objects``,
the latest version), the ``permanent`` index (``history``, one row per version) and the guid /
md5(shortId) aliases that let ``GET /api/data/{uid}`` accept either form.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    key TEXT PRIMARY KEY, id TEXT NOT NULL, type TEXT, version INTEGER NOT NULL,
    body TEXT NOT NULL, owners TEXT NOT NULL, readers INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS history (
    key TEXT NOT NULL, version INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (key, version)
);
CREATE TABLE IF NOT EXISTS aliases (alias TEXT PRIMARY KEY, key TEXT NOT NULL);
"""
_CHUNK = 500  # bound parameters per IN (...) query


@dataclass
class Stored:
    """The latest version of an object."""

    key: str
    id: str
    type: str | None
    version: int
    body: str
    owners: list[str]
    readers: bool


@dataclass
class Write(Stored):
    """One object to store under ``key`` at ``version``, reachable through ``aliases`` too."""

    aliases: list[str] = field(default_factory=list)


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


class Store:
    """Thread-safe (one lock) access to the sandbox database; ``":memory:"`` or a file path."""

    def __init__(self, path: str = ":memory:") -> None:
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        if path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self.generation = 0  # counts writes and deletes: what a cached scan was read at
        self._scanned: tuple[tuple[int, tuple[str, ...] | None], list[Any]] | None = None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def resolve(self, uids: Iterable[str]) -> dict[str, str]:
        """uid (key, guid or md5 alias) -> storage key, for the uids that are known."""
        wanted = list(dict.fromkeys(uids))
        found: dict[str, str] = {}
        with self._lock:
            for chunk in _chunks(wanted):
                marks = ",".join("?" * len(chunk))
                query = f"SELECT alias, key FROM aliases WHERE alias IN ({marks})"
                found.update(self._db.execute(query, chunk).fetchall())
        return found

    def get_many(self, uids: Iterable[str]) -> dict[str, Stored]:
        """uid -> the latest stored version, for the uids that exist."""
        keys = self.resolve(uids)
        by_key: dict[str, Stored] = {}
        with self._lock:
            for chunk in _chunks(list(set(keys.values()))):
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    "SELECT key, id, type, version, body, owners, readers FROM objects "
                    f"WHERE key IN ({marks})",
                    chunk,
                ).fetchall()
                for key, id_, type_, version, body, owners, readers in rows:
                    by_key[key] = Stored(key, id_, type_, version, body, json.loads(owners), bool(readers))
        return {uid: by_key[key] for uid, key in keys.items() if key in by_key}

    def get(self, uid: str) -> Stored | None:
        return self.get_many([uid]).get(uid)

    def version(self, uid: str, version: int) -> str | None:
        """The body of one stored version (``/data/{type}/{uid}/{version}``, §3.2)."""
        key = self.resolve([uid]).get(uid)
        if key is None:
            return None
        with self._lock:
            row = self._db.execute(
                "SELECT body FROM history WHERE key = ? AND version = ?", (key, version)
            ).fetchone()
        return None if row is None else str(row[0])

    def history(self, uid: str) -> list[str]:
        """Every stored version's body, newest first (``?history=true``, §1.2)."""
        key = self.resolve([uid]).get(uid)
        if key is None:
            return []
        with self._lock:
            rows = self._db.execute(
                "SELECT body FROM history WHERE key = ? ORDER BY version DESC", (key,)
            ).fetchall()
        return [str(r[0]) for r in rows]

    def write_many(self, writes: list[Write]) -> None:
        """Store every write in one transaction (the publish benchmark pushes 10,000 objects)."""
        if not writes:
            return
        objects = [
            (w.key, w.id, w.type, w.version, w.body, json.dumps(w.owners), int(w.readers)) for w in writes
        ]
        history = [(w.key, w.version, w.body) for w in writes]
        with self._lock:
            self._db.execute("BEGIN")
            try:
                aliases = self._claimable_aliases(writes)
                self._db.executemany("INSERT OR REPLACE INTO objects VALUES (?, ?, ?, ?, ?, ?, ?)", objects)
                self._db.executemany("INSERT OR REPLACE INTO history VALUES (?, ?, ?)", history)
                self._db.executemany("INSERT OR REPLACE INTO aliases VALUES (?, ?)", aliases)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            self.generation += 1

    def _claimable_aliases(self, writes: list[Write]) -> list[tuple[str, str]]:
        """(alias, key) rows this batch may set. An object's own key always names it. Any other
        alias (guid, md5 of the short id) that already names a different object is re-pointed only
        when that object is current and ownerless or shares an owner with the write: a client can
        never take over another owner's id by choosing an ``@id`` with the same last segment."""
        wanted = {alias for w in writes for alias in w.aliases}
        current: dict[str, str] = {}
        for chunk in _chunks(sorted(wanted)):
            marks = ",".join("?" * len(chunk))
            current.update(
                self._db.execute(f"SELECT alias, key FROM aliases WHERE alias IN ({marks})", chunk)
            )
        targets = sorted(set(current.values()))
        owners: dict[str, list[str]] = {}
        for chunk in _chunks(targets):
            marks = ",".join("?" * len(chunk))
            found = self._db.execute(f"SELECT key, owners FROM objects WHERE key IN ({marks})", chunk)
            owners.update((key, json.loads(text)) for key, text in found)
        for w in writes:  # the batch's own objects, as they will be once written
            owners[w.key] = w.owners
        rows: list[tuple[str, str]] = []
        for w in writes:
            rows.append((w.key, w.key))
            current[w.key] = w.key
            for alias in dict.fromkeys(w.aliases):
                held = current.get(alias)
                if held is not None and held != w.key:
                    theirs = owners.get(held)
                    if theirs is None or (theirs and not set(theirs) & set(w.owners)):
                        continue  # another owner's (or a deleted object's) alias stays where it is
                rows.append((alias, w.key))
                current[alias] = w.key
        return rows

    def delete_many(self, keys: Iterable[str]) -> None:
        """Remove the latest versions; history stays, as CASS keeps ``permanent`` versions (§1.2)."""
        rows = [(k,) for k in keys]
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany("DELETE FROM objects WHERE key = ?", rows)
            self._db.execute("COMMIT")
            self.generation += 1

    def scan(self, type_names: Iterable[str] | None = None) -> list[Stored]:
        """Every current object (optionally of some types), in id order: the search backend."""
        query = "SELECT key, id, type, version, body, owners, readers FROM objects"
        params: list[str] = []
        if type_names is not None:
            params = list(type_names)
            query += f" WHERE type IN ({','.join('?' * len(params))})"
        with self._lock:
            rows = self._db.execute(query + " ORDER BY id", params).fetchall()
        return [Stored(k, i, t, v, b, json.loads(o), bool(r)) for k, i, t, v, b, o, r in rows]

    def scan_bodies(
        self, type_names: Iterable[str] | None = None
    ) -> list[tuple[str, str | None, int, str, bool]]:
        """(key, type, version, body, readers) of every current object, in id order: what search
        needs, without decoding owners it does not look at. Kept until the next write: a publish
        sends many searches in a row."""
        query = "SELECT key, type, version, body, readers FROM objects"
        params: list[str] = []
        if type_names is not None:
            params = list(type_names)
            query += f" WHERE type IN ({','.join('?' * len(params))})"
        with self._lock:
            wanted = (self.generation, None if type_names is None else tuple(params))
            if self._scanned is not None and self._scanned[0] == wanted:
                return self._scanned[1]
            rows = self._db.execute(query + " ORDER BY id", params).fetchall()
            result = [(k, t, v, b, bool(r)) for k, t, v, b, r in rows]
            self._scanned = (wanted, result)
        return result

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM objects").fetchone()[0])
