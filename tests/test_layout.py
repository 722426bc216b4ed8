"""The package's layering, read from the source with ``ast``: imports only go down, and no cycles.

Every ``import`` counts, wherever it is (module level, inside a function, under ``TYPE_CHECKING``):
a deferred import is still a dependency. Layers, lowest first; a module may import its own layer or
any layer below it, never above. Within a layer, packages may use each other, but no two modules may
import each other, directly or round a loop.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = "competency_ci"

# Lowest first. The first name of the module path below ``competency_ci`` decides its layer.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("__init__", "schema", "http", "gitfiles", "githubapi", "atomic", "progress"),
    ("frameworks",),
    ("report",),
    ("targets",),
    ("approval",),
    ("action", "sandbox"),
    ("commands",),  # orchestration: one function per command
    ("cli", "__main__"),
)
LAYER = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted((SRC / PACKAGE).rglob("*.py"))}


def imported(name: str, path: Path, known: set[str]) -> Iterator[str]:
    """The project modules ``name`` imports (a ``from x import y`` of a submodule ``y`` names it)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names
            ]
        else:
            continue
        for target in targets:
            while target and target not in known:  # `import competency_ci.a.b` of an attribute
                target = target.rpartition(".")[0]
            if target.startswith(PACKAGE) and target != name:
                yield target


def graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {name: set(imported(name, path, known)) for name, path in found.items()}


def layer(module: str) -> int:
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else "__init__"
    assert top in LAYER, f"{module}: {top} is in no layer of tests/test_layout.py; add it to LAYERS"
    return LAYER[top]


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_graph_is_read() -> None:
    edges = graph()
    assert "competency_ci.targets.cass.publish" in edges["competency_ci.targets.cass.target"]
    assert "competency_ci.commands.publish" in edges["competency_ci.cli.publish"]
    # a function-level import counts as much as a module-level one
    assert "competency_ci.frameworks.validate" in edges["competency_ci.commands.common"]


def test_no_import_cycles() -> None:
    assert cycles(graph()) == []


def test_imports_only_go_down() -> None:
    upward = [
        f"{module} (layer {layer(module)}) imports {target} (layer {layer(target)})"
        for module, targets in sorted(graph().items())
        for target in sorted(targets)
        if layer(target) > layer(module)
    ]
    assert upward == []


def test_cli_modules_only_parse_and_call_one_function_below() -> None:
    """cli/ imports from the project only the command layer, the core's configuration error and the
    option lists it offers (formats, kinds, modes); of cli/ itself only main (the dispatcher) and
    options (argparse options several commands share)."""
    edges = graph()
    allowed_prefixes = ("competency_ci.commands.", "competency_ci.cli.main", "competency_ci.cli.options")
    allowed = {"competency_ci", "competency_ci.frameworks.config", "competency_ci.report.problems"}
    wrong = [
        f"{module} imports {target}"
        for module, targets in sorted(edges.items())
        if module.startswith("competency_ci.cli.") and module != "competency_ci.cli.main"
        for target in sorted(targets)
        if not target.startswith(allowed_prefixes) and target not in allowed
    ]
    assert wrong == []


def test_cycle_finder_finds_a_loop() -> None:
    """The checker itself can fail: a three-module loop and a self-contained pair are reported."""
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"e"}, "e": {"d"}, "f": {"a"}}
    assert cycles(edges) == [["a", "b", "c"], ["d", "e"]]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from competency_ci.targets.cass import publish", "competency_ci.targets.cass.publish"),
        ("from competency_ci.targets.cass.plan import Plan", "competency_ci.targets.cass.plan"),
        ("def f():\n    import competency_ci.report.diff\n", "competency_ci.report.diff"),
        ("from ..cass import ids", "competency_ci.targets.cass.ids"),
    ],
)
def test_imports_are_resolved_to_modules(tmp_path: Path, source: str, expected: str) -> None:
    path = tmp_path / "probe.py"
    path.write_text(source, "utf-8")
    known = set(modules())
    assert set(imported("competency_ci.targets.registry.probe", path, known)) == {expected}
