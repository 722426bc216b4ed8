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
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from competency_ci.report import escape as esc

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

    from competency_ci.frameworks.config import Config
    from competency_ci.frameworks.model import Framework
    from competency_ci.githubapi import GitHub
    from competency_ci.targets.cass.pull import CassRead

BRANCH = "competency-ci/drift-{commit}"
IDENTITY = ["-c", "user.name=competency-ci", "-c", "user.email=competency-ci@users.noreply.github.com"]


@dataclass
class Opened:
    """What happened: the pull request's URL when one was opened, and notes for the summary."""

    url: str = ""
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Where:
    """The repository, its GitHub API and the commit the run published."""

    config: Config
    token: str | None
    repository: str | None
    api_url: str | None
    head: str | None
    default_branch: str | None


def open_drift_pull_request(
    where: Where, key: RSAPrivateKey, ctids: Sequence[str], frameworks: Sequence[Framework]
) -> Opened:
    """Pull ``ctids`` from CASS onto a branch and open the pull request."""

    from competency_ci.gitfiles import GitError, git, top_level
    from competency_ci.githubapi import DEFAULT_API_URL, GitHub, GitHubError
    from competency_ci.http import Budget, RemoteError
    from competency_ci.targets.cass.client import CassClient, CassError
    from competency_ci.targets.cass.pull import read_frameworks
    from competency_ci.targets.cass.signing import cass_pem

    done = Opened()
    repository, head, token, config = where.repository, where.head, where.token, where.config
    if not token or not repository or not head:
        done.notes.append(
            "No github-token or repository: the pull request with the edits made in CASS is not opened."
        )
        return done
    per_file: dict[str, list[Framework]] = {}
    for fw in frameworks:
        per_file.setdefault(fw.path, []).append(fw)
    files = {fw.ctid: fw.path for fw in frameworks if len(per_file[fw.path]) == 1}
    shared = sorted({fw.path for fw in frameworks if fw.ctid in ctids and fw.ctid not in files})
    if shared:
        done.notes.append(
            "Not in the pull request (their files hold several frameworks): "
            + ", ".join(esc.one_line(p) for p in shared)
        )
    wanted = [c for c in ctids if c in files]
    if not wanted:
        return done
    branch = BRANCH.format(commit=head[:12])
    try:
        client = CassClient(str(config.cass.url), key)
        client.ping()
        read = read_frameworks(
            client,
            wanted,
            registry_url=config.registry_url,
            owner_pem=cass_pem(key.public_key()),
            default_language=config.language,
        )
        github = GitHub(token, repository, where.api_url or DEFAULT_API_URL, budget=Budget())
        if github.open_pull_requests(branch):
            done.notes.append(
                f"The pull request with the edits made in CASS is already open (branch {branch})."
            )
            return done
        top = top_level(config.root)
        git(["checkout", "-q", "-B", branch, head], top)
        try:
            done.url = _commit_and_open(where, github, read, wanted, files, branch, top)
        finally:  # the workspace as the checkout left it, for the steps after this one
            git(["checkout", "-q", "--detach", head], top)
    except (CassError, GitError, GitHubError, RemoteError) as exc:
        done.notes.append(f"The pull request with the edits made in CASS could not be opened: {exc}")
    return done


def _commit_and_open(
    where: Where,
    github: GitHub,
    read: CassRead,
    wanted: list[str],
    files: dict[str, str],
    branch: str,
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
    head = str(where.head)
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
        "Bring edits made in CASS into git", branch, where.default_branch or "main", body
    )


__all__ = ["Opened", "Where", "open_drift_pull_request"]
