"""Per-format loaders: Markdown (with front matter), plain text, HTML and PDF.

Each takes the file's path and raw bytes and returns its id, title and sections (Markdown also
topics and summary), raising ``LoaderError`` for anything wrong with the file.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Mapping
from pathlib import Path

from advisor.corpus.common import (
    OVERVIEW,
    Event,
    Heading,
    LoaderError,
    clean_block,
    decode_utf8,
    id_from_stem,
    sections_from_events,
    title_heading_index,
)
from advisor.corpus.markdown import (
    SLUG_PATTERN,
    FrontMatter,
    FrontMatterError,
    heading_of,
    markdown_lines,
    parse_front_matter,
    slugify,
)
from advisor.types import Section

# --------------------------------------------------------------------------- Markdown


_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)


def _without_html_comments(body: str) -> str:
    """Drop HTML comments outside code. They never show when the Markdown is rendered, so a reviewer
    cannot see them: text hidden in one (e.g. instructions planted for an AI) is not guidance and must
    not be retrieved or quoted. Newlines are kept so line numbers still match the file."""
    lines: list[str] = []
    prose: list[str] = []

    def flush() -> None:
        text = _HTML_COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), "\n".join(prose))
        lines.extend(text.split("\n") if prose else [])
        prose.clear()

    for line in markdown_lines(body):
        if line.in_code:
            flush()
            lines.append(line.text)
        else:
            prose.append(line.text)
    flush()
    return "\n".join(lines)


def _markdown_events(body: str) -> list[Event]:
    events: list[Event] = []
    block: list[str] = []
    for line in markdown_lines(body):
        heading = heading_of(line)
        if heading is not None and heading[0] <= 3 and heading[1]:
            if block:
                events.append("\n".join(block))
                block = []
            events.append(Heading(level=heading[0], text=heading[1]))
        else:
            block.append(line.text)
    if block:
        events.append("\n".join(block))
    return events


def _front_matter_str(path: Path, fm: FrontMatter, key: str) -> str | None:
    value = fm.data.get(key)
    if value is None:
        return None
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return " ".join(str(value).split())
    raise LoaderError(path, f"front matter '{key}' must be a single line of text", fm.key_lines.get(key))


def _front_matter_topics(path: Path, fm: FrontMatter, known_topics: Mapping[str, str]) -> tuple[str, ...]:
    value = fm.data.get("topics")
    line = fm.key_lines.get("topics")
    if value is None:
        return ()
    if isinstance(value, str):
        raise LoaderError(path, f"front matter 'topics' must be a list, e.g. 'topics: [{value}]'", line)
    if not isinstance(value, list):
        raise LoaderError(path, "front matter 'topics' must be a list, e.g. 'topics: [data-quality]'", line)
    topics: list[str] = []
    for item in value:
        if not isinstance(item, str):
            raise LoaderError(path, f"front matter 'topics' entry {item!r} must be a topic id", line)
        if item not in known_topics:
            raise LoaderError(
                path,
                f"unknown topic {item!r}; use one of the known topic ids or declare it in topics.yaml "
                f"at the corpus root (a line like '{item}: one-line description')",
                line,
            )
        if item not in topics:
            topics.append(item)
    return tuple(topics)


def front_matter_questions(path: Path, fm: FrontMatter) -> tuple[str, ...]:
    """The optional ``questions`` list: users' questions the document answers, one line each."""
    value = fm.data.get("questions")
    line = fm.key_lines.get("questions")
    if value is None:
        return ()
    if not isinstance(value, list):
        raise LoaderError(
            path, "front matter 'questions' must be a list of questions, one per '- ' line", line
        )
    questions = []
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise LoaderError(
                path, f"front matter 'questions': each entry must be a line of text, not {item!r}", line
            )
        questions.append(" ".join(item.split()))
    return tuple(questions)


def load_markdown(
    path: Path, raw: bytes, known_topics: Mapping[str, str]
) -> tuple[str, str, tuple[str, ...], str, tuple[Section, ...], tuple[str, ...], str]:
    """id, title, topics, summary, sections, questions and the front matter's `updated` date ("" if
    none) of a Markdown file."""
    text = decode_utf8(path, raw)
    try:
        fm = parse_front_matter(text)
    except FrontMatterError as exc:
        raise LoaderError(path, exc.reason, exc.line) from None
    body = fm.body if fm is not None else text
    events = _markdown_events(_without_html_comments(body))
    title_index = title_heading_index(events)
    heading_title = next((e.text for e in events if isinstance(e, Heading) and e.level == 1), None)

    doc_id: str | None = None
    title: str | None = None
    summary = ""
    topics: tuple[str, ...] = ()
    questions: tuple[str, ...] = ()
    updated = ""
    if fm is not None:
        questions = front_matter_questions(path, fm)
        doc_id = _front_matter_str(path, fm, "id")
        if doc_id is not None and not SLUG_PATTERN.match(doc_id):
            raise LoaderError(
                path,
                f"front matter 'id' {doc_id!r} is not a slug; use lowercase letters, digits and "
                f"hyphens (e.g. '{slugify(doc_id) or 'my-document'}')",
                fm.key_lines.get("id"),
            )
        title = _front_matter_str(path, fm, "title")
        summary = _front_matter_str(path, fm, "summary") or ""
        topics = _front_matter_topics(path, fm, known_topics)
        updated = _check_updated(path, fm)
        _check_url(path, fm)
    doc_id = doc_id or id_from_stem(path)
    title = title or heading_title or path.stem
    return doc_id, title, topics, summary, sections_from_events(events, title_index), questions, updated


