"""`.competency-ci.yaml`: optional repository configuration, validated with clear errors."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload
from urllib.parse import urlsplit

from competency_ci.frameworks.codes import CODES
from competency_ci.frameworks.problems import Level

CONFIG_NAME = ".competency-ci.yaml"

REGISTRIES = {
    "sandbox": "https://sandbox.credentialengineregistry.org",
    "production": "https://credentialengineregistry.org",
}
ASSISTANTS = {
    "sandbox": "https://sandbox.credentialengine.org/assistant",
    "production": "https://apps.credentialengine.org/assistant",
}
PUBLISHERS = {
    "sandbox": "https://sandbox.credentialengine.org/publisher",
    "production": "https://apps.credentialengine.org/publisher",
}


class ConfigError(Exception):
    """Unusable configuration (exit code 2)."""


@dataclass
class CassConfig:
    """The ``cass`` section: where to publish and the environment variable holding the key."""

    url: str | None = None
    key_env: str = "CASS_KEY"
    key_file: str | None = None


@dataclass
class ApprovalConfig:
    """The ``approval`` section: how published frameworks are put to the approvers."""

    kind: str = "none"
    label: str = "competency-approval"
    approvers: list[str] = field(default_factory=list)
    repository: str | None = None
    publisher_url: str | None = None
    publisher_organization_id: str | None = None
    webhook_url: str | None = None
    webhook_secret_env: str = "APPROVAL_WEBHOOK_SECRET"


@dataclass
class Config:
    """The repository's `.competency-ci.yaml`, validated (defaults where it says nothing)."""

    root: Path
    path: Path | None = None
    paths: list[str] = field(default_factory=lambda: ["**/*.csv"])
    exclude: list[str] = field(default_factory=list)
    language: str = "en-US"
    registry: str = "sandbox"
    registry_url: str = REGISTRIES["sandbox"]
    assistant_url: str = ASSISTANTS["sandbox"]
    organization: str | None = None
    rules: dict[str, Level] = field(default_factory=dict)
    cass: CassConfig = field(default_factory=CassConfig)
    approval: ApprovalConfig = field(default_factory=ApprovalConfig)
    retire: str = "deprecate"  # a framework deleted from the repository or marked Deprecated
    on_drift: str = "fail"  # an object edited on the server since the repository last published it

    def level(self, code: str, default: Level) -> Level:
        return self.rules.get(code, default)

    @property
    def publisher_url(self) -> str:
        url = self.approval.publisher_url or PUBLISHERS.get(self.registry, PUBLISHERS["sandbox"])
        return url.rstrip("/")

    @property
    def organization_summary_url(self) -> str | None:
        """The organization's Organization Summary Page in the Publisher, where frameworks are approved."""
        org_id = self.approval.publisher_organization_id
        if org_id:
            return f"{self.publisher_url.split('/summary/organization/')[0]}/summary/organization/{org_id}"
        return self.publisher_url if "/summary/organization/" in self.publisher_url else None


