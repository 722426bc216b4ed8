"""Retiring frameworks: which ones the repository no longer publishes, and how (any target).

A framework is retired when its file (or its rows) left the repository, or when its file marks it
``ceasn:publicationStatusType`` = Deprecated. The configuration's ``retire`` says what a target does:

- ``deprecate`` (default): the stored framework stays, its publication status becomes Deprecated
  (a framework still in the repository is simply published with the status its file gives it);
- ``delete``: the framework, and the competencies and relations this key owns and no other framework
  lists, are deleted (CASS ``multiDelete``; the Registry Assistant's ``CompetencyFramework/delete``).

Which frameworks left is learnt from git (the old versions of the changed files: a pull request's
or a merge's base, ``plan --git BASE``) or from the last publish record (``plan --record FILE``).
Nothing here sends a request; ``gone_in_git`` only runs git.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from competency_ci.frameworks.config import Config
    from competency_ci.frameworks.model import Framework
    from competency_ci.gitfiles import FileChange
    from competency_ci.targets.record import PublishRecord

DEPRECATE, DELETE = "deprecate", "delete"
DEPRECATED = "http://credreg.net/ctdlasn/vocabs/publicationStatus/Deprecated"
STATUS = "ceasn:publicationStatusType"
FILE_DELETED = "its file was deleted from the repository"
MARKED = "its file marks it Deprecated"


@dataclass(frozen=True)
class Retirement:
    """One framework to retire: what it was called, where its file was, why, and how."""

    ctid: str
    name: str
    path: str
    reason: str  # FILE_DELETED | MARKED
    mode: str  # DEPRECATE | DELETE

    @property
    def action(self) -> str:
        return "delete" if self.mode == DELETE else "deprecate"

    def describe(self) -> str:
        """One line for plans and accounts: ``path: name (ctid): retire (delete): why``."""
        return f"{self.path}: {self.name} ({self.ctid}): retire ({self.action}): {self.reason}"

    def to_dict(self) -> dict[str, str]:
        """What every target's JSON says of a retirement, before its own facts."""
        return {
            "ctid": self.ctid,
            "name": self.name,
            "path": self.path,
            "reason": self.reason,
            "action": self.action,
        }


@dataclass(frozen=True)
class Gone:
    """A framework the repository published before and holds no longer."""

    ctid: str
    name: str
    path: str


def is_deprecated(framework: Framework) -> bool:
    value = framework.properties.get(STATUS)
    return (value if isinstance(value, str) else "").rstrip("/").endswith("/Deprecated")


def split(
    frameworks: Sequence[Framework], gone: Iterable[Gone], mode: str
) -> tuple[list[Framework], list[Retirement]]:
    """The frameworks to publish and the retirements. A framework its file marks Deprecated is
    published (``deprecate``) or retired by deletion (``delete``), never both."""
    publish: list[Framework] = []
    retire: list[Retirement] = []
    present = {fw.ctid for fw in frameworks}
    for fw in frameworks:
        if mode == DELETE and is_deprecated(fw):
            retire.append(Retirement(fw.ctid, fw.name, fw.path, MARKED, DELETE))
        else:
            publish.append(fw)
    seen: set[str] = set()
    for g in gone:
        if g.ctid in present or g.ctid in seen:
            continue
        seen.add(g.ctid)
        retire.append(Retirement(g.ctid, g.name, g.path, FILE_DELETED, mode))
    return publish, retire


def deletes(retirements: Iterable[Retirement]) -> list[Retirement]:
    return [r for r in retirements if r.mode == DELETE]


def deleting_headline(retirements: Sequence[Retirement], target: str) -> str:
    """What a pull request's first line says when its plan deletes frameworks ("" when none)."""
    doomed = deletes(retirements)
    if not doomed:
        return ""
    names = ", ".join(f"{r.name} ({r.ctid})" for r in doomed[:3])
    more = f" and {len(doomed) - 3} more" if len(doomed) > 3 else ""
    count = f"{len(doomed)} framework{'s' if len(doomed) != 1 else ''}"
    return f"DELETES {count} from {target}: {names}{more}"


def gone_in_record(record: PublishRecord) -> list[Gone]:
    """Every framework the record says was published (or was being retired and not finished)."""
    return [Gone(f.ctid, f.name, f.path) for f in record.frameworks if f.outcome != "deleted"]


def gone_in_git(changes: Sequence[FileChange], base: str, config: Config, top: Path) -> list[Gone]:
    """The frameworks the changed files held at ``base`` (``split`` keeps those no longer present)."""
    return [Gone(fw.ctid, fw.name, path) for fw, path in old_versions(changes, base, config, top)]


def old_versions(
    changes: Sequence[FileChange], base: str, config: Config, top: Path
) -> list[tuple[Framework, str]]:
    """The frameworks the changed files held at ``base``, with the file's path there. A base
    version that does not load is skipped: it never published a framework."""
    from competency_ci.frameworks.build import InvalidFrameworks, load_frameworks
    from competency_ci.gitfiles import GitError, read_at

    found: list[tuple[Framework, str]] = []
    for change in changes:
        if change.old_path is None:
            continue
        try:
            old = load_frameworks(change.old_path, config, data=read_at(base, change.old_path, top))
        except (InvalidFrameworks, GitError):
            continue
        found.extend((fw, change.old_path) for fw in old)
    return found


@dataclass(frozen=True)
class Baseline:
    """The frameworks as the repository last published them (drift compares the server with these):
    at ``revision``, by CTID. A framework of an unchanged file is its current version; one new since
    ``revision`` has none."""

    revision: str
    frameworks: dict[str, Framework]


def baseline(
    current: Sequence[Framework],
    changes: Sequence[FileChange],
    base: str,
    config: Config,
    top: Path,
    label: str | None = None,
) -> Baseline:
    old = {fw.ctid: fw for fw, _ in old_versions(changes, base, config, top)}
    changed = {(top / c.new_path).resolve() for c in changes if c.new_path is not None}
    frameworks: dict[str, Framework] = {}
    for fw in current:
        if fw.ctid in old:
            frameworks[fw.ctid] = old[fw.ctid]
        elif Path(fw.path).resolve() not in changed:
            frameworks[fw.ctid] = fw
    return Baseline(label or base[:12], frameworks)


__all__ = [
    "DELETE",
    "DEPRECATE",
    "DEPRECATED",
    "Baseline",
    "Gone",
    "Retirement",
    "baseline",
    "deleting_headline",
    "gone_in_git",
    "gone_in_record",
    "is_deprecated",
    "split",
]
