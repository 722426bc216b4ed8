"""`competency-ci sandbox serve`: the local CASS-compatible sandbox in the foreground."""

from __future__ import annotations

import signal
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

from competency_ci.commands.common import EXIT_OK, EXIT_USAGE
from competency_ci.frameworks.config import load_config


@dataclass(frozen=True)
class ServeOptions:
    config: str | None = None
    host: str = "127.0.0.1"
    port: int = 8080
    db: str | None = None
    allow_remote: bool = False
    post_max_size: int | None = None
    admin_key: str | None = None
    reject_sha1: bool = False
    quiet: bool = False


def serve(options: ServeOptions) -> int:
    from competency_ci.http import is_loopback
    from competency_ci.sandbox.app import DEFAULT_POST_MAX_SIZE
    from competency_ci.sandbox.kbac import normalize_key
    from competency_ci.sandbox.key import SANDBOX_KEY
    from competency_ci.sandbox.server import EMBEDDED_DB, SandboxServer
    from competency_ci.sandbox.state import state_dir

    if not is_loopback(options.host) and not options.allow_remote:
        print(
            f"competency-ci sandbox: refusing to listen on {options.host}: the sandbox is for local use; "
            "add --allow-remote to expose it",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if options.db:
        db = options.db
    else:
        root = load_config(options.config).root
        state_dir(root)
        db = str(root / EMBEDDED_DB)
    admin_keys: list[str] = []
    if options.admin_key:
        try:
            admin_keys = [Path(options.admin_key).read_text("utf-8")]
        except (OSError, UnicodeDecodeError) as exc:
            print(f"competency-ci sandbox: cannot read {options.admin_key}: {exc}", file=sys.stderr)
            return EXIT_USAGE
        if normalize_key(admin_keys[0]) is None:
            print(f"competency-ci sandbox: {options.admin_key} is not a PEM RSA public key", file=sys.stderr)
            return EXIT_USAGE
    try:
        server = SandboxServer(
            host=options.host,
            port=options.port,
            db_path=db,
            post_max_size=options.post_max_size or DEFAULT_POST_MAX_SIZE,
            admin_public_keys=admin_keys,
            reject_sha1=options.reject_sha1,
            log=None if options.quiet else sys.stderr,
        )
    except (OSError, socket.gaierror) as exc:
        print(
            f"competency-ci sandbox: cannot listen on {options.host}:{options.port}: {exc}", file=sys.stderr
        )
        return EXIT_USAGE
    print(f"CASS sandbox listening on {server.url} (database: {db}); Ctrl-C stops it", flush=True)
    print(
        f"Publish to it with: competency-ci publish --server {server.url} (without CASS_KEY or "
        f"cass.key-file, publish signs with the sandbox key {SANDBOX_KEY} of the repository it runs in)",
        flush=True,
    )
    # Ctrl-C stops it even when the parent started us with SIGINT ignored (Python keeps an inherited
    # SIG_IGN), and SIGTERM stops it the same clean way.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("sandbox stopped", file=sys.stderr)
    finally:
        server.stop()
    return EXIT_OK
