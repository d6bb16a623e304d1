"""Keeping injected text out of answers.

Retrieved passages are data, and a document can be poisoned: :func:`sanitise_passages` removes what
no reader of the rendered guidance would see or act on (HTML comments and tags, invisible
characters), images, links to other sites, and every sentence written to instruct an AI, before any
composer sees the passages. The extractive composer copies sentences, so anything left here could
reach the team word for word.

What a composer writes is checked again on the way out: :func:`filter_output` (and
:class:`OutputStreamFilter` for streamed text) removes images, HTML and links to anywhere but the
cited sources' own URLs, so an answer cannot load or point to an attacker's address with the
conversation in it; :func:`leaks_prompt` spots Advisor's own instructions in a model's reply.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Collection, Iterable, Iterator, Sequence
from urllib.parse import urlsplit

from advisor.compose.guard import is_injection_sentence, strip_invisible
from advisor.types import Passage

_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
_HIDDEN_ELEMENT = re.compile(
    r"<\s*(script|style|iframe|object|embed|svg|noscript|template)\b.*?(?:<\s*/\s*\1\s*>|\Z)",
    re.IGNORECASE | re.DOTALL,
)
_TAG = re.compile(r"</?[A-Za-z][\w:-]*(?:\s[^<>]*)?/?>")
_IMAGE = re.compile(r"!\[[^\]\n]*\]\([^)\n]*\)|!\[[^\]\n]*\]\[[^\]\n]*\]")
_LINK = re.compile(r"\[([^\]\n]+)\]\(\s*<?([^)\s>]+)>?(?:\s+[\"'][^\"'\n]*[\"'])?\s*\)")
_AUTOLINK = re.compile(r"<((?:https?|ftp|mailto):[^>\s]+)>", re.IGNORECASE)
_LINK_DEFINITION = re.compile(r"^[ \t]*\[[^\]\n]+\]:[ \t]*\S+.*$\n?", re.MULTILINE)
_URL = re.compile(r"\b(?:(?:https?|ftp)://|www\.)[^\s<>\"'`)\]]+", re.IGNORECASE)
_TIDY_SPACES = re.compile(r"[ \t]{2,}")
_SPACE_BEFORE_PUNCT = re.compile(r"[ \t]+([.,;:!?])")

_ITEM = re.compile(r"^(\s*(?:[-*+]|\d{1,3}[.)])\s+)(.*)$")
_BOLD_LEAD = re.compile(r"^(\*\*(.+?)\*\*[:.]?)(\s*)(.*)$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
# Sentence ends; a chat-template token ("<|im_end|>") ends one too.
_SENTENCE = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"')\]])|(?<=\|>))\s+(?=[\"'(\[*_<]*[A-Z0-9<])")


def _host(url: str) -> str:
    if url.lower().startswith("www."):
        url = "http://" + url
    return (urlsplit(url).hostname or "").lower().rstrip(".")


def own_urls(passages: Iterable[Passage]) -> list[str]:
    """The addresses the sources themselves live at: the only links an answer may carry."""
    return [p.source for p in passages if _is_web_address(p.source)]


def _is_web_address(source: str) -> bool:
    return source.lower().startswith(("http://", "https://"))


def filter_output(text: str, allowed: Collection[str] = ()) -> str:
    """Remove HTML, images and links to anywhere but ``allowed`` (the cited sources' URLs).

    A removed link keeps its text; a removed bare address disappears. Citation markers such as
    ``[2]`` are left alone.
    """
    hosts = {_host(url) for url in allowed} - {""}

    def permitted(url: str) -> bool:
        return _host(url) in hosts

    def link(match: re.Match[str]) -> str:
        label, url = match.group(1), match.group(2)
        if permitted(url):
            return match.group(0)
        return f"[{label}]" if label.strip().isdigit() else label

    before = text
    text = _HTML_COMMENT.sub("", text)
    text = _HIDDEN_ELEMENT.sub("", text)
    text = _IMAGE.sub("", text)
    text = _TAG.sub("", text)
    text = _LINK.sub(link, text)
    text = _AUTOLINK.sub(lambda m: m.group(0) if permitted(m.group(1)) else "", text)
    text = _LINK_DEFINITION.sub(
        lambda m: m.group(0) if all(permitted(u) for u in _URL.findall(m.group(0))) else "", text
    )
    text = _URL.sub(lambda m: m.group(0) if permitted(m.group(0)) else "", text)
    if text != before:
        text = _SPACE_BEFORE_PUNCT.sub(r"\1", _TIDY_SPACES.sub(" ", text))
    return text


def _clean_sentences(text: str) -> str:
    sentences = _SENTENCE.split(text)
    kept = [s for s in sentences if s.strip() and not is_injection_sentence(s)]
    return text if len(kept) == len(sentences) else " ".join(kept)


def _clean_block(block: str) -> str:
    """One paragraph or list item with its instruction-like sentences removed ("" if nothing is left).
    A list item whose bold headline is an injection goes entirely."""
    item = _ITEM.match(block)
    marker, body = (item.group(1), item.group(2)) if item else ("", block)
    bold = _BOLD_LEAD.match(body)
    if bold:
        if is_injection_sentence(bold.group(2)):
            return ""
        rest = _clean_sentences(bold.group(4))
        return f"{marker}{bold.group(1)}{bold.group(3) if rest else ''}{rest}"
    kept = _clean_sentences(body)
    return f"{marker}{kept}" if kept else ""


_Block = tuple[str, bool]  # (text, verbatim): headings, table rows and code are judged line by line


def _blocks(text: str) -> list[_Block | None]:
    """Paragraphs and list items, each on one line (wrapped lines joined); None marks a blank line."""
    blocks: list[_Block | None] = []
    in_code = False
    for line in text.split("\n"):
        if _FENCE.match(line):
            in_code = not in_code
            blocks.append((line, True))
        elif in_code or line.lstrip().startswith(("#", "|")):
            blocks.append((line, True))
        elif not line.strip():
            blocks.append(None)
        elif blocks and (last := blocks[-1]) is not None and not last[1] and not _ITEM.match(line):
            blocks[-1] = (f"{last[0]} {line.strip()}", False)
        else:
            blocks.append((line.rstrip(), False))
    return blocks


def sanitise_text(text: str, allowed: Collection[str] = ()) -> str:
    """A passage's text as guidance for people: hidden markup, images, foreign links and
    sentences addressed to an AI removed."""
    text = filter_output(strip_invisible(text), allowed)
    lines: list[str] = []
    for block in _blocks(text):
        if block is None:
            if lines and lines[-1]:
                lines.append("")
            continue
        line, verbatim = block
        if verbatim:
            cleaned = "" if line.strip() and is_injection_sentence(line) else line
        else:
            cleaned = _clean_block(line)
        if cleaned.strip() or (verbatim and cleaned == line):
            lines.append(cleaned)
    return "\n".join(lines).strip()


def sanitise_passage(passage: Passage) -> Passage | None:
    """The passage with its text sanitised, or None if nothing usable is left."""
    clean = _sanitised_fields(passage.text, passage.title, passage.section, passage.source, passage.doc_id)
    if clean is None:
        return None
    text, title, section = clean
    return dataclasses.replace(passage, text=text, title=title, section=section)


# The same chunks come back for question after question, and sanitising one means judging every
# sentence in all its disguised forms; the result depends only on these fields (the scores do not
# matter), so it is computed once per distinct content. Keyed by the text itself, not the chunk id,
# so a re-ingested chunk with new text is judged afresh.
@functools.lru_cache(maxsize=1 << 13)
def _sanitised_fields(
    text: str, title: str, section: str, source: str, doc_id: str
) -> tuple[str, str, str] | None:
    allowed = [source] if _is_web_address(source) else []
    clean_text = sanitise_text(text, allowed)
    if not clean_text:
        return None
    clean_title = filter_output(strip_invisible(title), allowed)
    clean_section = filter_output(strip_invisible(section), allowed)
    return (
        clean_text,
        doc_id if is_injection_sentence(clean_title) else clean_title,
        "" if is_injection_sentence(clean_section) else clean_section,
    )


def sanitise_passages(passages: Sequence[Passage]) -> list[Passage]:
    return [clean for p in passages if (clean := sanitise_passage(p)) is not None]


class OutputStreamFilter:
    """:func:`filter_output` for streamed text. Text is released up to the last whitespace outside
    any unfinished ``[..](..)``, ``![..``, ``<..>`` construct, so an image or link is always judged
    whole; a construct still open after ``hold`` characters is released filtered as it stands."""

    def __init__(self, allowed: Collection[str] = (), hold: int = 2000) -> None:
        self._allowed = allowed
        self._hold = hold
        self._pending = ""

    def feed(self, delta: str) -> str:
        text = self._pending + delta
        cut = _safe_cut(text)
        if cut == 0 and len(text) > self._hold:
            cut = len(text)
        out, self._pending = text[:cut], text[cut:]
        return filter_output(out, self._allowed) if out else ""

    def flush(self) -> str:
        rest, self._pending = self._pending, ""
        return filter_output(rest, self._allowed) if rest else ""


def _safe_cut(text: str) -> int:
    """The end of the longest prefix that ends in whitespace and leaves no link, image, tag or
    comment open."""
    cut = max(text.rfind(" "), text.rfind("\n"), text.rfind("\t")) + 1
    while cut > 0:
        head = text[:cut]
        open_comment = head.rfind("<!--") > head.rfind("-->")
        open_bracket = head.rfind("[") > head.rfind("]")
        open_paren = head.rfind("](") > head.rfind(")")
        open_tag = head.rfind("<") > head.rfind(">")
        if not (open_comment or open_bracket or open_paren or open_tag):
            return cut
        cut = max(head.rfind(" ", 0, cut - 1), head.rfind("\n", 0, cut - 1)) + 1
    return 0


_WORDS = re.compile(r"[a-z0-9']+")
_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789'")


def _runs(words: Sequence[str], size: int) -> Iterator[tuple[str, ...]]:
    return (tuple(words[i : i + size]) for i in range(len(words) - size + 1))


@functools.lru_cache(maxsize=16)
def _prompt_runs(prompt: str, size: int) -> frozenset[tuple[str, ...]]:
    return frozenset(_runs(_WORDS.findall(prompt.lower()), size))


def leaks_prompt(text: str, prompt: str, size: int = 8) -> bool:
    """Whether ``text`` repeats a run of ``size`` words from ``prompt`` (Advisor's instructions)."""
    runs = _prompt_runs(prompt, size)
    return any(run in runs for run in _runs(_WORDS.findall(text.lower()), size))


class PromptLeakWatch:
    """:func:`leaks_prompt` for streamed text, in time linear in the text: each delta is split into
    words once, and only the runs of words it completes are looked up (a word cut by the end of a
    delta waits for the next one). After :meth:`finish`, :attr:`leaked` is what ``leaks_prompt``
    says of the whole text."""

    def __init__(self, prompt: str, size: int = 8) -> None:
        self._runs = _prompt_runs(prompt, size)
        self._size = size
        self._tail: list[str] = []  # the last size - 1 words, which start runs the next words complete
        self._pending = ""
        self.leaked = False

    def feed(self, delta: str) -> bool:
        text = self._pending + delta.lower()  # lower-casing is per character, so deltas may be lowered apart
        cut = len(text)
        while cut > 0 and text[cut - 1] in _WORD_CHARS:
            cut -= 1
        self._pending = text[cut:]
        self._take(_WORDS.findall(text, 0, cut))
        return self.leaked

    def finish(self) -> bool:
        self._take(_WORDS.findall(self._pending))
        self._pending = ""
        return self.leaked

    def _take(self, words: list[str]) -> None:
        if not words or self.leaked:
            return
        window = self._tail + words
        self.leaked = any(run in self._runs for run in _runs(window, self._size))
        self._tail = window[max(0, len(window) - self._size + 1) :]
