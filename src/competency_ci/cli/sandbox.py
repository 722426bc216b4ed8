"""`competency-ci sandbox serve`: run the local CASS-compatible sandbox in the foreground."""

from __future__ import annotations

import argparse
import socket
import sys
from pathlib import Path

from competency_ci.cli.main import EXIT_OK, EXIT_USAGE
from competency_ci.frameworks.config import load_config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="action", required=True)
    serve = sub.add_parser(
        "serve",
        help="serve the sandbox until Ctrl-C",
        description="Serve a CASS-compatible repository (the documented CASS HTTP API) backed by SQLite.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port (default: 8080; 0 = any free port)")
    serve.add_argument(
        "--db",
        metavar="FILE",
        help="SQLite database (default: .competency-ci/sandbox.sqlite3 at the repository root, "
        "the one `publish --server sandbox` uses; ':memory:' keeps nothing)",
    )
    serve.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a non-loopback --host (the sandbox has no TLS and lets anyone create objects)",
    )
    serve.add_argument(
        "--post-max-size", type=int, default=None, metavar="BYTES", help="largest accepted form field"
    )
    serve.add_argument(
        "--admin-key",
        metavar="PEM_FILE",
        help="public key (PEM) that may overwrite and delete any object, like CASS's skyAdmin2.pem",
    )
    serve.add_argument(
        "--reject-sha1", action="store_true", help="refuse SHA-1 signature sheets (CASS REJECT_SHA1)"
    )
    serve.add_argument("--quiet", action="store_true", help="do not print one line per request")


def run(args: argparse.Namespace) -> int:
    from competency_ci.http import is_loopback
    from competency_ci.sandbox.app import DEFAULT_POST_MAX_SIZE
    from competency_ci.sandbox.kbac import normalize_key
    from competency_ci.sandbox.server import EMBEDDED_DB, SandboxServer
    from competency_ci.sandbox.state import state_dir

    if not is_loopback(args.host) and not args.allow_remote:
        print(
            f"competency-ci sandbox: refusing to listen on {args.host}: the sandbox is for local use; "
            "add --allow-remote to expose it",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.db:
        db = args.db
    else:
        root = load_config(args.config).root
        state_dir(root)
        db_path = root / EMBEDDED_DB
        db = str(db_path)
    admin_keys: list[str] = []
    if args.admin_key:
        try:
            admin_keys = [Path(args.admin_key).read_text("utf-8")]
        except (OSError, UnicodeDecodeError) as exc:
            print(f"competency-ci sandbox: cannot read {args.admin_key}: {exc}", file=sys.stderr)
            return EXIT_USAGE
        if normalize_key(admin_keys[0]) is None:
            print(f"competency-ci sandbox: {args.admin_key} is not a PEM RSA public key", file=sys.stderr)
            return EXIT_USAGE
    try:
        server = SandboxServer(
            host=args.host,
            port=args.port,
            db_path=db,
            post_max_size=args.post_max_size or DEFAULT_POST_MAX_SIZE,
            admin_public_keys=admin_keys,
            reject_sha1=args.reject_sha1,
            log=None if args.quiet else sys.stderr,
        )
    except (OSError, socket.gaierror) as exc:
        print(f"competency-ci sandbox: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"CASS sandbox listening on {server.url} (database: {db}); Ctrl-C stops it", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("sandbox stopped", file=sys.stderr)
    finally:
        server.stop()
    return EXIT_OK
