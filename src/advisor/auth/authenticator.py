"""Turning a presented key into a Principal: the key sources are tried in order (the operator's
bootstrap keys in ``api.keys``, keys issued into the database, widget keys)."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from advisor.auth import SCOPES, KeyResolver, Principal, api_key_id

if TYPE_CHECKING:
    from pydantic import SecretStr


class Authenticator:
    def __init__(
        self,
        bootstrap_keys: Sequence[SecretStr],
        resolvers: Sequence[KeyResolver],
        any_key_issued: Callable[[], bool],
    ) -> None:
        self._bootstrap = list(bootstrap_keys)
        self._resolvers = [self._bootstrap_key, *resolvers]
        self._any_key_issued = any_key_issued

    def auth_required(self) -> bool:
        """Whether requests must present a key (otherwise: local mode, loopback only): api.keys is
        set or a database key was ever issued (a revoked last key locks, never reopens, the service)."""
        return bool(self._bootstrap) or self._any_key_issued()

    def resolve(self, token: str, origin: str | None) -> Principal | None:
        """The key's Principal; None for a key no source knows; KeyRejectedError for a known key
        that may not be used here (revoked, or a widget key from a foreign origin)."""
        for resolver in self._resolvers:
            principal = resolver(token, origin)
            if principal is not None:
                return principal
        return None

    def _bootstrap_key(self, token: str, origin: str | None) -> Principal | None:
        # Keys in api.keys are the operator's bootstrap keys: every scope.
        for key in self._bootstrap:
            if hmac.compare_digest(token.encode(), key.get_secret_value().encode()):
                return Principal(api_key_id(token), "api", frozenset(SCOPES))
        return None
