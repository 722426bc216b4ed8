"""`competency-ci sandbox serve`: run the local CASS-compatible sandbox in the foreground."""

from __future__ import annotations

import argparse


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
    from competency_ci.commands.sandbox import ServeOptions, serve

    return serve(
        ServeOptions(
            config=args.config,
            host=args.host,
            port=args.port,
            db=args.db,
            allow_remote=args.allow_remote,
            post_max_size=args.post_max_size,
            admin_key=args.admin_key,
            reject_sha1=args.reject_sha1,
            quiet=args.quiet,
        )
    )
