"""Conversations, messages and feedback on every configured backend (see tests/plugins/databases.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.exc import IntegrityError, StatementError

from advisor.store.conversations import (
    ConversationRepository,
    MessageDraft,
    NewConversation,
    NotFoundError,
)
from advisor.store.db import create_db_engine, upgrade_database
from advisor.store.models import new_id
from advisor.types import Citation


@pytest.fixture
def store(db_engine: Engine) -> Iterator[ConversationRepository]:
    upgrade_database(db_engine)
    yield ConversationRepository(db_engine)


def _assert_recent_utc(value: datetime) -> None:
    assert value.tzinfo is not None
    assert value.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - value) < timedelta(minutes=5)


# -- conversations ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "initiative",
    [None, "Chatbot for HR questions", {"name": "Claims triage", "stage": "pilot", "teams": ["ops", "it"]}],
)
def test_create_and_get_conversation(store: ConversationRepository, initiative: Any) -> None:
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


def test_conversation_is_only_readable_with_the_same_key(store: ConversationRepository) -> None:
    keyed = store.create_conversation("key-a", None)
    anonymous = store.create_conversation(None, None)

    assert store.get_conversation(keyed.id, "key-a") is not None
    assert store.get_conversation(keyed.id, "key-b") is None
    assert store.get_conversation(keyed.id, None) is None

    assert store.get_conversation(anonymous.id, None) is not None
    assert store.get_conversation(anonymous.id, "key-a") is None

    assert store.get_conversation("0" * 32, "key-a") is None
    assert store.get_conversation("0" * 32, None) is None


def test_set_initiative(store: ConversationRepository) -> None:
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


def test_messages_are_ordered_and_limited(store: ConversationRepository) -> None:
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


def test_message_fields_round_trip(store: ConversationRepository) -> None:
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
    # Citations come back typed, whether they went in as Citation objects or in their JSON shape.
    assert message.citations == (citation, Citation(2, "x", "", "", (), "", "", 0.0))
    (loaded,) = store.list_messages(conversation.id)
    assert loaded == message
    assert loaded.standalone_question == "How often should models be reviewed?"
    assert (loaded.grounded, loaded.abstained, loaded.fallback) == (False, True, True)
    _assert_recent_utc(loaded.created_at)

    plain = store.append_message(conversation.id, "user", "thanks")
    assert plain.citations == ()
    assert plain.standalone_question is None
    assert (plain.grounded, plain.abstained, plain.fallback) == (True, False, False)

    updated = store.get_conversation(conversation.id, "k")
    assert updated is not None and updated.updated_at >= plain.created_at


def test_append_message_validation(store: ConversationRepository) -> None:
    conversation = store.create_conversation(None, None)
    with pytest.raises(ValueError):
        store.append_message(conversation.id, "system", "nope")
    with pytest.raises(NotFoundError):
        store.append_message("0" * 32, "user", "orphan")
    assert store.list_messages(conversation.id) == []


def test_concurrent_appends_get_distinct_consecutive_seqs(db_url: str, store: ConversationRepository) -> None:
    conversation = store.create_conversation("k", None)
    errors: list[BaseException] = []
    threads_count, per_thread = 4, 8
    barrier = threading.Barrier(threads_count)

    def writer(n: int) -> None:
        engine = create_db_engine(db_url)  # a separate engine, like another process
        try:
            own = ConversationRepository(engine, append_attempts=10)
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


def test_append_retries_after_losing_a_seq_race(
    store: ConversationRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    conversation = store.create_conversation(None, None)
    original = ConversationRepository._append_once
    calls = {"n": 0}

    def flaky(self: ConversationRepository, *args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise IntegrityError("INSERT INTO messages", {}, Exception("duplicate seq"))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ConversationRepository, "_append_once", flaky)
    message = store.append_message(conversation.id, "user", "hello")
    assert calls["n"] == 2
    assert message.seq == 1


CITATION_X = Citation(1, "x", "X", "", (), "", "x.md", 0.5)


def _count_transactions(engine: Engine) -> list[int]:
    began = [0]

    def on_begin(_connection: Any) -> None:
        began[0] += 1

    event.listen(engine, "begin", on_begin)
    return began


def test_a_turn_in_a_new_conversation_is_written_in_one_transaction(
    store: ConversationRepository, db_engine: Engine
) -> None:
    conversation_id = new_id()
    began = _count_transactions(db_engine)
    reply = store.record_turn(
        conversation_id,
        "How do we start?",
        MessageDraft("Pick one use case [1].", "How do we start?", (CITATION_X,), True),
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
    assert messages[1].citations == (CITATION_X,)


def test_a_turn_appends_after_the_earlier_ones(store: ConversationRepository) -> None:
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


def test_a_turn_that_fails_to_write_leaves_nothing_behind(store: ConversationRepository) -> None:
    conversation_id = new_id()
    not_json = Citation(1, "x", "", "", ({"a set is not JSON"},), "", "", 0.0)  # type: ignore[arg-type]
    unserialisable = MessageDraft("answer", citations=(not_json,))
    with pytest.raises((StatementError, TypeError)):
        store.record_turn(
            conversation_id, "question", unserialisable, new_conversation=NewConversation(None, None)
        )
    assert store.get_conversation(conversation_id, None) is None
    assert store.list_messages(conversation_id) == []


def test_conversation_with_history_checks_the_key_and_limits(store: ConversationRepository) -> None:
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


def test_deleting_a_conversation_cascades(store: ConversationRepository, db_engine: Engine) -> None:
    conversation = store.create_conversation("k", None)
    message = store.append_message(conversation.id, "assistant", "answer")
    store.add_feedback(message.id, "up", None, "k")
    with db_engine.begin() as connection:
        connection.execute(text("DELETE FROM conversations WHERE id = :id"), {"id": conversation.id})
    assert store.list_messages(conversation.id) == []
    assert store.feedback_for(message.id) == []


def test_foreign_keys_are_enforced(db_engine: Engine, store: ConversationRepository) -> None:
    with pytest.raises(IntegrityError), db_engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO messages (id, conversation_id, seq, role, content, citations, grounded,"
                " abstained, fallback, created_at) VALUES ('m', 'missing', 1, 'user', 'x', '[]',"
                " true, false, false, CURRENT_TIMESTAMP)"
            )
        )


# -- feedback ---------------------------------------------------------------------------------------


def test_feedback(store: ConversationRepository) -> None:
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


def test_feedback_for_unknown_message_raises_not_found(store: ConversationRepository) -> None:
    with pytest.raises(NotFoundError):
        store.add_feedback("0" * 32, "up", None, None)
    assert store.feedback_for("0" * 32) == []


def test_feedback_is_refused_for_another_keys_message(store: ConversationRepository) -> None:
    conversation = store.create_conversation("key-a", None)
    message = store.append_message(conversation.id, "assistant", "answer")
    with pytest.raises(NotFoundError):
        store.add_feedback(message.id, "up", None, "key-b")
    with pytest.raises(NotFoundError):
        store.add_feedback(message.id, "up", None, None)
    assert store.feedback_for(message.id) == []


def test_feedback_rating_is_validated(store: ConversationRepository) -> None:
    conversation = store.create_conversation(None, None)
    message = store.append_message(conversation.id, "assistant", "answer")
    with pytest.raises(ValueError):
        store.add_feedback(message.id, "meh", None, None)
    assert store.feedback_for(message.id) == []


# -- index bookkeeping ------------------------------------------------------------------------------


# -- text PostgreSQL cannot store -------------------------------------------------------------------


def test_nul_and_lone_surrogates_are_stored_the_same_way_on_every_backend(
    store: ConversationRepository,
) -> None:
    # PostgreSQL refuses NUL in text and JSON and both databases refuse an unpaired surrogate, while
    # SQLite kept the NUL: every backend now stores the same, readable text.
    created = store.create_conversation("k", {"goal": "churn\x00 model", "te\x00am": ["two \udfff"]})
    assert created.initiative == {"goal": "churn model", "team": ["two \ufffd"]}
    reply = store.record_turn(
        created.id, "why\x00 is it slow \udfff?", MessageDraft("fine\x00", standalone_question="q\x00")
    )
    assert reply is not None and reply.content == "fine" and reply.standalone_question == "q"
    question, answer = store.list_messages(created.id)
    assert question.content == "why is it slow \ufffd?" and answer.content == "fine"
    store.set_initiative(created.id, "bank\x00")
    assert store.get_conversation(created.id, "k").initiative == "bank"  # type: ignore[union-attr]
    store.add_feedback(answer.id, "up", "good\x00 \udfff", "k")
    assert store.feedback_for(answer.id)[0].comment == "good \ufffd"


@pytest.mark.parametrize("bad", ["ab\x00cd", "ab\udfffcd"])
def test_an_id_with_a_nul_or_a_lone_surrogate_matches_nothing(
    store: ConversationRepository, bad: str
) -> None:
    kept = store.create_conversation("k", None)
    assert store.get_conversation(bad, "k") is None
    assert store.conversation_with_history(bad, "k", None) is None
    assert store.list_messages(bad) == []
    assert store.feedback_for(bad) == []
    with pytest.raises(NotFoundError):
        store.set_initiative(bad, "x")
    with pytest.raises(NotFoundError):
        store.record_turn(bad, "question", None)
    with pytest.raises(NotFoundError):
        store.add_feedback(bad, "up", None, "k")
    # Nothing already stored is lost or locked by the refused calls.
    store.record_turn(kept.id, "still works?", MessageDraft("yes"))
    assert [m.content for m in store.list_messages(kept.id)] == ["still works?", "yes"]
