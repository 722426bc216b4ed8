"""`competency-ci pull`: bring frameworks that live in CASS or the Registry into the repository.

From CASS the frameworks are read through their objects (``targets/cass/pull.py``) and mapped
back with ``publish``'s own mapping in reverse (``targets/cass/reverse.py``); from the Registry the
published graph ``{registry}/graph/{ctid}`` is converted as ``convert`` does. Each framework becomes
one CSV in the template's column order (``frameworks/csvwrite.py``), named from the framework
(``frameworks/filename.py``), and is validated once written.

Exit codes: 0 every framework asked for was written (or its file already held exactly that);
1 pulled, but something needs a person: a file that exists with other content was left alone
(``--force`` replaces it), a written file does not validate, or the organization has no
frameworks on the source; 2 unusable input: no framework named, a value that is not a CTID, a CTID
the source has no framework under, an organization asked of a source that cannot list, an output
path that is not a folder; 3 the source failed (nothing was written).
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from competency_ci.commands.common import EXIT_OK, EXIT_PROBLEMS, EXIT_REMOTE, EXIT_USAGE
from competency_ci.frameworks.config import Config, ConfigError, load_config
from competency_ci.report.escape import one_line

if TYPE_CHECKING:
    from competency_ci.frameworks.model import Framework

SANDBOX = "sandbox"
PROG = "competency-ci pull"
CANNOT_LIST_REGISTRY = (
    "the Registry cannot list an organization's frameworks here: its only listing is the Registry "
    "Assistant's search, which needs an API key and is not used by competency-ci; name the "
    "frameworks with --framework CTID"
)


@dataclass(frozen=True)
class PullOptions:
    """What ``pull`` was asked (``cli/pull.py`` parses it)."""

    frameworks: list[str] = field(default_factory=list)
    organization: str | None = None
    server: str | None = None
    registry: str | None = None  # '' = the configured Registry
    output: str = "."
    force: bool = False
    config: str | None = None
    allow_insecure_http: bool = False
    timeout: float = 120.0


@dataclass
class Source:
    """Where frameworks are read from, and what the run must stop when it ends."""

    label: str
    frameworks: list[Framework] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    sandbox: Any = None


class Failed(Exception):
    """The run stops with ``code``; the message is printed as it is (escaped where it was built)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def pull(options: PullOptions) -> int:
    config = load_config(options.config)
    try:
        ctids, organization = _ctids(options)
        out = _output_dir(options.output)
        if options.timeout <= 0:
            raise ConfigError("--timeout: expected a positive number of seconds")
        if options.registry is not None and options.server:
            raise Failed(EXIT_USAGE, "give --server or --registry, not both")
        if options.registry is not None:
            source = _from_registry(options, config, ctids, organization)
        else:
            source = _from_cass(options, config, ctids, organization)
    except Failed as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return exc.code
    code = EXIT_OK
    for ctid in source.unknown:
        print(f"{PROG}: {ctid}: no framework with this CTID on {one_line(source.label)}", file=sys.stderr)
        code = EXIT_USAGE
    if organization and not source.frameworks and not source.unknown and not ctids:
        print(f"{PROG}: {organization}: no frameworks of this organization on {one_line(source.label)}")
        code = max(code, EXIT_PROBLEMS)
    for note in source.notes:
        print(f"note: {one_line(note)}", file=sys.stderr)
    used: set[str] = set()
    for framework in source.frameworks:
        code = max(code, _write(framework, out, options.force, config, used))
    return code


# --- what to pull -------------------------------------------------------------------------------


def _ctids(options: PullOptions) -> tuple[list[str], str | None]:
    from competency_ci.frameworks.build import is_ctid

    def check(value: str, option: str) -> str:
        ctid = value.strip().lower()
        if not is_ctid(ctid):
            raise Failed(EXIT_USAGE, f"{option}: not a CTID (ce-UUID): {one_line(value)}")
        return ctid

    ctids = list(dict.fromkeys(check(v, "--framework") for v in options.frameworks))
    organization = check(options.organization, "--organization") if options.organization else None
    if not ctids and organization is None:
        raise Failed(EXIT_USAGE, "name what to pull: --framework CTID (repeatable) or --organization CTID")
    return ctids, organization


