"""What the GitHub Action runs (``competency-ci github``): read the event, then review or publish.

It reads the action's inputs from `CCI_*` environment variables (see ``github.ENV``) and the event
from `GITHUB_EVENT_NAME`/`GITHUB_EVENT_PATH`, then, in `auto` mode:

- pull request: validate the framework files it changes (annotations), and write the semantic diff
  and, when CASS is configured and secrets are available, the publish plan as the job summary;
- push to the default branch or merged pull request: validate everything, publish what differs
  from the server, request approval, and report what was written (summary and step outputs).

Every secret is masked before anything else is printed. Exit codes: 0 done, 1 validation problems,
2 unusable inputs/event/configuration, 3 a remote service failed. The pure parts (event parsing,
escaping, summaries) are in ``github.py``; this module is the shell around them.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from competency_ci.action import plumbing as gh
from competency_ci.approval.pr_comment import Review as PullRequestReview
from competency_ci.frameworks.config import Config, ConfigError, load_config, parse_config
from competency_ci.report import escape as esc

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

    from competency_ci.approval.delivery import Delivery
    from competency_ci.frameworks.diff import FrameworkDiff
    from competency_ci.frameworks.model import Collection, Framework
    from competency_ci.frameworks.validate import ValidationResult
    from competency_ci.gitfiles import FileChange
    from competency_ci.targets.base import Target
    from competency_ci.targets.cass.collections import CollectionOutcome, CollectionPlan
    from competency_ci.targets.record import PublishRecord
    from competency_ci.targets.retire import Baseline, Retirement

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_REMOTE = 0, 1, 2, 3
# Environment variables that hold secrets for the other commands (publish, request-approval).
SECRET_ENV = ("CASS_KEY", "CE_REGISTRY_API_KEY", "APPROVAL_WEBHOOK_SECRET", "GITHUB_TOKEN")
RECORD_FILE = "competency-ci-publish.json"  # in $RUNNER_TEMP: the publish record (publish_record.py)


def emit(*lines: str) -> None:
    sys.stdout.write("".join(line + "\n" for line in lines))
    sys.stdout.flush()


def worst(*codes: int) -> int:
    """The exit code that matters most: unusable input, then remote failure, then problems."""
    for code in (EXIT_USAGE, EXIT_REMOTE, EXIT_PROBLEMS):
        if code in codes:
            return code
    return EXIT_OK


@dataclass
class Job:
    settings: gh.Settings
    config: Config
    event: gh.Event
    action: str  # review | publish | ignore
    plan: bool  # show the read-only plan on review
    environ: dict[str, str]
    summary: list[str] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    code: int = EXIT_OK
    console: gh.Console = field(default_factory=gh.Console)
    drifted: list[str] = field(default_factory=list)  # CTIDs whose server edits this run left in place

    def fail(self, code: int, message: str) -> None:
        """An error as an annotation (escaped: messages may quote file contents) and in the summary."""
        self.code = worst(self.code, code)
        emit(self.console.annotation("error", message))
        self.summary.append(f"> [!CAUTION]\n> {esc.md_text(message)}\n")

    def note(self, message: str) -> None:
        emit(self.console.untrusted(message))
        self.summary.append(f"> [!NOTE]\n> {esc.md_text(message)}\n")


def configure(config: Config, settings: gh.Settings) -> Config:
    """The configuration file, overridden by the inputs that were given."""
    if settings.registry:
        chosen = parse_config({"registry": settings.registry}, config.root)
        config = replace(
            config,
            registry=chosen.registry,
            registry_url=chosen.registry_url,
            assistant_url=chosen.assistant_url if chosen.registry != "custom" else config.assistant_url,
        )
    if settings.paths:
        config = replace(config, paths=list(settings.paths))
    if settings.organization:
        config = replace(config, organization=settings.organization)
    if settings.cass_url:
        config = replace(config, cass=replace(config.cass, url=settings.cass_url))
    approval = config.approval
    if settings.approval:
        approval = replace(approval, kind=settings.approval)
    if settings.approvers:
        approval = replace(approval, approvers=list(settings.approvers))
    if settings.webhook_url:
        approval = replace(approval, webhook_url=settings.webhook_url)
    return replace(config, approval=approval)


def check_urls(config: Config, environ: dict[str, str]) -> None:
    """Every service URL of the run under the one URL policy (``http.check_url``) before anything
    is sent: https except to loopback, no credentials, one unambiguous host."""
    from competency_ci.http import UrlError, check_url

    urls = {
        "cass-url": config.cass.url,
        "registry": config.registry_url,
        "assistant": config.assistant_url,
        "webhook-url": config.approval.webhook_url,
        "GITHUB_API_URL": environ.get("GITHUB_API_URL"),
    }
    try:
        for service, url in urls.items():
            if url and url != "sandbox":
                check_url(url, service)
    except UrlError as exc:
        raise ConfigError(str(exc)) from None


def read_event(environ: dict[str, str]) -> tuple[str, Any]:
    name = environ.get("GITHUB_EVENT_NAME", "")
    path = environ.get("GITHUB_EVENT_PATH", "")
    if not name or not path:
        raise gh.ActionError(
            "GITHUB_EVENT_NAME and GITHUB_EVENT_PATH are not set: run this on GitHub Actions"
        )
    try:
        return name, json.loads(Path(path).read_text("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise gh.ActionError(f"cannot read the event payload {path}: {exc}") from None


def is_local(local: bool | None, environ: dict[str, str]) -> bool:
    """A local run unless on GitHub Actions (``GITHUB_ACTIONS`` set) or an event is given."""
    if local is not None:
        return local
    return not environ.get("GITHUB_ACTIONS") and not environ.get("GITHUB_EVENT_NAME")


def local_event(root: Path, base: str | None) -> gh.Event:
    """What a local run reviews: the working tree's framework files, those changed since ``base``
    (as on a pull request against it) when given, else all of them (as on a manual run)."""
    from competency_ci.gitfiles import GitError, resolve

    try:
        head: str | None = resolve("HEAD", root)
    except GitError:
        head = None
    try:
        base_sha = resolve(base, root) if base else None
    except GitError:
        raise gh.ActionError(f"--base {base}: no such commit") from None
    if base_sha and head is None:
        raise gh.ActionError(f"--base {base}: this folder is not a git work tree with commits")
    reason = f"local run: the changes since {base}" if base else "local run: every framework file"
    return gh.Event("local", gh.REVIEW, base_sha, head, reason=reason)


def run_action(
    mode_option: str | None,
    config_option: str | None,
    environ: dict[str, str],
    *,
    local: bool | None = None,
    base: str | None = None,
) -> int:
    """The whole action run; returns the exit code. ``local`` (default: not on Actions) prints
    what the action would report as plain text and reviews only; ``base``: the revision a local
    review compares with."""
    console = gh.Console(local=is_local(local, environ))
    # Masks first: nothing may print a secret before GitHub knows to hide it. Secrets passed as
    # plain environment variables (the names the other commands read) are masked too.
    secret_vars = [gh.ENV[name] for name in gh.SECRET_INPUTS] + list(SECRET_ENV)
    emit(*console.masks(environ.get(var, "") for var in secret_vars))
    try:
        settings = gh.settings_from_env(environ)
        mode = mode_option or settings.mode
        config = configure(load_config(settings.config or config_option), settings)
        check_urls(config, environ)
        configured = (config.cass.key_env, config.approval.webhook_secret_env)
        emit(*console.masks(environ.get(var, "") for var in configured if var not in secret_vars))
        if console.local:
            if mode == "publish":
                raise gh.ActionError("a local run only reviews; publish with `competency-ci publish`")
            event = local_event(config.root, base)
        else:
            name, payload = read_event(environ)
            event = gh.parse_event(name, payload, environ.get("GITHUB_REF"))
    except (gh.ActionError, ConfigError) as exc:
        emit(console.annotation("error", str(exc)))
        return EXIT_USAGE
    action = {"validate": gh.REVIEW, "plan": gh.REVIEW, "publish": gh.PUBLISH}.get(mode, event.action)
    plan = mode in ("auto", "plan")
    job = Job(settings, config, event, action, plan=plan, environ=environ, console=console)
    try:
        if action == gh.IGNORE:
            job.summary.append(f"## competency-ci\n\nNothing to do: {esc.md_text(event.reason)}.\n")
        elif action == gh.REVIEW:
            review(job)
        else:
            publish(job)
    except ConfigError as exc:
        job.fail(EXIT_USAGE, f"configuration error: {exc}")
    finish(job)
    return job.code


def finish(job: Job) -> None:
    job.outputs.setdefault("changed-frameworks", "[]")
    job.outputs.setdefault("published", "[]")
    job.outputs.setdefault("approval-issue-url", "")
    if job.console.local:
        sys.stdout.write(job.console.report("\n".join(job.summary), job.outputs))
        return
    gh.append_file(job.environ.get("GITHUB_STEP_SUMMARY"), gh.fit_summary("\n".join(job.summary)))
    gh.append_file(
        job.environ.get("GITHUB_OUTPUT"),
        "".join(gh.output_record(k, v) for k, v in job.outputs.items()),
    )


# --- which files --------------------------------------------------------------------------------


def framework_files(config: Config) -> dict[str, Path]:
    """Every framework file of the working tree, by path relative to the repository's top level
    (how git names them)."""
    from competency_ci.frameworks.validate import expand_paths
    from competency_ci.gitfiles import GitError, top_level

    try:
        top = top_level(config.root).resolve()
    except GitError:
        top = config.root.resolve()
    return {p.resolve().relative_to(top).as_posix(): p for p in expand_paths([str(config.root)], config)}


def pathspecs(config: Config) -> list[str]:
    """The configured globs as git pathspecs, so git selects the same files for old revisions."""
    from competency_ci.frameworks.validate import git_pathspecs

    include, exclude = git_pathspecs(config)
    return include + exclude


def changed_frameworks(job: Job) -> list[FileChange] | None:
    """Framework files the event changed; None when every file counts (no usable base)."""
    from competency_ci.gitfiles import GitError, changed_files

    event, root = job.event, job.config.root
    if event.base is None or event.head is None:
        return None
    for sha in (event.base, event.head):
        if not gh.ensure_commit(root, sha):
            job.note(f"Commit {sha} cannot be fetched (a force push?): checking every framework file.")
            return None
    try:
        return changed_files(event.base, event.head, pathspecs(job.config), root)
    except GitError as exc:
        job.note(f"git diff failed ({exc}): checking every framework file.")
        return None


def changes_json(changes: list[FileChange] | None, files: dict[str, Path]) -> str:
    """The `changed-frameworks` output; without a usable base every file is listed as `unknown`."""
    if changes is None:
        return json.dumps([{"path": p, "status": "unknown", "old-path": None} for p in sorted(files)])
    return json.dumps(
        [{"path": c.new_path or c.old_path, "status": c.status, "old-path": c.old_path} for c in changes]
    )


def validate(job: Job, paths: list[Path]) -> ValidationResult:
    from competency_ci.frameworks.validate import ValidationResult, validate_paths
    from competency_ci.report import problems as report

    # no file (a pull request that only deletes frameworks) is nothing to check, not the whole root
    result = validate_paths([str(p) for p in paths], job.config) if paths else ValidationResult()
    if result.files or result.unusable:
        emit((report.text if job.console.local else report.github)(result).rstrip("\n"))
    for path, reason in result.unusable.items():
        job.fail(EXIT_USAGE, f"{path}: {reason}")
    job.summary.append(gh.problems_markdown(result.problems, report.summary(result)))
    job.code = worst(job.code, result.exit_code(job.settings.strict))
    return result


def load(files: list[Path], config: Config, collections: list[Collection] | None = None) -> list[Framework]:
    """The frameworks of the files; with ``collections``, the collections of the collection files
    are added to it, their members named by CTID (``resolve_members``, as ``competency-ci publish``)."""
    from competency_ci.frameworks.build import load_frameworks
    from competency_ci.frameworks.collection import assemble_collections, is_collection_table, resolve_members
    from competency_ci.frameworks.table import read_table
    from competency_ci.frameworks.validate import display_path
    from competency_ci.schema import load_schema

    frameworks: list[Framework] = []
    found: list[Collection] = []
    read: list[tuple[str, bytes]] = []
    schema = load_schema()
    for path in files:
        name, data = display_path(path), path.read_bytes()
        read.append((name, data))
        built = load_frameworks(name, config, data=data)
        table = read_table(name, data)[0] if collections is not None and not built else None
        if table is not None and is_collection_table(table, schema):
            found.extend(assemble_collections(table, schema))
        frameworks.extend(built)
    if found and collections is not None:
        resolve_members(found, config, read)
        collections.extend(found)
    return frameworks


def collection_plan_markdown(planned: CollectionPlan) -> str:
    """The collection plan's lines (``CollectionPlan.lines``, as ``competency-ci plan`` prints them)."""
    lines = ["### Collections", ""]
    lines += [f"- {esc.md_text(line)}" for line in planned.lines()]
    return "\n".join([*lines, ""])


