"""Advisor answers as Slack messages: Markdown to mrkdwn with Slack's escaping, Block Kit blocks, and
splitting within Slack's limits. Pure functions, so they are tested without Slack."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from advisor.types import Citation

SECTION_TEXT_LIMIT = 3000  # characters of a section block's text
MAX_BLOCKS = 50  # blocks in one message
# Section text per message: far under Slack's message size limit, and it keeps the payload of a
# button click (which carries the whole message) well inside the API's body size limit.
MESSAGE_TEXT_BUDGET = 6000
FALLBACK_TEXT_LIMIT = 300  # the notification text shown beside the blocks
CONTEXT_TEXT_LIMIT = 2000  # characters of the sources line

FEEDBACK_UP = "advisor_feedback_up"
FEEDBACK_DOWN = "advisor_feedback_down"
SHARE = "advisor_share"

Block = dict[str, Any]


@dataclass(frozen=True)
class SlackMessage:
    """One chat.postMessage / chat.update / response_url payload."""

    text: str
    blocks: list[Block] = field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}


def escape(text: str) -> str:
    """Slack's three control characters, so `<!channel>` or `<@U123>` in text never pings anyone."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_FENCE = re.compile(r"```.*?(?:```|$)", re.DOTALL)
_INLINE_CODE = re.compile(r"(`[^`\n]+`)")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
_BULLET = re.compile(r"^(\s*)[-*+]\s+", re.MULTILINE)
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*|__(?=\S)(.+?)(?<=\S)__")
_ITALIC = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)")
_BOLD_MARK = "\x01"


def to_mrkdwn(markdown: str) -> str:
    """Markdown (as composers write it) to Slack mrkdwn, escaped. Code is escaped but not restyled."""
    out: list[str] = []
    position = 0
    for fence in _FENCE.finditer(markdown):
        out.append(_prose(markdown[position : fence.start()]))
        out.append(escape(fence.group(0)))
        position = fence.end()
    out.append(_prose(markdown[position:]))
    return "".join(out).strip()


def _prose(text: str) -> str:
    parts = _INLINE_CODE.split(text)
    return "".join(escape(part) if i % 2 else _style(escape(part)) for i, part in enumerate(parts))


def _style(text: str) -> str:
    text = _HEADING.sub(lambda m: f"{_BOLD_MARK}{m.group(1)}{_BOLD_MARK}", text)
    text = _BULLET.sub(lambda m: f"{m.group(1)}• ", text)
    text = _BOLD.sub(lambda m: f"{_BOLD_MARK}{m.group(1) or m.group(2)}{_BOLD_MARK}", text)
    text = _ITALIC.sub(r"_\1_", text)
    text = _STRIKE.sub(r"~\1~", text)
    # The label cannot hold the link syntax's own delimiters.
    text = _LINK.sub(lambda m: f"<{m.group(2)}|{m.group(1).replace('|', '/')}>", text)
    return text.replace(_BOLD_MARK, "*")


# A piece that must not be cut: a Slack link/entity built above, an HTML entity, or a word.
_ATOM = re.compile(r"<[^<>\n]*>|&[a-z]+;|\S+|\s+")


def split_text(text: str, limit: int = SECTION_TEXT_LIMIT) -> list[str]:
    """Pieces of at most ``limit`` characters, cut at paragraph, then line, then word boundaries,
    never inside a Slack link or an escaped character."""
    if limit < 1:
        raise ValueError("limit must be positive")
    text = text.strip()
    if not text:
        return []
    if len(text) <= limit:
        return [text]
    for separator in ("\n\n", "\n"):
        if separator in text:
            return _pack(text.split(separator), separator, limit)
    return _split_words(text, limit)


def _split_words(text: str, limit: int) -> list[str]:
    pieces: list[str] = []
    current = ""
    for atom in _ATOM.findall(text):
        while len(atom) > limit:  # one unbreakable run longer than the limit: cut it hard
            if current.strip():
                pieces.append(current.strip())
            current = ""
            pieces.append(atom[:limit])
            atom = atom[limit:]
        if len(current) + len(atom) > limit:
            if current.strip():
                pieces.append(current.strip())
            current = atom.lstrip()
        else:
            current += atom
    if current.strip():
        pieces.append(current.strip())
    return pieces


