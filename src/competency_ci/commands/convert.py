"""`competency-ci convert`: framework CSV -> CTDL-ASN JSON-LD graph(s), and graph -> template CSV."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from competency_ci import atomic
from competency_ci.commands.common import gc_paused, print_problems
from competency_ci.frameworks.build import InvalidFrameworks, load_frameworks
from competency_ci.frameworks.config import REGISTRIES, Config, ConfigError, load_config

PROG = "competency-ci convert"


@dataclass(frozen=True)
class ConvertOptions:
    file: str = ""
    config: str | None = None
    output: str | None = None
    registry: str | None = None


def registry_url(value: str | None, config: Config) -> str:
    if value is None:
        return config.registry_url
    if value in REGISTRIES:
        return REGISTRIES[value]
    if value.startswith(("http://", "https://")):
        return value.rstrip("/")
    raise ConfigError(f"--registry: expected sandbox, production or a URL, got {value!r}")


def convert(options: ConvertOptions) -> int:
    config = load_config(options.config)
    path = Path(options.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        print(f"{PROG}: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 2
    with gc_paused():
        if path.suffix.lower() == ".csv":
            return _csv_to_jsonld(path, data, options, config)
        return _jsonld_to_csv(path, data, options)


def _csv_to_jsonld(path: Path, data: bytes, options: ConvertOptions, config: Config) -> int:
    from competency_ci.frameworks.jsonld import dumps, framework_to_graph

    registry = registry_url(options.registry, config)
    try:
        frameworks = load_frameworks(path, config, data=data)
    except InvalidFrameworks as exc:
        print_problems(str(path), exc.problems)
        print(f"{PROG}: {path} has errors; nothing written", file=sys.stderr)
        return 1
    if not frameworks:
        print(f"{PROG}: {path} holds no framework", file=sys.stderr)
        return 2
    graphs = [(fw.ctid, framework_to_graph(fw, registry, config.language)) for fw in frameworks]
    out = Path(options.output) if options.output else None
    to_dir = out is not None and (out.is_dir() or str(options.output).endswith(("/", "\\")))
    if len(graphs) > 1 and not to_dir:
        print(
            f"{PROG}: {path} holds {len(graphs)} frameworks; give -o DIRECTORY to write one graph each",
            file=sys.stderr,
        )
        return 2
    if out is None:
        sys.stdout.write(dumps(graphs[0][1]))
        return 0
    targets = [(out / f"{ctid}.json" if to_dir else out, graph) for ctid, graph in graphs]
    try:
        if to_dir:
            out.mkdir(parents=True, exist_ok=True)
        for target, graph in targets:
            atomic.write_text(target, dumps(graph))
    except OSError as exc:
        print(f"{PROG}: cannot write {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2
    for target, graph in targets:
        print(f"wrote {target} ({len(graph['@graph']) - 1} competencies)", file=sys.stderr)
    return 0


def _jsonld_to_csv(path: Path, data: bytes, options: ConvertOptions) -> int:
    from competency_ci.frameworks.csvwrite import framework_rows, to_csv
    from competency_ci.frameworks.jsonld import GraphError, graph_to_frameworks

    try:
        document = json.loads(data.decode("utf-8-sig"), parse_int=_integer)
        read = graph_to_frameworks(document, str(path))
    except UnicodeDecodeError:
        print(f"{PROG}: {path} is not UTF-8", file=sys.stderr)
        return 2
    except json.JSONDecodeError as exc:
        print(f"{PROG}: {path}:{exc.lineno}: not JSON: {exc.msg}", file=sys.stderr)
        return 2
    except RecursionError:
        print(f"{PROG}: {path}: nested too deeply to be a CTDL-ASN graph", file=sys.stderr)
        return 2
    except GraphError as exc:
        print(f"{PROG}: {path}: {exc}", file=sys.stderr)
        return 2
    for note in read.notes:
        print(f"{path}: note: {note}", file=sys.stderr)
    text = to_csv(framework_rows(read.frameworks))
    surrogate = _lone_surrogate(text)
    if surrogate is not None:
        print(
            f"{PROG}: {path}: holds a lone surrogate ({surrogate}), which is not Unicode text; "
            "nothing written",
            file=sys.stderr,
        )
        return 2
    if options.output is None:
        sys.stdout.write(text)
        return 0
    out = Path(options.output)
    try:
        atomic.write_text(out, text)
    except OSError as exc:
        print(f"{PROG}: cannot write {out}: {exc.strerror}", file=sys.stderr)
        return 2
    count = sum(len(fw.competencies) for fw in read.frameworks)
    print(f"wrote {out} ({count} competencies)", file=sys.stderr)
    return 0


def _integer(digits: str) -> int | str:
    """A JSON integer; one too long for Python's int conversion limit stays its digits (a CSV cell
    is text anyway) instead of raising."""
    return int(digits) if len(digits) <= 4000 else digits


def _lone_surrogate(text: str) -> str | None:
    """``\\udxxx`` for the first unpaired surrogate (JSON's ``\\ud800`` escape makes one)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"\\u{ord(text[exc.start]):04x}"
    return None
