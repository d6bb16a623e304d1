"""Requests Advisor refuses outright, before any retrieval: attempts to extract its instructions,
keys or configuration, or to override its rules. Security questions about a team's own system
("how should we manage API keys for our model?") are ordinary questions and pass."""

from __future__ import annotations

import re

_AIMED_AT_US = re.compile(
    r"""
    \b(ignore|disregard|forget|override|bypass)\b[^.?!]{0,40}\b(previous|prior|above|earlier|all|your|the|system)\b[^.?!]{0,20}\b(instructions?|rules|prompts?|guidelines|directions)\b
  | \b(reveal|show|print|repeat|display|output|tell\s+me|give\s+me|share|dump|leak|what\s+(is|are))\b[^.?!]{0,30}\b(your|the\s+system|the\s+hidden|the\s+initial|internal)\b[^.?!]{0,20}\b(system\s+prompt|prompt|instructions?|configuration|config|settings|api[\s_-]?keys?|secrets?|tokens?|passwords?|environment(\s+variables)?|env\s+vars?)\b
  | \bsystem\s+prompt\b
  | \byour\s+(api[\s_-]?keys?|secrets?|credentials|passwords?|environment\s+variables)\b
  | \b(developer|dan|jailbreak|god)\s+mode\b
  | \byou\s+are\s+now\b[^.?!]{0,40}\b(unrestricted|unfiltered|no\s+longer|free\s+of)\b
    """,
    re.IGNORECASE | re.VERBOSE,
)


# A match about the team's own system ("our chatbot's system prompt", "the system prompt of our
# assistant", "stop users making our assistant ignore its instructions") is a question about that
# system, unless the message also addresses Advisor directly.
_THEIR_OWN = re.compile(r"\b(our|its|their)\b", re.IGNORECASE)
_OF_THEIR_OWN = re.compile(r"\s+(of|for|in|inside|behind|used\s+by)\s+(our|its|their)\b", re.IGNORECASE)
_ADDRESSES_US = re.compile(r"\b(you|your|yours|yourself)\b", re.IGNORECASE)
_WINDOW = 30


def _about_their_own(message: str, match: re.Match[str]) -> bool:
    before = message[max(0, match.start() - _WINDOW) : match.end()]
    return bool(_THEIR_OWN.search(before) or _OF_THEIR_OWN.match(message, match.end()))


def is_instruction_attack(message: str) -> bool:
    addresses_us = bool(_ADDRESSES_US.search(message))
    return any(
        addresses_us or not _about_their_own(message, match) for match in _AIMED_AT_US.finditer(message)
    )
