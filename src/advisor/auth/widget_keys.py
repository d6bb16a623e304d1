"""Widget keys: public keys (they sit in a page's HTML) that only reach chat and feedback, and only
from their allowed origins. Which routes accept a widget caller is the API's allow-list (api.deps)."""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Callable, Sequence
from typing import Protocol

from pydantic import SecretStr

from advisor.auth import KeyRejectedError, Principal, api_key_id
from advisor.channel_settings import WidgetKey, WidgetSettings, normalise_origin

WIDGET_SCOPES = frozenset({"chat", "feedback"})
KEY_PREFIX = "wk_"
log = logging.getLogger(__name__)


class IssuedWidgetKey(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def origins(self) -> Sequence[str]: ...
    @property
    def active(self) -> bool: ...
    @property
    def rate_limit(self) -> str | None: ...


class IssuedWidgetKeys(Protocol):
    """Widget keys issued into the database (advisor.store.widget_keys)."""

    def lookup(self, key: str) -> IssuedWidgetKey | None: ...
    def active_origins(self) -> frozenset[str]: ...


def generate_widget_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(24)


class WidgetKeyring:
    """The configured widget keys, then those issued into the database; `resolve` is one of the
    Authenticator's key resolvers."""

    def __init__(
        self, settings: WidgetSettings, issued: Callable[[], IssuedWidgetKeys] | None = None
    ) -> None:
        self._keys = list(settings.keys)
        self._issued = issued  # a factory: the database may not answer when the service starts

    def __bool__(self) -> bool:
        return bool(self._keys)

    def find(self, token: str) -> WidgetKey | None:
        found = None
        for entry in self._keys:
            # Compare against every key (no early exit) so timing does not reveal a prefix match.
            if hmac.compare_digest(token.encode(), entry.key.get_secret_value().encode()):
                found = entry
        return found

    def allowed_origins(self) -> set[str]:
        configured = {origin for entry in self._keys for origin in entry.origins}
        if self._issued is None:
            return configured
        try:
            return configured | self._issued().active_origins()
        except Exception as exc:  # the database is away: the configured keys still work
            log.warning("widget keys in the database unavailable: %s", exc)
            return configured

    def _issued_entry(self, token: str) -> WidgetKey | None:
        if self._issued is None or not token.startswith(KEY_PREFIX):
            return None
        record = self._issued().lookup(token)
        if record is None:
            return None
        if not record.active:
            raise KeyRejectedError("this widget key has been revoked", 401)
        return WidgetKey(
            name=record.name, key=SecretStr(token), origins=list(record.origins), rate_limit=record.rate_limit
        )

    def allows(self, token: str, origin: str | None) -> bool:
        entry = self.find(token)
        normal = normalise_origin(origin) if origin else None
        return entry is not None and normal is not None and normal in entry.origins

    def resolve(self, token: str, origin: str | None) -> Principal | None:
        entry = self.find(token) or self._issued_entry(token)
        if entry is None:
            return None
        if not entry.origins:
            raise KeyRejectedError(f"widget key {entry.name!r} allows no origins", 403)
        if not origin:
            # Browsers always send Origin on cross-origin requests (and the widget guard fills in
            # the service's own origin for same-origin ones): no Origin means not a widget page.
            raise KeyRejectedError("a widget key is only accepted from a web page (no Origin header)", 403)
        normal = normalise_origin(origin)
        if normal is None or normal not in entry.origins:
            raise KeyRejectedError(f"origin {origin!r} is not allowed for widget key {entry.name!r}", 403)
        return Principal(api_key_id(token), "widget", WIDGET_SCOPES, tuple(entry.origins), entry.rate_limit)

    def demo_key(self, own_origin: str, name: str | None) -> WidgetKey | None:
        """The key the demo page embeds: the named one, else the first allowing our own origin."""
        for entry in self._keys:
            if (entry.name == name) if name else (own_origin in entry.origins):
                return entry
        return None
