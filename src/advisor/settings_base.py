"""What every settings section shares: unknown keys are errors, placeholder secrets are refused."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

# Secrets that are obviously copied from an example rather than chosen.
_PLACEHOLDER_SECRETS = {"changeme", "change-me", "secret", "password", "xxx", "your-key", "sk-...", "todo"}


class _Section(BaseModel):
    # A misspelt setting (limits.max_kk in a file, ADVISOR_LIMITS__MAX_KK) is an error, not ignored.
    model_config = ConfigDict(extra="forbid")


def _refuse_placeholder(name: str, value: str) -> None:
    if value.strip().lower() in _PLACEHOLDER_SECRETS or value.strip() == "":
        env = "ADVISOR_" + name.upper().replace(".", "__")
        raise ValueError(f"{name} holds a placeholder value; set a real secret ({env})")
