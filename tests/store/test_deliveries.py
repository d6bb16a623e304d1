"""Deliveries answered at least once (issue 16, item 9), on SQLite and PostgreSQL: a claim stays
open until the answer is out, keeps the message posted so far, is taken again only after its lease
and by one worker only; claims that keep failing are closed; handled ones are purged after the
retention period, open ones never."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, update

from advisor.store.db import upgrade_database
from advisor.store.deliveries import DeliveryLog
from advisor.store.models import ProcessedEvent, utcnow

LEASE = timedelta(seconds=120)


def _log(engine: Engine) -> DeliveryLog:
    upgrade_database(engine)
    return DeliveryLog(engine)


def _age(engine: Engine, event_id: str, **ago: timedelta) -> None:
    """Move a record's times into the past, as if it had been written then."""
    with engine.begin() as connection:
        connection.execute(
            update(ProcessedEvent)
            .where(ProcessedEvent.event_id == event_id)
            .values(**{column: utcnow() - delta for column, delta in ago.items()})
        )


def test_a_claim_stays_open_until_answered_and_is_taken_again_only_after_its_lease(db_engine: Engine) -> None:
    log = _log(db_engine)
    claim = log.claim("slack-message", "T/C/1.1", '{"text": "q"}', LEASE)
    assert claim is not None and (claim.attempt, claim.reply_ts) == (1, None)
    log.record_reply(claim, "2.2")
    assert log.claim("slack-message", "T/C/1.1", '{"text": "q"}', LEASE) is None  # still being answered
    assert log.stalled("slack-message", LEASE, 3) == []

    _age(db_engine, "T/C/1.1", claimed_at=timedelta(minutes=5))  # the worker died mid-answer
    assert log.stalled("slack-message", LEASE, 3) == ["T/C/1.1"]
    again = log.reclaim("slack-message", "T/C/1.1", LEASE)
    assert again is not None and (again.attempt, again.reply_ts, again.payload) == (2, "2.2", '{"text": "q"}')
    assert log.reclaim("slack-message", "T/C/1.1", LEASE) is None  # one worker takes it, not two

    log.mark_answered(again)
    _age(db_engine, "T/C/1.1", claimed_at=timedelta(minutes=10))
    assert (
        log.stalled("slack-message", LEASE, 3) == []
        and log.reclaim("slack-message", "T/C/1.1", LEASE) is None
    )


def test_claims_that_keep_failing_are_closed(db_engine: Engine) -> None:
    log = _log(db_engine)
    claim = log.claim("slack-message", "k", "{}", LEASE)
    assert claim is not None
    for attempt in (2, 3):
        _age(db_engine, "k", claimed_at=timedelta(minutes=5))
        retried = log.reclaim("slack-message", "k", LEASE)
        assert retried is not None and retried.attempt == attempt
    _age(db_engine, "k", claimed_at=timedelta(minutes=5))
    assert log.stalled("slack-message", LEASE, 3) == []  # three attempts were made
    assert log.give_up("slack-message", 3) == 1
    assert log.reclaim("slack-message", "k", LEASE) is None


def test_handled_deliveries_are_purged_after_the_retention_period_open_ones_kept(db_engine: Engine) -> None:
    log = _log(db_engine)
    assert log.first_delivery("slack-event", "old")
    assert log.first_delivery("slack-event", "recent")
    assert log.claim("slack-message", "open", "{}", LEASE) is not None
    _age(db_engine, "old", created_at=timedelta(days=20))
    _age(db_engine, "open", created_at=timedelta(days=20))
    assert log.purge(timedelta(days=14)) == 1
    assert log.first_delivery("slack-event", "old")  # forgotten: seen as new again
    assert not log.first_delivery("slack-event", "recent")
    assert log.claim("slack-message", "open", "{}", LEASE) is None  # still open, still held
