"""A pull request that brings edits made in CASS into git (input ``drift-pull-request: true``).

When a merge finds frameworks edited on the server since the repository last published them and
leaves those edits in place (``on-drift: fail`` or ``keep``), the action pulls each such framework
from CASS (``targets/cass/pull.py``, the publish mapping in reverse), writes it over its file on
a branch ``competency-ci/drift-{commit}``, pushes the branch with the checkout's credentials and
opens one pull request, so a reviewer sees the server's edits as an ordinary diff. A file holding
several frameworks is left alone (it would be rewritten whole) and named in the summary. An open
pull request from the branch is not opened twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from competency_ci.report import escape as esc

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

    from competency_ci.action.run import Job
    from competency_ci.frameworks.model import Framework
    from competency_ci.githubapi import GitHub
    from competency_ci.targets.cass.pull import CassRead

BRANCH = "competency-ci/drift-{commit}"
IDENTITY = ["-c", "user.name=competency-ci", "-c", "user.email=competency-ci@users.noreply.github.com"]


def open_drift_pull_request(
    job: Job, key: RSAPrivateKey, ctids: Sequence[str], frameworks: Sequence[Framework]
) -> None:
    """Pull ``ctids`` from CASS onto a branch and open the pull request (notes say what happened)."""

    from competency_ci.gitfiles import GitError, git, top_level
    from competency_ci.githubapi import DEFAULT_API_URL, GitHub, GitHubError
    from competency_ci.http import Budget, RemoteError
    from competency_ci.targets.cass.client import CassClient, CassError
    from competency_ci.targets.cass.pull import read_frameworks
    from competency_ci.targets.cass.signing import cass_pem

    repository = job.environ.get("GITHUB_REPOSITORY") or job.event.repository
    head = job.event.head
    if not job.settings.github_token or not repository or not head:
        job.note("No github-token or repository: the pull request with the edits made in CASS is not opened.")
        return
    per_file: dict[str, list[Framework]] = {}
    for fw in frameworks:
        per_file.setdefault(fw.path, []).append(fw)
    files = {fw.ctid: fw.path for fw in frameworks if len(per_file[fw.path]) == 1}
    shared = sorted({fw.path for fw in frameworks if fw.ctid in ctids and fw.ctid not in files})
    if shared:
        job.note(
            "Not in the pull request (their files hold several frameworks): "
            + ", ".join(esc.one_line(p) for p in shared)
        )
    wanted = [c for c in ctids if c in files]
    if not wanted:
        return
    branch = BRANCH.format(commit=head[:12])
    try:
        client = CassClient(str(job.config.cass.url), key)
        client.ping()
        read = read_frameworks(
            client,
            wanted,
            registry_url=job.config.registry_url,
            owner_pem=cass_pem(key.public_key()),
            default_language=job.config.language,
        )
        github = GitHub(
            job.settings.github_token,
            repository,
            job.environ.get("GITHUB_API_URL") or DEFAULT_API_URL,
            budget=Budget(),
        )
        if github.open_pull_requests(branch):
            job.note(f"The pull request with the edits made in CASS is already open (branch {branch}).")
            return
        top = top_level(job.config.root)
        git(["checkout", "-q", "-B", branch, head], top)
        try:
            url = _commit_and_open(job, github, read, wanted, files, branch, head, top)
        finally:  # the workspace as the checkout left it, for the steps after this one
            git(["checkout", "-q", "--detach", head], top)
    except (CassError, GitError, GitHubError, RemoteError) as exc:
        job.note(f"The pull request with the edits made in CASS could not be opened: {exc}")
        return
    if url:
        job.outputs["drift-pull-request-url"] = url
        job.summary.append(f"Opened {esc.md_link('a pull request', url)} with the edits made in CASS.\n")


def _commit_and_open(
    job: Job,
    github: GitHub,
    read: CassRead,
    wanted: list[str],
    files: dict[str, str],
    branch: str,
    head: str,
    top: Path,
) -> str:
    """Write the pulled frameworks, commit, push the branch, open the pull request; its URL."""
    from competency_ci.frameworks.csvwrite import framework_rows, to_csv
    from competency_ci.gitfiles import git

    written = []
    for ctid in wanted:
        pulled = read.found.get(ctid)
        if pulled is None:
            continue
        path = Path(files[ctid])
        path.write_text(to_csv(framework_rows([pulled.framework])), "utf-8")
        written.append(path.resolve().relative_to(top.resolve()).as_posix())
    if not written:
        return ""
    git(["add", "--", *written], top)
    message = f"Edits made in CASS since {head[:12]}: {', '.join(written)}"
    git([*IDENTITY, "commit", "-q", "-m", message], top)
    git(["push", "-q", "--force", "origin", f"HEAD:refs/heads/{branch}"], top)
    body = (
        "competency-ci found edits made on the CASS server since this repository last published "
        "these frameworks, and did not overwrite them. This pull request brings them into git, "
        "as `competency-ci pull` reads them:\n\n"
        + "".join(f"- {esc.md_code(p)}\n" for p in written)
        + "\nMerge it to keep the edits; close it to overwrite them (`on-drift: overwrite`)."
    )
    return github.create_pull_request(
        "Bring edits made in CASS into git", branch, job.event.default_branch or "main", body
    )


__all__ = ["open_drift_pull_request"]
