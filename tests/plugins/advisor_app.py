"""Fixtures for tests that need real components: settings per test, the bundled corpus indexed
once per session, and the app served over real HTTP on loopback by uvicorn."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from advisor.app import create_app
from advisor.container import Container
from advisor.settings import Settings, load_settings

REPO = Path(__file__).resolve().parents[2]
KNOWLEDGE = REPO / "knowledge"
os.environ.setdefault("HF_HUB_OFFLINE", "1")

SettingsFactory = Callable[..., Settings]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings come from each test, never from the developer's shell."""
    for name in list(os.environ):
        if name.startswith("ADVISOR_") and not name.startswith("ADVISOR_TEST_"):
            monkeypatch.delenv(name)


@pytest.fixture
def make_settings(tmp_path: Path) -> SettingsFactory:
    """Settings rooted in this test's tmp dir; keyword overrides as in Settings(**overrides)."""

    def factory(**overrides: Any) -> Settings:
        overrides.setdefault("data_dir", tmp_path / "data")
        overrides.setdefault("knowledge_dir", KNOWLEDGE)
        return load_settings(**overrides)

    return factory


@pytest.fixture(scope="session")
def indexed_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled corpus, ingested once per test session (read-only for tests: copy to modify)."""
    data_dir = tmp_path_factory.mktemp("indexed") / "data"
    container = Container(load_settings(data_dir=data_dir, knowledge_dir=KNOWLEDGE))
    report = container.indexer.ingest([KNOWLEDGE])
    assert report.chunks > 0 and not report.skipped, report.summary()
    return data_dir


@pytest.fixture
def indexed_settings(indexed_data_dir: Path, tmp_path: Path) -> SettingsFactory:
    """Settings over a private copy of the indexed corpus, so a test may write to it freely."""

    def factory(**overrides: Any) -> Settings:
        data_dir = tmp_path / "indexed-data"
        if not data_dir.exists():
            shutil.copytree(indexed_data_dir, data_dir)
        overrides.setdefault("data_dir", data_dir)
        overrides.setdefault("knowledge_dir", KNOWLEDGE)
        return load_settings(**overrides)

    return factory


class LiveServer:
    def __init__(self, url: str, app: Any) -> None:
        self.url = url
        self.app = app

    @property
    def container(self) -> Container:
        container: Container = self.app.state.container
        return container

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60, **kwargs)


@contextmanager
def serve_app(app: Any, port: int) -> Iterator[LiveServer]:
    """Run an ASGI app under uvicorn on loopback ``port`` until the block exits."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", app)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@contextmanager
def serve(settings: Settings) -> Iterator[LiveServer]:
    """Run create_app(settings) under uvicorn on a free loopback port until the block exits."""
    with serve_app(create_app(settings), free_port()) as live:
        yield live


@pytest.fixture
def live_server(indexed_settings: SettingsFactory) -> Iterator[Callable[..., Any]]:
    """live_server(**setting_overrides) -> a context manager serving the app over the indexed corpus."""

    def start(**overrides: Any) -> Any:
        return serve(indexed_settings(**overrides))

    yield start