def collections_markdown(server: str, planned: CollectionPlan, outcome: CollectionOutcome) -> str:
    """What was written: the account ``competency-ci publish`` prints, one line per collection."""
    from competency_ci.targets.cass.collections import account

    lines = [f"### Collections published to cass {esc.md_code(server)}", ""]
    lines += [f"- {esc.md_text(line)}" for line in account(planned, outcome)]
    lines += ["", f"{len(outcome.written)} written, {len(planned.items) - len(outcome.written)} not written."]
    return "\n".join([*lines, ""])


# --- pull requests ------------------------------------------------------------------------------


def review(job: Job) -> None:
    files = framework_files(job.config)
    changes = changed_frameworks(job)
    title = f"pull request #{job.event.number}" if job.event.number else esc.md_text(job.event.reason)
    job.summary.append(f"## competency-ci: review of {title}\n")
    job.outputs["changed-frameworks"] = changes_json(changes, files)
    if changes is None:
        selected = [files[p] for p in sorted(files)]
    else:
        if not changes:
            job.summary.append("No framework files changed.\n")
            comment_on_pull_request(job, pull_request_review(job, title, None, diffs=[]), create=False)
            return
        selected = [files[c.new_path] for c in changes if c.new_path in files]
    heading = len(job.summary) - 1
    result = validate(job, selected)
    review = pull_request_review(job, title, result)
    if result.exit_code(False) == EXIT_OK:
        review.diffs, review.old, review.new = diff_section(job, changes, selected)
        retiring = retirements(job, changes, review.new)
        deleting = retire_headline(job, retiring)
        if deleting:  # the first line of the summary and of the comment says so
            review.title = f"{title}: {deleting}"
            job.summary[heading] = f"## competency-ci: review of {review.title}\n"
        if job.plan:
            start = len(job.summary)
            plan_section(job, selected, retiring, changes)
            review.plan = "\n".join(job.summary[start:])  # the plan, or the note saying why there is none
    comment_on_pull_request(job, review)


