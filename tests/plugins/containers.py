"""Containers over the indexed bundled corpus, built once per session, for chat and compose tests.

Building a container loads the embedding model, so the tests share two of them: one with the
extractive composer, one whose LLM is the real langchain OpenAI client pointed at the fake server.
Each has its own copy of the indexed data, so conversations written by one never meet the other.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from advisor.container import Container
from advisor.settings import Settings, load_settings
from tests.chat.helpers import llm_overrides
from tests.fakes.openai_server import FakeOpenAIServer
from tests.plugins.advisor_app import KNOWLEDGE


def clean_settings(data_dir: Path | None = None, **overrides: Any) -> Settings:
    """Settings from the arguments only: session fixtures run before the per-test env isolation."""
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("ADVISOR_") and not name.startswith("ADVISOR_TEST_"):
                patch.delenv(name)
        if data_dir is not None:
            overrides["data_dir"] = data_dir
        overrides.setdefault("knowledge_dir", KNOWLEDGE)
        return load_settings(**overrides)


def _copy_of(indexed_data_dir: Path, tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    target = tmp_path_factory.mktemp(name) / "data"
    shutil.copytree(indexed_data_dir, target)
    return target


@pytest.fixture(scope="session")
def extractive_container(indexed_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Container:
    """Advisor as shipped: the extractive composer over the bundled corpus."""
    settings = clean_settings(_copy_of(indexed_data_dir, tmp_path_factory, "extractive"))
    assert settings.llm.provider == "extractive"
    return Container(settings)


@pytest.fixture(scope="session")
def llm_container(
    indexed_data_dir: Path, tmp_path_factory: pytest.TempPathFactory, fake_openai_server: FakeOpenAIServer
) -> Container:
    settings = clean_settings(
        _copy_of(indexed_data_dir, tmp_path_factory, "llm"), llm=llm_overrides(fake_openai_server)
    )
    return Container(settings)


@pytest.fixture
def llm(llm_container: Container, fake_openai: FakeOpenAIServer) -> Container:
    """The LLM container with the fake server's script and recorded requests reset for this test."""
    return llm_container
