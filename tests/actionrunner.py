"""A small local runner for composite actions: runs `action.yml`'s own steps the way GitHub does.

What it does, like the Actions runner:
- evaluates `${{ }}` expressions (contexts `inputs`, `github`, `runner`, `steps`, `env`; literals,
  `==`, `!=`, `!`, `&&`, `||`, parentheses) in step fields and in output `value:` mappings;
- runs each `run:` step with its `shell` (bash as `bash --noprofile --norc -eo pipefail`),
  `env`, and `working-directory`, with fresh `GITHUB_OUTPUT`, `GITHUB_STEP_SUMMARY` and
  `GITHUB_ENV` files per step, and collects step outputs, summaries and environment changes;
- reads the workflow commands a step prints (`::name props::data`, honouring
  `::stop-commands::TOKEN` ... `::TOKEN::`), so tests assert what GitHub would act on;
- stops at the first failing step.

What it does not do, and says so in `ActionResult.log`:
- `uses:` steps are skipped; their outputs come from the test (`uses_outputs`; the default for
  `actions/setup-python` is the current interpreter);
- a `run:` step listed in `prebuilt` is not run and reports the given outputs instead (tests use this
  to reuse the already-installed environment rather than pip-installing the action per test).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# --- expressions ----------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<op>==|!=|&&|\|\||[!().\[\]])"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_-]*))"
)


class ExpressionError(Exception):
    pass


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise ExpressionError(f"cannot parse expression at {text[pos:]!r}")
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


def _lookup(obj: Any, key: str) -> Any:
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k.lower() == key.lower():  # contexts are case-insensitive
                return v
    return None


def _truthy(value: Any) -> bool:
    return value not in (None, "", False, 0)


def evaluate(text: str, context: dict[str, Any]) -> Any:
    tokens = _tokens(text)
    pos = 0

    def peek() -> tuple[str, str] | None:
        return tokens[pos] if pos < len(tokens) else None

    def take(expected: str | None = None) -> tuple[str, str]:
        nonlocal pos
        if pos >= len(tokens):
            raise ExpressionError(f"unexpected end of {text!r}")
        token = tokens[pos]
        if expected is not None and token[1] != expected:
            raise ExpressionError(f"expected {expected!r} in {text!r}, got {token[1]!r}")
        pos += 1
        return token

    def primary() -> Any:
        kind, value = take()
        if value == "(":
            result = disjunction()
            take(")")
            return result
        if kind == "str":
            return value[1:-1].replace("''", "'")
        if kind == "num":
            return float(value) if "." in value else int(value)
        if kind != "name":
            raise ExpressionError(f"unexpected {value!r} in {text!r}")
        if value in ("true", "false"):
            return value == "true"
        if value == "null":
            return None
        if (nxt := peek()) and nxt[1] == "(":
            raise ExpressionError(f"function {value}() is not supported by the local runner")
        if value not in context:
            raise ExpressionError(f"unknown context {value!r} in {text!r}")
        current: Any = context[value]
        while (nxt := peek()) and nxt[1] in (".", "["):
            take()
            if nxt[1] == ".":
                current = _lookup(current, take()[1])
            else:
                key = primary()
                take("]")
                current = _lookup(current, str(key))
        return current

    def unary() -> Any:
        if (nxt := peek()) and nxt[1] == "!":
            take()
            return not _truthy(unary())
        return primary()

    def comparison() -> Any:
        left = unary()
        if (nxt := peek()) and nxt[1] in ("==", "!="):
            op = take()[1]
            right = unary()
            same = (
                (left.lower() == right.lower())
                if isinstance(left, str) and isinstance(right, str)
                else left == right
            )
            return same if op == "==" else not same
        return left

    def conjunction() -> Any:
        left = comparison()
        while (nxt := peek()) and nxt[1] == "&&":
            take()
            right = comparison()
            left = right if _truthy(left) else left
        return left

    def disjunction() -> Any:
        left = conjunction()
        while (nxt := peek()) and nxt[1] == "||":
            take()
            right = conjunction()
            left = left if _truthy(left) else right
        return left

    result = disjunction()
    if pos != len(tokens):
        raise ExpressionError(f"trailing tokens in {text!r}")
    return result


def _to_string(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def substitute(text: str, context: dict[str, Any]) -> str:
    """Replace every `${{ expr }}` in ``text``."""
    return re.sub(r"\$\{\{(.*?)\}\}", lambda m: _to_string(evaluate(m.group(1), context)), str(text))


# --- workflow commands ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    name: str
    properties: dict[str, str]
    data: str


def _unescape(text: str, prop: bool = False) -> str:
    text = text.replace("%0D", "\r").replace("%0A", "\n")
    if prop:
        text = text.replace("%3A", ":").replace("%2C", ",")
    return text.replace("%25", "%")


_COMMAND = re.compile(r"^::(?P<name>[A-Za-z-]+)(?: (?P<props>[^:]*))?::(?P<data>.*)$")


def parse_commands(output: str) -> list[Command]:
    """The workflow commands the runner would execute in a step's output."""
    commands: list[Command] = []
    stop_token: str | None = None
    for raw in output.splitlines():
        line = raw.strip()
        if stop_token is not None:
            if line == f"::{stop_token}::":
                stop_token = None
            continue
        match = _COMMAND.match(line)
        if not match:
            continue
        name = match.group("name").lower()
        props: dict[str, str] = {}
        for part in (match.group("props") or "").split(","):
            if "=" in part:
                key, value = part.split("=", 1)
                props[key.strip().lower()] = _unescape(value, prop=True)
        data = _unescape(match.group("data"))
        if name == "stop-commands":
            stop_token = data
            continue
        commands.append(Command(name, props, data))
    return commands