def retirements(job: Job, changes: list[FileChange] | None, present: list[Framework]) -> list[Retirement]:
    """The frameworks this event retires: those the changed files held at the base and hold no
    longer, and those marked Deprecated under ``retire: delete`` (``targets/retire.py``)."""
    from competency_ci.gitfiles import GitError, top_level
    from competency_ci.targets.retire import gone_in_git, split

    gone = []
    if changes and job.event.base:
        try:
            gone = gone_in_git(changes, job.event.base, job.config, top_level(job.config.root))
        except GitError as exc:
            job.note(f"git failed ({exc}): frameworks whose files were deleted are not retired by this run.")
    return split(present, gone, job.config.retire)[1]


def retire_headline(job: Job, retiring: list[Retirement]) -> str:
    """``**DELETES 1 framework from CASS: …**`` when the plan deletes frameworks, else ""."""
    from competency_ci.targets.retire import deleting_headline

    where = "the Registry" if job.settings.target == "registry" else "CASS"
    headline = deleting_headline(retiring, where)
    return f"**{esc.md_text(headline)}**" if headline else ""


def diff_section(
    job: Job, changes: list[FileChange] | None, paths: list[Path]
) -> tuple[list[FrameworkDiff], list[Framework], list[Framework]]:
    """The semantic diff against the base revision (against nothing when there is no base)."""
    from competency_ci.frameworks.build import InvalidFrameworks, load_frameworks
    from competency_ci.frameworks.diff import diff_frameworks
    from competency_ci.gitfiles import GitError, read_at, top_level
    from competency_ci.report.diff import markdown

    old: list[Framework] = []
    base = job.event.base
    if base and changes:
        top = top_level(job.config.root)
        for change in changes:
            if change.old_path is None:
                continue
            try:
                old.extend(
                    load_frameworks(change.old_path, job.config, data=read_at(base, change.old_path, top))
                )
            except (InvalidFrameworks, GitError):
                job.note(f"{change.old_path} has errors at the base commit: its frameworks show as added.")
    new = load(paths, job.config)
    diffs = diff_frameworks(old, new)
    job.summary.append(markdown(diffs).replace("## Competency framework changes", "### Framework changes", 1))
    return diffs, old, new


