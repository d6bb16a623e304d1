"""Retention: idle conversations purged by age and channel on every configured backend, the settings'
per-channel cut-offs, and the sweep the service runs itself."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine, text

from advisor.chat.retention import RetentionSweeper
from advisor.retention import RetentionSettings, parse_age
from advisor.store.conversations import ConversationRepository, MessageDraft, NewConversation
from advisor.store.db import upgrade_database
from advisor.store.models import new_id

NOW = datetime.now(UTC)


@pytest.fixture
def store(db_engine: Engine) -> Iterator[ConversationRepository]:
    upgrade_database(db_engine)
    yield ConversationRepository(db_engine)


def _conversation(store: ConversationRepository, engine: Engine, channel: str | None, idle_days: int) -> str:
    conversation_id = new_id()
    reply = store.record_turn(
        conversation_id,
        "How do we staff it?",
        MessageDraft("Hire an ML engineer [1]."),
        new_conversation=NewConversation(None, None, channel),
    )
    assert reply is not None
    store.add_feedback(reply.id, "up", None, None)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE conversations SET updated_at = :at WHERE id = :id"),
            {"at": NOW - timedelta(days=idle_days), "id": conversation_id},
        )
    return conversation_id


def _left(store: ConversationRepository, ids: dict[str, str]) -> set[str]:
    return {name for name, cid in ids.items() if store.list_messages(cid)}


def test_purge_by_age_and_channel_takes_messages_and_feedback_along(
    store: ConversationRepository, db_engine: Engine
) -> None:
    ids = {
        "old widget": _conversation(store, db_engine, "widget", 40),
        "new widget": _conversation(store, db_engine, "widget", 5),
        "old api": _conversation(store, db_engine, "api", 40),
        "old unknown": _conversation(store, db_engine, None, 400),
    }
    assert store.purge(NOW - timedelta(days=30), "widget", dry_run=True) == 1
    assert _left(store, ids) == set(ids)  # a dry run deletes nothing
    assert store.purge(NOW - timedelta(days=30), "widget") == 1
    assert _left(store, ids) == {"new widget", "old api", "old unknown"}
    with db_engine.connect() as connection:
        orphans = connection.execute(
            text("SELECT count(*) FROM feedback WHERE message_id NOT IN (SELECT id FROM messages)")
        ).scalar()
    assert orphans == 0
    # Every channel but those with their own rule: the api one and the one without a channel go.
    assert store.purge(NOW - timedelta(days=30), besides=["widget"]) == 2
    assert _left(store, ids) == {"new widget"}


def test_settings_cut_offs_per_channel(store: ConversationRepository, db_engine: Engine) -> None:
    ids = {
        "openai 10 days": _conversation(store, db_engine, "openai", 10),
        "widget 10 days": _conversation(store, db_engine, "widget", 10),
        "widget 100 days": _conversation(store, db_engine, "widget", 100),
        "slack 100 days": _conversation(store, db_engine, "slack", 100),
    }
    settings = RetentionSettings(conversation_days=90, channel_days={"openai": 7, "slack": 0})
    assert set(settings.cutoffs(NOW)) == {None, "openai"}
    done = store.purge_idle(settings.cutoffs(NOW), kept=["slack"])  # slack: 0, kept for good
    assert done == {None: 1, "openai": 1}
    assert _left(store, ids) == {"widget 10 days", "slack 100 days"}


def test_the_service_sweeps_by_itself(store: ConversationRepository, db_engine: Engine) -> None:
    ids = {
        "old": _conversation(store, db_engine, "widget", 40),
        "new": _conversation(store, db_engine, "widget", 1),
    }
    sweeper = RetentionSweeper(RetentionSettings(conversation_days=30, sweep_hours=1), lambda: store)
    assert sweeper.wanted and not RetentionSweeper(RetentionSettings(), lambda: store).wanted
    assert sweeper.sweep() == 1
    assert _left(store, ids) == {"new"}


def test_retention_settings_refuse_unknown_channels_and_ages() -> None:
    with pytest.raises(ValidationError, match="unknown channel 'email'"):
        RetentionSettings(channel_days={"email": 3})
    assert parse_age("90d") == timedelta(days=90) and parse_age("2w") == timedelta(weeks=2)
    with pytest.raises(ValueError, match="90d, 12h or 2w"):
        parse_age("3 months")
