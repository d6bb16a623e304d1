"""Signing in to the console: a key with the admin scope, checked once, then a signed, HttpOnly,
SameSite=Strict cookie naming the key and holding the session's CSRF token. Every request checks
again that the key is still valid (a revoked key signs its sessions out at once)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from itsdangerous import BadSignature, URLSafeTimedSerializer

from advisor.auth import api_key_id

if TYPE_CHECKING:
    from advisor.container import Container

COOKIE = "advisor_admin"


class ConsoleUnavailableError(RuntimeError):
    """No secret to sign sessions with."""


@dataclass(frozen=True)
class AdminSession:
    key_id: str
    csrf: str


class Sessions:
    def __init__(self, container: Container) -> None:
        self._container = container
        settings = container.settings
        secret = settings.admin.session_secret
        if secret is not None:
            material = secret.get_secret_value()
        elif settings.api.keys:
            # The same on every replica configured with the same bootstrap keys.
            joined = "\n".join(sorted(k.get_secret_value() for k in settings.api.keys))
            material = hashlib.sha256(b"advisor-admin-session\n" + joined.encode()).hexdigest()
        else:
            raise ConsoleUnavailableError("set admin.session_secret (or api.keys) to use the admin console")
        self._serializer = URLSafeTimedSerializer(material, salt="advisor-admin")
        self.max_age = int(settings.admin.session_hours * 3600)

    def sign_in(self, key: str) -> AdminSession | None:
        """A new session for a valid admin key; None for any other key."""
        principal = self._container.authenticator.resolve(key, None)
        if principal is None or principal.kind not in ("api", "local") or not principal.allows("admin"):
            return None
        return AdminSession(api_key_id(key), secrets.token_urlsafe(24))

    def cookie(self, session: AdminSession) -> str:
        return self._serializer.dumps({"k": session.key_id, "c": session.csrf})

    def read(self, cookie: str | None) -> AdminSession | None:
        """The session in the cookie, if its signature, age and key are all still good."""
        if not cookie:
            return None
        try:
            data = self._serializer.loads(cookie, max_age=self.max_age)
        except BadSignature:
            return None
        session = AdminSession(str(data.get("k", "")), str(data.get("c", "")))
        return session if self._still_admin(session.key_id) else None

    def _still_admin(self, key_id: str) -> bool:
        settings = self._container.settings
        if any(api_key_id(k.get_secret_value()) == key_id for k in settings.api.keys):
            return True
        record = self._container.api_keys.get(key_id)  # one row, on every console request
        return record is not None and record.active and "admin" in record.scopes


def csrf_matches(session: AdminSession, sent: str | None) -> bool:
    return sent is not None and hmac.compare_digest(session.csrf.encode(), sent.encode())
