"""Who is calling: every authenticated request resolves to one Principal with scopes.

Keys come from several places (settings, the database, widget keys); each source is a
KeyResolver registered on the Container, tried in order. The API layer only sees Principals.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

Scope = Literal["chat", "search", "feedback", "admin", "metrics"]
SCOPES: tuple[Scope, ...] = ("chat", "search", "feedback", "admin", "metrics")

PrincipalKind = Literal["local", "api", "widget", "slack"]


def api_key_id(key: str) -> str:
    """What we record instead of a key: a short, non-reversible id."""
    return "key_" + hashlib.sha256(key.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Principal:
    """An authenticated caller. key_id is what conversations and logs record (never the key);
    None only in local mode (no keys configured, loopback only)."""

    key_id: str | None
    kind: PrincipalKind
    scopes: frozenset[str]
    # Browser origins a widget key may be used from; empty for server-side keys.
    origins: tuple[str, ...] = field(default=())
    # A widget key's own chat limit per client address ("20/minute"); None = the configured default.
    rate_limit: str | None = None

    def allows(self, scope: Scope) -> bool:
        return "admin" in self.scopes or scope in self.scopes


LOCAL_PRINCIPAL = Principal(key_id=None, kind="local", scopes=frozenset(SCOPES))


class KeyRejectedError(Exception):
    """The key is known but may not be used here (revoked, wrong origin): its message is the reason."""

    def __init__(self, reason: str, status: int = 401) -> None:
        super().__init__(reason)
        self.status = status


# A resolver returns the Principal for a presented key, None when the key is not one of its own,
# or raises KeyRejectedError. `origin` is the request's Origin header (None for server callers).
KeyResolver = Callable[[str, "str | None"], "Principal | None"]
