"""Markdown syntax helpers: YAML front matter, fenced code, ATX headings and slugs.

Pure text functions with no notion of files; shared by the document loaders and the corpus linter.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_ATX_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def slugify(text: str) -> str:
    """``"My First_Doc"`` -> ``"my-first-doc"``; empty when nothing usable is left."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


class FrontMatterError(Exception):
    """Front matter that cannot be parsed; ``line`` is the 1-based line in the file."""

    def __init__(self, reason: str, line: int | None) -> None:
        self.reason = reason
        self.line = line
        super().__init__(reason)


@dataclass(frozen=True)
class FrontMatter:
    data: dict[str, Any]
    key_lines: dict[str, int]  # 1-based file line of each top-level key
    body: str
    body_line: int  # 1-based file line where the body starts


def split_front_matter(text: str) -> tuple[str | None, str, int]:
    """Return ``(yaml_block or None, body, body_line)`` for Markdown text.

    Raises ``FrontMatterError`` when an opening ``---`` is never closed.
    """
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != "---":
        return None, text, 1
    for index in range(1, len(lines)):
        if lines[index].rstrip() in ("---", "..."):
            return "\n".join(lines[1:index]), "\n".join(lines[index + 1 :]), index + 2
    raise FrontMatterError("front matter starts with '---' on line 1 but has no closing '---' line", 1)


def parse_front_matter(text: str) -> FrontMatter | None:
    """Parse the optional YAML front matter of Markdown text; ``None`` if there is none.

    Raises ``FrontMatterError`` (with the file line) for invalid YAML or a non-mapping.
    """
    block, body, body_line = split_front_matter(text)
    if block is None:
        return None
    try:
        data = yaml.safe_load(block)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 2 if mark is not None else 1  # +1 for 1-based, +1 for the opening '---'
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise FrontMatterError(f"invalid YAML in front matter: {problem}", line) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise FrontMatterError(
            "front matter must be a set of 'key: value' lines (a YAML mapping), e.g. 'title: My guide'", 2
        )
    key_lines: dict[str, int] = {}
    key_pattern = re.compile(r"^['\"]?([^\s'\":][^'\":]*?)['\"]?\s*:")
    for offset, line in enumerate(block.split("\n")):
        match = key_pattern.match(line)
        if match:
            key_lines.setdefault(match.group(1), offset + 2)
    return FrontMatter(
        data={str(k): v for k, v in data.items()}, key_lines=key_lines, body=body, body_line=body_line
    )


@dataclass(frozen=True)
class MarkdownLine:
    number: int  # 1-based, relative to the text given
    text: str
    in_code: bool  # inside (or delimiting) a fenced code block


def markdown_lines(text: str) -> Iterator[MarkdownLine]:
    """Lines of Markdown, each marked with whether it belongs to a fenced code block."""
    fence: str | None = None
    for number, line in enumerate(text.split("\n"), start=1):
        match = _FENCE.match(line)
        if fence is None:
            if match:
                fence = match.group(1)
                yield MarkdownLine(number, line, True)
            else:
                yield MarkdownLine(number, line, False)
        else:
            closing = match.group(1) if match else ""
            if closing[:1] == fence[0] and len(closing) >= len(fence) and not line.strip().lstrip(fence[0]):
                fence = None
            yield MarkdownLine(number, line, True)


def heading_of(line: MarkdownLine) -> tuple[int, str] | None:
    """``(level, text)`` if the line is an ATX heading outside code, else ``None``."""
    if line.in_code:
        return None
    match = _ATX_HEADING.match(line.text)
    if not match:
        return None
    return len(match.group(1)), (match.group(2) or "").strip()