# --- files the runner hands a step ----------------------------------------------------------------


def parse_key_values(text: str) -> dict[str, str]:
    """`$GITHUB_OUTPUT` / `$GITHUB_ENV` records: `k=v` or `k<<DELIM` ... `DELIM`."""
    values: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            key, delimiter = line.split("<<", 1)
            body: list[str] = []
            while i < len(lines) and lines[i] != delimiter:
                body.append(lines[i])
                i += 1
            if i >= len(lines):
                raise ValueError(f"unterminated heredoc for {key!r}")
            i += 1
            values[key] = "\n".join(body)
        elif "=" in line:
            key, value = line.split("=", 1)
            values[key] = value
        else:
            raise ValueError(f"invalid record {line!r}")
    return values


# --- running --------------------------------------------------------------------------------------


@dataclass
class StepResult:
    id: str
    name: str
    skipped: str | None = None
    exit_code: int = 0
    stdout: str = ""
    stderr: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    summary: str = ""
    commands: list[Command] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class ActionResult:
    exit_code: int
    steps: list[StepResult]
    outputs: dict[str, str]
    log: list[str]

    @property
    def summary(self) -> str:
        return "".join(s.summary for s in self.steps)

    @property
    def stdout(self) -> str:
        return "".join(s.stdout for s in self.steps)

    @property
    def stderr(self) -> str:
        return "".join(s.stderr for s in self.steps)

    @property
    def commands(self) -> list[Command]:
        return [c for s in self.steps for c in s.commands]

    def step(self, step_id: str) -> StepResult:
        return next(s for s in self.steps if s.id == step_id)


SETUP_PYTHON_OUTPUTS = {"python-path": sys.executable, "python-version": sys.version.split()[0]}
SHELLS = {"bash": ["bash", "--noprofile", "--norc", "-eo", "pipefail"], "sh": ["sh", "-e"]}
SUPPORTED_STEP_KEYS = {"name", "id", "uses", "with", "run", "shell", "env", "working-directory"}


