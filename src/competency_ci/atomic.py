"""Write a file whole or not at all: a crash, a full disk or an unencodable character leaves the
old file (or no file), never a partial one."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path


def _mode(path: Path) -> int:
    """The existing file's permissions, else what ``open()`` would give (0o666 less the umask)."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_text(path: Path, text: str) -> None:
    """Encode first (a lone surrogate fails before anything is written), then write a temporary
    file beside ``path`` and rename it over ``path``. Raises UnicodeEncodeError or OSError."""
    data = text.encode("utf-8")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, _mode(path))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
