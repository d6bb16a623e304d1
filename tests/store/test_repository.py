"""Store behaviour on every configured backend (see tests/plugins/databases.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.exc import IntegrityError, StatementError

from advisor.store.db import create_db_engine, upgrade_database
from advisor.store.models import new_id
from advisor.store.repository import (
    IndexedDocumentRecord,
    MessageDraft,
    NewConversation,
    NotFoundError,
    Store,
)
from advisor.types import Citation


@pytest.fixture
def store(db_engine: Engine) -> Iterator[Store]:
    upgrade_database(db_engine)
    yield Store(db_engine)


def _doc(doc_id: str, *chunk_ids: str, title: str = "", content_hash: str = "") -> IndexedDocumentRecord:
    return IndexedDocumentRecord(
        doc_id=doc_id,
        title=title or doc_id.title(),
        source=f"{doc_id}.md",
        content_hash=content_hash or f"sha-{doc_id}",
        chunk_ids=chunk_ids,
    )


def _assert_recent_utc(value: datetime) -> None:
    assert value.tzinfo is not None
    assert value.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - value) < timedelta(minutes=5)


# -- conversations ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "initiative",
    [None, "Chatbot for HR questions", {"name": "Claims triage", "stage": "pilot", "teams": ["ops", "it"]}],
)
def test_create_and_get_conversation(store: Store, initiative: Any) -> None:
    created = store.create_conversation("key-1", initiative)
    assert len(created.id) == 32 and int(created.id, 16) >= 0
    assert created.api_key_id == "key-1"
    assert created.initiative == initiative
    _assert_recent_utc(created.created_at)
    _assert_recent_utc(created.updated_at)

    loaded = store.get_conversation(created.id, "key-1")
    assert loaded is not None
    assert loaded.initiative == initiative
    assert loaded.id == created.id
    assert loaded.created_at == created.created_at
    _assert_recent_utc(loaded.created_at)


def test_conversation_is_only_readable_with_the_same_key(store: Store) -> None:
    keyed = store.create_conversation("key-a", None)
    anonymous = store.create_conversation(None, None)

    assert store.get_conversation(keyed.id, "key-a") is not None
    assert store.get_conversation(keyed.id, "key-b") is None
    assert store.get_conversation(keyed.id, None) is None

    assert store.get_conversation(anonymous.id, None) is not None
    assert store.get_conversation(anonymous.id, "key-a") is None

    assert store.get_conversation("0" * 32, "key-a") is None
    assert store.get_conversation("0" * 32, None) is None


def test_set_initiative(store: Store) -> None:
    conversation = store.create_conversation("k", None)
    store.set_initiative(conversation.id, {"name": "Forecasting"})
    loaded = store.get_conversation(conversation.id, "k")
    assert loaded is not None and loaded.initiative == {"name": "Forecasting"}
    assert loaded.updated_at >= conversation.updated_at

    store.set_initiative(conversation.id, "plain text")
    loaded = store.get_conversation(conversation.id, "k")
    assert loaded is not None and loaded.initiative == "plain text"

    store.set_initiative(conversation.id, None)
    loaded = store.get_conversation(conversation.id, "k")
    assert loaded is not None and loaded.initiative is None

    with pytest.raises(NotFoundError):
        store.set_initiative("f" * 32, "x")


# -- messages ---------------------------------------------------------------------------------------


def test_messages_are_ordered_and_limited(store: Store) -> None:
    conversation = store.create_conversation("k", None)
    other = store.create_conversation("k", None)
    store.append_message(other.id, "user", "elsewhere")
    for i in range(7):
        store.append_message(conversation.id, "user" if i % 2 == 0 else "assistant", f"m{i}")

    messages = store.list_messages(conversation.id)
    assert [m.content for m in messages] == [f"m{i}" for i in range(7)]
    assert [m.seq for m in messages] == list(range(1, 8))
    assert [m.role for m in messages][:2] == ["user", "assistant"]

    assert [m.content for m in store.list_messages(conversation.id, limit=3)] == ["m4", "m5", "m6"]
    assert [m.content for m in store.list_messages(conversation.id, limit=100)] == [f"m{i}" for i in range(7)]
    assert store.list_messages(conversation.id, limit=0) == []
    assert store.list_messages("0" * 32) == []
    with pytest.raises(ValueError):
        store.list_messages(conversation.id, limit=-1)

    assert [m.content for m in store.list_messages(other.id)] == ["elsewhere"]


def test_message_fields_round_trip(store: Store) -> None:
    conversation = store.create_conversation("k", None)
    citation = Citation(
        n=1,
        doc_id="governance",
        title="AI governance",
        section="Risk > Review",
        topics=("risk", "governance"),
        snippet="Review models quarterly.",
        source="governance.md",
        score=0.82,
    )
    message = store.append_message(
        conversation.id,
        "assistant",
        "Review quarterly [1].",
        standalone_question="How often should models be reviewed?",
        citations=[citation, {"n": 2, "doc_id": "x", "topics": []}],
        grounded=False,
        abstained=True,
        fallback=True,
    )
    expected_citation = {
        "n": 1,
        "doc_id": "governance",
        "title": "AI governance",
        "section": "Risk > Review",
        "topics": ["risk", "governance"],
        "snippet": "Review models quarterly.",
        "source": "governance.md",
        "score": 0.82,
    }
    assert message.citations == [expected_citation, {"n": 2, "doc_id": "x", "topics": []}]
    (loaded,) = store.list_messages(conversation.id)
    assert loaded == message
    assert loaded.standalone_question == "How often should models be reviewed?"
    assert (loaded.grounded, loaded.abstained, loaded.fallback) == (False, True, True)
    _assert_recent_utc(loaded.created_at)

    plain = store.append_message(conversation.id, "user", "thanks")
    assert plain.citations == []
    assert plain.standalone_question is None
    assert (plain.grounded, plain.abstained, plain.fallback) == (True, False, False)

    updated = store.get_conversation(conversation.id, "k")
    assert updated is not None and updated.updated_at >= plain.created_at


def test_append_message_validation(store: Store) -> None:
    conversation = store.create_conversation(None, None)
    with pytest.raises(ValueError):
        store.append_message(conversation.id, "system", "nope")
    with pytest.raises(NotFoundError):
        store.append_message("0" * 32, "user", "orphan")
    assert store.list_messages(conversation.id) == []


def test_concurrent_appends_get_distinct_consecutive_seqs(db_url: str, store: Store) -> None:
    conversation = store.create_conversation("k", None)
    errors: list[BaseException] = []
    threads_count, per_thread = 4, 8
    barrier = threading.Barrier(threads_count)

    def writer(n: int) -> None:
        engine = create_db_engine(db_url)  # a separate engine, like another process
        try:
            own = Store(engine, append_attempts=10)
            barrier.wait(timeout=30)
            for i in range(per_thread):
                own.append_message(conversation.id, "user", f"t{n}-{i}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []

    messages = store.list_messages(conversation.id)
    assert [m.seq for m in messages] == list(range(1, threads_count * per_thread + 1))
    for n in range(threads_count):  # each writer's messages stay in its own order
        own_messages = [m.content for m in messages if m.content.startswith(f"t{n}-")]
        assert own_messages == [f"t{n}-{i}" for i in range(per_thread)]


def test_append_retries_after_losing_a_seq_race(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    conversation = store.create_conversation(None, None)
    original = Store._append_once
    calls = {"n": 0}

    def flaky(self: Store, *args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise IntegrityError("INSERT INTO messages", {}, Exception("duplicate seq"))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Store, "_append_once", flaky)
    message = store.append_message(conversation.id, "user", "hello")
    assert calls["n"] == 2
    assert message.seq == 1


def _count_transactions(engine: Engine) -> list[int]:
    began = [0]

    def on_begin(_connection: Any) -> None:
        began[0] += 1

    event.listen(engine, "begin", on_begin)
    return began


def test_a_turn_in_a_new_conversation_is_written_in_one_transaction(store: Store, db_engine: Engine) -> None:
    conversation_id = new_id()
    began = _count_transactions(db_engine)
    reply = store.record_turn(
        conversation_id,
        "How do we start?",
        MessageDraft("Pick one use case [1].", "How do we start?", ({"n": 1, "doc_id": "x"},), True),
        new_conversation=NewConversation("key-1", {"name": "Churn"}),
    )
    assert began[0] == 1
    assert reply is not None and reply.role == "assistant" and reply.seq == 2
    found = store.conversation_with_history(conversation_id, "key-1", limit=10)
    assert found is not None
    conversation, messages = found
    assert conversation.initiative == {"name": "Churn"}
    assert [(m.seq, m.role, m.content) for m in messages] == [
        (1, "user", "How do we start?"),
        (2, "assistant", "Pick one use case [1]."),
    ]
    assert messages[1] == reply
    assert messages[1].citations == [{"n": 1, "doc_id": "x"}]


def test_a_turn_appends_after_the_earlier_ones(store: Store) -> None:
    conversation = store.create_conversation(None, None)
    store.append_message(conversation.id, "user", "first")
    store.append_message(conversation.id, "assistant", "first answer")
    store.record_turn(conversation.id, "second", MessageDraft("second answer"))
    store.record_turn(conversation.id, "third, which failed", None)
    contents = [(m.seq, m.content) for m in store.list_messages(conversation.id)]
    assert contents == [
        (1, "first"),
        (2, "first answer"),
        (3, "second"),
        (4, "second answer"),
        (5, "third, which failed"),
    ]
    with pytest.raises(NotFoundError):
        store.record_turn(new_id(), "orphan", MessageDraft("never stored"))


def test_a_turn_that_fails_to_write_leaves_nothing_behind(store: Store) -> None:
    conversation_id = new_id()
    unserialisable = MessageDraft("answer", citations=({"topics": {"a set is not JSON"}},))
    with pytest.raises((StatementError, TypeError)):
        store.record_turn(
            conversation_id, "question", unserialisable, new_conversation=NewConversation(None, None)
        )
    assert store.get_conversation(conversation_id, None) is None
    assert store.list_messages(conversation_id) == []


def test_conversation_with_history_checks_the_key_and_limits(store: Store) -> None:
    conversation = store.create_conversation("key-1", "Claims triage")
    for n in range(5):
        store.append_message(conversation.id, "user", f"m{n}")
    assert store.conversation_with_history(conversation.id, "key-2", limit=3) is None
    assert store.conversation_with_history(new_id(), "key-1", limit=3) is None
    found = store.conversation_with_history(conversation.id, "key-1", limit=3)
    assert found is not None
    assert found[0] == store.get_conversation(conversation.id, "key-1")
    assert [m.content for m in found[1]] == ["m2", "m3", "m4"]
    empty = store.conversation_with_history(conversation.id, "key-1", limit=0)
    assert empty is not None and empty[1] == []


def test_deleting_a_conversation_cascades(store: Store, db_engine: Engine) -> None:
    conversation = store.create_conversation("k", None)
    message = store.append_message(conversation.id, "assistant", "answer")
    store.add_feedback(message.id, "up", None, "k")
    with db_engine.begin() as connection:
        connection.execute(text("DELETE FROM conversations WHERE id = :id"), {"id": conversation.id})
    assert store.list_messages(conversation.id) == []
    assert store.feedback_for(message.id) == []


def test_foreign_keys_are_enforced(db_engine: Engine, store: Store) -> None:
    with pytest.raises(IntegrityError), db_engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO messages (id, conversation_id, seq, role, content, citations, grounded,"
                " abstained, fallback, created_at) VALUES ('m', 'missing', 1, 'user', 'x', '[]',"
                " true, false, false, CURRENT_TIMESTAMP)"
            )
        )


# -- feedback ---------------------------------------------------------------------------------------


def test_feedback(store: Store) -> None:
    conversation = store.create_conversation("key-a", None)
    message = store.append_message(conversation.id, "assistant", "answer")

    first = store.add_feedback(message.id, "up", None, "key-a")
    second = store.add_feedback(message.id, "down", "missed the budget section", "key-a")
    assert second > first

    records = store.feedback_for(message.id)
    assert [(r.id, r.rating, r.comment) for r in records] == [
        (first, "up", None),
        (second, "down", "missed the budget section"),
    ]
    assert all(r.message_id == message.id for r in records)
    _assert_recent_utc(records[0].created_at)


def test_feedback_for_unknown_message_raises_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError):
        store.add_feedback("0" * 32, "up", None, None)
    assert store.feedback_for("0" * 32) == []


def test_feedback_is_refused_for_another_keys_message(store: Store) -> None:
    conversation = store.create_conversation("key-a", None)
    message = store.append_message(conversation.id, "assistant", "answer")
    with pytest.raises(NotFoundError):
        store.add_feedback(message.id, "up", None, "key-b")
    with pytest.raises(NotFoundError):
        store.add_feedback(message.id, "up", None, None)
    assert store.feedback_for(message.id) == []


def test_feedback_rating_is_validated(store: Store) -> None:
    conversation = store.create_conversation(None, None)
    message = store.append_message(conversation.id, "assistant", "answer")
    with pytest.raises(ValueError):
        store.add_feedback(message.id, "meh", None, None)
    assert store.feedback_for(message.id) == []


# -- index bookkeeping ------------------------------------------------------------------------------


def test_activate_index_and_swap(store: Store) -> None:
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
    store: Store,
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


def test_reactivating_the_same_collection_replaces_its_rows(store: Store) -> None:
    store.activate_index("c", "m", 4, [_doc("a", "a-0"), _doc("b", "b-0")])
    assert store.activate_index("c", "m", 4, [_doc("a", "a-1")]) == "c"
    assert store.indexed_documents("c") == {"a": _doc("a", "a-1")}


def _setup_active(store: Store) -> list[IndexedDocumentRecord]:
    old_docs = [_doc("intro", "intro-0"), _doc("risk", "risk-0", "risk-1")]
    store.activate_index("advisor-old", "model-a", 384, old_docs)
    return old_docs


def _assert_old_still_active(store: Store, old_docs: list[IndexedDocumentRecord]) -> None:
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


def test_activate_index_is_atomic_when_a_document_row_fails(store: Store) -> None:
    old_docs = _setup_active(store)
    # The third row repeats a primary key (collection, doc_id): the insert fails part-way.
    bad = [_doc("intro", "n-0"), _doc("budget", "n-1"), _doc("intro", "n-2")]
    with pytest.raises(IntegrityError):
        store.activate_index("advisor-new", "model-b", 768, bad)
    _assert_old_still_active(store, old_docs)


def test_activate_index_is_atomic_when_the_pointer_write_fails(store: Store) -> None:
    old_docs = _setup_active(store)
    # Documents are written first; the pointer update then violates CHECK (dimension > 0).
    with pytest.raises(IntegrityError):
        store.activate_index("advisor-new", "model-b", 0, [_doc("intro", "n-0")])
    _assert_old_still_active(store, old_docs)


def test_activate_index_is_atomic_on_any_error_mid_transaction(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    old_docs = _setup_active(store)
    written: list[str] = []
    original = Store._write_documents

    def write_then_note(self: Store, session: Any, collection: str, documents: Any) -> None:
        original(self, session, collection, documents)
        written.append(collection)

    def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("simulated crash between the document rows and the pointer")

    monkeypatch.setattr(Store, "_write_documents", write_then_note)
    monkeypatch.setattr(Store, "_point_index", crash)
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


def test_mark_event_processed_detects_duplicates(store: Store) -> None:
    assert store.mark_event_processed("webhook", "evt-1") is True
    assert store.mark_event_processed("webhook", "evt-1") is False
    assert store.mark_event_processed("webhook", "evt-1") is False
    assert store.mark_event_processed("webhook", "evt-2") is True
    assert store.mark_event_processed("other-source", "evt-1") is True


def test_mark_event_processed_across_engines(db_url: str, store: Store) -> None:
    engine = create_db_engine(db_url)
    try:
        other = Store(engine)
        assert store.mark_event_processed("queue", "42") is True
        assert other.mark_event_processed("queue", "42") is False
    finally:
        engine.dispose()


def test_ping(store: Store) -> None:
    assert store.ping() is True


def test_ping_reports_an_unreachable_database(tmp_path: Path) -> None:
    # A directory is not a database file: connecting fails.
    engine = create_db_engine(f"sqlite:///{tmp_path}")
    try:
        assert Store(engine).ping() is False
    finally:
        engine.dispose()
