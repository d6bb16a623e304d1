"""The admin console's store on every configured backend: the audit log and answers per day."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from advisor.store.admin import AdminStore
from advisor.store.conversations import ConversationRepository, MessageDraft, NewConversation
from advisor.store.db import upgrade_database
from advisor.store.models import new_id, utcnow


@pytest.fixture
def engine(db_engine: Engine) -> Iterator[Engine]:
    upgrade_database(db_engine)
    yield db_engine


def test_answers_per_day_and_the_audit_log(engine: Engine) -> None:
    conversations, admin = ConversationRepository(engine), AdminStore(engine)
    replies = [
        conversations.record_turn(
            new_id(),
            f"question {n}",
            MessageDraft("an answer", abstained=n == 0, fallback=n == 1),
            new_conversation=NewConversation(None, None, "widget"),
        )
        for n in range(3)
    ]
    assert all(replies)
    conversations.add_feedback(replies[2].id, "up", None, None)  # type: ignore[union-attr]
    activity = admin.daily_activity(7)
    assert len(activity) == 7 and activity[-1].day == utcnow().date()
    today = activity[-1]
    assert (today.answers, today.abstained, today.fallback, today.rated_up, today.rated_down) == (
        3,
        1,
        1,
        1,
        0,
    )
    assert sum(d.answers for d in activity[:-1]) == 0

    admin.audit("key_abc", "revoke key", "key_def")
    (entry,) = admin.audit_log()
    assert (entry.key_id, entry.action, entry.target) == ("key_abc", "revoke key", "key_def")


def test_conversations_filter_open_and_delete(engine: Engine) -> None:
    from advisor.store.admin import ConversationFilter

    conversations, admin = ConversationRepository(engine), AdminStore(engine)
    ids = []
    for n, channel in enumerate(("widget", "api")):
        ids.append(new_id())
        reply = conversations.record_turn(
            ids[-1],
            f"question {channel}",
            MessageDraft("an answer", abstained=n == 0),
            new_conversation=NewConversation(None, None, channel),
        )
        assert reply is not None
    conversations.add_feedback(reply.id, "down", None, None)
    everything = admin.conversations(ConversationFilter())
    assert {r.first_question for r in everything} == {"question widget", "question api"}
    assert [r.id for r in admin.conversations(ConversationFilter(channel="api"))] == [ids[1]]
    assert [r.id for r in admin.conversations(ConversationFilter(abstained=True))] == [ids[0]]
    (rated,) = admin.conversations(ConversationFilter(rating="down"))
    assert (rated.id, rated.rated_down, rated.messages) == (ids[1], 1, 2)
    assert [r.id for r in admin.conversations(ConversationFilter(rating="none"))] == [ids[0]]
    assert [r.id for r in admin.conversations(ConversationFilter(text="WIDGET"))] == [ids[0]]
    turns = admin.conversation_turns(ids[1])
    assert turns is not None and [t.ratings for t in turns] == [[], ["down"]]
    assert admin.delete_conversation(ids[1]) and admin.conversation_turns(ids[1]) is None
    assert not admin.delete_conversation(ids[1])
