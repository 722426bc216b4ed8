"""`competency-ci <command>`: dispatches to ``competency_ci.cli.<command>`` modules.

Only the chosen command's module is imported, so a pre-commit run of ``validate`` never pays for
``requests``, ``cryptography`` or ``frictionless``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
from collections.abc import Iterator, Sequence

from competency_ci import __version__
from competency_ci.frameworks.config import ConfigError

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "template": ("template", "write a blank framework CSV template"),
    "validate": ("validate", "check framework CSVs cell by cell"),
    "fix": ("fix", "repair framework CSVs safely (mint CTIDs, strip template leftovers, order rows)"),
    "convert": ("convert", "convert between framework CSV and CTDL-ASN JSON-LD"),
    "diff": ("diff", "semantic diff of framework versions"),
    "plan": ("plan", "show what publishing would change"),
    "publish": ("publish", "publish changed frameworks (CASS or the Registry Assistant API)"),
    "pull": ("pull", "write frameworks from CASS or the Registry as framework CSVs (onboarding)"),
    "request-approval": ("request_approval", "ask the approvers to approve published frameworks"),
    "status": ("status", "which frameworks are live in the Credential Registry"),
    "sandbox": ("sandbox", "run the local CASS-compatible sandbox server"),
    "github": ("github", "run on GitHub Actions: review pull requests, publish on merge"),
}

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_REMOTE = 0, 1, 2, 3


@contextlib.contextmanager
def guarded_output() -> Iterator[None]:
    """Every command prints through :class:`CommandGuard`: no line of its output can run a GitHub
    workflow command unless ``report.escape`` built it on purpose, whatever the input held."""
    from competency_ci.progress import set_progress
    from competency_ci.report.escape import CommandGuard

    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = CommandGuard(out), CommandGuard(err)
    previous = set_progress(progress_line)  # retries and batches of long runs, on stderr
    try:
        yield
    finally:
        set_progress(previous)
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(BrokenPipeError, ValueError):
                stream.flush()
        sys.stdout, sys.stderr = out, err


def progress_line(message: str) -> None:
    """A progress line (``competency_ci.http.progress``) on stderr, as one line of plain text."""
    from competency_ci.report.escape import one_line

    print(f"competency-ci: {one_line(message)}", file=sys.stderr, flush=True)


def _top_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="competency-ci",
        description="Competency frameworks as code for Credential Engine.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="commands:\n" + "\n".join(f"  {n:<17} {h}" for n, (_, h) in COMMANDS.items()),
    )
    parser.add_argument("--version", action="version", version=f"competency-ci {__version__}")
    parser.add_argument("command", nargs="?", choices=list(COMMANDS), metavar="command")
    return parser


def _is_url_error(exc: ValueError) -> bool:
    """A refused URL (``competency_ci.http.UrlError``), without importing ``http`` at start-up:
    a command that never imported it cannot have raised one."""
    http = sys.modules.get("competency_ci.http")
    return http is not None and isinstance(exc, http.UrlError)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in COMMANDS:
        parser = _top_parser()
        if not args:
            parser.print_help()
            return EXIT_USAGE
        try:
            parser.parse_args(args[:1])
        except SystemExit as exc:
            return int(exc.code or 0)
        return EXIT_USAGE
    name = args[0]
    module_name, help_text = COMMANDS[name]
    module = importlib.import_module(f"competency_ci.cli.{module_name}")
    parser = argparse.ArgumentParser(prog=f"competency-ci {name}", description=help_text)
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="configuration file (default: .competency-ci.yaml at the repository root)",
    )
    module.add_arguments(parser)
    try:
        options = parser.parse_args(args[1:])
    except SystemExit as exc:
        return int(exc.code or 0) and EXIT_USAGE
    try:
        with guarded_output():
            return int(module.run(options))
    except ConfigError as exc:
        print(f"competency-ci {name}: configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ValueError as exc:
        if not _is_url_error(exc):
            raise
        print(f"competency-ci {name}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