def _check_updated(path: Path, fm: FrontMatter) -> str:
    """The front matter's `updated` date as YYYY-MM-DD ("" when absent); LoaderError if not a date."""
    value = fm.data.get("updated")
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()[:10]
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            pass
    raise LoaderError(
        path,
        f"front matter 'updated' must be a date like 2025-01-31, not {value!r}",
        fm.key_lines.get("updated"),
    )


def _check_url(path: Path, fm: FrontMatter) -> None:
    value = fm.data.get("url")
    if value is None:
        return
    if not isinstance(value, str) or not re.match(r"^https?://\S+$", value.strip()):
        raise LoaderError(
            path, f"front matter 'url' must be an http(s) address, not {value!r}", fm.key_lines.get("url")
        )


# --------------------------------------------------------------------------- plain text


def load_text(path: Path, raw: bytes) -> tuple[str, str, tuple[Section, ...]]:
    text = decode_utf8(path, raw)
    paragraphs = [clean_block(p) for p in re.split(r"\n[ \t]*\n", text)]
    paragraphs = [p for p in paragraphs if p]
    if not paragraphs:
        return id_from_stem(path), path.stem, ()
    title = paragraphs[0].split("\n", 1)[0].strip()
    if paragraphs[0] == title and len(paragraphs) > 1:
        paragraphs = paragraphs[1:]  # a title line on its own is not body text
    section = Section(heading_path=(OVERVIEW,), text="\n\n".join(paragraphs))
    return id_from_stem(path), " ".join(title.split()), (section,)


# --------------------------------------------------------------------------- HTML

_HTML_DROP = ("script", "style", "nav", "header", "footer", "noscript", "template")
_HTML_BLOCKS = ("h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "pre")


def _decode_html(path: Path, raw: bytes) -> str:
    declared = re.search(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", raw[:4096], re.IGNORECASE)
    if declared:
        encoding = declared.group(1).decode("ascii").lower()
        if encoding not in ("utf-8", "utf8"):
            try:
                return raw.decode(encoding)
            except (LookupError, UnicodeDecodeError):
                pass
    return decode_utf8(path, raw)


def load_html(path: Path, raw: bytes) -> tuple[str, str, tuple[Section, ...]]:
    from bs4 import BeautifulSoup, Tag

    text = _decode_html(path, raw)
    soup = BeautifulSoup(text, "html.parser")
    page_title = soup.title.get_text(" ", strip=True) if soup.title is not None else ""
    for name in _HTML_DROP:
        for element in soup.find_all(name):
            element.decompose()
    if soup.head is not None:
        soup.head.decompose()
    for line_break in soup.find_all("br"):
        line_break.replace_with("\n")  # inline text is joined as is; a <br> still separates words

    def squash(value: str) -> str:
        return " ".join(value.split())

    events: list[Event] = []
    for element in soup.find_all(_HTML_BLOCKS):
        if not isinstance(element, Tag):
            continue
        name = element.name
        if name in ("h1", "h2", "h3"):
            heading = squash(element.get_text())
            if heading:
                events.append(Heading(level=int(name[1]), text=heading))
        elif name == "li":
            parts = [
                child.get_text() if isinstance(child, Tag) else str(child)
                for child in element.children
                if not (isinstance(child, Tag) and child.name in ("ul", "ol"))
            ]
            item = squash("".join(parts))
            depth = sum(1 for parent in element.parents if parent.name in ("ul", "ol")) - 1
            if item:
                events.append("  " * max(depth, 0) + "- " + item)
        elif element.find_parent(["li", "pre"]) is not None:
            continue  # already part of a list item or code block
        elif name == "pre":
            code = element.get_text().strip("\n")
            if code.strip():
                events.append(code)
        else:
            paragraph = squash(element.get_text())
            if paragraph:
                events.append(paragraph)
    # Consecutive list items form one block; other blocks are separated by blank lines.
    merged: list[Event] = []
    for event in events:
        if (
            isinstance(event, str)
            and event.lstrip().startswith("- ")
            and merged
            and isinstance(merged[-1], str)
            and merged[-1].split("\n")[-1].lstrip().startswith("- ")
        ):
            merged[-1] = merged[-1] + "\n" + event
        else:
            merged.append(event)
    title_index = title_heading_index(merged)
    first_h1 = next((e.text for e in merged if isinstance(e, Heading) and e.level == 1), "")
    title = squash(page_title) or first_h1 or path.stem
    return id_from_stem(path), title, sections_from_events(merged, title_index)


# --------------------------------------------------------------------------- PDF


_PLACEHOLDER_PDF_TITLES = frozenset({"untitled", "untitled document", "title", "document"})


def load_pdf(path: Path, raw: bytes) -> tuple[str, str, tuple[Section, ...]]:
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoaderError(path, "the PDF is password-protected; save an unprotected copy")
        pages = list(reader.pages)
        page_texts = [page.extract_text() or "" for page in pages]
        meta_title = reader.metadata.title if reader.metadata is not None else None
    except LoaderError:
        raise
    except Exception as exc:  # pypdf raises many types for damaged files
        raise LoaderError(path, f"cannot read the PDF (damaged or not a PDF): {exc}") from None
    sections: list[Section] = []
    for number, page_text in enumerate(page_texts, start=1):
        paragraphs = [clean_block(p) for p in re.split(r"\n[ \t]*\n", page_text.replace("\r", "\n"))]
        text = "\n\n".join(p for p in paragraphs if p)
        if text:
            sections.append(Section(heading_path=(f"Page {number}",), text=text))
    if not sections:
        raise LoaderError(path, "no extractable text (scanned PDF?); run OCR on it or supply a text version")
    title = " ".join(str(meta_title or "").split())
    if not title or title.lower() in _PLACEHOLDER_PDF_TITLES:
        title = " ".join(sections[0].text.split("\n", 1)[0].split())
    return id_from_stem(path), title or path.stem, tuple(sections)