def run_action(
    action_dir: Path,
    *,
    inputs: dict[str, str],
    env: dict[str, str],
    token: str = "",
    uses_outputs: dict[str, dict[str, str]] | None = None,
    prebuilt: dict[str, dict[str, str]] | None = None,
) -> ActionResult:
    """Run the composite action in ``action_dir`` in the runner environment ``env``.

    ``env`` must hold what the runner sets for a job (`GITHUB_WORKSPACE`, `GITHUB_EVENT_PATH`,
    `RUNNER_TEMP`, ...). ``token`` is `github.token`.
    """
    action = yaml.safe_load((action_dir / "action.yml").read_text("utf-8"))
    if action["runs"]["using"] != "composite":
        raise ValueError("only composite actions are supported")
    uses_outputs = {"actions/setup-python": SETUP_PYTHON_OUTPUTS, **(uses_outputs or {})}
    prebuilt = prebuilt or {}
    event_path = env.get("GITHUB_EVENT_PATH")
    event = json.loads(Path(event_path).read_text("utf-8")) if event_path else {}
    github = {
        "action_path": str(action_dir),
        "token": token,
        "event": event,
        "event_name": env.get("GITHUB_EVENT_NAME", ""),
        "event_path": event_path or "",
        "workspace": env.get("GITHUB_WORKSPACE", ""),
        "repository": env.get("GITHUB_REPOSITORY", ""),
        "sha": env.get("GITHUB_SHA", ""),
        "ref": env.get("GITHUB_REF", ""),
        "api_url": env.get("GITHUB_API_URL", ""),
        "server_url": env.get("GITHUB_SERVER_URL", ""),
    }
    context: dict[str, Any] = {
        "github": github,
        "runner": {"temp": env["RUNNER_TEMP"], "os": "Linux", "arch": "X64"},
        "env": dict(env),
        "steps": {},
        "inputs": {},
    }
    declared = action.get("inputs") or {}
    unknown = set(inputs) - set(declared)
    if unknown:
        raise ValueError(f"unexpected input(s) {sorted(unknown)}; valid: {sorted(declared)}")
    for name, spec in declared.items():
        default = substitute(str(spec.get("default", "")), context)
        context["inputs"][name] = inputs.get(name, default)

    log: list[str] = []
    results: list[StepResult] = []
    job_env = dict(env)
    exit_code = 0
    for index, step in enumerate(action["runs"]["steps"]):
        unsupported = set(step) - SUPPORTED_STEP_KEYS
        if unsupported:
            raise ValueError(
                f"step {index}: keys {sorted(unsupported)} are not supported by the local runner"
            )
        step_id = step.get("id", f"__{index}")
        name = step.get("name", step_id)
        result = StepResult(step_id, name)
        if "uses" in step:
            uses = step["uses"]
            outputs = dict(uses_outputs.get(uses.split("@")[0], {}))
            result.skipped = f"skipped `uses: {uses}`: the local runner does not run actions"
            result.outputs = outputs
        elif step_id in prebuilt:
            result.skipped = f"replaced step {step_id!r} by a pre-built environment (test only)"
            result.outputs = dict(prebuilt[step_id])
        else:
            result = _run_step(step, step_id, name, context, job_env)
        if result.skipped:
            log.append(f"{name}: {result.skipped}; outputs {result.outputs}")
        context["steps"][step_id] = {"outputs": result.outputs, "outcome": "success"}
        job_env.update(result.env)
        context["env"] = dict(job_env)
        results.append(result)
        if result.exit_code != 0:
            exit_code = result.exit_code
            log.append(f"{name}: exited with {result.exit_code}; later steps not run")
            break
    outputs = {
        name: substitute(str(spec.get("value", "")), context)
        for name, spec in (action.get("outputs") or {}).items()
    }
    return ActionResult(exit_code, results, outputs, log)


def _run_step(
    step: dict[str, Any], step_id: str, name: str, context: dict[str, Any], job_env: dict[str, str]
) -> StepResult:
    shell = step.get("shell")
    if shell not in SHELLS:
        raise ValueError(f"step {step_id}: shell {shell!r} is required and must be one of {sorted(SHELLS)}")
    step_env = {k: substitute(str(v), context) for k, v in (step.get("env") or {}).items()}
    script = substitute(step["run"], context)
    workdir = substitute(step.get("working-directory", "") or "", context) or job_env.get("GITHUB_WORKSPACE")
    with tempfile.TemporaryDirectory(prefix="step-", dir=job_env["RUNNER_TEMP"]) as tmp:
        files = {
            key: Path(tmp) / key.lower() for key in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ENV")
        }
        for path in files.values():
            path.write_text("", "utf-8")
        script_path = Path(tmp) / "script.sh"
        script_path.write_text(script, "utf-8")
        proc_env = {
            **job_env,
            **step_env,
            **{k: str(v) for k, v in files.items()},
            "GITHUB_ACTION_PATH": context["github"]["action_path"],
        }
        proc = subprocess.run(
            [*SHELLS[shell], str(script_path)],
            cwd=workdir,
            env=proc_env,
            capture_output=True,
            text=True,
            encoding="utf-8",
            check=False,
        )
        result = StepResult(
            step_id,
            name,
            exit_code=proc.returncode,
            stdout=proc.stdout,
            stderr=proc.stderr,
            outputs=parse_key_values(files["GITHUB_OUTPUT"].read_text("utf-8")),
            summary=files["GITHUB_STEP_SUMMARY"].read_text("utf-8"),
            env=parse_key_values(files["GITHUB_ENV"].read_text("utf-8")),
        )
    result.commands = parse_commands(proc.stdout) + parse_commands(proc.stderr)
    return result