def pull_request_review(
    job: Job, title: str, result: ValidationResult | None, diffs: list[FrameworkDiff] | None = None
) -> PullRequestReview:
    """What the review comment starts from: the problems, the commit, where the job summary is."""
    from competency_ci.report.problems import summary

    environ = job.environ
    repository, run_id = environ.get("GITHUB_REPOSITORY"), environ.get("GITHUB_RUN_ID")
    server = environ.get("GITHUB_SERVER_URL") or "https://github.com"
    run_url = f"{server}/{repository}/actions/runs/{run_id}" if repository and run_id else None
    return PullRequestReview(
        title,
        problems=list(result.problems) if result else [],
        problems_headline=summary(result) if result else "",
        diffs=diffs,
        commit=job.event.head,
        summary_url=run_url,
    )


def comment_on_pull_request(job: Job, review: PullRequestReview, *, create: bool = True) -> None:
    """Keep the pull request's one review comment up to date (``approval/pr_comment.py``): found by
    its marker among the comments a bot wrote (a person's comment quoting the marker is never
    edited), edited when it differs, created when there is none. A comment GitHub refuses is a
    warning: the review itself is in the job summary."""
    from competency_ci.approval.pr_comment import MARKER, render
    from competency_ci.githubapi import DEFAULT_API_URL, GitHub, GitHubError
    from competency_ci.http import Budget, RemoteError

    number = job.event.number
    if not job.settings.pr_comment or number is None:
        return
    if job.event.fork:
        job.note(
            "This pull request comes from a fork: its token is read-only, so the review is not posted "
            "as a comment; it is in this summary."
        )
        return
    repository = job.environ.get("GITHUB_REPOSITORY") or job.event.repository
    if not job.settings.github_token or not repository:
        job.note("No github-token: the review comment on the pull request is skipped.")
        return
    body = render(review)
    api_url = job.environ.get("GITHUB_API_URL") or DEFAULT_API_URL
    try:
        github = GitHub(job.settings.github_token, repository, api_url, budget=Budget())
        comments = github.list_comments(number)
        ours = [c for c in comments if c.body.startswith(MARKER) and c.author_type == "Bot"]
        if ours and ours[0].body != body:
            github.update_comment(ours[0].id, body)
        elif not ours and create:
            github.create_comment(number, body)
    except (GitHubError, RemoteError) as exc:
        message = (
            f"The review comment on pull request #{number} could not be written: {exc}. The workflow's "
            "job needs `permissions: pull-requests: write`."
        )
        emit(job.console.annotation("warning", message))
        job.summary.append(f"> [!WARNING]\n> {esc.md_text(message)}\n")


