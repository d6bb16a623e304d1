"""The index contents an ingest stores beside its collection: what a replica loads instead of
re-reading and re-indexing every chunk, and the fallback when they are missing or unreadable."""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from advisor.components.sparse import SparseIndex
from advisor.container import Container
from advisor.retrieval.index_contents import (
    FORMAT,
    IndexContents,
    MetadataTable,
    StoredFormError,
    decode,
    encode,
    read_collection,
)
from advisor.retrieval.retriever import Retriever
from advisor.settings import load_settings
from tests.plugins.advisor_app import KNOWLEDGE

QUERIES = [
    "Our model works in a notebook but never reached production. What are we missing?",
    "How do we monitor drift?",
    "data contracts between teams",
    "GDPR consent for training data",
]


@pytest.fixture
def container(indexed_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Container]:
    """A container over a private copy of the session index, free to damage."""
    data_dir = tmp_path / "data"
    shutil.copytree(indexed_data_dir, data_dir)
    for name in [n for n in os.environ if n.startswith("ADVISOR_") and not n.startswith("ADVISOR_TEST_")]:
        monkeypatch.delenv(name)
    yield Container(load_settings(data_dir=data_dir, knowledge_dir=KNOWLEDGE))


def _active(container: Container) -> str:
    state = container.index_repository.get_index_state()
    assert state is not None
    return state.collection


def _fresh_retriever(container: Container) -> Retriever:
    return Retriever(container.settings, container.embedder, container.vectors, container.index_repository)


def _results(retriever: Retriever) -> list[list[tuple[str, float]]]:
    return [
        [(p.chunk_id, round(p.score, 6)) for p in retriever.retrieve_passages(q).passages] for q in QUERIES
    ]


def test_the_ingest_stores_what_reading_the_collection_gives(container: Container) -> None:
    name = _active(container)
    blob = container.index_repository.index_contents(name)
    assert blob is not None
    stored = decode(blob)
    read = read_collection(container.vectors.get_collection(name))
    assert (
        stored.ids == read.ids and len(stored.ids) == container.index_repository.get_index_state().chunk_count
    )  # type: ignore[union-attr]
    assert stored.metadatas == read.metadatas
    assert stored.vocabulary == read.vocabulary and "production" in stored.vocabulary
    for query in QUERIES:
        assert stored.sparse.search(query, 20) == read.sparse.search(query, 20)
        assert stored.sparse.search(query, 20), query


def test_a_retriever_answers_the_same_without_the_stored_contents(container: Container) -> None:
    with_contents = _results(_fresh_retriever(container))
    with container.engine.begin() as connection:
        connection.execute(text("DELETE FROM index_contents"))
    assert container.index_repository.index_contents(_active(container)) is None
    assert _results(_fresh_retriever(container)) == with_contents


@pytest.mark.parametrize("damage", ["not a zip", "other format", "truncated"])
def test_unreadable_contents_are_rebuilt_from_the_collection(
    container: Container, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    expected = _results(_fresh_retriever(container))
    blob = container.index_repository.index_contents(_active(container))
    assert blob is not None
    if damage == "not a zip":
        bad = b"plainly not an index"
    elif damage == "truncated":
        bad = blob[: len(blob) // 2]
    else:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("contents.json", json.dumps({"format": FORMAT + 1}))
        bad = buffer.getvalue()
    with pytest.raises(StoredFormError):
        decode(bad)
    with container.engine.begin() as connection:
        connection.execute(text("UPDATE index_contents SET data = :data"), {"data": bad})
    with caplog.at_level(logging.WARNING, logger="advisor.retrieval.retriever"):
        assert _results(_fresh_retriever(container)) == expected
    assert "reading the collection instead" in caplog.text


def test_sparse_index_round_trips_through_its_saved_form(tmp_path: Path) -> None:
    texts = [
        "Monitor drift in production models.",
        "Data contracts keep pipelines honest.",
        "Hire ML engineers.",
    ]
    original = SparseIndex(texts)
    original.save(tmp_path / "saved")
    loaded = SparseIndex.load(tmp_path / "saved", len(texts))
    assert len(loaded) == 3
    for query in ("drift monitoring", "contract", "engineers hiring", "unrelated words"):
        assert loaded.search(query, 3) == original.search(query, 3)
    assert loaded.search("contracts", 3, allowed={0, 2}) == []
    empty = SparseIndex([])
    empty.save(tmp_path / "empty")
    assert SparseIndex.load(tmp_path / "empty", 0).search("anything", 3) == []


def test_contents_of_an_empty_collection_round_trip(container: Container) -> None:
    collection = container.vectors.create_collection("empty-probe", "m", 384)
    contents = read_collection(collection)
    again = decode(encode(contents))
    assert again.ids == [] and len(again.metadatas) == 0 and again.vocabulary == ()
    assert again.sparse.search("drift", 5) == []


def test_metadata_table_gives_each_chunk_its_own_fields_only() -> None:
    rows = [
        {"doc_id": "a", "topics": ["data"], "position": 0},
        {"doc_id": "a", "topics": ["data"], "position": 1, "section": "First steps"},
        {"doc_id": "b", "position": 0},
    ]
    table = MetadataTable.from_rows(rows)
    assert len(table) == 3 and list(table) == rows
    assert table[-1] == rows[2] and table[0:2] == rows[0:2]
    assert table.column("section") == [None, "First steps", None]
    assert table.column("absent") == [None, None, None]
    with pytest.raises(IndexError):
        table[3]
    assert decode(encode_table(table)).metadatas == table
    with pytest.raises(StoredFormError):
        MetadataTable({"doc_id": ["a"]}, 2)


def encode_table(table: MetadataTable) -> bytes:
    ids = [f"c{i}" for i in range(len(table))]
    texts = ["data quality first", "then the first steps", "unrelated"]
    return encode(IndexContents(ids, table, SparseIndex(texts), ("data",)))


def test_a_readiness_check_does_not_queue_behind_a_load(container: Container) -> None:
    retriever = _fresh_retriever(container)
    with retriever._lock:  # another thread (the warm-up) is loading the index
        assert retriever.ready(wait=False) is False
    assert retriever.ready(wait=False) is True  # nothing in the way: it loads and reports ready
    with retriever._lock:
        assert retriever.ready(wait=False) is True  # loaded before: a check in progress is no reason to wait
