"""What the admin console reads and writes beyond the other stores: its audit log and the activity
figures of the overview."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from statistics import quantiles
from typing import Any

from sqlalchemy import Date, case, cast, delete, func, select
from sqlalchemy.orm import aliased

from advisor.store.models import AdminAudit, AssessmentRow, Conversation, Feedback, Message, utcnow
from advisor.store.sessions import SessionScopes


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: datetime
    key_id: str
    action: str
    target: str


@dataclass(frozen=True, slots=True)
class DayActivity:
    day: date
    answers: int
    abstained: int
    fallback: int
    rated_up: int
    rated_down: int
    p50_ms: float | None = None  # answer latency that day; None without timed answers
    p95_ms: float | None = None


def percentiles(values: list[int]) -> tuple[float | None, float | None]:
    """p50 and p95 of ``values`` (None, None when empty)."""
    if not values:
        return None, None
    if len(values) == 1:
        return float(values[0]), float(values[0])
    cuts = quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[94]


@dataclass(frozen=True, slots=True)
class ConversationFilter:
    channel: str | None = None
    since_days: int | None = None
    rating: str | None = None  # "up", "down" or "none"
    abstained: bool = False  # only those with an abstention
    text: str = ""  # in any message
    key_id: str | None = None  # only those of this API or widget key


@dataclass(frozen=True, slots=True)
class ConversationSummary:
    id: str
    channel: str | None
    api_key_id: str | None
    updated_at: datetime
    messages: int
    first_question: str
    abstentions: int
    rated_up: int
    rated_down: int


@dataclass(frozen=True, slots=True)
class StoredTurn:
    role: str
    content: str
    citations: list[dict[str, Any]]
    abstained: bool
    ratings: list[str]
    at: datetime


class AdminStore(SessionScopes):
    def audit(self, key_id: str, action: str, target: str = "") -> None:
        with self._write() as session:
            session.add(AdminAudit(at=utcnow(), key_id=key_id, action=action, target=target))

    def audit_log(self, limit: int = 200) -> list[AuditEntry]:
        with self._read() as session:
            rows = session.scalars(select(AdminAudit).order_by(AdminAudit.id.desc()).limit(limit))
            return [AuditEntry(r.at, r.key_id, r.action, r.target) for r in rows]

    def daily_activity(self, days: int) -> list[DayActivity]:
        """Answers per day over the last ``days`` days (days without any included), oldest first,
        with each day's answer latency percentiles."""
        start = (utcnow() - timedelta(days=days - 1)).date()
        up = select(Feedback.message_id).where(Feedback.rating == "up")
        down = select(Feedback.message_id).where(Feedback.rating == "down")
        with self._read() as session:
            if session.get_bind().dialect.name == "postgresql":
                day: Any = cast(func.timezone("UTC", Message.created_at), Date)
            else:  # SQLite keeps the UTC time as ISO text
                day = func.date(Message.created_at)
            rows = session.execute(
                select(
                    day,
                    func.count(),
                    func.sum(case((Message.abstained.is_(True), 1), else_=0)),
                    func.sum(case((Message.fallback.is_(True), 1), else_=0)),
                    func.sum(case((Message.id.in_(up), 1), else_=0)),
                    func.sum(case((Message.id.in_(down), 1), else_=0)),
                )
                .where(
                    Message.role == "assistant",
                    Message.created_at >= datetime.combine(start, time(), tzinfo=UTC),
                )
                .group_by(day)
            ).all()
            timings: dict[date, list[int]] = {}
            for when, latency in session.execute(
                select(day, Message.latency_ms).where(
                    Message.role == "assistant",
                    Message.latency_ms.is_not(None),
                    Message.created_at >= datetime.combine(start, time(), tzinfo=UTC),
                )
            ):
                timings.setdefault(_as_date(when), []).append(int(latency))
        found: dict[date, DayActivity] = {}
        for when, answers, abstained, fallback, up, down in rows:
            day_of = _as_date(when)
            p50, p95 = percentiles(timings.get(day_of, []))
            found[day_of] = DayActivity(
                day_of,
                int(answers),
                int(abstained or 0),
                int(fallback or 0),
                int(up or 0),
                int(down or 0),
                p50,
                p95,
            )
        every = (start + timedelta(days=n) for n in range(days))
        return [found.get(d, DayActivity(d, 0, 0, 0, 0, 0)) for d in every]

    def latencies(self, days: int) -> list[int]:
        """Every timed answer's latency (ms) over the last ``days`` days."""
        start = datetime.combine((utcnow() - timedelta(days=days - 1)).date(), time(), tzinfo=UTC)
        timed = select(Message.latency_ms).where(
            Message.role == "assistant", Message.latency_ms.is_not(None), Message.created_at >= start
        )
        with self._read() as session:
            return [v for v in session.scalars(timed) if v is not None]

    def conversations(
        self, wanted: ConversationFilter, limit: int = 50, offset: int = 0
    ) -> list[ConversationSummary]:
        """Conversations matching ``wanted``, the most recently active first."""
        up = func.sum(case((Feedback.rating == "up", 1), else_=0))
        down = func.sum(case((Feedback.rating == "down", 1), else_=0))
        opening = aliased(Message)  # the conversation's first question
        first = (
            select(opening.content)
            .where(opening.conversation_id == Conversation.id, opening.seq == 1)
            .correlate(Conversation)
            .scalar_subquery()
        )
        query = (
            select(
                Conversation.id,
                Conversation.channel,
                Conversation.api_key_id,
                Conversation.updated_at,
                func.count(func.distinct(Message.id)),
                first,
                func.count(func.distinct(case((Message.abstained.is_(True), Message.id)))),
                up,
                down,
            )
            .join(Message, Message.conversation_id == Conversation.id)
            .join(Feedback, Feedback.message_id == Message.id, isouter=True)
            .group_by(Conversation.id)
            .order_by(Conversation.updated_at.desc(), Conversation.id)
        )
        if wanted.channel:
            query = query.where(Conversation.channel == wanted.channel)
        if wanted.key_id:
            query = query.where(Conversation.api_key_id == wanted.key_id)
        if wanted.since_days:
            query = query.where(Conversation.updated_at >= utcnow() - timedelta(days=wanted.since_days))
        if wanted.text.strip():
            pattern = f"%{wanted.text.strip()}%"
            having_text = select(Message.conversation_id).where(Message.content.ilike(pattern))
            query = query.where(Conversation.id.in_(having_text))
        if wanted.abstained:
            query = query.having(
                func.count(func.distinct(case((Message.abstained.is_(True), Message.id)))) > 0
            )
        if wanted.rating == "up":
            query = query.having(up > 0)
        elif wanted.rating == "down":
            query = query.having(down > 0)
        elif wanted.rating == "none":
            query = query.having(func.count(Feedback.id) == 0)
        with self._read() as session:
            rows = session.execute(query.limit(limit).offset(offset)).all()
        return [
            ConversationSummary(
                cid, channel, key_id, at, int(n), first or "", int(ab or 0), int(u or 0), int(d or 0)
            )
            for cid, channel, key_id, at, n, first, ab, u, d in rows
        ]

    def conversation_turns(self, conversation_id: str) -> list[StoredTurn] | None:
        """Every message of a conversation with its citations and ratings; None when unknown."""
        with self._read() as session:
            if session.get(Conversation, conversation_id) is None:
                return None
            messages = session.scalars(
                select(Message).where(Message.conversation_id == conversation_id).order_by(Message.seq)
            ).all()
            ratings: dict[str, list[str]] = {}
            for message_id, rating in session.execute(
                select(Feedback.message_id, Feedback.rating).where(
                    Feedback.message_id.in_([m.id for m in messages])
                )
            ):
                ratings.setdefault(message_id, []).append(rating)
            return [
                StoredTurn(
                    m.role,
                    m.content,
                    list(m.citations or []),
                    m.abstained,
                    ratings.get(m.id, []),
                    m.created_at,
                )
                for m in messages
            ]

    def conversations_of_key(self, key_id: str) -> int:
        with self._read() as session:
            count = session.scalar(
                select(func.count()).select_from(Conversation).where(Conversation.api_key_id == key_id)
            )
            return int(count or 0)

    def delete_conversations_of_key(self, key_id: str) -> int:
        """Delete every conversation of one key (messages and feedback with them); how many."""
        ids = select(Conversation.id).where(Conversation.api_key_id == key_id)
        with self._write() as session:
            count = int(session.scalar(select(func.count()).select_from(ids.subquery())) or 0)
            messages = select(Message.id).where(Message.conversation_id.in_(ids))
            session.execute(delete(Feedback).where(Feedback.message_id.in_(messages)))
            session.execute(delete(Message).where(Message.conversation_id.in_(ids)))
            session.execute(delete(AssessmentRow).where(AssessmentRow.conversation_id.in_(ids)))
            session.execute(delete(Conversation).where(Conversation.api_key_id == key_id))
            return count

    def delete_conversation(self, conversation_id: str) -> bool:
        with self._write() as session:
            if session.get(Conversation, conversation_id) is None:
                return False
            messages = select(Message.id).where(Message.conversation_id == conversation_id)
            session.execute(delete(Feedback).where(Feedback.message_id.in_(messages)))
            session.execute(delete(Message).where(Message.conversation_id == conversation_id))
            session.execute(delete(AssessmentRow).where(AssessmentRow.conversation_id == conversation_id))
            session.execute(delete(Conversation).where(Conversation.id == conversation_id))
            return True


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
