"""Scoped API keys kept in the database (issued and revoked with `advisor keys ...`).

Only a SHA-256 of each key is stored. That is enough for keys, unlike passwords: a key is 32 random
bytes, so there is nothing to guess, and an unsalted digest lets a request find its key with one
indexed lookup. Every request looks its key up afresh, so a revocation takes effect at once on every
replica sharing the database.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select

from advisor.auth import SCOPES, KeyRejectedError, Principal, api_key_id
from advisor.store.models import ApiKey, utcnow
from advisor.store.sessions import SessionScopes

#: Every issued key starts with this, so other key sources are not looked up here.
KEY_PREFIX = "adv_"
_SHOWN_PREFIX_CHARS = 8
# How long a keyless service trusts its last look for issued keys (see ApiKeyStore.any_issued).
_NONE_ISSUED_TTL = 2.0
REVOKED_REASON = "this API key has been revoked"


class ApiKeyNotFoundError(LookupError):
    """No API key has this id."""


@dataclass(frozen=True)
class ApiKeyRecord:
    id: str
    name: str | None
    prefix: str
    scopes: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class IssuedKey:
    """A new key: ``key`` is the only copy of the secret and is never stored."""

    key: str
    record: ApiKeyRecord


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def check_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    """The scopes, deduplicated in canonical order; ValueError for an empty or unknown one."""
    wanted = set(scopes)
    unknown = sorted(wanted - set(SCOPES))
    if unknown:
        raise ValueError(f"unknown scope {unknown[0]!r}; choose from {', '.join(SCOPES)}")
    if not wanted:
        raise ValueError(f"a key needs at least one scope ({', '.join(SCOPES)})")
    return tuple(s for s in SCOPES if s in wanted)


def _record(row: ApiKey) -> ApiKeyRecord:
    return ApiKeyRecord(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        scopes=tuple(row.scopes),
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


class ApiKeyStore(SessionScopes):
    """Issue, list, revoke and resolve database keys; thread-safe (one session per call)."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self._issued_seen = False
        self._none_seen_at = -_NONE_ISSUED_TTL  # monotonic time of the last "no key yet" answer

    def create(self, scopes: Iterable[str], name: str | None = None) -> IssuedKey:
        checked = check_scopes(scopes)
        name = (name or "").strip() or None
        if name is not None and len(name) > 128:
            raise ValueError("a key name is at most 128 characters")
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        row = ApiKey(
            id=api_key_id(key),
            name=name,
            key_hash=hash_key(key),
            prefix=key[:_SHOWN_PREFIX_CHARS],
            scopes=list(checked),
            created_at=utcnow(),
        )
        with self._write() as session:
            session.add(row)
            session.flush()
            record = _record(row)
        self._issued_seen = True
        return IssuedKey(key, record)

    def list(self) -> list[ApiKeyRecord]:
        with self._read() as session:
            rows = session.scalars(select(ApiKey).order_by(ApiKey.created_at, ApiKey.id))
            return [_record(row) for row in rows]

    def revoke(self, key_id: str) -> tuple[ApiKeyRecord, bool]:
        """Revoke a key; returns its record and whether this call revoked it (False: it already was)."""
        with self._write() as session:
            row = session.get(ApiKey, key_id)
            if row is None:
                raise ApiKeyNotFoundError(key_id)
            changed = row.revoked_at is None
            if changed:
                row.revoked_at = utcnow()
            session.flush()
            return _record(row), changed

    def get(self, key_id: str) -> ApiKeyRecord | None:
        with self._read() as session:
            row = session.get(ApiKey, key_id)
            return None if row is None else _record(row)

    def lookup(self, key: str) -> ApiKeyRecord | None:
        with self._read() as session:
            row = session.scalars(select(ApiKey).where(ApiKey.key_hash == hash_key(key))).one_or_none()
            return None if row is None else _record(row)

    def any_issued(self) -> bool:
        """Whether any key was ever issued, revoked ones included.

        Revoked keys count so that revoking the last key locks the service instead of silently
        returning it to keyless local mode. Keys are never deleted, so once true this stays true
        and needs no further query. "None yet" is asked again after a second or two, not on every
        request of a keyless (loopback-only) service: a key issued by another process takes
        effect within that time.
        """
        if self._issued_seen:
            return True
        now = time.monotonic()
        if now - self._none_seen_at < _NONE_ISSUED_TTL:
            return False
        with self._read() as session:
            self._issued_seen = session.scalars(select(ApiKey.id).limit(1)).first() is not None
        if not self._issued_seen:
            self._none_seen_at = now
        return self._issued_seen

    def resolve(self, token: str, origin: str | None) -> Principal | None:
        """The KeyResolver for database keys (see advisor.auth)."""
        if not token.startswith(KEY_PREFIX):
            return None
        record = self.lookup(token)
        if record is None:
            return None
        if not record.active:
            raise KeyRejectedError(REVOKED_REASON, 401)
        return Principal(record.id, "api", frozenset(record.scopes))
