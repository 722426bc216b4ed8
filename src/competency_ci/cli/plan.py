"""`competency-ci plan`: show what publishing to CASS would create, update and delete, and why.

The options and the set-up (validate first, pick the server, load the key) are shared with
``publish``, which imports them from here.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from competency_ci.frameworks.config import Config, ConfigError, load_config

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

    from competency_ci.frameworks.model import Framework
    from competency_ci.targets.cass.plan import Plan
    from competency_ci.targets.cass.publish import PublishResult

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_REMOTE = 0, 1, 2, 3
SANDBOX = "sandbox"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser)


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths", nargs="*", help="framework CSV files or directories (default: the configured paths)"
    )
    parser.add_argument(
        "--server",
        metavar="URL",
        help="CASS API base URL, e.g. https://cass.example.org/api/ (default: cass.url in the "
        "configuration), or 'sandbox' for the embedded local sandbox",
    )
    parser.add_argument(
        "--allow-insecure-http",
        action="store_true",
        help="allow plain http:// to a non-loopback server (TLS certificates are always verified for https)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="overall time limit for all requests, retries included (default: 300)",
    )
    parser.add_argument(
        "--format", choices=["text", "json", "markdown"], default="text", help="output format"
    )
    from competency_ci.cli.registry_target import add_target_argument

    add_target_argument(parser)


@dataclass
class Setup:
    config: Config
    frameworks: list[Framework]
    server: str
    key: RSAPrivateKey
    sandbox: Any = None  # the embedded SandboxServer, stopped by ``close``

    def close(self) -> None:
        if self.sandbox is not None:
            self.sandbox.stop()
            self.sandbox = None


class SetupFailed(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


def load_frameworks_checked(paths: list[str], config: Config, out_format: str) -> list[Framework]:
    """Validate every selected file first; any error stops everything before a single request."""
    from competency_ci.frameworks.build import InvalidFrameworks, assemble
    from competency_ci.frameworks.validate import validate_paths
    from competency_ci.report import problems as report
    from competency_ci.schema import load_schema

    result = validate_paths(paths or list(config.paths), config)
    code = result.exit_code(False)
    frameworks: list[Framework] = []
    if code == EXIT_OK:
        schema = load_schema()
        try:  # the tables the validator passed; built once, never read twice
            for path in result.files:
                frameworks.extend(assemble(result.table(path), schema))
        except InvalidFrameworks as exc:
            result.problems.extend(exc.problems)
            code = EXIT_PROBLEMS
    if code != EXIT_OK:
        sys.stdout.write(report.json_report(result) if out_format == "json" else report.text(result))
        print("Nothing was sent: fix the problems above first.", file=sys.stderr)
        raise SetupFailed(code)
    if not frameworks:
        print("No frameworks found in the selected paths.", file=sys.stderr)
        raise SetupFailed(EXIT_USAGE)
    return frameworks


def prepare(args: argparse.Namespace) -> Setup:
    """Configuration, validated frameworks, server and key; raises SetupFailed or ConfigError."""
    from competency_ci.sandbox.key import SANDBOX_KEY, sandbox_key
    from competency_ci.targets.cass.client import check_server_url
    from competency_ci.targets.cass.signing import KeyLoadError, load_configured_key

    config = load_config(args.config)
    if args.timeout <= 0:
        raise ConfigError("--timeout: expected a positive number of seconds")
    server = args.server or config.cass.url
    if not server:
        raise ConfigError(
            "no CASS server: pass --server URL (or --server sandbox), or set cass.url in the configuration"
        )
    if server != SANDBOX:
        server = check_server_url(server, args.allow_insecure_http)
    frameworks = load_frameworks_checked(list(args.paths), config, args.format)
    try:
        key = load_configured_key(config.cass.key_env, config.cass.key_file, config.root)
    except KeyLoadError as exc:
        if server != SANDBOX or "no CASS signing key" not in str(exc):
            print(f"error: {exc}", file=sys.stderr)
            raise SetupFailed(EXIT_USAGE) from None
        key, created = sandbox_key(config.root)
        verb = "generated a sandbox key in" if created else "using the sandbox key"
        print(f"No CASS key configured: {verb} {SANDBOX_KEY}", file=sys.stderr)
    setup = Setup(config, frameworks, server, key)
    if server == SANDBOX:
        from competency_ci.sandbox import start_embedded

        setup.sandbox = start_embedded(config.root)
        setup.server = setup.sandbox.url
        print(f"Using the embedded sandbox at {setup.server} (data in .competency-ci/)", file=sys.stderr)
    return setup


def render_plan(plan: Plan, server: str, out_format: str) -> str:
    from competency_ci.targets.cass.plan import render_json, render_markdown, render_text

    if out_format == "json":
        return render_json(plan, server)
    if out_format == "markdown":
        return render_markdown(plan, server)
    return render_text(plan, server)


def execute(args: argparse.Namespace, *, dry_run: bool, show_plan: bool) -> tuple[PublishResult, Setup] | int:
    """Set up (validate first, server, key), then plan or publish; an int is a failed set-up's exit code."""
    from competency_ci.targets.cass.publish import publish_frameworks

    try:
        setup = prepare(args)
    except SetupFailed as exc:
        return exc.code
    try:
        result = publish_frameworks(
            setup.frameworks,
            setup.config,
            setup.server,
            setup.key,
            dry_run=dry_run,
            timeout=args.timeout,
            on_plan=(lambda plan, server: sys.stdout.write(render_plan(plan, server, args.format)))
            if show_plan
            else None,
        )
    finally:
        setup.close()
    return result, setup


def run(args: argparse.Namespace) -> int:
    if args.target == "registry":
        from competency_ci.cli.registry_target import run_plan

        return run_plan(args)
    outcome = execute(args, dry_run=True, show_plan=True)
    if isinstance(outcome, int):
        return outcome
    result, _ = outcome
    if result.error:
        print(f"error: {result.error}", file=sys.stderr)
        print("Nothing was written.", file=sys.stderr)
        return EXIT_REMOTE
    return EXIT_OK
