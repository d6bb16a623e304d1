"""The package's shape: layers as declared in pyproject.toml ([tool.importlinter]), no import cycle
between modules (imports under TYPE_CHECKING count too), and no channel imported by the core."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grimp
import pytest
from importlinter import cli

REPO = Path(__file__).resolve().parents[1]
CHANNELS = ("advisor.api", "advisor.app", "advisor.widget", "advisor.slack", "advisor.cli", "advisor.evals")
CORE = ("advisor.chat", "advisor.container", "advisor.compose", "advisor.retrieval", "advisor.store")


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("advisor", cache_dir=None)


def test_the_declared_layers_hold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    assert cli.lint_imports(config_filename="pyproject.toml", no_cache=True, no_logo=True) == 0


def _cycles(edges: dict[str, set[str]]) -> Iterator[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    counter = 0

    def visit(node: str) -> Iterator[list[str]]:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                yield from visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                yield sorted(component)

    for node in sorted(edges):
        if node not in index:
            yield from visit(node)


def test_no_module_imports_itself_through_others(graph: grimp.ImportGraph) -> None:
    edges = {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    assert list(_cycles(edges)) == []


def test_the_cycle_finder_finds_a_planted_cycle() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert list(_cycles(edges)) == [["a", "b", "c"]]


@pytest.mark.parametrize("core", CORE)
def test_the_core_imports_no_channel(graph: grimp.ImportGraph, core: str) -> None:
    for channel in CHANNELS:
        chain = graph.find_shortest_chain(importer=core, imported=channel, as_packages=True)
        assert chain is None, f"{core} reaches {channel}: {' -> '.join(chain or ())}"
