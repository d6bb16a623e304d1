"""Text every part of Advisor can handle: no NUL characters (PostgreSQL cannot store them) and no
unpaired UTF-16 surrogates (JSON can carry "\\udfff", but it is not Unicode text: the tokenizer and
both databases refuse it)."""

from __future__ import annotations

import re

_SURROGATE = re.compile("[\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be taken as text, or None when it can."""
    if "\x00" in value:
        return "must not contain NUL characters (\\u0000)"
    if _SURROGATE.search(value):
        return "must not contain unpaired surrogates (\\ud800-\\udfff); they are not Unicode text"
    return None


def storable(value: str) -> str:
    """``value`` as every store and the tokenizer can take it: NULs removed, an unpaired surrogate
    replaced by U+FFFD. For channels that do not refuse such text at their edge."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    return _SURROGATE.sub("\ufffd", value)
