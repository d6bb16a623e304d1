"""Thread -> conversation links and per-channel initiatives, on SQLite and PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import Engine

from advisor.container import Container
from advisor.settings import load_settings
from advisor.slack.threads import Ask, SlackAdvisor
from advisor.store.conversations import ConversationRepository, MessageDraft, NewConversation
from advisor.store.db import upgrade_database
from advisor.store.slack_links import SlackLinks, thread_conversation_id


def test_a_thread_opens_one_conversation_even_under_concurrent_first_messages(db_engine: Engine) -> None:
    """The chat core writes a thread's conversation with its first turn (its id derived from the
    thread); concurrent first messages all land in that one conversation, and the link is one row."""
    upgrade_database(db_engine)
    links, conversations = SlackLinks(db_engine), ConversationRepository(db_engine, append_attempts=20)
    conversation_id = thread_conversation_id("T1", "C1", "1.1")
    assert links.thread_conversation("T1", "C1", "1.1") is None

    def first_turn(n: int) -> str:
        opening = NewConversation("slack:T1", None)
        conversations.record_turn(conversation_id, f"q{n}", MessageDraft(f"a{n}"), new_conversation=opening)
        links.link_thread("T1", "C1", "1.1", conversation_id)
        return conversation_id

    with ThreadPoolExecutor(max_workers=6) as pool:
        assert set(pool.map(first_turn, range(12))) == {conversation_id}
    assert links.thread_conversation("T1", "C1", "1.1") == conversation_id
    messages = conversations.list_messages(conversation_id)
    assert sorted(m.seq for m in messages) == list(range(1, 25))
    conversation = conversations.get_conversation(conversation_id, "slack:T1")
    assert conversation is not None and conversations.get_conversation(conversation_id, "slack:T2") is None
    # Another thread, channel or workspace is another conversation.
    others = {
        thread_conversation_id(*where)
        for where in [("T1", "C1", "1.2"), ("T1", "C2", "1.1"), ("T2", "C1", "1.1")]
    }
    assert len(others) == 3 and conversation_id not in others


def test_initiatives_are_per_user_and_channel(db_engine: Engine) -> None:
    upgrade_database(db_engine)
    links = SlackLinks(db_engine)
    links.set_initiative("T1", "C1", "U1", "churn model")
    links.set_initiative("T1", "C1", "U1", "churn model, three CRMs")
    assert links.initiative("T1", "C1", "U1") == "churn model, three CRMs"
    assert links.initiative("T1", "C2", "U1") is None and links.initiative("T1", "C1", "U2") is None
    links.set_initiative("T1", "C1", "U1", "  ")
    assert links.initiative("T1", "C1", "U1") is None


def test_a_shared_answer_is_found_only_for_its_workspace(db_engine: Engine) -> None:
    upgrade_database(db_engine)
    links, store = SlackLinks(db_engine), ConversationRepository(db_engine)
    conversation = store.create_conversation("slack:T1", None)
    store.append_message(conversation.id, "user", "How do we deploy?")
    answer = store.append_message(conversation.id, "assistant", "Use canaries [1].")
    shared = links.shared_answer(answer.id, "slack:T1")
    assert shared is not None and shared.question == "How do we deploy?" and shared.message.id == answer.id
    assert links.shared_answer(answer.id, "slack:T2") is None
    links.link_thread("T1", "C1", "9.9", conversation.id)
    links.link_thread("T1", "C1", "9.9", conversation.id)  # twice is fine
    assert links.thread_conversation("T1", "C1", "9.9") == conversation.id


def test_deliveries_are_deduplicated_by_event_id_and_by_message(tmp_path: Path) -> None:
    advisor = SlackAdvisor(Container(load_settings(data_dir=tmp_path / "data")))
    first = Ask("T1", "C1", "U1", "how do we deploy?", "1.1")
    assert advisor.claim_message(first, "Ev1", "1.1") is not None
    assert advisor.claim_message(first, "Ev1", "1.2") is None, "the same event id again is a retry"
    # One message delivered as two events (app_mention and message) is answered once.
    assert advisor.claim_message(first, "Ev2", "1.1") is None
    assert advisor.claim_message(Ask("T1", "C2", "U1", "hi", "1.1"), "Ev3", "1.1") is not None
