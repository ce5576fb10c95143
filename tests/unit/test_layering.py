"""grok_mpp reads bottom-up: no module imports (even lazily) one that imports it back.

Edges are every ``import``/``from ... import`` naming a ``grok_mpp`` module, module level or inside a
function, so a circle hidden behind a lazy import is caught too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import grok_mpp

ROOT = Path(grok_mpp.__file__).parent


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _graph(package: str) -> dict[str, set[str]]:
    base = ROOT.parent / package.replace(".", "/")
    modules = {_module_name(p): p for p in base.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text())):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # ``from pkg import submodule`` needs the submodule, not names from pkg's __init__
                # (the import system binds the submodule even while pkg is still initialising).
                submodules = [f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in modules]
                names_from_module = len(submodules) < len(node.names)
                targets = submodules + ([node.module] if names_from_module else [])
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            for target in targets:
                if target in modules and target != name:
                    graph[name].add(target)
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_gateway_has_no_import_circle() -> None:
    graph = _graph("grok_mpp.gateway")
    assert "grok_mpp.gateway.requests.images" in graph  # the walk sees the split packages
    assert _cycle(graph) is None, _cycle(graph)


def test_grok_mpp_has_no_import_circle() -> None:
    """Issue #16's "done when": no circle anywhere in the core (ledger, payment, local, bridge...)."""
    graph = _graph("grok_mpp")
    assert {"grok_mpp.ledger.base", "grok_mpp.payment.auth", "grok_mpp.local.server"} <= set(graph)
    assert _cycle(graph) is None, _cycle(graph)


def test_requests_never_import_parsing() -> None:
    graph = _graph("grok_mpp.gateway")
    for name, targets in graph.items():
        if name.startswith("grok_mpp.gateway.requests"):
            assert not {t for t in targets if t.startswith("grok_mpp.gateway.parsing")}, name


def test_cycle_finder_finds_a_circle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
