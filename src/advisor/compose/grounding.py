"""Citation markers: parsing, resolving against retrieved passages, and filtering streamed text."""

from __future__ import annotations

import re
from collections.abc import Sequence

from advisor.types import Citation, Passage

# [3], [1, 2], [1][2] (the latter is two markers)
_MARKER = re.compile(r"\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]")
_MARKDOWN = re.compile(r"(\*\*|__|`|^#+\s*|^\s*[-*]\s+|^\s*\d+\.\s+)", re.MULTILINE)


def cited_numbers(text: str) -> list[int]:
    """Citation numbers in order of first appearance."""
    seen: list[int] = []
    for match in _MARKER.finditer(text):
        for part in match.group(1).split(","):
            n = int(part)
            if n not in seen:
                seen.append(n)
    return seen


def strip_unresolved(text: str, valid: int) -> tuple[str, list[int]]:
    """Remove markers whose number is not 1..valid; returns the text and the numbers removed."""
    removed: list[int] = []

    def keep(match: re.Match[str]) -> str:
        nums = [int(p) for p in match.group(1).split(",")]
        good = [n for n in nums if 1 <= n <= valid]
        removed.extend(n for n in nums if not 1 <= n <= valid)
        return f"[{', '.join(str(n) for n in good)}]" if good else ""

    cleaned = _MARKER.sub(keep, text)
    if removed:
        cleaned = re.sub(r"[ \t]+([.,;:!?])", r"\1", cleaned)
        cleaned = re.sub(r"[ \t]{2,}", " ", cleaned)
    return cleaned, removed


def snippet_of(text: str, limit: int = 240) -> str:
    plain = " ".join(_MARKDOWN.sub("", text).split())
    if len(plain) <= limit:
        return plain
    cut = plain[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"


def build_citations(text: str, passages: Sequence[Passage]) -> list[Citation]:
    """One citation per passage actually cited in ``text``, numbered as in the text."""
    citations = []
    for n in sorted(cited_numbers(text)):
        if 1 <= n <= len(passages):
            p = passages[n - 1]
            citations.append(
                Citation(
                    n=n,
                    doc_id=p.doc_id,
                    title=p.title,
                    section=p.section,
                    topics=p.topics,
                    snippet=snippet_of(p.text),
                    source=p.source,
                    score=p.score,
                )
            )
    return citations


class CitationStreamFilter:
    """Drops unresolvable markers from streamed text; holds back a partial ``[..`` until it closes.

    Markers at the end of a delta, and the spaces around them, are held back until the next
    non-space text arrives, so that a dropped marker takes its space with it: "ship it [9]." streams
    as "ship it.", as :func:`strip_unresolved` gives for the whole text.
    """

    def __init__(self, valid: int) -> None:
        self._valid = valid
        self._pending = ""
        self.removed: list[int] = []

    def feed(self, delta: str) -> str:
        text = self._pending + delta
        tail = _TAIL.search(text)
        cut = tail.start() if tail else len(text)
        open_at = text.rfind("[")
        if open_at != -1 and "]" not in text[open_at:] and len(text) - open_at <= 16:
            cut = min(cut, open_at)
        text, self._pending = text[:cut], text[cut:]
        cleaned, removed = strip_unresolved(text, self._valid)
        self.removed.extend(removed)
        return cleaned

    def flush(self) -> str:
        rest, self._pending = self._pending, ""
        cleaned, removed = strip_unresolved(rest, self._valid)
        self.removed.extend(removed)
        return cleaned


# Spaces and markers (whole or still open) at the end of streamed text.
_TAIL = re.compile(r"(?:[ \t]*\[[\d, ]{0,14}\]?)*[ \t]*$")