def _pack(parts: Sequence[str], separator: str, limit: int) -> list[str]:
    pieces: list[str] = []
    current = ""
    for part in parts:
        for chunk in split_text(part, limit) if len(part) > limit else [part]:
            candidate = f"{current}{separator}{chunk}" if current else chunk
            if len(candidate) <= limit:
                current = candidate
            else:
                if current.strip():
                    pieces.append(current.strip())
                current = chunk
    if current.strip():
        pieces.append(current.strip())
    return pieces


def section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _button(label: str, action_id: str, value: str, style: str | None = None) -> Block:
    button: Block = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": label, "emoji": True},
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def sources_line(citations: Sequence[Citation]) -> str | None:
    """``Sources: [1] Title · [2] Title`` with the cited titles (escaped), or None without citations."""
    if not citations:
        return None
    items: list[str] = []
    for citation in citations:
        title = escape(citation.title or citation.doc_id or "untitled")
        source = citation.source
        label = (
            f"<{escape(source)}|{title.replace('|', '/')}>"
            if source.startswith(("http://", "https://"))
            else title
        )
        items.append(f"[{citation.n}] {label}")
    line = "*Sources:* " + " · ".join(items)
    if len(line) > CONTEXT_TEXT_LIMIT:
        line = split_text(line, CONTEXT_TEXT_LIMIT - 1)[0] + "…"
    return line


def answer_messages(
    answer: str,
    citations: Sequence[Citation],
    message_id: str | None,
    *,
    share: bool = False,
    preface: str | None = None,
) -> list[SlackMessage]:
    """The answer as one or more messages: mrkdwn sections, then the sources and the buttons in the
    last message. ``preface`` (already mrkdwn) opens the first message as a context line."""
    sections = [section(piece) for piece in split_text(to_mrkdwn(answer))] or [section("_(no answer)_")]
    tail: list[Block] = []
    sources = sources_line(citations)
    if sources:
        tail.append(context(sources))
    if message_id:
        buttons = [
            _button("👍 Helpful", FEEDBACK_UP, message_id),
            _button("👎 Not helpful", FEEDBACK_DOWN, message_id),
        ]
        if share:
            buttons.append(_button("Share in channel", SHARE, message_id, style="primary"))
        tail.append({"type": "actions", "block_id": "advisor_answer_actions", "elements": buttons})
    head = [context(preface)] if preface else []
    return _pack_messages(head + sections, tail)


def _pack_messages(blocks: list[Block], tail: list[Block]) -> list[SlackMessage]:
    groups: list[list[Block]] = [[]]
    size = 0
    for block in blocks:
        length = len(block.get("text", {}).get("text", ""))
        if groups[-1] and (len(groups[-1]) >= MAX_BLOCKS or size + length > MESSAGE_TEXT_BUDGET):
            groups.append([])
            size = 0
        groups[-1].append(block)
        size += length
    if len(groups[-1]) + len(tail) > MAX_BLOCKS:
        groups.append([])
    groups[-1].extend(tail)
    return [SlackMessage(_fallback(group), group) for group in groups]


def _fallback(blocks: Sequence[Block]) -> str:
    for block in blocks:
        if block["type"] == "section":
            text: str = block["text"]["text"]
            return (
                text
                if len(text) <= FALLBACK_TEXT_LIMIT
                else split_text(text, FALLBACK_TEXT_LIMIT - 1)[0] + "…"
            )
    return "Advisor's answer"


def mrkdwn_message(text: str) -> SlackMessage:
    """A short message already in mrkdwn (escaped by its author)."""
    return SlackMessage(text, [section(text)])


def notice(text: str) -> SlackMessage:
    """A short plain message (errors, confirmations), escaped."""
    return mrkdwn_message(escape(text))


def usage(command: str) -> str:
    return (
        f"*Ask Advisor about taking an AI initiative to production.*\n"
        f"• `{command} &lt;question&gt;`: an answer only you see, with a button to share it in the channel.\n"
        f"• `{command} initiative &lt;text&gt;`: describe your initiative once; your questions in this channel "
        f"use it (`{command} initiative` alone forgets it).\n"
        f"• Mention me in a channel or message me directly: I answer in the thread, and later messages "
        f"in that thread continue the conversation.\n"
        f"• `{command} assess [description]`: score your initiative's readiness in a form; the scorecard "
        f"comes to you in a direct message.\n"
        f"• `{command} help`: this message."
    )
