"""Chroma in http mode, against a real `chroma run` server started for this module."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import chromadb
import pytest
from chromadb.api import ClientAPI
from chromadb.config import Settings as ChromaClientSettings

from advisor.container import Container
from advisor.settings import Settings
from tests.plugins.advisor_app import SettingsFactory, free_port
from tests.plugins.processes import wait_for_http
from tests.plugins.small_corpus import write_small_corpus

CHROMA = Path(sys.executable).parent / "chroma"
HIRING = "hiring-ml-engineers.md"


@dataclass(frozen=True)
class ChromaServer:
    host: str
    port: int

    def client(self) -> ClientAPI:
        """An independent client, as another replica of the service would have."""
        return chromadb.HttpClient(
            host=self.host, port=self.port, settings=ChromaClientSettings(anonymized_telemetry=False)
        )


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    if not CHROMA.is_file():
        pytest.skip(f"no chroma executable at {CHROMA}")
    root = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    log = root / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(CHROMA), "run", "--path", str(root / "data"), "--host", "127.0.0.1", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "HF_HUB_OFFLINE": "1"},
        )
    try:
        problem = wait_for_http(proc, f"http://127.0.0.1:{port}/api/v2/heartbeat", 30)
        if problem is not None:
            pytest.skip(f"`chroma run` {problem}: {log.read_text(errors='replace')[-2000:]}")
        yield ChromaServer("127.0.0.1", port)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return write_small_corpus(tmp_path / "corpus")


@pytest.fixture
def settings(make_settings: SettingsFactory, corpus: Path, chroma_server: ChromaServer) -> Settings:
    # A prefix of its own per test: the server is shared, and ingest drops collections it does not own.
    prefix = f"http-{uuid.uuid4().hex[:8]}"
    return make_settings(
        knowledge_dir=corpus,
        chroma={
            "mode": "http",
            "host": chroma_server.host,
            "port": chroma_server.port,
            "collection_prefix": prefix,
        },
    )


def test_ingest_and_retrieve_through_a_chroma_server(settings: Settings, chroma_server: ChromaServer) -> None:
    report = Container(settings).indexer.ingest([settings.knowledge_dir])

    assert report.added == 4 and report.switched and report.chunks == report.embedded_chunks > 0
    assert not settings.chroma_path.exists()  # nothing went to a local Chroma
    # The server holds the collection: an independent client sees all of it.
    remote = chroma_server.client()
    assert report.collection in [c.name for c in remote.list_collections()]
    assert remote.get_collection(report.collection).count() == report.chunks
    # A fresh service (another replica) answers from the server.
    found = Container(settings).retriever.retrieve_passages("How do we measure agreement between annotators?")
    assert found.in_scope and found.passages[0].doc_id == "labelling-guidelines"


def test_incremental_reingest_through_a_chroma_server(
    settings: Settings, corpus: Path, chroma_server: ChromaServer
) -> None:
    first = Container(settings).indexer.ingest([settings.knowledge_dir])
    hiring = corpus / HIRING
    hiring.write_text(
        hiring.read_text(encoding="utf-8").replace(
            "Pay matters, but growth matters more.",
            "Equity and a visible promotion path keep engineers longer.",
        ),
        encoding="utf-8",
    )

    container = Container(settings)
    report = container.indexer.ingest([settings.knowledge_dir])

    docs = container.index_repository.indexed_documents(report.collection)
    assert report.updated == 1 and report.unchanged == 3
    assert (
        report.embedded_chunks == len(docs["hiring-ml-engineers"].chunk_ids) < report.chunks == first.chunks
    )
    names = [c.name for c in chroma_server.client().list_collections()]
    assert report.collection in names and first.collection not in names
    assert chroma_server.client().get_collection(report.collection).count() == report.chunks
    found = Container(settings).retriever.retrieve_passages("Does a promotion path keep engineers?")
    assert any("promotion path" in p.text for p in found.passages)
