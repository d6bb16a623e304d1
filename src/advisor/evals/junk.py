"""Junk in an answer's steps: a warning sign, a metric or a description presented as something to do.

Independent of how the composer chooses its steps: a numbered step's bold headline is junk when it is
word for word a warning sign somewhere in the corpus, or when it opens like a description ("The
fraud model has not been retrained...", "Time to decision and other metrics...") rather than with
a verb. ``must_not_include`` phrasings of a case are checked alongside."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

_STEP = re.compile(r"^\s*\d+[.)]\s+\*\*(?P<head>[^*]+)\*\*", re.MULTILINE)
_SIGN_HEADING = re.compile(r"^#{2,4}\s.*\b(?:signs?|symptoms?|red flags?|pitfalls?|mistakes?)\b", re.I)
_BOLD_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+\*\*(?P<head>[^*]+)\*\*")
_HEADING = re.compile(r"^#{1,4}\s")
_DESCRIBING = frozenset(
    "a an the no nobody none our their its this that these those there it he she they we you every each "
    "time number share rate percentage metrics metric kpis".split()
)


def normalise(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def corpus_signs(folder: Path) -> frozenset[str]:
    """The bold headlines of every item under a "warning signs" style heading in a Markdown corpus."""
    signs: set[str] = set()
    for path in sorted(folder.rglob("*.md")):
        inside = False
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if _HEADING.match(line):
                inside = bool(_SIGN_HEADING.match(line))
            elif inside and (match := _BOLD_ITEM.match(line)):
                signs.add(normalise(match["head"]))
    return frozenset(signs)


def junk_steps(answer: str, signs: Iterable[str] = ()) -> list[str]:
    """The numbered steps of ``answer`` that are not actions."""
    known = set(signs)
    junk = []
    for match in _STEP.finditer(answer):
        head = match["head"].strip()
        first = normalise(head).split(" ", 1)[0] if normalise(head) else ""
        if normalise(head) in known or first in _DESCRIBING or re.fullmatch(r"\w+(?:ing|ed)", first or "x"):
            junk.append(head)
    return junk


def forbidden(answer: str, phrasings: Sequence[str]) -> list[str]:
    """The ``must_not_include`` phrasings the answer contains (markup and case ignored)."""
    plain = normalise(answer)
    return [p for p in phrasings if normalise(p) and f" {normalise(p)} " in f" {plain} "]
