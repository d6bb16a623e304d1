"""The note the extractive composer writes: lines with ``{n}`` where a passage number goes, numbered
in the order the note first cites them, and the small text helpers it is written with."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from advisor.compose.guard import strip_invisible
from advisor.compose.items import Item, numbered_part
from advisor.compose.sanitise import filter_output, own_urls
from advisor.types import Passage

_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")
_LIST_LINE = re.compile(r"^\s*(?:[-*+|]|\d+[.)])\s")


@dataclass(frozen=True)
class Composition:
    text: str
    passages: list[Passage]  # numbered 1..n as cited in text


@dataclass(frozen=True)
class Line:
    """One line of the note: its text with ``{n}`` where the passage number goes."""

    template: str
    passage: int | None = None
    short: str | None = None  # the line without its detail, when the note runs long

    def words(self) -> int:
        return len(self.template.split())


class Note:
    """The note being written; passages are numbered in the order the note first cites them."""

    def __init__(self, passages: Sequence[Passage]) -> None:
        self.passages = passages
        self.lines: list[Line] = []

    def add(self, template: str, passage: int | None = None, short: str | None = None) -> None:
        self.lines.append(Line(template, passage, short))

    def add_item(self, item: Item, prefix: str, detail: bool = True, step: bool = False) -> None:
        """The item's line; without ``detail`` (or when the note runs long) only its headline, when
        the headline says enough on its own. A ``step`` is always in bold, even a sentence of prose."""
        full, short = item_lines(item, prefix, bold=step)
        if not detail and short is not None:
            self.add(short, item.passage)
        else:
            self.add(full, item.passage, short)

    def render(self) -> Composition:
        numbering: dict[int, int] = {}
        out = []
        for line in self.lines:
            if line.passage is None:
                out.append(line.template)
                continue
            number = numbering.setdefault(line.passage, len(numbering) + 1)
            out.append(line.template.replace("{n}", str(number)))
        cited = [self.passages[i] for i in numbering]
        text = "\n".join(out).strip()
        text = re.sub(r"\n{3,}", "\n\n", text)
        return Composition(filter_output(text, own_urls(cited)), cited)


def item_line(item: Item, prefix: str = "- ", detail: bool = True, bold: bool = False) -> str:
    tail = f" {item.detail}" if detail and item.detail else ""
    if item.prose and not bold:
        return f"{prefix}{item.headline} [{{n}}]"
    return f"{prefix}**{item.headline}**{tail} [{{n}}]"


def item_lines(item: Item, prefix: str, bold: bool = False) -> tuple[str, str | None]:
    """The item's full line, and its headline-only line when the headline says enough alone."""
    short = item_line(item, prefix, detail=False, bold=bold) if item.detail and item.says_enough else None
    return item_line(item, prefix, bold=bold), short


def lower_first(text: str) -> str:
    first = text.split(" ", 1)[0]
    return text if first.isupper() and len(first) > 1 else text[:1].lower() + text[1:]


_PRONOUN = re.compile(r"^(?:Our|We|The|My|A|An|Its|Their)\b")


def echo(text: str) -> str:
    # The team's own words are quoted back: never as an image, a link or hidden characters.
    said = " ".join(filter_output(strip_invisible(text)).split()).replace("*", "")
    return _PRONOUN.sub(lambda m: m.group(0).lower(), said)


def definition_of(term: str | None, passages: Sequence[Passage]) -> tuple[str, int] | None:
    """A sentence that says what ``term`` is ("MLOps is the set of practices...")."""
    if not term:
        return None
    words = [w for w in re.findall(r"[\w/&+-]+", term.lower()) if w not in ("a", "an", "the")]
    if not words:
        return None
    name = r"\s+".join(re.escape(w) for w in words)
    says = re.compile(rf"\b{name}s?\b(?:\s*\([^)]*\))?\s+(?:is|are|means|refers to|describes)\b", re.I)
    for index, passage in enumerate(passages):
        plain = re.sub(r"\*\*|^\s*(?:[-*+]|\d+[.)])\s+", "", passage.text, flags=re.M)
        for sentence in _SENTENCE_SPLIT.split(" ".join(plain.split())):
            match = says.search(sentence)
            if match and match.start() < 40 and 30 <= len(sentence) <= 400:
                return sentence.strip(), index
    # The guidance often defines a term by giving it a section: "## Automation bias" opening with
    # "People tend to accept a machine's suggestion, especially when busy."
    for index, passage in enumerate(passages):
        part = numbered_part(passage.section)
        heading = part.name if part else passage.section.rsplit(" > ", 1)[-1].strip()
        if re.fullmatch(rf"{name}s?", heading, re.I):
            prose = [
                line for line in passage.text.splitlines() if line.strip() and not _LIST_LINE.match(line)
            ]
            first = _SENTENCE_SPLIT.split(" ".join(" ".join(prose).split()), maxsplit=1)[0]
            if 20 <= len(first) <= 400:
                return f"**{heading}:** {first.strip().rstrip(':')}", index
    return None
