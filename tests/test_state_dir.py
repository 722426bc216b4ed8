"""`.competency-ci/` (the sandbox's private key and database) is never committed: it ignores itself."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from competency_ci.sandbox import start_embedded
from competency_ci.sandbox.key import sandbox_key
from competency_ci.sandbox.state import GITIGNORE, state_dir


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    result = subprocess.run(
        ["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True, timeout=60
    )
    return result.stdout


def test_the_key_and_the_database_are_ignored_by_git(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / "kitchen.csv").write_text("@id\n")
    _, created = sandbox_key(tmp_path)
    server = start_embedded(tmp_path)
    server.stop()
    assert created
    assert (tmp_path / ".competency-ci" / ".gitignore").read_text("utf-8") == GITIGNORE
    assert sorted(p.name for p in (tmp_path / ".competency-ci").iterdir()) == [
        ".gitignore",
        "sandbox-key.pem",
        "sandbox.sqlite3",
    ]
    # only the user's own file is untracked; `git add .` would not take the key
    assert git(tmp_path, "status", "--porcelain", "--untracked-files=all") == "?? kitchen.csv\n"
    git(tmp_path, "add", ".")
    assert git(tmp_path, "diff", "--cached", "--name-only") == "kitchen.csv\n"
    key = ".competency-ci/sandbox-key.pem"
    assert git(tmp_path, "check-ignore", key) == f"{key}\n"


def test_a_folder_from_an_older_version_gets_its_gitignore_and_a_users_own_is_kept(tmp_path: Path) -> None:
    old = tmp_path / ".competency-ci"
    old.mkdir()
    (old / "sandbox.sqlite3").write_bytes(b"")
    assert state_dir(tmp_path) == old
    assert (old / ".gitignore").read_text("utf-8") == GITIGNORE
    (old / ".gitignore").write_text("sandbox.sqlite3\n")
    state_dir(tmp_path)
    assert (old / ".gitignore").read_text("utf-8") == "sandbox.sqlite3\n"
