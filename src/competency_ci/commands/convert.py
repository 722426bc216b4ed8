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
    graphs = [(fw.ctid, framework_to_graph(fw, registry, config.language)) for fw in frameworks]
    sizes = [f"{len(graph['@graph']) - 1} competencies" for _, graph in graphs]
    if not frameworks:
        from competency_ci.frameworks.collection import collection_to_graph, load_collections

        collections = load_collections(path, config, data=data)  # the same checks: no error now
        graphs = [(c.ctid, collection_to_graph(c, registry, config.language)) for c in collections]
        sizes = [f"{len(c.members)} members" for c in collections]
    if not graphs:
        print(f"{PROG}: {path} holds no framework", file=sys.stderr)
        return 2
    out = Path(options.output) if options.output else None
    to_dir = out is not None and (out.is_dir() or str(options.output).endswith(("/", "\\")))
    if len(graphs) > 1 and not to_dir:
        kind = "frameworks" if frameworks else "collections"
        print(
            f"{PROG}: {path} holds {len(graphs)} {kind}; give -o DIRECTORY to write one graph each",
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
    for (target, _), size in zip(targets, sizes, strict=True):
        print(f"wrote {target} ({size})", file=sys.stderr)
    return 0


def _jsonld_to_csv(path: Path, data: bytes, options: ConvertOptions) -> int:
    from competency_ci.frameworks.csvwrite import framework_rows, to_csv
    from competency_ci.frameworks.jsonld import GraphError, graph_to_frameworks

    try:
        document = json.loads(data.decode("utf-8-sig"), parse_int=_integer)
        if _is_collection_graph(document):
            return _collections_to_csv(path, document, options)
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
    count = sum(len(fw.competencies) for fw in read.frameworks)
    return _write_csv(
        path, read.notes, to_csv(framework_rows(read.frameworks)), options, f"{count} competencies"
    )


def _is_collection_graph(document: object) -> bool:
    from competency_ci.frameworks.collection import is_collection_graph

    return is_collection_graph(document)


def _collections_to_csv(path: Path, document: object, options: ConvertOptions) -> int:
    """A collection graph (``ceterms:Collection`` nodes) -> a collection file."""
    from competency_ci.frameworks.collection import collections_to_csv, graph_to_collections

    read = graph_to_collections(document, str(path))  # a GraphError is the caller's
    count = sum(len(c.members) for c in read.collections)
    return _write_csv(path, read.notes, collections_to_csv(read.collections), options, f"{count} members")


def _write_csv(path: Path, notes: list[str], text: str, options: ConvertOptions, what: str) -> int:
    """The notes of a graph read, then its CSV to stdout or, whole or not at all, to ``--output``."""
    for note in notes:
        print(f"{path}: note: {note}", file=sys.stderr)
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
    print(f"wrote {out} ({what})", file=sys.stderr)
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
