"""The admin console's settings (see advisor.admin)."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from advisor.settings_base import _refuse_placeholder, _Section


class AdminSettings(_Section):
    enabled: bool = Field(default=True, description="Serve the admin console at /admin.")
    session_secret: SecretStr | None = Field(
        default=None,
        description="Signs the console's session cookie; the same on every replica. Default: derived "
        "from api.keys (a key rotation then signs everyone out).",
    )
    session_hours: float = Field(default=8.0, gt=0, le=168, description="How long a console sign-in lasts.")

    @field_validator("session_secret")
    @classmethod
    def _real_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            _refuse_placeholder("admin.session_secret", value.get_secret_value())
            if len(value.get_secret_value()) < 32:
                raise ValueError("admin.session_secret needs at least 32 characters")
        return value