def drift_baseline(
    job: Job, changes: list[FileChange] | None, frameworks: list[Framework]
) -> Baseline | None:
    """The frameworks as the base revision has them: what drift compares the server with."""
    from competency_ci.gitfiles import GitError, top_level
    from competency_ci.targets.retire import baseline

    if changes is None or not job.event.base:
        return None
    try:
        return baseline(frameworks, changes, job.event.base, job.config, top_level(job.config.root))
    except GitError as exc:
        job.note(f"git failed ({exc}): the plan does not look for edits made on the server.")
        return None


def plan_section(
    job: Job,
    paths: list[Path],
    retiring: list[Retirement] | None = None,
    changes: list[FileChange] | None = None,
) -> None:
    """What publishing would write (read-only; needs the key, which forks do not get)."""
    from competency_ci.targets.cass.target import CassTarget

    if job.settings.target == "registry":
        refused: list[Collection] = []
        load(paths, job.config, refused)
        refuse_collections(job, refused)
        return
    if not (job.config.cass.url and job.settings.target == "cass"):
        return
    if job.event.fork:
        job.note(
            "This pull request comes from a fork: GitHub gives it no secrets, so the publish plan is not "
            "shown. It is shown on pull requests from branches of this repository."
        )
        return
    key = signing_key(job, required=False)
    if key is None:
        job.note("No CASS key (the cass-key input is empty): the publish plan is not shown.")
        return
    if not paths and not retiring:
        return
    from competency_ci.targets.cass.collections import plan_on_target

    target = CassTarget(job.config, job.config.cass.url, key)
    collections: list[Collection] = []
    frameworks = load(paths, job.config, collections)
    if retiring:  # a framework marked Deprecated under `retire: delete` is retired, not published
        doomed = {r.ctid for r in retiring}
        frameworks = [fw for fw in frameworks if fw.ctid not in doomed]
    try:
        collection_plan = plan_on_target(target, collections) if collections else None
        planned = (
            target.plan(frameworks, retiring or (), drift_baseline(job, changes, frameworks))
            if frameworks or retiring or not collections
            else None
        )
    finally:
        target.close()
    for error in (planned and planned.error, collection_plan and collection_plan.error):
        if error is not None:
            job.fail(EXIT_REMOTE, f"cannot read {job.config.cass.url}: {error}")
            return
    if planned is not None:
        job.summary.append(planned.render("markdown"))
    if collection_plan is not None:  # written after the frameworks, so shown after them
        job.summary.append(collection_plan_markdown(collection_plan))


