"""Which channel deliveries were already handled (a Slack event id, a message), so a retried delivery
is answered once, across restarts and replicas."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from advisor.store.models import ProcessedEvent, utcnow
from advisor.store.sessions import SessionScopes


class DeliveryLog(SessionScopes):
    def first_delivery(self, source: str, event_id: str) -> bool:
        """True the first time (source, event_id) is seen, False for a duplicate, across processes."""
        try:
            with self._write() as session:
                session.add(ProcessedEvent(source=source, event_id=event_id, created_at=utcnow()))
                session.flush()
        except IntegrityError:
            return False
        return True
