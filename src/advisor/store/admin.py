"""What the admin console reads and writes beyond the other stores: its audit log and the activity
figures of the overview."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Date, case, cast, func, select

from advisor.store.models import AdminAudit, Feedback, Message, utcnow
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


class AdminStore(SessionScopes):
    def audit(self, key_id: str, action: str, target: str = "") -> None:
        with self._write() as session:
            session.add(AdminAudit(at=utcnow(), key_id=key_id, action=action, target=target))

    def audit_log(self, limit: int = 200) -> list[AuditEntry]:
        with self._read() as session:
            rows = session.scalars(select(AdminAudit).order_by(AdminAudit.id.desc()).limit(limit))
            return [AuditEntry(r.at, r.key_id, r.action, r.target) for r in rows]

    def daily_activity(self, days: int) -> list[DayActivity]:
        """Answers per day over the last ``days`` days (days without any included), oldest first."""
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
        found = {_as_date(r[0]): DayActivity(_as_date(r[0]), *(int(v or 0) for v in r[1:])) for r in rows}
        every = (start + timedelta(days=n) for n in range(days))
        return [found.get(d, DayActivity(d, 0, 0, 0, 0, 0)) for d in every]


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