def signing_key(job: Job, *, required: bool) -> RSAPrivateKey | None:
    from competency_ci.targets.cass.signing import KeyLoadError, load_configured_key

    cass = job.config.cass
    environ = dict(job.environ)
    if job.settings.cass_key:
        environ[cass.key_env] = job.settings.cass_key
    elif not required and not environ.get(cass.key_env) and not cass.key_file:
        return None
    try:
        return load_configured_key(cass.key_env, cass.key_file, job.config.root, environ)
    except KeyLoadError as exc:
        raise ConfigError(
            str(exc).replace(f"environment variable {cass.key_env}", "the cass-key input")
        ) from None


# --- merges -------------------------------------------------------------------------------------


def publish(job: Job) -> None:
    files = framework_files(job.config)
    changes = changed_frameworks(job)
    job.summary.append(f"## competency-ci: publish ({esc.md_text(job.event.reason)})\n")
    job.outputs["changed-frameworks"] = changes_json(changes, files)
    # Everything is validated (a CTID must stay unique across files); what is read and planned is
    # the frameworks this event changed and those an earlier run left unfinished (scope: changed),
    # or every framework (scope: all, and any run without a base: scheduled, manual, force push).
    validate(job, [files[p] for p in sorted(files)])
    if job.code != EXIT_OK:
        job.summary.append("Nothing was published: fix the problems above first.\n")
        return
    previous = previous_record(job)
    # Every collection of the repository is planned on every run (one read; "unchanged" writes
    # nothing), so a collection an earlier run could not write is written by the next one.
    collections: list[Collection] = []
    everything = load([files[p] for p in sorted(files)], job.config, collections)
    if job.settings.target == "registry" and refuse_collections(job, collections):
        job.summary.append("Nothing was published.\n")
        return
    frameworks = in_scope(job, changes, files, everything, previous)
    retiring = retirements(job, changes, frameworks)  # a framework moved to another file is in scope
    doomed = {r.ctid for r in retiring}
    frameworks = [fw for fw in frameworks if fw.ctid not in doomed]
    if not frameworks and not retiring:
        job.summary.append("No frameworks to publish.\n")
        if collections:  # a run of collections only: no publish record, no approval request (as the CLI)
            publish_collections(job, open_target(job), collections)
        return
    # Every setting the run needs (server, key, API key, approval token and repository) is checked
    # here, before the first request: a run never writes and then stops on a missing setting.
    target = open_target(job)
    delivery = approval_delivery(job)
    record = publish_to(job, target, frameworks, retiring, drift_baseline(job, changes, frameworks))
    record = replace(record, commit=job.event.head)
    if job.environ.get("RUNNER_TEMP"):
        Path(job.environ["RUNNER_TEMP"], RECORD_FILE).write_text(record.to_json(), "utf-8")
    keep_record(job, record, previous)
    written = [f for f in record.frameworks if f.outcome == "written"]
    job.outputs["published"] = json.dumps([framework_dict(f) for f in written], ensure_ascii=False)
    job.summary.append(gh.published_markdown(record))
    if collections:
        publish_collections(job, open_target(job), collections)
    if job.drifted and job.settings.drift_pull_request and job.settings.target == "cass":
        from competency_ci.action.drift_pr import Where, open_drift_pull_request

        key = signing_key(job, required=True)
        assert key is not None
        where = Where(
            job.config,
            job.settings.github_token,
            job.environ.get("GITHUB_REPOSITORY") or job.event.repository,
            job.environ.get("GITHUB_API_URL"),
            job.event.head,
            job.event.default_branch,
        )
        opened = open_drift_pull_request(where, key, job.drifted, frameworks)
        for note in opened.notes:
            job.note(note)
        if opened.url:
            job.outputs["drift-pull-request-url"] = opened.url
            job.summary.append(
                f"Opened {esc.md_link('a pull request', opened.url)} with the edits made in CASS.\n"
            )
    if delivery is not None:
        request_approval(job, frameworks, record, delivery)


