"""What every request body shares: its strings must be text the whole service can handle."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, field_validator

from advisor.text import text_problem


def refuse_unusable_text(value: object) -> object:
    """Every string a request carries, however nested, must be text the whole service can handle: a
    NUL or a lone surrogate is refused here (422 naming the field) rather than failing in the
    tokenizer, where it once failed the other requests embedded in the same batch, or in PostgreSQL."""
    if isinstance(value, str):
        if problem := text_problem(value):
            raise ValueError(problem)
    elif isinstance(value, dict):
        for key, item in value.items():
            refuse_unusable_text(key)
            refuse_unusable_text(item)
    elif isinstance(value, list | tuple):
        for item in value:
            refuse_unusable_text(item)
    return value


class RequestBody(BaseModel):
    """A request body: its strings are checked by ``refuse_unusable_text``, and a field it does not
    define is refused (422) rather than silently ignored: "stream_mode" or "topic" is a typo the
    caller should hear about. The OpenAI route's bodies ignore unknown fields, as that protocol does."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _usable_text(cls, value: object) -> object:
        return refuse_unusable_text(value)


def _usable(value: str) -> str:
    refuse_unusable_text(value)
    return value


# A path or query parameter that must be usable text ("/v1/conversations/ab%00cd" is a 422).
UsableText = Annotated[str, AfterValidator(_usable)]
