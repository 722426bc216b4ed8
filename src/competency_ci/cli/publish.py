"""`competency-ci publish`: validate, print the plan, write what differs to CASS, account exactly.

Exit codes: 0 every framework written or unchanged; 1 validation problems (nothing sent);
2 unusable configuration or key; 3 the server failed or refused (the account says what was written).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from competency_ci.cli.plan import EXIT_REMOTE, SetupFailed, add_common_arguments, prepare, render_plan
from competency_ci.cli.registry_target import add_approval_argument
from competency_ci.publish_record import PublishRecord


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
    from competency_ci.publish import account, publish_frameworks

    if args.target == "registry":
        from competency_ci.cli.registry_target import run_publish

        return run_publish(args)
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
            dry_run=args.dry_run,
            timeout=args.timeout,
            on_plan=None
            if args.format == "json"
            else lambda p, s: sys.stdout.write(render_plan(p, s, args.format)),
        )
    finally:
        setup.close()
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

        asked = request_after_publish(args, setup.config, setup.frameworks, result_record(result))
        return result.exit_code or asked
    return result.exit_code


def _moved(fp: object) -> int:
    """Existing competencies that got a new parent (a new hierarchy relation)."""
    from competency_ci.plan import FrameworkPlan

    assert isinstance(fp, FrameworkPlan)
    created = {
        c.label.split(" ", 1)[0] for c in fp.changes if c.kind == "competency" and c.action == "create"
    }
    children = {
        c.label.split(" ", 1)[0]
        for c in fp.changes
        if c.kind == "relation" and c.action == "create" and c.label.endswith("(child of)")
    }
    return len(children - created)


def _framework_properties(fp: object) -> int:
    from competency_ci.cass.mapping import STRUCTURE_KEYS
    from competency_ci.plan import FrameworkPlan

    assert isinstance(fp, FrameworkPlan)
    fields = [f for c in fp.changes if c.kind == "framework" and c.action == "update" for f in c.fields]
    return sum(1 for f in fields if f not in STRUCTURE_KEYS)


def write_result_file(path: Path, result: object) -> None:
    path.write_text(result_record(result).to_json(), encoding="utf-8")


def result_record(result: object) -> PublishRecord:
    from competency_ci.publish import WRITTEN, PublishResult
    from competency_ci.publish_record import Changes, PublishedFramework

    assert isinstance(result, PublishResult)
    frameworks = []
    for fr in result.frameworks:
        fp = next((p for p in result.plan.frameworks if p.id == fr.id), None) if result.plan else None
        changes = None
        if fp is not None:
            competency = [c for c in fp.changes if c.kind == "competency"]
            changes = Changes(
                added=sum(1 for c in competency if c.action == "create"),
                removed=sum(1 for c in competency if c.action == "delete"),
                changed=sum(1 for c in competency if c.action == "update"),
                moved=_moved(fp),
                properties=_framework_properties(fp),
                new=any(c.kind == "framework" and c.action == "create" for c in fp.changes),
            )
        outcome = fr.status if fr.status in (WRITTEN, "unchanged") else "failed"
        messages = (fr.message,) if fr.message else ()
        frameworks.append(
            PublishedFramework(fr.ctid, fr.name, fr.path, outcome, changes, fr.url or None, messages)
        )
    return PublishRecord("cass", result.server, tuple(frameworks))


__all__ = ["EXIT_REMOTE", "add_arguments", "run"]
