"""The index pointer, document rows and stored contents on every configured backend."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from advisor.store.db import upgrade_database
from advisor.store.index_state import IndexRepository
from advisor.store.records import IndexedDocumentRecord


@pytest.fixture
def store(db_engine: Engine) -> Iterator[IndexRepository]:
    upgrade_database(db_engine)
    yield IndexRepository(db_engine)


def _assert_recent_utc(value: datetime) -> None:
    assert value.tzinfo is not None
    assert value.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - value) < timedelta(minutes=5)


def _doc(doc_id: str, *chunk_ids: str, title: str = "", content_hash: str = "") -> IndexedDocumentRecord:
    return IndexedDocumentRecord(
        doc_id=doc_id,
        title=title or doc_id.title(),
        source=f"{doc_id}.md",
        content_hash=content_hash or f"sha-{doc_id}",
        chunk_ids=chunk_ids,
    )


def test_activate_index_and_swap(store: IndexRepository) -> None:
    assert store.get_index_state() is None
    assert store.indexed_documents("advisor-1") == {}

    docs_v1 = [_doc("intro", "intro-0", "intro-1"), _doc("risk", "risk-0")]
    assert store.activate_index("advisor-1", "all-MiniLM-L6-v2", 384, docs_v1) is None

    state = store.get_index_state()
    assert state is not None
    assert (state.name, state.collection, state.model, state.dimension, state.chunk_count) == (
        "active",
        "advisor-1",
        "all-MiniLM-L6-v2",
        384,
        3,
    )
    _assert_recent_utc(state.updated_at)
    assert store.indexed_documents("advisor-1") == {"intro": docs_v1[0], "risk": docs_v1[1]}
    assert store.indexed_documents("advisor-1")["intro"].chunk_ids == ("intro-0", "intro-1")

    docs_v2 = [_doc("intro", "intro-0b")]
    assert store.activate_index("advisor-2", "all-MiniLM-L6-v2", 384, docs_v2) == "advisor-1"
    state = store.get_index_state()
    assert state is not None and (state.collection, state.chunk_count) == ("advisor-2", 1)
    assert store.indexed_documents("advisor-2") == {"intro": docs_v2[0]}
    assert store.indexed_documents("advisor-1") == {"intro": docs_v1[0], "risk": docs_v1[1]}

    with pytest.raises(ValueError):
        store.forget_collection("advisor-2")  # still active
    assert store.forget_collection("advisor-1") == 2
    assert store.indexed_documents("advisor-1") == {}
    assert store.forget_collection("advisor-1") == 0

    # Other pointer names are independent.
    assert store.activate_index("advisor-staging", "m", 8, [], name="staging") is None
    staging = store.get_index_state("staging")
    assert staging is not None and staging.chunk_count == 0
    active = store.get_index_state()
    assert active is not None and active.collection == "advisor-2"


def test_index_contents_are_stored_with_the_activation_and_forgotten_with_the_collection(
    store: IndexRepository,
) -> None:
    blob = bytes(range(256)) * 4000  # binary, about 1 MB
    store.activate_index("advisor-1", "m", 8, [_doc("intro", "intro-0")], contents=blob)
    assert store.index_contents("advisor-1") == blob
    store.activate_index("advisor-1", "m", 8, [_doc("intro", "intro-0")], contents=b"rebuilt")
    assert store.index_contents("advisor-1") == b"rebuilt"
    store.activate_index("advisor-2", "m", 8, [_doc("intro", "intro-1")])
    assert store.index_contents("advisor-2") is None
    store.forget_collection("advisor-1")
    assert store.index_contents("advisor-1") is None


def test_reactivating_the_same_collection_replaces_its_rows(store: IndexRepository) -> None:
    store.activate_index("c", "m", 4, [_doc("a", "a-0"), _doc("b", "b-0")])
    assert store.activate_index("c", "m", 4, [_doc("a", "a-1")]) == "c"
    assert store.indexed_documents("c") == {"a": _doc("a", "a-1")}


def _setup_active(store: IndexRepository) -> list[IndexedDocumentRecord]:
    old_docs = [_doc("intro", "intro-0"), _doc("risk", "risk-0", "risk-1")]
    store.activate_index("advisor-old", "model-a", 384, old_docs)
    return old_docs


def _assert_old_still_active(store: IndexRepository, old_docs: list[IndexedDocumentRecord]) -> None:
    state = store.get_index_state()
    assert state is not None
    assert (state.collection, state.model, state.dimension, state.chunk_count) == (
        "advisor-old",
        "model-a",
        384,
        3,
    )
    assert store.indexed_documents("advisor-old") == {d.doc_id: d for d in old_docs}
    assert store.indexed_documents("advisor-new") == {}


def test_activate_index_is_atomic_when_a_document_row_fails(store: IndexRepository) -> None:
    old_docs = _setup_active(store)
    # The third row repeats a primary key (collection, doc_id): the insert fails part-way.
    bad = [_doc("intro", "n-0"), _doc("budget", "n-1"), _doc("intro", "n-2")]
    with pytest.raises(IntegrityError):
        store.activate_index("advisor-new", "model-b", 768, bad)
    _assert_old_still_active(store, old_docs)


def test_activate_index_is_atomic_when_the_pointer_write_fails(store: IndexRepository) -> None:
    old_docs = _setup_active(store)
    # Documents are written first; the pointer update then violates CHECK (dimension > 0).
    with pytest.raises(IntegrityError):
        store.activate_index("advisor-new", "model-b", 0, [_doc("intro", "n-0")])
    _assert_old_still_active(store, old_docs)


def test_activate_index_is_atomic_on_any_error_mid_transaction(
    store: IndexRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    old_docs = _setup_active(store)
    written: list[str] = []
    original = IndexRepository._write_documents

    def write_then_note(self: IndexRepository, session: Any, collection: str, documents: Any) -> None:
        original(self, session, collection, documents)
        written.append(collection)

    def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("simulated crash between the document rows and the pointer")

    monkeypatch.setattr(IndexRepository, "_write_documents", write_then_note)
    monkeypatch.setattr(IndexRepository, "_point_index", crash)
    with pytest.raises(RuntimeError):
        store.activate_index("advisor-new", "model-b", 768, [_doc("intro", "n-0")])
    assert written == ["advisor-new"]  # the rows were flushed before the failure...
    monkeypatch.undo()
    _assert_old_still_active(store, old_docs)  # ...and rolled back with it

    # Re-activating the old collection itself with bad rows must not lose its rows either.
    with pytest.raises(IntegrityError):
        store.activate_index("advisor-old", "model-a", 384, [_doc("x", "x-0"), _doc("x", "x-1")])
    _assert_old_still_active(store, old_docs)


def test_indexed_document_record_accepts_lists() -> None:
    from_json: Any = ["a", "b"]  # e.g. a list read back from JSON
    record = IndexedDocumentRecord(
        doc_id="d", title="D", source="d.md", content_hash="h", chunk_ids=from_json
    )
    assert record.chunk_ids == ("a", "b")
    assert record == _doc("d", "a", "b", title="D", content_hash="h")


# -- idempotency and health -------------------------------------------------------------------------
