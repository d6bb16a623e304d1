"""How long conversations are kept: the settings (per channel), durations such as "90d", and the
cut-off each channel's conversations are purged before. Applied by `advisor purge` and, every
``retention.sweep_hours``, by the service itself."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from pydantic import Field, field_validator

from advisor.settings_base import _Section

CHANNELS = ("api", "openai", "widget", "slack", "cli", "eval")
_DURATION = re.compile(r"^\s*(\d{1,5})\s*(d|h|w)\s*$")


class RetentionSettings(_Section):
    conversation_days: int = Field(
        default=0, ge=0, description="Delete conversations idle for longer than this; 0 keeps them."
    )
    channel_days: dict[str, int] = Field(
        default_factory=dict,
        description='Per channel, overriding conversation_days (0 keeps), e.g. {"openai": 7, "widget": 30}.',
    )
    store_stateless: bool = Field(
        default=False,
        description="Store OpenAI-route turns that carry their own history (not stored by default).",
    )
    sweep_hours: float = Field(
        default=6.0, ge=0, description="How often the service applies the retention; 0: only `advisor purge`."
    )

    @field_validator("channel_days")
    @classmethod
    def _known_channels(cls, value: dict[str, int]) -> dict[str, int]:
        unknown = sorted(set(value) - set(CHANNELS))
        if unknown:
            raise ValueError(f"unknown channel {unknown[0]!r}; one of {', '.join(CHANNELS)}")
        if any(days < 0 for days in value.values()):
            raise ValueError("days must be 0 (keep) or more")
        return value

    def cutoffs(self, now: datetime | None = None) -> dict[str | None, datetime]:
        """Channel -> the time before which its idle conversations go; the key None stands for every
        channel without its own setting (conversations without a recorded channel included)."""
        now = now or datetime.now(UTC)
        found: dict[str | None, datetime] = {}
        if self.conversation_days:
            found[None] = now - timedelta(days=self.conversation_days)
        for channel, days in self.channel_days.items():
            if days:
                found[channel] = now - timedelta(days=days)
        return found


def kept_channels(settings: RetentionSettings) -> list[str]:
    """Channels whose conversations are kept whatever conversation_days says (channel_days 0)."""
    return [channel for channel, days in settings.channel_days.items() if days == 0]


def parse_age(text: str) -> timedelta:
    """'90d', '12h' or '2w' as a duration; ValueError naming the accepted forms."""
    found = _DURATION.match(text)
    if not found:
        raise ValueError(f"{text!r} is not an age such as 90d, 12h or 2w")
    amount, unit = int(found.group(1)), found.group(2)
    return {"d": timedelta(days=amount), "h": timedelta(hours=amount), "w": timedelta(weeks=amount)}[unit]
