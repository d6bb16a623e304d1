"""Which channel deliveries were handled (a Slack event id, a message), across restarts and replicas.

Two kinds of record. ``first_delivery`` marks a delivery handled at once: a retry of the same event
is then ignored. ``claim`` takes a delivery to be answered, with what was asked: the record stays
open until ``mark_answered``, holds the message posted so far (``record_reply``: a later attempt
updates it instead of posting again), and a claim left open longer than its lease (the process
died mid-answer) can be claimed again, so a question is answered at least once, never lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.exc import IntegrityError

from advisor.store.models import ProcessedEvent, utcnow
from advisor.store.sessions import SessionScopes


@dataclass(frozen=True)
class Claim:
    """A delivery this worker now answers."""

    source: str
    event_id: str
    payload: str | None  # what was asked, as the channel stored it
    reply_ts: str | None  # the message an earlier attempt posted: update it, post nothing new
    attempt: int


class DeliveryLog(SessionScopes):
    def first_delivery(self, source: str, event_id: str) -> bool:
        """True the first time (source, event_id) is seen, False for a duplicate, across processes."""
        now = utcnow()
        handled = ProcessedEvent(
            source=source, event_id=event_id, created_at=now, claimed_at=now, answered_at=now
        )
        return self._inserted(handled)

    def claim(self, source: str, event_id: str, payload: str, lease: timedelta) -> Claim | None:
        """The delivery, to answer now; None when it was answered, or another worker holds it."""
        now = utcnow()
        opened = ProcessedEvent(
            source=source, event_id=event_id, created_at=now, claimed_at=now, payload=payload
        )
        if self._inserted(opened):
            return Claim(source, event_id, payload, None, 1)
        return self.reclaim(source, event_id, lease)

    def _inserted(self, row: ProcessedEvent) -> bool:
        """Whether ``row`` was new: the primary key decides, across processes and replicas."""
        try:
            with self._write() as session:
                session.add(row)
                session.flush()
        except IntegrityError:
            return False
        return True

    def reclaim(self, source: str, event_id: str, lease: timedelta) -> Claim | None:
        """An open claim whose lease ran out, taken again; None when answered or still held."""
        now = utcnow()
        with self._write() as session:
            row = session.get(ProcessedEvent, (source, event_id))
            if row is None or row.answered_at is not None:
                return None
            if row.claimed_at is not None and row.claimed_at > now - lease:
                return None  # someone is answering it right now
            # Read before the update: the session applies it to ``row`` too.
            claim = Claim(source, event_id, row.payload, row.reply_ts, row.attempts + 1)
            # Take it only if nobody took it since we looked (another replica's sweep).
            taken = session.execute(
                update(ProcessedEvent)
                .where(ProcessedEvent.source == source, ProcessedEvent.event_id == event_id)
                .where(_same_claim(row.claimed_at))
                .values(claimed_at=now, attempts=ProcessedEvent.attempts + 1)
            )
            return claim if taken.rowcount == 1 else None  # type: ignore[attr-defined]

    def record_reply(self, claim: Claim, reply_ts: str) -> None:
        self._update(claim, reply_ts=reply_ts)

    def mark_answered(self, claim: Claim) -> None:
        self._update(claim, answered_at=utcnow(), payload=None)

    def _update(self, claim: Claim, **values: object) -> None:
        with self._write() as session:
            session.execute(
                update(ProcessedEvent)
                .where(ProcessedEvent.source == claim.source, ProcessedEvent.event_id == claim.event_id)
                .values(**values)
            )

    def stalled(self, source: str, lease: timedelta, max_attempts: int, limit: int = 50) -> list[str]:
        """Event ids of open claims whose lease ran out, oldest first (for a sweep to claim again)."""
        cutoff = utcnow() - lease
        with self._read() as session:
            rows = session.scalars(
                select(ProcessedEvent.event_id)
                .where(ProcessedEvent.source == source, ProcessedEvent.answered_at.is_(None))
                .where(ProcessedEvent.claimed_at < cutoff, ProcessedEvent.attempts < max_attempts)
                .order_by(ProcessedEvent.created_at)
                .limit(limit)
            )
            return list(rows)

    def give_up(self, source: str, max_attempts: int) -> int:
        """Close claims that failed ``max_attempts`` times: they stay recorded, never retried again."""
        with self._write() as session:
            closed = session.execute(
                update(ProcessedEvent)
                .where(ProcessedEvent.source == source, ProcessedEvent.answered_at.is_(None))
                .where(ProcessedEvent.attempts >= max_attempts)
                .values(answered_at=utcnow(), payload=None)
            )
            return int(closed.rowcount)  # type: ignore[attr-defined]

    def purge(self, older_than: timedelta) -> int:
        """Forget handled deliveries recorded before ``older_than`` ago; open ones are kept."""
        cutoff = utcnow() - older_than
        with self._write() as session:
            gone = session.execute(
                delete(ProcessedEvent).where(
                    ProcessedEvent.created_at < cutoff, ProcessedEvent.answered_at.is_not(None)
                )
            )
            return int(gone.rowcount)  # type: ignore[attr-defined]


def _same_claim(claimed_at: datetime | None) -> ColumnElement[bool]:
    return (
        ProcessedEvent.claimed_at.is_(None) if claimed_at is None else ProcessedEvent.claimed_at == claimed_at
    )