def refuse_collections(job: Job, collections: list[Collection]) -> bool:
    """The Registry target takes no collection files: exit 2, before any request (as the CLI's
    ``plan`` and ``publish``). True when it refused."""
    from competency_ci.targets.cass.collections import REGISTRY_REFUSAL

    if collections:
        job.fail(EXIT_USAGE, f"{', '.join(c.ctid for c in collections)}: {REGISTRY_REFUSAL}")
    return bool(collections)


def publish_collections(job: Job, target: Target[Any, Any], collections: list[Collection]) -> None:
    """Plan and write the collections after the frameworks, so that the competencies they name are
    in CASS when they are written; not at all when the frameworks' publish failed (the next run
    writes them). Then CE's view of each is read back (``targets/cass/collections.py``)."""
    from competency_ci.targets.cass.collections import NOT_WRITTEN, account, apply_collections, plan_on_target

    if job.code in (EXIT_USAGE, EXIT_REMOTE):
        target.close()
        job.note(NOT_WRITTEN)
        return
    try:
        planned = plan_on_target(target, collections)
        if planned.error is not None:
            job.fail(EXIT_REMOTE, f"cannot read {target.server}: {planned.error}")
            return
        outcome = apply_collections(target.client, planned)  # type: ignore[attr-defined]
    finally:
        target.close()
    for line in account(planned, outcome):
        emit(job.console.untrusted(line))
    job.summary.append(collections_markdown(target.server, planned, outcome))
    for ctid, why in outcome.failed.items():
        job.fail(EXIT_REMOTE, f"collection {ctid}: {why}")
    for ctid, wrong in outcome.differences.items():
        job.fail(EXIT_PROBLEMS, f"collection {ctid}: CE shows otherwise: {', '.join(wrong)}")


def previous_record(job: Job) -> PublishRecord | None:
    """The record the ``publish-record`` input keeps between runs, if there is one yet."""
    from competency_ci.targets.record import PublishRecord, parse_record

    path = job.settings.publish_record
    if not path or not (job.config.root / path).is_file():
        return None
    try:
        return parse_record(json.loads((job.config.root / path).read_text("utf-8")))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        job.note(f"The publish record {path} cannot be read ({exc}): every framework is planned.")
        return PublishRecord("", "", ())  # no target: unreadable, so every framework is planned


def in_scope(
    job: Job,
    changes: list[FileChange] | None,
    files: dict[str, Path],
    frameworks: list[Framework],
    previous: PublishRecord | None,
) -> list[Framework]:
    """What this run reads and plans: with ``scope: changed`` and a base, the frameworks of the
    files the event changed and those the publish record says were left unfinished; else all."""
    if job.settings.scope == "all" or changes is None or (previous is not None and not previous.target):
        return frameworks
    changed = {files[c.new_path].resolve() for c in changes if c.new_path in files}
    unfinished = {f.ctid for f in previous.frameworks if f.outcome == "failed"} if previous else set()
    chosen = [fw for fw in frameworks if Path(fw.path).resolve() in changed or fw.ctid in unfinished]
    left = sum(1 for fw in chosen if fw.ctid in unfinished and Path(fw.path).resolve() not in changed)
    again = f", and {left} an earlier run left unfinished" if left else ""
    job.summary.append(
        f"Planned {len(chosen) - left} framework(s) this event changed{again}; the other "
        f"{len(frameworks) - len(chosen)} are not read (scope: changed). A scheduled run or "
        "`scope: all` reconciles every framework and checks it for drift.\n"
    )
    return chosen


def keep_record(job: Job, record: PublishRecord, previous: PublishRecord | None) -> None:
    """Rewrite the ``publish-record`` file: this run's outcomes over the earlier record's, so a
    framework left unfinished stays listed as failed until a run finishes it."""
    path = job.settings.publish_record
    if not path:
        return
    mine = {f.ctid for f in record.frameworks}
    earlier = [f for f in previous.frameworks if f.ctid not in mine] if previous else []
    merged = replace(record, frameworks=(*record.frameworks, *earlier))
    target = job.config.root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(merged.to_json(), "utf-8")


def framework_dict(f: Any) -> dict[str, Any]:
    from dataclasses import asdict

    data: dict[str, Any] = asdict(f)
    data["messages"] = list(f.messages)
    return data


