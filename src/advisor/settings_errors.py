"""Settings that cannot be used, told in one line that names each bad setting and its env var
(instead of pydantic's multi-line dump)."""

from __future__ import annotations

import os
import re

from pydantic import ValidationError
from pydantic_settings import SettingsError as PydanticSettingsError


class SettingsError(Exception):
    """Settings that cannot be used; the message is one line naming the setting."""


def without_password(url: str) -> str:
    return re.sub(r"(://[^:/@]+):[^@/]*@", r"\1:***@", url)


def one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def describe_validation_error(error: ValidationError) -> str:
    """One line naming each bad setting, with its env var, instead of pydantic's multi-line dump."""
    parts = []
    for item in error.errors():
        loc = [str(p) for p in item["loc"] if not isinstance(p, int)]
        name = ".".join(loc) if loc else "settings"
        env = "ADVISOR_" + "__".join(p.upper() for p in loc) if loc else ""
        msg = one_line(ValueError(item["msg"].removeprefix("Value error, ")))
        if "ADVISOR_" in msg:
            env = ""  # a section-level check already names the exact env var (ADVISOR_LLM__MODEL)
        parts.append(f"{name} ({env}): {msg}" if env else f"{name}: {msg}")
    return "invalid settings: " + "; ".join(parts)


def describe_source_error(error: PydanticSettingsError) -> str:
    """pydantic-settings' own parse errors (e.g. ADVISOR_API__KEYS=abc, not JSON) as one line
    naming the env vars involved."""
    message = one_line(error)
    field = re.search(r'field "([^"]+)"', message)
    if field:
        prefix = f"ADVISOR_{field.group(1).upper()}"
        names = sorted(n for n in os.environ if n == prefix or n.startswith(prefix + "__"))
        if names:
            return (
                f"invalid settings: {field.group(1)} ({', '.join(names)}): cannot parse the value; "
                "a list or table must be JSON, e.g. ADVISOR_API__KEYS='[\"<key>\"]'"
            )
    return f"invalid settings: {message}"
