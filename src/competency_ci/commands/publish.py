"""`plan` and `publish`, for every target: settings first, then plan, apply, verify, record, approval.

Order of a run, so that nothing is written before everything it needs is known to be there:
configuration and time budget; the approval delivery (token, repository, webhook address); the
frameworks, validated; the target's settings (server URL, key or the sandbox's, organization, API
key); then the first request.

Exit codes: 0 every framework written or unchanged (plan: the plan could be applied); 1 validation
problems, or a plan the target would refuse; 2 unusable input, configuration or key; 3 a remote
service failed or refused (the account says exactly what was written).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from competency_ci.commands.common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_REMOTE,
    EXIT_USAGE,
    SetupFailed,
    budget,
    current_commit,
    load_frameworks_checked,
)
from competency_ci.frameworks.config import Config, ConfigError, load_config

if TYPE_CHECKING:
    from competency_ci.approval.delivery import Delivery
    from competency_ci.frameworks.model import Collection, Framework
    from competency_ci.http import Budget
    from competency_ci.targets.base import Target, TargetOutcome, TargetPlan
    from competency_ci.targets.retire import Baseline, Gone, Retirement

SANDBOX = "sandbox"
TARGETS = ("cass", "registry")


@dataclass(frozen=True)
class PublishOptions:
    """What ``plan`` and ``publish`` were asked to do (``cli/plan.py``, ``cli/publish.py`` parse it)."""

    paths: list[str] = field(default_factory=list)
    config: str | None = None
    target: str = "cass"
    server: str | None = None
    allow_insecure_http: bool = False
    timeout: float = 300.0
    format: str = "text"
    dry_run: bool = False
    result_file: str | None = None
    request_approval: str | None = None
    commit: str | None = None
    run_url: str | None = None
    git_base: str | None = None  # retire what left the framework files since this revision
    record: str | None = None  # retire what this publish record lists and the repository no longer has


@dataclass
class Opened:
    """A target ready for its first request, and what the run must stop when it ends."""

    target: Target[Any, Any]
    sandbox: Any = None  # the embedded SandboxServer
    sandbox_key: bool = False  # signing with .competency-ci/sandbox-key.pem

    def close(self) -> None:
        self.target.close()
        if self.sandbox is not None:
            self.sandbox.stop()
            self.sandbox = None


def plan(options: PublishOptions) -> int:
    """``competency-ci plan``: read the target and say what publishing would change; write nothing."""
    from competency_ci.commands import collections as collection_run

    config = load_config(options.config)
    shared = budget(options.timeout)
    collections: list[Collection] = []
    try:
        frameworks = load_frameworks_checked(
            list(options.paths), config, options.format, "plan", collections=collections
        )
        collection_run.refuse_registry(options.target, collections, "plan")
        frameworks, retiring, base = retirements(options, config, frameworks)
        opened = open_target(options, config, shared, publishing=False)
    except SetupFailed as exc:
        return exc.code
    try:
        collection_plan = collection_run.plan(opened.target, collections) if collections else None
        if collection_plan is not None and not frameworks and not retiring:
            return collection_run.show_plan(collection_plan)  # a run of collection files only
        planned = opened.target.plan(frameworks, retiring, base)
    finally:
        opened.close()
    if collection_plan is not None and collection_run.show_plan(collection_plan) != EXIT_OK:
        return EXIT_REMOTE
    if planned.error is not None:
        print(f"error: {planned.error}", file=sys.stderr)
        print("Nothing was written.", file=sys.stderr)
        return EXIT_REMOTE
    sys.stdout.write(planned.render(options.format))
    return EXIT_PROBLEMS if refused(opened, planned) else EXIT_OK


def publish(options: PublishOptions) -> int:
    """``competency-ci publish``: plan, apply what differs, verify, record, then ask for approval."""
    from competency_ci.commands import collections as collection_run

    config = load_config(options.config)
    shared = budget(options.timeout)
    delivery = None if options.dry_run else approval_delivery(options, config, shared)
    collections: list[Collection] = []
    try:
        frameworks = load_frameworks_checked(
            list(options.paths), config, options.format, "publish", collections=collections
        )
        collection_run.refuse_registry(options.target, collections, "publish")
        frameworks, retiring, base = retirements(options, config, frameworks)
        opened = open_target(options, config, shared, publishing=not options.dry_run)
    except SetupFailed as exc:
        return exc.code
    collection_code = EXIT_OK
    collection_plan = None
    try:
        # Collections are read now and written after the frameworks: a collection names competencies,
        # so they are in CASS when it is written, and a failed framework write leaves none naming
        # competencies that are not there (the next run writes it). The GitHub Action does the same.
        if collections:
            collection_plan = collection_run.plan(opened.target, collections)
            collection_code = collection_run.show_plan(collection_plan)
            if not frameworks and not retiring:  # a run of collection files only: no publish record
                if collection_code == EXIT_OK and not options.dry_run:
                    collection_code = collection_run.publish(opened.target, collection_plan)
                return collection_code
        planned = opened.target.plan(frameworks, retiring, base)
        if options.format != "json":
            sys.stdout.write(planned.render(options.format))
        refused(opened, planned)
        if options.dry_run:
            return dry_run(planned, options.format)
        outcome = opened.target.apply(planned)
        verification = opened.target.verify(outcome)
        record = opened.target.record(outcome, verification)
        record = replace(record, commit=current_commit(config.root, options.commit))
        if collection_plan is not None and collection_code == EXIT_OK:
            if outcome.ok:
                collection_code = collection_run.publish(opened.target, collection_plan)
            else:
                print(collection_run.NOT_WRITTEN, file=sys.stderr)
    finally:
        opened.close()
    if options.result_file:
        Path(options.result_file).write_text(record.to_json(), encoding="utf-8")
    report(planned, outcome, options.format)
    for message in verification.messages:
        print(message, file=sys.stderr)
    code = max(int(outcome.exit_code), 0 if verification.ok else EXIT_PROBLEMS)  # CE shows otherwise: 1
    code = max(code, collection_code)
    if delivery is not None:
        from competency_ci.commands.approval import request_after_publish

        asked = request_after_publish(
            delivery,
            config,
            frameworks,
            record,
            shared,
            commit=options.commit,
            link=options.run_url,
            out_format=options.format,
        )
        return code or asked
    return code


def retirements(
    options: PublishOptions, config: Config, frameworks: list[Framework]
) -> tuple[list[Framework], list[Retirement], Baseline | None]:
    """The frameworks to publish, those to retire, and the frameworks as last published (the
    baseline drift is measured from; ``targets/retire.py``): from ``--git BASE`` (the old versions
    of the framework files changed since BASE), else the commit ``--record FILE`` names, and the
    frameworks that record lists."""
    from competency_ci.targets.retire import gone_in_record, split

    gone: list[Gone] = []
    base: Baseline | None = None
    record = None
    if options.record:
        from competency_ci.targets.record import parse_record

        try:
            record = parse_record(json.loads(Path(options.record).read_text("utf-8")))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            print(f"error: --record {options.record}: {exc}", file=sys.stderr)
            raise SetupFailed(EXIT_USAGE) from None
        gone += gone_in_record(record)
    revision = options.git_base or (record.commit if record else None)
    if revision:
        where = "--git" if options.git_base else f"--record {options.record}: its commit"
        more, base = from_git(revision, where, config, frameworks)
        gone += more
    publish, retire = split(frameworks, gone, config.retire)
    return publish, retire, base


def from_git(
    revision: str, where: str, config: Config, frameworks: list[Framework]
) -> tuple[list[Gone], Baseline]:
    """What left the framework files since ``revision``, and the baseline at it."""
    from competency_ci.frameworks.validate import git_pathspecs
    from competency_ci.gitfiles import GitError, changed_since, top_level
    from competency_ci.targets.retire import baseline, gone_in_git

    try:
        top = top_level(config.root)
        include, exclude = git_pathspecs(config)
        changes = changed_since(revision, include + exclude, config.root)
    except GitError as exc:
        print(f"error: {where} {revision}: {exc}", file=sys.stderr)
        raise SetupFailed(EXIT_USAGE) from None
    label = revision[:12] if len(revision) == 40 else revision
    return gone_in_git(changes, revision, config, top), baseline(
        frameworks, changes, revision, config, top, label
    )


def approval_delivery(options: PublishOptions, config: Config, shared: Budget) -> Delivery | None:
    """The delivery ``--request-approval`` needs, checked before the first request (raises ConfigError)."""
    from competency_ci.approval.delivery import prepare_delivery

    kind = options.request_approval
    if kind in (None, "none"):
        return None
    if options.target == "registry":
        print("No approval requested: publishing by API goes straight to the Registry.", file=sys.stderr)
        return None
    return prepare_delivery(kind, config, budget=shared)


def dry_run(planned: TargetPlan, out_format: str) -> int:
    if planned.error is not None:
        print(f"error: {planned.error}", file=sys.stderr)
        print("Nothing was written.", file=sys.stderr)
        return EXIT_REMOTE
    if out_format == "json":
        sys.stdout.write(json.dumps({"plan": planned.to_dict(), "dry_run": True}, indent=2) + "\n")
    return EXIT_OK


def report(planned: TargetPlan, outcome: TargetOutcome, out_format: str) -> None:
    """The account: on stdout when everything was written, else on stderr (json: one document)."""
    if out_format == "json":
        data = {"plan": planned.to_dict(), **outcome.to_dict()}
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return
    (sys.stdout if outcome.ok else sys.stderr).write(outcome.account(out_format))


# --- opening a target ---------------------------------------------------------------------------


def open_target(options: PublishOptions, config: Config, shared: Budget, *, publishing: bool) -> Opened:
    """The target with its settings checked; raises ConfigError (exit 2) or SetupFailed."""
    if options.target == "registry":
        from competency_ci.targets.registry.publish import render_outcome
        from competency_ci.targets.registry.target import open_registry

        def show(outcome: Any) -> None:
            sys.stdout.write(render_outcome(outcome))

        target = open_registry(
            config,
            shared,
            publishing=publishing,
            check=not publishing,
            on_outcome=show if options.format == "text" else None,
        )
        return Opened(target)
    if options.target != "cass":
        raise ConfigError(f"--target: expected one of {', '.join(TARGETS)}, got {options.target!r}")
    return open_cass(options, config)


def open_cass(options: PublishOptions, config: Config) -> Opened:
    """CASS: the server URL, the frameworks' key (or the sandbox's), the embedded sandbox if asked."""
    from competency_ci.targets.cass.client import check_server_url
    from competency_ci.targets.cass.target import CassTarget

    server = options.server or config.cass.url
    if not server:
        raise ConfigError(
            "no CASS server: pass --server URL (or --server sandbox), or set cass.url in the configuration"
        )
    if server != SANDBOX:
        server = check_server_url(server, options.allow_insecure_http)
    key, with_sandbox_key = signing_key(config, server)
    if server != SANDBOX:
        return Opened(CassTarget(config, server, key, timeout=options.timeout), None, with_sandbox_key)
    from competency_ci.sandbox import start_embedded

    sandbox = start_embedded(config.root)
    print(f"Using the embedded sandbox at {sandbox.url} (data in .competency-ci/)", file=sys.stderr)
    return Opened(CassTarget(config, sandbox.url, key, timeout=options.timeout), sandbox, True)


def signing_key(config: Config, server: str) -> tuple[Any, bool]:
    """The configured key; without one, the sandbox key for the sandbox or any server on this
    machine (``competency-ci sandbox serve``). Returns (key, is the sandbox key)."""
    from urllib.parse import urlsplit

    from competency_ci.http import is_loopback
    from competency_ci.sandbox.key import SANDBOX_KEY, sandbox_key
    from competency_ci.targets.cass.signing import KeyLoadError, NoKeyConfigured, load_configured_key

    try:
        return load_configured_key(config.cass.key_env, config.cass.key_file, config.root), False
    except NoKeyConfigured as exc:
        if server != SANDBOX and not is_loopback(urlsplit(server).hostname or ""):
            print(f"error: {exc}", file=sys.stderr)
            print(NO_KEY_HINT, file=sys.stderr)
            raise SetupFailed(EXIT_USAGE) from None
    except KeyLoadError as exc:  # a key is configured but unusable: never replaced by another
        print(f"error: {exc}", file=sys.stderr)
        raise SetupFailed(EXIT_USAGE) from None
    key, created = sandbox_key(config.root)
    verb = "generated a sandbox key in" if created else "using the sandbox key"
    where = "" if server == SANDBOX else f" for {server}, a server on this machine"
    print(f"No CASS key configured: {verb} {SANDBOX_KEY}{where}", file=sys.stderr)
    return key, True


NO_KEY_HINT = (
    "To try publishing without a key, use the local sandbox: --server sandbox, or the URL that "
    "`competency-ci sandbox serve` prints (both sign with .competency-ci/sandbox-key.pem)."
)


def refused(opened: Opened, planned: TargetPlan) -> bool:
    """Would the target refuse part of this plan, or show it otherwise? Says what to do, on stderr."""
    from competency_ci.targets.cass.target import CassPlan

    if opened.sandbox_key and isinstance(planned, CassPlan) and planned.blocked:
        print(lost_sandbox_key(opened), file=sys.stderr)
    return planned.problems > 0


def lost_sandbox_key(opened: Opened) -> str:
    from competency_ci.sandbox.key import SANDBOX_KEY
    from competency_ci.sandbox.server import EMBEDDED_DB

    fresh = (
        f"delete {EMBEDDED_DB} (the embedded sandbox's data)"
        if opened.sandbox is not None
        else "restart `competency-ci sandbox serve` on a new database (--db NEW_FILE, or delete its "
        f"database, by default {EMBEDDED_DB})"
    )
    return (
        f"The sandbox holds these frameworks under another key: {SANDBOX_KEY} is not the key that wrote "
        "them (it was deleted or replaced since). Publishing cannot change them, and re-running will not "
        f"help: put the old key back in {SANDBOX_KEY}, or start the sandbox afresh: {fresh}."
    )


__all__ = ["PublishOptions", "plan", "publish"]
