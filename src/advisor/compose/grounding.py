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
    """Remove markers whose number is not 1..valid; returns the text and the numbers removed.

    A marker the sentence leans on ("See also [12] and [0].", "As [7] shows, ...") takes its clause
    with it, so no broken sentence is left ("See also and."); see :class:`CitationStreamFilter`."""
    markers = CitationStreamFilter(valid)
    cleaned = markers.feed(text) + markers.flush()
    return cleaned, markers.removed


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
    """Drops unresolvable markers from streamed text, clause by clause.

    A clause (text up to ``,`` ``;`` ``:`` ``.`` ``!`` ``?`` followed by a space, or a line break) is
    held until it is complete, as is the punctuation after it, so a decision never has to take back
    text already sent. An unresolvable marker at the end of its clause goes with the space before it
    ("ship it [9]." streams as "ship it."). One the clause leans on (after "see", "as", "and"..., or
    opening the clause as its subject) drops the whole clause: the sentence ends at the clause before
    it, and a sentence left without its opening clause starts with a capital. A marker with some valid
    numbers keeps those.
    """

    def __init__(self, valid: int) -> None:
        self._valid = valid
        self._buffer = ""
        self._separator = ""  # the punctuation and space after the last clause sent, not sent yet
        self._sentence_open = False  # a clause of the current sentence was sent
        self._capitalise = False  # the sentence lost its opening clause
        self.removed: list[int] = []

    def feed(self, delta: str) -> str:
        self._buffer += delta
        out: list[str] = []
        while (end := _clause_end(self._buffer)) is not None:
            body, punctuation, space, rest = end
            self._buffer = rest
            out.append(self._clause(body, punctuation, space))
        return "".join(out)

    def flush(self) -> str:
        rest, self._buffer = self._buffer, ""
        stripped = rest.rstrip()
        space = rest[len(stripped) :]
        punctuation = stripped[-1] if stripped and stripped[-1] in _PUNCTUATION else ""
        body = stripped[: len(stripped) - len(punctuation)]
        out = self._clause(body, punctuation, space) if rest else ""
        out += self._separator
        self._separator = ""
        return out

    def _clause(self, body: str, punctuation: str, space: str) -> str:
        ends_sentence = not punctuation or punctuation in _SENTENCE_END or "\n" in space
        cleaned, leaning = self._strip(body)
        if leaning or (body.strip() and not cleaned.strip()):
            if self._sentence_open and ends_sentence:
                # "Retrain monthly, see [9]." -> "Retrain monthly."
                self._separator = punctuation + space
            elif not self._sentence_open and not ends_sentence:
                self._capitalise = True  # "As [7] shows, drift matters." -> "Drift matters."
            # Otherwise the pending separator stays: the previous sentence's end, or the comma
            # before a dropped middle clause ("monthly, as [7] shows, and" -> "monthly, and").
            if ends_sentence:
                self._sentence_open = self._capitalise = False
            return ""
        if self._capitalise:
            cleaned = _capitalised(cleaned)
            self._capitalise = False
        out = self._separator + cleaned
        self._separator = punctuation + space
        self._sentence_open = not ends_sentence
        return out

    def _strip(self, body: str) -> tuple[str, bool]:
        """The clause without unresolvable markers, and whether the clause leaned on one of them."""
        leaning = False
        removed: list[int] = []

        def keep(match: re.Match[str]) -> str:
            nonlocal leaning
            numbers = [int(p) for p in match.group(1).split(",")]
            good = [n for n in numbers if 1 <= n <= self._valid]
            removed.extend(n for n in numbers if not 1 <= n <= self._valid)
            if good:
                return f"[{', '.join(str(n) for n in good)}]"
            # "See [9]", "as [7] shows", or a marker that opens its clause as its subject ("[9] shows").
            ahead = _MARKER.sub("", body[: match.start()])
            before = _LAST_WORD.search(ahead)
            after = _MARKER.sub("", body[match.end() :]).lstrip()
            after_word = before is not None and before.group(1).lower() in _LEANING_WORDS
            as_subject = bool(_LIST_LEAD.fullmatch(ahead)) and after[:1].isalnum()
            leaning = leaning or after_word or as_subject
            return ""

        cleaned = _MARKER.sub(keep, body)
        self.removed.extend(removed)
        if removed:
            cleaned = re.sub(r"[ \t]+([.,;:!?])", r"\1", cleaned)
            cleaned = re.sub(r"[ \t]{2,}", " ", cleaned).rstrip(" \t")
        return cleaned, leaning


_PUNCTUATION = ",;:.!?"
_SENTENCE_END = frozenset(".!?")
# The end of a clause: punctuation then a space, or a line break, with text after it (until then
# the space may go on in the next delta). Not inside a marker: "[1, 2]" is one marker.
_CLAUSE_END = re.compile(r"([,;:.!?])([ \t]*\n[ \t\n]*|[ \t]+)(?=\S)|()(\n[ \t\n]*)(?=\S)")
_OPEN_MARKER = re.compile(r"\[[\d, ]*$")
_LIST_NUMBER = re.compile(r"[ \t]*\d{1,3}")
_LAST_WORD = re.compile(r"([A-Za-z.]+)[ \t]*$")
_LIST_LEAD = re.compile(r"[ \t]*(?:[-*+]|\d{1,3}[.)])?[ \t]*")  # nothing before it but a list marker
# Words after which a marker is part of the sentence, not a citation of it.
_LEANING_WORDS = frozenset(
    "see also cf cf. in and or as per from to of by at with under via e.g. i.e. like".split()
)


def _clause_end(text: str) -> tuple[str, str, str, str] | None:
    for match in _CLAUSE_END.finditer(text):
        if _OPEN_MARKER.search(text, 0, match.start() + 1):
            continue  # the comma of "[1, 2]"
        if _LIST_NUMBER.fullmatch(text, text.rfind("\n", 0, match.start()) + 1, match.start()):
            continue  # the "1." of a numbered list item
        punctuation = match.group(1) or ""
        space = match.group(2) if match.group(1) else match.group(4)
        return text[: match.start()], punctuation, space, text[match.end() :]
    return None


def _capitalised(text: str) -> str:
    stripped = text.lstrip()
    lead = text[: len(text) - len(stripped)]
    return lead + stripped[:1].upper() + stripped[1:]