def _output_dir(path: str) -> Path:
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise Failed(EXIT_USAGE, f"-o {one_line(path)}: not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise Failed(EXIT_USAGE, f"-o {one_line(path)}: cannot create: {exc.strerror}") from None
    return out


# --- CASS ---------------------------------------------------------------------------------------


def _from_cass(options: PullOptions, config: Config, ctids: list[str], organization: str | None) -> Source:
    from competency_ci.frameworks.jsonld import resource_uri
    from competency_ci.targets.cass.client import CassClient, CassError, check_server_url
    from competency_ci.targets.cass.pull import list_organization, read_frameworks
    from competency_ci.targets.cass.signing import cass_pem

    server = options.server or config.cass.url
    if not server:
        raise Failed(
            EXIT_USAGE,
            "no source: pass --server URL (or --server sandbox) or --registry, or set cass.url in the "
            "configuration",
        )
    if server != SANDBOX:
        server = check_server_url(server, options.allow_insecure_http)
    key = _reading_key(config, server)
    source = Source(server)
    if server == SANDBOX:
        from competency_ci.sandbox import start_embedded

        source.sandbox = start_embedded(config.root)
        server = source.label = source.sandbox.url
        print(f"Using the embedded sandbox at {server} (data in .competency-ci/)", file=sys.stderr)
    try:
        client = CassClient(server, key, timeout=options.timeout)
        client.ping()
        wanted = list(ctids)
        if organization is not None:
            listed = list_organization(client, resource_uri(config.registry_url, organization))
            wanted += [c for c in listed if c not in wanted]
        read = read_frameworks(
            client,
            wanted,
            registry_url=config.registry_url,
            owner_pem=cass_pem(key.public_key()) if key is not None else None,
            default_language=config.language,
        )
    except CassError as exc:
        raise Failed(EXIT_REMOTE, f"{one_line(str(exc))}; nothing was written") from None
    finally:
        if source.sandbox is not None:
            source.sandbox.stop()
    for ctid, pulled in read.found.items():
        if pulled is None:
            source.unknown.append(ctid)
        else:
            source.frameworks.append(pulled.framework)
            source.notes += pulled.notes
    return source


def _reading_key(config: Config, server: str) -> Any:
    """The configured key (objects with readers need a signature, and its own owner entry is left
    out of the ``owner`` column); else the sandbox key for a server on this machine, if there is one;
    else none: public objects read without a signature."""
    from competency_ci.http import is_loopback
    from competency_ci.sandbox.key import SANDBOX_KEY
    from competency_ci.targets.cass.signing import KeyLoadError, load_configured_key, load_private_key

    try:
        return load_configured_key(config.cass.key_env, config.cass.key_file, config.root)
    except KeyLoadError as exc:
        if "no CASS signing key" not in str(exc):
            raise Failed(EXIT_USAGE, f"error: {exc}") from None
    local = server == SANDBOX or is_loopback(urlsplit(server).hostname or "")
    path = config.root / SANDBOX_KEY
    if local and path.is_file():
        try:
            return load_private_key(path.read_text("utf-8"), source=f"sandbox key {SANDBOX_KEY}")
        except (OSError, UnicodeDecodeError, KeyLoadError):
            return None
    return None


# --- the Registry -------------------------------------------------------------------------------


def _from_registry(
    options: PullOptions, config: Config, ctids: list[str], organization: str | None
) -> Source:
    from competency_ci.frameworks.jsonld import GraphError, graph_to_frameworks
    from competency_ci.http import RemoteError, check_url
    from competency_ci.targets.registry.client import RegistryError, RegistryReader

    if organization is not None:
        raise Failed(EXIT_USAGE, f"--organization: {CANNOT_LIST_REGISTRY}")
    url = (options.registry or config.registry_url).rstrip("/")
    check_url(url, "--registry", allow_insecure_http=options.allow_insecure_http)  # the one URL policy
    from competency_ci.commands.common import budget

    reader = RegistryReader(url, budget=budget(options.timeout))
    source = Source(url)
    for ctid in ctids:
        try:
            document = reader.read_graph(ctid)
        except (RemoteError, RegistryError) as exc:
            raise Failed(EXIT_REMOTE, f"{one_line(str(exc))}; nothing was written") from None
        if document is None:
            source.unknown.append(ctid)
            continue
        try:
            read = graph_to_frameworks(document)
        except GraphError as exc:
            raise Failed(EXIT_REMOTE, f"{reader.graph_url(ctid)}: {exc}; nothing was written") from None
        found = [fw for fw in read.frameworks if fw.ctid == ctid]
        if not found:
            source.unknown.append(ctid)
            continue
        source.frameworks += found
        source.notes += read.notes
    return source


# --- writing ------------------------------------------------------------------------------------


def _write(framework: Framework, out: Path, force: bool, config: Config, used: set[str]) -> int:
    from competency_ci.frameworks.csvwrite import framework_rows, to_csv
    from competency_ci.frameworks.filename import framework_file_name

    name = framework_file_name(framework.name, framework.ctid)
    if name in used:  # two frameworks of one name and CTID prefix: the whole CTID tells them apart
        name = framework_file_name(framework.name, framework.ctid.replace("-", ""))
    used.add(name)
    path = out / name
    text = to_csv(framework_rows([framework]))
    what = f"{one_line(framework.name)} ({framework.ctid}), {len(framework.competencies)} competencies"
    if path.is_file() and not path.is_symlink() and path.read_bytes() == text.encode("utf-8"):
        print(f"unchanged {path}: {what}")
        return EXIT_OK
    if (path.exists() or path.is_symlink()) and not force:
        print(
            f"{PROG}: {path} exists and differs: left alone (--force replaces it, or pull into another "
            "folder with -o and compare: competency-ci diff OLD NEW)",
            file=sys.stderr,
        )
        return EXIT_PROBLEMS
    try:
        _store(path, text, replace=force)
    except OSError as exc:
        print(f"{PROG}: cannot write {path}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    print(f"wrote {path}: {what}")
    return _check(path, config)


def _store(path: Path, text: str, *, replace: bool) -> None:
    """A new file is created exclusively (never through a link); a replaced one is renamed over."""
    data = text.encode("utf-8")
    if not replace:
        with open(path, "xb") as handle:
            handle.write(data)
        return
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _check(path: Path, config: Config) -> int:
    """The written file, validated: what the source held may not make a valid framework file."""
    from competency_ci.frameworks.build import InvalidFrameworks, load_frameworks
    from competency_ci.frameworks.validate import ValidationResult
    from competency_ci.report.problems import text

    try:
        load_frameworks(path, config)
    except InvalidFrameworks as exc:
        sys.stderr.write(text(ValidationResult(problems=exc.problems, files=[str(path)])))
        print(f"{PROG}: {path} does not validate: fix it before publishing", file=sys.stderr)
        return EXIT_PROBLEMS
    return EXIT_OK


__all__ = ["PullOptions", "pull"]
