"""What the Slack bot keeps beside conversations: which thread is which conversation, and the
initiative each user described per channel. One transaction per call, plain values out."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from advisor.store.models import Conversation, Message, SlackInitiative, SlackThread, utcnow
from advisor.store.records import MessageRecord, message_record
from advisor.store.sessions import SessionScopes

# Namespace of the deterministic conversation ids of Slack threads (any fixed UUID would do).
_THREAD_NAMESPACE = uuid.UUID("6f1c1d2e-5a41-4bb0-9d0e-5c1a2c0de5a6")


def thread_conversation_id(team_id: str, channel_id: str, thread_ts: str) -> str:
    """The same id for the same thread on every replica, so concurrent first messages agree."""
    return uuid.uuid5(_THREAD_NAMESPACE, f"{team_id}/{channel_id}/{thread_ts}").hex


@dataclass(frozen=True, slots=True)
class SharedAnswer:
    """An assistant message with the user question it answered (for re-posting it in a channel)."""

    question: str | None
    message: MessageRecord


class SlackLinks(SessionScopes):
    # -- threads --------------------------------------------------------------------------------

    def thread_conversation(self, team_id: str, channel_id: str, thread_ts: str) -> str | None:
        """The conversation a thread continues, or None when Advisor has not answered in it."""
        with self._read() as session:
            row = session.get(SlackThread, (team_id, channel_id, thread_ts))
            return None if row is None else row.conversation_id

    def link_thread(self, team_id: str, channel_id: str, thread_ts: str, conversation_id: str) -> None:
        """Make replies in a thread continue ``conversation_id`` (idempotent: a thread keeps its
        first link). The conversation itself is the chat core's to write."""
        try:
            with self._write() as session:
                session.add(
                    SlackThread(
                        team_id=team_id,
                        channel_id=channel_id,
                        thread_ts=thread_ts,
                        conversation_id=conversation_id,
                        created_at=utcnow(),
                    )
                )
        except IntegrityError:
            pass  # already linked

    # -- initiatives ----------------------------------------------------------------------------

    def set_initiative(self, team_id: str, channel_id: str, user_id: str, initiative: str | None) -> None:
        """Record (or with None/blank, forget) a user's initiative for their conversations in a channel."""
        with self._write() as session:
            row = session.get(SlackInitiative, (team_id, channel_id, user_id))
            text = (initiative or "").strip()
            if not text:
                if row is not None:
                    session.delete(row)
                return
            if row is None:
                row = SlackInitiative(team_id=team_id, channel_id=channel_id, user_id=user_id)
                session.add(row)
            row.initiative = text
            row.updated_at = utcnow()

    def initiative(self, team_id: str, channel_id: str, user_id: str) -> str | None:
        with self._read() as session:
            row = session.get(SlackInitiative, (team_id, channel_id, user_id))
            return None if row is None else row.initiative

    # -- answers --------------------------------------------------------------------------------

    def shared_answer(self, message_id: str, api_key_id: str) -> SharedAnswer | None:
        """An assistant message of a conversation owned by ``api_key_id``, with its question."""
        with self._read() as session:
            found = session.execute(
                select(Message, Conversation.api_key_id)
                .join(Conversation, Conversation.id == Message.conversation_id)
                .where(Message.id == message_id)
            ).one_or_none()
            if found is None or found[1] != api_key_id or found[0].role != "assistant":
                return None
            answer: Message = found[0]
            question = session.scalar(
                select(Message.content).where(
                    Message.conversation_id == answer.conversation_id,
                    Message.seq == answer.seq - 1,
                    Message.role == "user",
                )
            )
            return SharedAnswer(question=question, message=message_record(answer))
