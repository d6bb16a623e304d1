"""Delivery idempotency and the database ping on every configured backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from advisor.store.db import create_db_engine, ping, upgrade_database
from advisor.store.deliveries import DeliveryLog


@pytest.fixture
def store(db_engine: Engine) -> Iterator[DeliveryLog]:
    upgrade_database(db_engine)
    yield DeliveryLog(db_engine)


def test_first_delivery_detects_duplicates(store: DeliveryLog) -> None:
    assert store.first_delivery("webhook", "evt-1") is True
    assert store.first_delivery("webhook", "evt-1") is False
    assert store.first_delivery("webhook", "evt-1") is False
    assert store.first_delivery("webhook", "evt-2") is True
    assert store.first_delivery("other-source", "evt-1") is True


def test_first_delivery_across_engines(db_url: str, store: DeliveryLog) -> None:
    engine = create_db_engine(db_url)
    try:
        other = DeliveryLog(engine)
        assert store.first_delivery("queue", "42") is True
        assert other.first_delivery("queue", "42") is False
    finally:
        engine.dispose()


def test_ping(store: DeliveryLog) -> None:
    assert ping(store.engine) is True


def test_ping_reports_an_unreachable_database(tmp_path: Path) -> None:
    # A directory is not a database file: connecting fails.
    engine = create_db_engine(f"sqlite:///{tmp_path}")
    try:
        assert ping(engine) is False
    finally:
        engine.dispose()
