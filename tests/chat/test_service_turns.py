"""How a turn is persisted: once, at the end, in one write transaction; a failed answer still records
the question; a stream its client abandoned records nothing. Fast tier: a container over the fast
index per test (tests/plugins/fast.py), so every test has its own database."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

from advisor.chat.errors import AnswerFailed
from advisor.chat.model import ChatRequest, TextDelta, TurnFailed
from advisor.container import Container
from tests.chat.helpers import DRIFT_QUESTION, LOCAL, NOTEBOOK_QUESTION, ask
from tests.plugins.fast import FastContainer


@pytest.fixture
def container(fast_container: FastContainer) -> Container:
    return fast_container()


@pytest.fixture
def transactions(container: Container) -> Iterator[list[int]]:
    """How many transactions the store's engine begins while the test runs (index already loaded)."""
    ask(container, NOTEBOOK_QUESTION)  # the first query loads the index from the database
    began = [0]

    def on_begin(_connection: Any) -> None:
        began[0] += 1

    engine = container.engine
    event.listen(engine, "begin", on_begin)
    yield began
    event.remove(engine, "begin", on_begin)


def test_a_new_conversations_first_turn_is_one_transaction(
    container: Container, transactions: list[int]
) -> None:
    chat = container.chat
    turn = chat.start_turn(ChatRequest(NOTEBOOK_QUESTION, initiative="Churn model"), LOCAL)
    assert transactions[0] == 0  # the id is handed out now, the row written with the turn
    result = chat.answer(turn)
    assert transactions[0] == 1
    assert result.conversation_id == turn.conversation_id and result.citations

    found = container.conversations.conversation_with_history(turn.conversation_id, None, limit=10)
    assert found is not None
    conversation, messages = found
    assert conversation.initiative == "Churn model"
    assert [(m.role, m.content) for m in messages] == [
        ("user", NOTEBOOK_QUESTION),
        ("assistant", result.answer),
    ]
    assert messages[1].id == result.message_id
    assert messages[1].citations == result.citations


def test_a_follow_up_turn_is_one_read_and_one_write(container: Container, transactions: list[int]) -> None:
    first = ask(container, NOTEBOOK_QUESTION)
    transactions[0] = 0
    second = ask(container, DRIFT_QUESTION, conversation_id=first["conversation_id"])
    assert transactions[0] == 2
    stored = container.conversations.list_messages(first["conversation_id"])
    assert [m.seq for m in stored] == [1, 2, 3, 4]
    assert stored[-1].id == second["message_id"]


def test_a_failed_answer_records_the_question(container: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    first = ask(container, NOTEBOOK_QUESTION)

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("vector store went away")

    monkeypatch.setattr(container.retriever, "retrieve_passages", broken)
    with pytest.raises(AnswerFailed):
        ask(container, DRIFT_QUESTION, conversation_id=first["conversation_id"])
    stored = container.conversations.list_messages(first["conversation_id"])
    assert [(m.role, m.content) for m in stored][-1] == ("user", DRIFT_QUESTION)
    assert len(stored) == 3

    # A brand-new conversation whose first answer fails exists, holding the question.
    chat = container.chat
    turn = chat.start_turn(ChatRequest(DRIFT_QUESTION), LOCAL)
    events = list(chat.stream(turn))
    assert isinstance(events[-1], TurnFailed)
    found = container.conversations.conversation_with_history(turn.conversation_id, None, limit=10)
    assert found is not None and [m.content for m in found[1]] == [DRIFT_QUESTION]


def test_an_abandoned_stream_records_nothing(container: Container) -> None:
    chat = container.chat
    turn = chat.start_turn(ChatRequest(NOTEBOOK_QUESTION), LOCAL)
    events = chat.stream(turn)
    assert isinstance(next(events), TextDelta)
    events.close()  # what the server does when the client disconnects mid-answer
    assert container.conversations.conversation_with_history(turn.conversation_id, None, limit=10) is None
