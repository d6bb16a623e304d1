"""What is done to conversations as a whole rather than turn by turn: deleting the idle ones (with
their messages, feedback and assessments) and finding the questions Advisor did not answer well."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.orm import aliased

from advisor.store.models import AssessmentRow, Conversation, Feedback, Message
from advisor.store.records import GapQuestion
from advisor.store.sessions import SessionScopes


class ConversationHousekeeping(SessionScopes):
    """Purges and gap questions over the conversation tables; one session per call."""

    def purge(
        self,
        before: datetime,
        channel: str | None = None,
        *,
        besides: Sequence[str] = (),
        dry_run: bool = False,
    ) -> int:
        """Delete the conversations idle since before ``before`` (their messages and feedback with
        them): of ``channel``, or else of every channel but ``besides``. Returns how many."""
        where = [Conversation.updated_at < before]
        if channel is not None:
            where.append(Conversation.channel == channel)
        elif besides:
            where.append(or_(Conversation.channel.is_(None), Conversation.channel.not_in(besides)))
        with self._write() as session:
            ids = select(Conversation.id).where(*where)
            count = session.scalar(select(func.count()).select_from(ids.subquery())) or 0
            if count and not dry_run:
                messages = select(Message.id).where(Message.conversation_id.in_(ids))
                session.execute(delete(Feedback).where(Feedback.message_id.in_(messages)))
                session.execute(delete(Message).where(Message.conversation_id.in_(ids)))
                session.execute(delete(AssessmentRow).where(AssessmentRow.conversation_id.in_(ids)))
                session.execute(delete(Conversation).where(*where))
            return int(count)

    def purge_idle(
        self, cutoffs: Mapping[str | None, datetime], *, kept: Sequence[str] = (), dry_run: bool = False
    ) -> dict[str | None, int]:
        """Apply per-channel cut-offs (see RetentionSettings.cutoffs): a channel with its own
        cut-off, or ``kept`` for good, is left out of the one for every other channel (key None)."""
        own = [c for c in cutoffs if c is not None] + list(kept)
        return {
            channel: self.purge(before, channel, besides=own if channel is None else (), dry_run=dry_run)
            for channel, before in cutoffs.items()
        }

    def gap_questions(self, since: datetime) -> list[GapQuestion]:
        """Questions Advisor did not answer well since ``since``: it abstained, its answer was not
        grounded, or a user rated the answer down. Each is the standalone form of the question when
        one was recorded, else the user's own words."""
        down = select(Feedback.message_id).where(Feedback.rating == "down")
        weak = or_(Message.abstained.is_(True), Message.grounded.is_(False), Message.id.in_(down))
        question = aliased(Message)  # the user's message just before the answer
        asked_before = and_(
            question.conversation_id == Message.conversation_id, question.seq == Message.seq - 1
        )
        with self._read() as session:
            rows = session.execute(
                select(
                    Message.conversation_id,
                    Message.standalone_question,
                    question.content,
                    Message.abstained,
                    Message.id.in_(down),
                    Message.created_at,
                )
                .join(question, asked_before, isouter=True)
                .where(Message.role == "assistant", Message.created_at >= since, weak)
                .order_by(Message.created_at)
            ).all()
            found = [
                GapQuestion(
                    standalone or asked or "",
                    asked or "",
                    "abstained" if abstained else "rated down" if rated_down else "not grounded",
                    conversation_id,
                    at,
                )
                for conversation_id, standalone, asked, abstained, rated_down, at in rows
            ]
            return [g for g in found if g.question.strip()]
