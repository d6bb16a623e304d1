"""Widget keys issued from the admin console, kept hashed like API keys. The widget keyring asks
here on each request (and for the CORS origins, at most every couple of seconds), so a key created or
revoked on one replica holds on every replica at once."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from advisor.auth import api_key_id
from advisor.auth.widget_keys import generate_widget_key
from advisor.channel_settings import normalise_origin, valid_rate
from advisor.store.api_keys import hash_key
from advisor.store.models import WidgetKeyRow, utcnow
from advisor.store.sessions import SessionScopes

_ORIGINS_TTL = 2.0


@dataclass(frozen=True, slots=True)
class WidgetKeyRecord:
    id: str
    name: str
    prefix: str
    origins: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None
    rate_limit: str | None = None  # chat requests per visitor; None = widget.rate_limit_per_ip

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def _record(row: WidgetKeyRow) -> WidgetKeyRecord:
    return WidgetKeyRecord(
        row.id, row.name, row.prefix, tuple(row.origins), row.created_at, row.revoked_at, row.rate_limit
    )


def _origins(origins: Sequence[str]) -> list[str]:
    cleaned = set()
    for origin in origins:
        normal = normalise_origin(origin.strip())
        if normal is None:
            raise ValueError(f"{origin.strip()!r} is not an origin: use scheme://host[:port], no path")
        cleaned.add(normal)
    if not cleaned:
        raise ValueError("a widget key needs at least one allowed origin")
    return sorted(cleaned)


def _rate(rate_limit: str | None) -> str | None:
    text = (rate_limit or "").strip()
    return valid_rate(text) if text else None


class WidgetKeyStore(SessionScopes):
    _origins: tuple[float, frozenset[str]] = (float("-inf"), frozenset())

    def create(
        self, name: str, origins: list[str], rate_limit: str | None = None
    ) -> tuple[str, WidgetKeyRecord]:
        """A new key (returned once, never stored) for the given page origins and chat limit per
        visitor; ValueError naming a bad origin, name or limit."""
        cleaned = _origins(origins)
        name = name.strip()
        if not name or len(name) > 64:
            raise ValueError("a widget key needs a name of 1 to 64 characters")
        limit = _rate(rate_limit)
        key = generate_widget_key()
        row = WidgetKeyRow(
            id=api_key_id(key),
            name=name,
            key_hash=hash_key(key),
            prefix=key[:8],
            origins=cleaned,
            created_at=utcnow(),
            rate_limit=limit,
        )
        with self._write() as session:
            session.add(row)
            session.flush()
            record = _record(row)
        self._origins = (float("-inf"), frozenset())
        return key, record

    def list(self) -> list[WidgetKeyRecord]:
        with self._read() as session:
            return [
                _record(r) for r in session.scalars(select(WidgetKeyRow).order_by(WidgetKeyRow.created_at))
            ]

    def update(self, key_id: str, origins: Sequence[str], rate_limit: str | None) -> WidgetKeyRecord | None:
        """New origins and chat limit for an active key (None when there is none); ValueError naming
        a bad origin or limit. Every replica sees it on the key's next request."""
        cleaned, limit = _origins(origins), _rate(rate_limit)
        with self._write() as session:
            row = session.get(WidgetKeyRow, key_id)
            if row is None or row.revoked_at is not None:
                return None
            row.origins, row.rate_limit = cleaned, limit
            session.flush()
            record = _record(row)
        self._origins = (float("-inf"), frozenset())
        return record

    def revoke(self, key_id: str) -> bool:
        with self._write() as session:
            row = session.get(WidgetKeyRow, key_id)
            if row is None or row.revoked_at is not None:
                return False
            row.revoked_at = utcnow()
        self._origins = (float("-inf"), frozenset())
        return True

    def lookup(self, key: str) -> WidgetKeyRecord | None:
        with self._read() as session:
            row = session.scalars(
                select(WidgetKeyRow).where(WidgetKeyRow.key_hash == hash_key(key))
            ).one_or_none()
            return None if row is None else _record(row)

    def active_origins(self) -> frozenset[str]:
        """Every origin an active key allows, read again after a couple of seconds at most."""
        at, origins = self._origins
        if time.monotonic() - at < _ORIGINS_TTL:
            return origins
        with self._read() as session:
            rows = session.scalars(select(WidgetKeyRow.origins).where(WidgetKeyRow.revoked_at.is_(None)))
            origins = frozenset(o for row in rows for o in row)
        self._origins = (time.monotonic(), origins)
        return origins
