"""Split loaded documents into retrieval chunks that respect the document's headings.

* Chunks never cross sections.
* A section longer than ``max_words`` is split on paragraph and list-item boundaries; a
  single paragraph that is still too long is split on sentence boundaries (and, as a last
  resort, on word boundaries).
* A section shorter than ``min_words`` is merged with the next section under the same parent
  heading when the result still fits in ``max_words``; the merged chunk keeps the first
  section's heading path, and the second section's heading is kept as a bold line of text.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from advisor.types import QUESTIONS_SECTION, Chunk, LoadedDocument, Section

_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[*_]*[A-Z0-9])")


def make_chunk_id(doc_id: str, heading_path: tuple[str, ...], text: str) -> str:
    """Stable id: the same document, heading path and text always give the same id."""
    key = doc_id + "\x1f" + " > ".join(heading_path) + "\x1f" + text
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]


def word_count(text: str) -> int:
    return len(text.split())


@dataclass(frozen=True)
class _Block:
    text: str
    joiner: str  # placed before this block when it follows another in the same chunk


def _blocks(text: str) -> list[_Block]:
    """Paragraphs, list items and fenced code blocks of a section's text, in order.

    Consecutive list items are joined by a single newline, everything else by a blank line.
    """
    raw: list[tuple[list[str], bool, bool]] = []  # (lines, is_list_item, blank_line_before)
    fence: str | None = None
    blank_before = True
    open_block = False
    for line in text.split("\n"):
        if fence is not None:
            raw[-1][0].append(line)
            match = _FENCE.match(line)
            if match and match.group(1)[0] == fence[0] and not line.strip().lstrip(fence[0]):
                fence = None
                open_block = False
            continue
        match = _FENCE.match(line)
        if match:
            fence = match.group(1)
            raw.append(([line], False, blank_before))
            blank_before = False
            open_block = True
            continue
        if not line.strip():
            blank_before = True
            open_block = False
            continue
        if _LIST_ITEM.match(line):
            raw.append(([line], True, blank_before))
        elif open_block:
            raw[-1][0].append(line)  # continuation of the paragraph or list item
        else:
            raw.append(([line], False, blank_before))
        blank_before = False
        open_block = True
    blocks: list[_Block] = []
    previous_item = False
    for lines, is_item, blank in raw:
        joiner = "" if not blocks else ("\n" if is_item and previous_item and not blank else "\n\n")
        blocks.append(_Block("\n".join(lines).strip("\n"), joiner))
        previous_item = is_item
    return blocks


def _split_long(text: str, max_words: int) -> list[str]:
    """Split one over-long paragraph on sentence boundaries, then on words if need be."""
    pieces: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        words = sentence.split()
        if len(words) <= max_words:
            pieces.append(sentence.strip())
            continue
        parts = math.ceil(len(words) / max_words)
        size = math.ceil(len(words) / parts)
        pieces.extend(" ".join(words[i : i + size]) for i in range(0, len(words), size))
    return _pack([_Block(p, " ") for p in pieces if p], max_words)


def _pack(blocks: list[_Block], max_words: int) -> list[str]:
    """Greedily pack blocks into pieces of at most ``max_words``, aiming for even sizes."""
    total = sum(word_count(b.text) for b in blocks)
    if total == 0:
        return []
    target = total / math.ceil(total / max_words)
    pieces: list[str] = []
    current = ""
    current_words = 0
    for block in blocks:
        words = word_count(block.text)
        if current and (current_words + words > max_words or current_words >= target):
            pieces.append(current)
            current, current_words = "", 0
        if words > max_words:
            pieces.extend(_split_long(block.text, max_words))
            continue
        current = current + block.joiner + block.text if current else block.text
        current_words += words
    if current:
        pieces.append(current)
    return pieces


def _split_section(text: str, max_words: int) -> list[str]:
    if word_count(text) <= max_words:
        return [text]
    return _pack(_blocks(text), max_words)


def _merge_short(sections: Iterable[Section], min_words: int, max_words: int) -> list[Section]:
    merged: list[Section] = []
    pending = list(sections)
    index = 0
    while index < len(pending):
        section = pending[index]
        index += 1
        while (
            word_count(section.text) < min_words
            and index < len(pending)
            and pending[index].heading_path[:-1] == section.heading_path[:-1]
        ):
            following = pending[index]
            text = f"{section.text}\n\n**{following.heading_path[-1]}**\n\n{following.text}"
            if word_count(text) > max_words:
                break
            section = Section(heading_path=section.heading_path, text=text)
            index += 1
        merged.append(section)
    return merged


def chunk_document(doc: LoadedDocument, max_words: int = 180, min_words: int = 25) -> list[Chunk]:
    """Heading-aware chunks of a document, numbered from 0; identical chunks are kept once."""
    if max_words < 1:
        raise ValueError("max_words must be at least 1")
    if min_words < 0 or min_words > max_words:
        raise ValueError("min_words must be between 0 and max_words")
    chunks: list[Chunk] = []
    seen: set[str] = set()
    for section in _merge_short(doc.sections, min_words, max_words):
        for text in _split_section(section.text.strip(), max_words):
            text = text.strip()
            if not text:
                continue
            chunk_id = make_chunk_id(doc.doc_id, section.heading_path, text)
            if chunk_id in seen:
                continue
            seen.add(chunk_id)
            chunks.append(
                Chunk(
                    chunk_id=chunk_id,
                    doc_id=doc.doc_id,
                    title=doc.title,
                    heading_path=section.heading_path,
                    topics=doc.topics,
                    source=doc.source,
                    text=text,
                    position=len(chunks),
                )
            )
    for question in dict.fromkeys(doc.questions):
        chunks.append(
            Chunk(
                chunk_id=make_chunk_id(doc.doc_id, (QUESTIONS_SECTION,), question),
                doc_id=doc.doc_id,
                title=doc.title,
                heading_path=(QUESTIONS_SECTION,),
                topics=doc.topics,
                source=doc.source,
                text=question,
                position=len(chunks),
            )
        )
    return chunks
