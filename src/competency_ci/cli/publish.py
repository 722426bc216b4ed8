"""`competency-ci publish`: validate, print the plan, write what differs to CASS, account exactly.

Exit codes: 0 every framework written or unchanged; 1 validation problems (nothing sent);
2 unusable configuration or key; 3 the server failed or refused (the account says what was written).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from competency_ci.cli.plan import EXIT_REMOTE, add_common_arguments, execute
from competency_ci.cli.registry_target import add_approval_argument

if TYPE_CHECKING:
    from competency_ci.targets.cass.publish import PublishResult


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser)
    parser.add_argument("--dry-run", action="store_true", help="print the plan only; write nothing")
    parser.add_argument(
        "--result-file",
        metavar="FILE",
        help="write the outcome per framework as JSON (read by request-approval --result)",
    )
    add_approval_argument(parser)


def run(args: argparse.Namespace) -> int:
    from competency_ci.targets.cass.publish import account

    if args.target == "registry":
        from competency_ci.cli.registry_target import run_publish

        return run_publish(args)
    outcome = execute(args, dry_run=args.dry_run, show_plan=args.format != "json")
    if isinstance(outcome, int):
        return outcome
    result, setup = outcome
    if args.result_file:
        write_result_file(Path(args.result_file), result)
    if args.format == "json":
        plan = result.plan.to_dict() if result.plan else None
        sys.stdout.write(json.dumps({"plan": plan, **result.to_dict()}, indent=2, ensure_ascii=False) + "\n")
    elif not args.dry_run:
        stream = sys.stdout if result.ok else sys.stderr
        stream.write(account(result))
    if args.request_approval and not args.dry_run:
        from competency_ci.cli.registry_target import request_after_publish

        asked = request_after_publish(args, setup.config, setup.frameworks, result.record())
        return result.exit_code or asked
    return result.exit_code


def write_result_file(path: Path, result: PublishResult) -> None:
    path.write_text(result.record().to_json(), encoding="utf-8")


__all__ = ["EXIT_REMOTE", "add_arguments", "run"]
