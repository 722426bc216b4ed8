"""The sandbox's state folder ``.competency-ci/`` (its private key and database) at the repository root.

The folder holds a private key, so it must never be committed: it carries its own ``.gitignore``
(``*``), which ignores it wherever it sits, without touching the user's own ignore files.
"""

from __future__ import annotations

from pathlib import Path

STATE_DIR = Path(".competency-ci")
GITIGNORE = "# Written by competency-ci: a private key and a database that stay on this machine.\n*\n"


def state_dir(root: Path) -> Path:
    """``<root>/.competency-ci``, created with its ``.gitignore`` (also added to an older folder)."""
    folder = root / STATE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text(GITIGNORE, encoding="utf-8", newline="\n")
    return folder
