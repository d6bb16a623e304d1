"""Ingest runs started from the admin console, with their progress: written by the replica that runs
the ingest, read by whichever replica shows the page."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from advisor.store.models import IngestRunRow, utcnow
from advisor.store.sessions import SessionScopes

# A run that has said nothing for this long is reported as silent: its replica may have stopped.
SILENT_AFTER = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class IngestRun:
    id: str
    key_id: str
    state: str  # running, done or failed
    done: int
    total: int
    message: str
    started_at: datetime
    updated_at: datetime
    finished_at: datetime | None

    @property
    def running(self) -> bool:
        return self.state == "running"

    @property
    def silent(self) -> bool:
        return self.running and utcnow() - self.updated_at > SILENT_AFTER

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


def _run(row: IngestRunRow) -> IngestRun:
    return IngestRun(
        row.id,
        row.key_id,
        row.state,
        row.done,
        row.total,
        row.message,
        row.started_at,
        row.updated_at,
        row.finished_at,
    )


class IngestRunStore(SessionScopes):
    def start(self, key_id: str, message: str) -> IngestRun:
        now = utcnow()
        row = IngestRunRow(
            id=str(uuid.uuid4()),
            key_id=key_id,
            state="running",
            done=0,
            total=0,
            message=message,
            started_at=now,
            updated_at=now,
        )
        with self._write() as session:
            session.add(row)
            session.flush()
            return _run(row)

    def progress(self, run_id: str, done: int, total: int, message: str | None = None) -> None:
        with self._write() as session:
            row = session.get(IngestRunRow, run_id)
            if row is not None:
                row.done, row.total, row.updated_at = done, total, utcnow()
                if message is not None:
                    row.message = message

    def finish(self, run_id: str, failed: bool, message: str) -> None:
        with self._write() as session:
            row = session.get(IngestRunRow, run_id)
            if row is not None:
                row.state = "failed" if failed else "done"
                row.message = message
                row.updated_at = row.finished_at = utcnow()

    def get(self, run_id: str) -> IngestRun | None:
        with self._read() as session:
            row = session.get(IngestRunRow, run_id)
            return None if row is None else _run(row)

    def latest(self) -> IngestRun | None:
        with self._read() as session:
            row = session.scalars(
                select(IngestRunRow).order_by(IngestRunRow.started_at.desc()).limit(1)
            ).one_or_none()
            return None if row is None else _run(row)