def find_root(start: Path | None = None) -> Path:
    """The directory holding `.competency-ci.yaml`, else the git work tree, else ``start``."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / CONFIG_NAME).is_file():
            return candidate
    for candidate in (here, *here.parents):
        if (candidate / ".git").exists():
            return candidate
    return here


def _strings(value: Any, key: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    if isinstance(value, list):
        odd = next(v for v in value if not isinstance(v, str))
        raise ConfigError(f"{key}: expected a string or a list of strings, got a list holding {_kind(odd)}")
    raise ConfigError(f"{key}: expected a string or a list of strings, got {_kind(value)}")


def _section(raw: Any, key: str, allowed: set[str]) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{key}: expected a mapping, got {type(raw).__name__}")
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ConfigError(
            f"{key}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
        )
    return raw


def _str(raw: dict[str, Any], key: str, where: str) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{where}{key}: expected a string, got {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    """What a wrong value is, never the value itself (it may be a pasted secret)."""
    return {bool: "true/false", int: "a number", float: "a number", list: "a list", dict: "a mapping"}.get(
        type(value), type(value).__name__
    )


@overload
def _url(value: str, key: str) -> str: ...
@overload
def _url(value: None, key: str) -> None: ...
def _url(value: str | None, key: str) -> str | None:
    """A configured URL without credentials in it: they would be printed with every link and log
    line (the full URL policy, ``http.check_url``, applies when a request is sent)."""
    if value is not None and "@" in urlsplit(value).netloc:
        raise ConfigError(
            f"{key}: credentials in the URL are refused (they would be printed and logged); "
            "give them as the configured secret instead"
        )
    return value


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _env_name(raw: dict[str, Any], key: str, where: str, default: str) -> str:
    """The *name* of an environment variable; a value that is not one (a key or token pasted in its
    place) is refused without being printed."""
    name = _str(raw, key, where)
    if name is None:
        return default
    if not _ENV_NAME.fullmatch(name):
        raise ConfigError(
            f"{where}{key}: expected the name of an environment variable (letters, digits and _), "
            f"not its value; the value given ({len(name)} characters) is not shown"
        )
    return name


def _publisher_id(value: Any) -> str | None:
    """The organization's id in the Publisher's URLs (``/summary/organization/{id}``): digits."""
    if value is None:
        return None
    text = str(value).strip() if isinstance(value, int | str) and not isinstance(value, bool) else ""
    if not text.isdigit() or not text.isascii():
        raise ConfigError(
            "approval.publisher-organization-id: expected the number at the end of the organization's "
            "Organization Summary Page address in the Publisher (.../summary/organization/<number>)"
        )
    return text


TOP_KEYS = {
    "paths",
    "exclude",
    "language",
    "registry",
    "assistant",
    "organization",
    "rules",
    "cass",
    "approval",
    "retire",
    "on-drift",
}
RETIRE_MODES = ("deprecate", "delete")
DRIFT_MODES = ("fail", "overwrite", "keep")


def parse_config(data: Any, root: Path, path: Path | None = None) -> Config:
    raw = _section(data, path.name if path else "configuration", TOP_KEYS)
    cfg = Config(root=root, path=path)
    if "paths" in raw:
        cfg.paths = _strings(raw["paths"], "paths")
    if "exclude" in raw:
        cfg.exclude = _strings(raw["exclude"], "exclude")
    if (lang := _str(raw, "language", "")) is not None:
        cfg.language = lang
    if (registry := _str(raw, "registry", "")) is not None:
        if registry in REGISTRIES:
            cfg.registry, cfg.registry_url, cfg.assistant_url = (
                registry,
                REGISTRIES[registry],
                ASSISTANTS[registry],
            )
        elif registry.startswith(("http://", "https://")):
            cfg.registry, cfg.registry_url = "custom", _url(registry, "registry").rstrip("/")
        else:
            raise ConfigError(f"registry: expected sandbox, production or a URL, got {registry!r}")
    if (assistant := _str(raw, "assistant", "")) is not None:
        if not assistant.startswith(("http://", "https://")):
            raise ConfigError(f"assistant: expected the Registry Assistant API base URL, got {assistant!r}")
        cfg.assistant_url = _url(assistant, "assistant").rstrip("/")
    cfg.organization = _str(raw, "organization", "")
    if (retire := _str(raw, "retire", "")) is not None:
        if retire not in RETIRE_MODES:
            raise ConfigError(f"retire: expected {' or '.join(RETIRE_MODES)}, got {retire!r}")
        cfg.retire = retire
    if (on_drift := _str(raw, "on-drift", "")) is not None:
        if on_drift not in DRIFT_MODES:
            raise ConfigError(f"on-drift: expected fail, overwrite or keep, got {on_drift!r}")
        cfg.on_drift = on_drift
    rules = _section(raw.get("rules"), "rules", set(CODES))
    for code, level in rules.items():
        if level is False:  # YAML 1.1 reads a bare `off` as false
            level = "off"
        try:
            cfg.rules[code] = Level(level)
        except ValueError:
            raise ConfigError(
                f"rules.{code}: expected error, warning, notice or off, got {level!r}"
            ) from None
    cass = _section(raw.get("cass"), "cass", {"url", "key-env", "key-file"})
    cfg.cass = CassConfig(
        url=_url(_str(cass, "url", "cass."), "cass.url"),
        key_env=_env_name(cass, "key-env", "cass.", "CASS_KEY"),
        key_file=_str(cass, "key-file", "cass."),
    )
    approval_keys = {
        "kind",
        "label",
        "approvers",
        "repository",
        "publisher-url",
        "publisher-organization-id",
        "webhook-url",
        "webhook-secret-env",
    }
    approval = _section(raw.get("approval"), "approval", approval_keys)
    kind = _str(approval, "kind", "approval.") or "none"
    if kind not in {"github-issue", "webhook", "none"}:
        raise ConfigError(f"approval.kind: expected github-issue, webhook or none, got {kind!r}")
    cfg.approval = ApprovalConfig(
        kind=kind,
        label=_str(approval, "label", "approval.") or "competency-approval",
        approvers=_strings(approval.get("approvers", []), "approval.approvers"),
        repository=_str(approval, "repository", "approval."),
        publisher_url=_url(_str(approval, "publisher-url", "approval."), "approval.publisher-url"),
        publisher_organization_id=_publisher_id(approval.get("publisher-organization-id")),
        webhook_url=_url(_str(approval, "webhook-url", "approval."), "approval.webhook-url"),
        webhook_secret_env=_env_name(approval, "webhook-secret-env", "approval.", "APPROVAL_WEBHOOK_SECRET"),
    )
    return cfg


def load_config(explicit: str | None = None, start: Path | None = None) -> Config:
    """Read the configuration (``explicit`` path, else `.competency-ci.yaml` at the root, else defaults)."""
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"{explicit}: configuration file not found")
        root = path.resolve().parent
    else:
        root = find_root(start)
        path = root / CONFIG_NAME
        if not path.is_file():
            return Config(root=root)
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    if not text.strip():  # an empty file marks the root; no need to load a YAML parser for it
        return parse_config({}, root, path)
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}:{where} invalid YAML: {getattr(exc, 'problem', exc)}") from None
    return parse_config({} if data is None else data, root, path)


def env_or_none(name: str) -> str | None:
    value = os.environ.get(name)
    return value if value else None
