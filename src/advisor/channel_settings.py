"""Settings of the channel adapters (Slack, the web widget), part of the one tree in settings.py."""

from __future__ import annotations

import re

from pydantic import Field, SecretStr, field_validator, model_validator

from advisor.settings_base import _refuse_placeholder, _Section


class SlackSettings(_Section):
    """The Slack bot: off unless a bot token is set. The Events API route (/slack/events) needs the
    signing secret; Socket Mode (`advisor slack socket`, for local development) needs the app token."""

    bot_token: SecretStr | None = Field(default=None, description="Bot token (xoxb-...).")
    signing_secret: SecretStr | None = Field(
        default=None, description="Signing secret; required with bot_token for the Events API."
    )
    app_token: SecretStr | None = Field(
        default=None, description="App-level token (xapp-...) for Socket Mode."
    )
    api_url: str = Field(
        default="https://slack.com/api/", pattern=r"^https?://", description="Slack Web API base URL."
    )
    command: str = Field(default="/advisor", pattern=r"^/[a-z0-9_-]{1,31}$", description="Slash command.")
    ignore_bots: bool = Field(default=True, description="Ignore messages from other bots (never our own).")
    max_retries: int = Field(default=3, ge=0, le=10, description="Retries of a rate-limited Web API call.")
    workers: int = Field(default=4, ge=1, le=64, description="Threads answering Slack in the background.")
    redeliver_after_seconds: float = Field(
        default=120.0,
        gt=0,
        description="A question still unanswered this long after it was taken (the process died) is "
        "answered again by the delivery sweep.",
    )
    sweep_seconds: float = Field(default=30.0, gt=0, description="How often the delivery sweep runs.")
    max_attempts: int = Field(
        default=3, ge=1, le=20, description="Attempts at one question before giving up."
    )
    retention_days: float = Field(
        default=14.0,
        gt=0,
        description="How long handled deliveries are remembered (to ignore Slack's retries).",
    )

    @property
    def enabled(self) -> bool:
        return self.bot_token is not None

    @property
    def http_enabled(self) -> bool:
        """Whether /slack/events is served (Events API, slash commands and interactivity over HTTP)."""
        return self.bot_token is not None and self.signing_secret is not None

    @model_validator(mode="after")
    def _check_tokens(self) -> SlackSettings:
        for name in ("bot_token", "signing_secret", "app_token"):
            secret: SecretStr | None = getattr(self, name)
            if secret is not None:
                _refuse_placeholder(f"slack.{name}", secret.get_secret_value())
        if self.bot_token is None:
            if self.signing_secret is not None or self.app_token is not None:
                raise ValueError(
                    "slack.bot_token is required to run the Slack bot (ADVISOR_SLACK__BOT_TOKEN)"
                )
            return self
        if not self.bot_token.get_secret_value().startswith("xoxb-"):
            raise ValueError(
                "slack.bot_token must be a bot token starting with xoxb- (ADVISOR_SLACK__BOT_TOKEN)"
            )
        if self.app_token is not None and not self.app_token.get_secret_value().startswith("xapp-"):
            raise ValueError(
                "slack.app_token must be an app-level token starting with xapp- (ADVISOR_SLACK__APP_TOKEN)"
            )
        if self.signing_secret is None and self.app_token is None:
            raise ValueError(
                "slack.signing_secret is required with slack.bot_token to serve /slack/events "
                "(ADVISOR_SLACK__SIGNING_SECRET); for Socket Mode set slack.app_token (ADVISOR_SLACK__APP_TOKEN)"
            )
        return self


_ORIGIN = re.compile(r"^(https?)://([a-z0-9.-]+|\[[0-9a-f:]+\])(?::(\d{1,5}))?$")


def normalise_origin(origin: str) -> str | None:
    """``scheme://host[:port]`` lower-cased, default port dropped; None when it is not an origin."""
    match = _ORIGIN.match(origin.strip().rstrip("/").lower())
    if match is None:
        return None
    scheme, host, port = match.groups()
    if port is None or (scheme, port) in (("http", "80"), ("https", "443")):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


class WidgetKey(_Section):
    """A key for the embeddable widget: public by nature (it sits in the host page), so it only
    reaches chat and feedback, and only from the listed browser origins."""

    name: str = Field(default="widget", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    key: SecretStr
    origins: list[str] = Field(
        default_factory=list, description="Allowed page origins, e.g. https://intranet.example; empty = none."
    )
    rate_limit: str | None = Field(
        default=None,
        description="Chat requests per client IP with this key; default widget.rate_limit_per_ip.",
    )

    @field_validator("key")
    @classmethod
    def _real_key(cls, key: SecretStr) -> SecretStr:
        _refuse_placeholder("widget.keys.key", key.get_secret_value())
        if len(key.get_secret_value()) < 16:
            raise ValueError("widget.keys entries need a key of at least 16 characters")
        return key

    @field_validator("origins")
    @classmethod
    def _valid_origins(cls, origins: list[str]) -> list[str]:
        cleaned = []
        for origin in origins:
            normal = normalise_origin(origin)
            if normal is None:
                raise ValueError(f"{origin!r} is not an origin: use scheme://host[:port], no path, no '*'")
            cleaned.append(normal)
        return cleaned

    @field_validator("rate_limit")
    @classmethod
    def _valid_key_rate(cls, value: str | None) -> str | None:
        return None if value is None else valid_rate(value)


def valid_rate(value: str) -> str:
    """``value`` if the limits library reads it as a rate ("30/minute"), else ValueError saying so."""
    from limits import parse_many

    try:
        parse_many(value)
    except ValueError:
        raise ValueError(
            f"{value!r} is not a rate limit such as '30/minute' or '5/second; 100/hour'"
        ) from None
    return value


class WidgetSettings(_Section):
    """The web chat widget (issue 5 owns this section)."""

    keys: list[WidgetKey] = Field(
        default_factory=list, description="Widget keys (`advisor widget create-key`); JSON list in env."
    )
    demo_key: str | None = Field(
        default=None,
        description="Name of the widget key the demo page at / uses; default the first "
        "key whose origins include the service's own origin.",
    )
    demo_page: bool = Field(default=True, description="Serve the demo page at /.")
    max_message_chars: int = Field(default=1000, ge=1, description="Longest widget message (422 above).")
    rate_limit_per_ip: str = Field(default="30/minute", description="Widget chat requests per client IP.")
    rate_limit_per_conversation: str = Field(
        default="12/minute", description="Widget chat requests per conversation."
    )
    feedback_rate_limit_per_ip: str = Field(default="30/minute", description="Widget feedback per client IP.")
    read_rate_limit_per_ip: str = Field(
        default="60/minute", description="Whole documents a widget opens from its citations, per client IP."
    )
    rate_limit_storage: str = Field(
        default="memory://", description="limits storage URI: memory:// or redis://host:port[/db]."
    )

    @field_validator(
        "rate_limit_per_ip",
        "rate_limit_per_conversation",
        "feedback_rate_limit_per_ip",
        "read_rate_limit_per_ip",
    )
    @classmethod
    def _valid_rate(cls, value: str) -> str:
        return valid_rate(value)

    @field_validator("rate_limit_storage")
    @classmethod
    def _valid_storage(cls, value: str) -> str:
        if not value.startswith(("memory://", "redis://", "rediss://")):
            raise ValueError("must be memory:// or a redis:// URI")
        return value


__all__ = ["SlackSettings", "WidgetKey", "WidgetSettings", "normalise_origin"]