def open_target(job: Job) -> Target[Any, Any]:
    """The configured target, through the interface every target has (``targets/base.py``)."""
    if job.settings.target == "registry":
        from competency_ci.http import Budget, RetryPolicy
        from competency_ci.targets.registry.client import SERVER_LIMIT
        from competency_ci.targets.registry.target import open_registry

        # one large framework may take CE 30 minutes (its answer sized, publish_timeout): room for it
        return open_registry(
            job.config,
            Budget(RetryPolicy(total=2 * SERVER_LIMIT)),
            publishing=True,
            environ={},
            api_key=job.settings.registry_api_key,
            key_source="the registry-api-key input",
        )
    from competency_ci.targets.cass.target import CassTarget

    server = job.config.cass.url
    if not server:
        raise ConfigError(
            "publishing needs a CASS server: set the cass-url input or cass.url in the configuration"
        )
    key = signing_key(job, required=True)
    assert key is not None
    return CassTarget(job.config, server, key)


def publish_to(
    job: Job,
    target: Target[Any, Any],
    frameworks: list[Framework],
    retiring: list[Retirement] | None = None,
    base: Baseline | None = None,
) -> PublishRecord:
    """Plan, apply, verify, record: the same four steps as ``competency-ci publish``."""
    try:
        planned = target.plan(frameworks, retiring or (), base)
        if getattr(planned, "drift", None):  # edits made on the server: the summary names them
            job.summary.append(planned.render_drift("markdown"))
            if planned.on_drift != "overwrite":
                conflicted = {fid for fid, found in planned.drift.items() if any(d.conflict for d in found)}
                job.drifted = [fp.ctid for fp in planned.planned.plan.frameworks if fp.id in conflicted]
        outcome = target.apply(planned)
        verification = target.verify(outcome)
        record: PublishRecord = target.record(outcome, verification)
    finally:
        target.close()
    if not outcome.ok:
        job.fail(
            outcome.exit_code or EXIT_REMOTE,
            f"publishing to {target.server} did not complete: {outcome.error or 'see below'}",
        )
    for ctid in verification.failed:  # CE shows something other than the file says: a problem
        job.fail(EXIT_PROBLEMS, f"{ctid}: {verification.lines.get(ctid, 'the CE view differs')}")
    return record


def approval_delivery(job: Job) -> Delivery | None:
    """The approval delivery with its settings checked (token, repository, webhook address)."""
    from competency_ci.approval.delivery import prepare_delivery

    kind = job.config.approval.kind
    if kind == "none":
        return None
    return prepare_delivery(
        kind,
        job.config,
        environ=job.environ,
        token=job.settings.github_token or None,
        repository=job.environ.get("GITHUB_REPOSITORY") or job.event.repository,
        webhook_secret=job.settings.webhook_secret or None,
    )


def request_approval(
    job: Job, frameworks: list[Framework], record: PublishRecord, delivery: Delivery
) -> None:
    """Ask for what this publish wrote, and for what an earlier one wrote that still waits."""
    from competency_ci.approval import request as approval
    from competency_ci.approval.delivery import request_after_publish
    from competency_ci.githubapi import GitHubError
    from competency_ci.http import RemoteError
    from competency_ci.targets.registry.client import RegistryError, RegistryReader

    repository = job.environ.get("GITHUB_REPOSITORY") or job.event.repository
    server_url = job.environ.get("GITHUB_SERVER_URL", "https://github.com")
    run_id = job.environ.get("GITHUB_RUN_ID")
    run_url = f"{server_url}/{repository}/actions/runs/{run_id}" if repository and run_id else None
    try:
        request = request_after_publish(
            frameworks,
            job.config,
            record,
            RegistryReader(job.config.registry_url),
            repository=repository,
            commit=job.event.head,
            run_url=run_url,
            organization_live=approval.organization_published(job.config),
        )
        if not request.items:
            return
        outcome = delivery.send(request)
    except (GitHubError, RemoteError, RegistryError) as exc:
        job.fail(EXIT_REMOTE, f"the approval request failed: {exc}")
        return
    if delivery.kind == "github-issue" and outcome.url:
        job.outputs["approval-issue-url"] = outcome.url
    link = f" ({esc.md_link(outcome.url, outcome.url)})" if outcome.url else ""
    job.summary.append(f"### Approval\n\n{esc.md_text(outcome.detail)}{link}\n")
