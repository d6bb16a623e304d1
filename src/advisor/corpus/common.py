"""Pieces shared by the per-format loaders: ``LoaderError``, decoding, document ids, and grouping
text blocks under headings into ``Section``s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

from advisor.corpus.markdown import slugify
from advisor.types import Section

OVERVIEW = "Overview"


class LoaderError(Exception):
    """A file that cannot be loaded. ``str()`` is ``"{path}:{line}: {reason}"`` or ``"{path}: {reason}"``."""

    def __init__(self, path: Path, reason: str, line: int | None = None) -> None:
        self.path = path
        self.reason = reason
        self.line = line
        super().__init__(f"{path}:{line}: {reason}" if line is not None else f"{path}: {reason}")


def decode_utf8(path: Path, raw: bytes) -> str:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise LoaderError(
            path, f"not valid UTF-8 text (byte {exc.start}); re-save the file with UTF-8 encoding", line
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def id_from_stem(path: Path) -> str:
    doc_id = slugify(path.stem)
    if not doc_id:
        raise LoaderError(path, "cannot derive a document id from the file name; rename the file")
    return doc_id


def clean_block(text: str) -> str:
    """Trim a section's text: strip trailing spaces, collapse runs of blank lines."""
    lines = [line.rstrip() for line in text.strip("\n").split("\n")]
    cleaned: list[str] = []
    for line in lines:
        if not line and cleaned and not cleaned[-1]:
            continue
        cleaned.append(line)
    return "\n".join(cleaned).strip()


@dataclass(frozen=True)
class Heading:
    level: int
    text: str


Event: TypeAlias = Heading | str  # a heading, or a block of body text


def sections_from_events(events: Sequence[Event], title_heading: int | None) -> tuple[Section, ...]:
    """Group text blocks under heading paths.

    ``title_heading`` is the index (in ``events``) of the heading that is the document's title:
    it does not appear in heading paths, and text directly under it counts as the overview.
    """
    stack: list[Heading] = []
    current: tuple[str, ...] = (OVERVIEW,)
    buffers: list[tuple[tuple[str, ...], list[str]]] = [(current, [])]
    for index, event in enumerate(events):
        if isinstance(event, Heading):
            if index == title_heading:
                stack = []
                current = (OVERVIEW,)
            else:
                while stack and stack[-1].level >= event.level:
                    stack.pop()
                stack.append(event)
                current = tuple(h.text for h in stack)
            buffers.append((current, []))
        else:
            buffers[-1][1].append(event)
    sections: list[Section] = []
    for heading_path, blocks in buffers:
        text = clean_block("\n\n".join(blocks))
        if text:
            sections.append(Section(heading_path=heading_path, text=text))
    return tuple(sections)


def title_heading_index(events: Sequence[Event]) -> int | None:
    """The single top-level heading that opens the document is its title, not a section."""
    h1s = [i for i, e in enumerate(events) if isinstance(e, Heading) and e.level == 1]
    first_heading = next((i for i, e in enumerate(events) if isinstance(e, Heading)), None)
    if len(h1s) == 1 and h1s[0] == first_heading:
        return h1s[0]
    return None
