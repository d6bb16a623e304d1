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


def is_instruction_attack(message: str) -> bool:
    return bool(_AIMED_AT_US.search(message))
