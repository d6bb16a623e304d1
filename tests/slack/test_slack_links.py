"""Thread -> conversation links and per-channel initiatives, on SQLite and PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import Engine

from advisor.container import Container
from advisor.settings import load_settings
from advisor.slack.threads import SlackAdvisor
from advisor.store.db import upgrade_database
from advisor.store.repository import Store
from advisor.store.slack_links import SlackLinks, thread_conversation_id


def test_a_thread_opens_one_conversation_even_under_concurrent_first_messages(db_engine: Engine) -> None:
    upgrade_database(db_engine)
    links, store = SlackLinks(db_engine), Store(db_engine)
    assert links.thread_conversation("T1", "C1", "1.1") is None
    with ThreadPoolExecutor(max_workers=6) as pool:
        ids = set(pool.map(lambda _: links.open_thread("T1", "C1", "1.1", "slack:T1"), range(12)))
    assert ids == {thread_conversation_id("T1", "C1", "1.1")}
    assert links.thread_conversation("T1", "C1", "1.1") in ids
    conversation = store.get_conversation(ids.pop(), "slack:T1")
    assert conversation is not None and store.get_conversation(conversation.id, "slack:T2") is None
    # Another thread, channel or workspace is another conversation.
    others = {links.open_thread(*where, "slack:T1") for where in [("T1", "C1", "1.2"), ("T1", "C2", "1.1")]}
    assert len(others) == 2 and conversation.id not in others


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
    links, store = SlackLinks(db_engine), Store(db_engine)
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
    assert advisor.first_delivery("T1", "Ev1", "C1", "1.1")
    assert not advisor.first_delivery("T1", "Ev1", "C1", "1.2"), "the same event id again is a retry"
    # One message delivered as two events (app_mention and message) is answered once.
    assert not advisor.first_delivery("T1", "Ev2", "C1", "1.1")
    assert advisor.first_delivery("T1", "Ev3", "C2", "1.1")
