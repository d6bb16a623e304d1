"""Shared pytest plugins (fixtures live in the plugin modules) and the split into two tiers.

The fast tier (``pytest -m "not slow"``) runs on the fakes behind the component seams: the hashing
embedder and the in-memory vector store (tests/plugins/fast.py). A test joins the full tier (marked
``slow``) when it uses a fixture that brings a real heavy part: the embedding model, Chroma, a
PostgreSQL database, a browser, a subprocess of the CLI. A test of the fast tier that loads the real
model or opens Chroma anyway fails at once, saying so, so the split cannot rot.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest_plugins = [
    "tests.fakes.openai_server",
    "tests.fakes.slack_api",
    "tests.plugins.databases",
    "tests.plugins.advisor_app",
    "tests.plugins.browser",
    "tests.plugins.containers",
    "tests.plugins.fast",
]

# Fixtures that bring the real embedding model, Chroma, a browser or a CLI subprocess.
FULL_TIER_FIXTURES = frozenset(
    {
        "indexed_data_dir",
        "indexed_settings",
        "live_server",
        "extractive_container",
        "llm_container",
        "llm",
        "real_components",
        "chroma_server",
        "browser",
        "chromium_browser",
        "page",
        "advisor",
        "cli_data_dir",
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & FULL_TIER_FIXTURES or item.get_closest_marker("postgres"):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _fast_tier_uses_no_heavy_parts(request: pytest.FixtureRequest) -> Iterator[None]:
    """In the fast tier, loading the real model or opening Chroma is a mistake in the test."""
    if request.node.get_closest_marker("slow"):
        yield
        return
    from advisor.components import embedder, vector_store

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError(
            "a fast-tier test used the real embedding model or Chroma: use the fast fixtures "
            "(tests/plugins/fast.py) or the real_components fixture, which marks it slow"
        )

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(embedder.SentenceTransformerEmbedder, "load", refuse)
        patch.setattr(vector_store.ChromaVectorStore, "_connect", refuse)
        yield
