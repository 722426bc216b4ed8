"""Framework files as they were at git revisions: what changed between two, and their bytes.

The thin shell around ``git``: ``git diff --name-status -z -M`` lists added, deleted, modified and
renamed files (renames followed, so a moved file diffs against its old self) and
``git show REV:PATH`` reads a version without touching the work tree.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

ADDED, DELETED, MODIFIED, RENAMED = "added", "deleted", "modified", "renamed"
_STATUS = {"A": ADDED, "D": DELETED, "M": MODIFIED, "T": MODIFIED, "R": RENAMED, "C": ADDED}


class GitError(Exception):
    """git failed (not a repository, unknown revision, ...); the message is git's own."""


@dataclass(frozen=True)
class FileChange:
    """One changed file; paths are relative to the repository's top level."""

    status: str
    old_path: str | None
    new_path: str | None


def git(args: list[str], cwd: Path) -> bytes:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except OSError as exc:
        raise GitError(f"cannot run git: {exc.strerror}") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(message[0] if message else f"git {args[0]} failed ({done.returncode})")
    return done.stdout


def top_level(cwd: Path) -> Path:
    return Path(git(["rev-parse", "--show-toplevel"], cwd).decode("utf-8").strip())


def resolve(rev: str, cwd: Path) -> str:
    """The commit a revision names; GitError with git's message when it names none."""
    return (
        git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"], cwd)
        .decode()
        .strip()
    )


def parse_name_status(output: bytes) -> list[FileChange]:
    """``git diff --name-status -z`` output: status, path (two paths for renames and copies)."""
    fields = output.decode("utf-8", "surrogateescape").split("\0")
    changes: list[FileChange] = []
    i = 0
    while i < len(fields) and fields[i]:
        code = fields[i][0]
        if code in "RC":
            old, new = fields[i + 1], fields[i + 2]
            changes.append(FileChange(_STATUS[code], old if code == "R" else None, new))
            i += 3
        else:
            path = fields[i + 1]
            status = _STATUS.get(code, MODIFIED)
            changes.append(
                FileChange(status, None if status == ADDED else path, None if status == DELETED else path)
            )
            i += 2
    return changes


def changed_files(base: str, head: str, pathspecs: list[str], cwd: Path) -> list[FileChange]:
    """CSV files that differ between ``base`` and ``head``, renames paired with their old path."""
    for rev in (base, head):
        try:
            resolve(rev, cwd)
        except GitError:
            raise GitError(f"unknown revision {rev!r}") from None
    output = git(["diff", "--name-status", "-z", "-M", base, head, "--", *pathspecs], cwd)
    return [
        c
        for c in parse_name_status(output)
        if any(p is not None and p.lower().endswith(".csv") for p in (c.old_path, c.new_path))
    ]


def read_at(rev: str, path: str, top: Path) -> bytes:
    """The bytes of ``path`` (relative to the top level) at revision ``rev``."""
    return git(["show", f"{rev}:{path}"], top)


def changed_since(base: str, pathspecs: list[str], cwd: Path) -> list[FileChange]:
    """CSV files that differ between ``base`` and the work tree (``plan --git BASE``)."""
    try:
        resolve(base, cwd)
    except GitError:
        raise GitError(f"unknown revision {base!r}") from None
    output = git(["diff", "--name-status", "-z", "-M", base, "--", *pathspecs], cwd)
    return [
        c
        for c in parse_name_status(output)
        if any(p is not None and p.lower().endswith(".csv") for p in (c.old_path, c.new_path))
    ]
