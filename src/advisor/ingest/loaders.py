"""Turn guidance files (Markdown, plain text, HTML, PDF) into ``LoadedDocument``s.

Every failure a user can cause with a file is reported as a ``LoaderError`` naming the file
(and the line, when there is one) rather than as a traceback.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import yaml

from advisor.types import LoadedDocument, Section

SUPPORTED_EXTENSIONS = frozenset({".md", ".markdown", ".txt", ".html", ".htm", ".pdf"})
MARKDOWN_EXTENSIONS = frozenset({".md", ".markdown"})
SKIPPED_NAMES = frozenset({"readme.md", "topics.yaml"})
OVERVIEW = "Overview"

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_ATX_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


class LoaderError(Exception):
    """A file that cannot be loaded. ``str()`` is ``"{path}:{line}: {reason}"`` or ``"{path}: {reason}"``."""

    def __init__(self, path: Path, reason: str, line: int | None = None) -> None:
        self.path = path
        self.reason = reason
        self.line = line
        super().__init__(f"{path}:{line}: {reason}" if line is not None else f"{path}: {reason}")


# --------------------------------------------------------------------------- discovery


def _is_skipped_name(name: str) -> bool:
    return name.lower() in SKIPPED_NAMES or name.startswith(("_", "."))


def discover_files(paths: Sequence[Path]) -> list[Path]:
    """Files given directly, plus supported files found recursively under given directories.

    Inside directories, ``README.md`` (any case), ``topics.yaml``, names starting with ``_`` or
    ``.`` and hidden directories are skipped. A file named directly is always returned, so that
    loading it reports a clear error if it is not a supported type. A path that does not exist
    raises ``LoaderError``. The result is sorted and free of duplicates.
    """
    found: dict[Path, Path] = {}
    for given in paths:
        if given.is_file():
            found.setdefault(given.resolve(), given)
        elif given.is_dir():
            for candidate in given.rglob("*"):
                relative = candidate.relative_to(given)
                if any(part.startswith(".") for part in relative.parts[:-1]):
                    continue
                if not candidate.is_file() or _is_skipped_name(candidate.name):
                    continue
                if candidate.suffix.lower() not in SUPPORTED_EXTENSIONS:
                    continue
                found.setdefault(candidate.resolve(), candidate)
        else:
            raise LoaderError(given, "no such file or directory")
    return sorted(found.values())


# --------------------------------------------------------------------------- helpers


def slugify(text: str) -> str:
    """``"My First_Doc"`` -> ``"my-first-doc"``; empty when nothing usable is left."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _source_of(path: Path, root: Path) -> str:
    resolved = path.resolve()
    try:
        return resolved.relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(resolved)


def _decode_utf8(path: Path, raw: bytes) -> str:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise LoaderError(
            path, f"not valid UTF-8 text (byte {exc.start}); re-save the file with UTF-8 encoding", line
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _id_from_stem(path: Path) -> str:
    doc_id = slugify(path.stem)
    if not doc_id:
        raise LoaderError(path, "cannot derive a document id from the file name; rename the file")
    return doc_id


def _clean_block(text: str) -> str:
    """Trim a section's text: strip trailing spaces, collapse runs of blank lines."""
    lines = [line.rstrip() for line in text.strip("\n").split("\n")]
    cleaned: list[str] = []
    for line in lines:
        if not line and cleaned and not cleaned[-1]:
            continue
        cleaned.append(line)
    return "\n".join(cleaned).strip()


@dataclass(frozen=True)
class _Heading:
    level: int
    text: str


_Event: TypeAlias = _Heading | str  # a heading, or a block of body text


def _sections_from_events(events: Sequence[_Event], title_heading: int | None) -> tuple[Section, ...]:
    """Group text blocks under heading paths.

    ``title_heading`` is the index (in ``events``) of the heading that is the document's title:
    it does not appear in heading paths, and text directly under it counts as the overview.
    """
    stack: list[_Heading] = []
    current: tuple[str, ...] = (OVERVIEW,)
    buffers: list[tuple[tuple[str, ...], list[str]]] = [(current, [])]
    for index, event in enumerate(events):
        if isinstance(event, _Heading):
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
        text = _clean_block("\n\n".join(blocks))
        if text:
            sections.append(Section(heading_path=heading_path, text=text))
    return tuple(sections)


def _title_heading_index(events: Sequence[_Event]) -> int | None:
    """The single top-level heading that opens the document is its title, not a section."""
    h1s = [i for i, e in enumerate(events) if isinstance(e, _Heading) and e.level == 1]
    first_heading = next((i for i, e in enumerate(events) if isinstance(e, _Heading)), None)
    if len(h1s) == 1 and h1s[0] == first_heading:
        return h1s[0]
    return None


# --------------------------------------------------------------------------- Markdown


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


def _markdown_events(body: str) -> list[_Event]:
    events: list[_Event] = []
    block: list[str] = []
    for line in markdown_lines(body):
        heading = heading_of(line)
        if heading is not None and heading[0] <= 3 and heading[1]:
            if block:
                events.append("\n".join(block))
                block = []
            events.append(_Heading(level=heading[0], text=heading[1]))
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


def _load_markdown(
    path: Path, raw: bytes, known_topics: Mapping[str, str]
) -> tuple[str, str, tuple[str, ...], str, tuple[Section, ...]]:
    text = _decode_utf8(path, raw)
    try:
        fm = parse_front_matter(text)
    except FrontMatterError as exc:
        raise LoaderError(path, exc.reason, exc.line) from None
    body = fm.body if fm is not None else text
    events = _markdown_events(body)
    title_index = _title_heading_index(events)
    heading_title = next((e.text for e in events if isinstance(e, _Heading) and e.level == 1), None)

    doc_id: str | None = None
    title: str | None = None
    summary = ""
    topics: tuple[str, ...] = ()
    if fm is not None:
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
        _check_updated(path, fm)
        _check_url(path, fm)
    doc_id = doc_id or _id_from_stem(path)
    title = title or heading_title or path.stem
    return doc_id, title, topics, summary, _sections_from_events(events, title_index)


def _check_updated(path: Path, fm: FrontMatter) -> None:
    value = fm.data.get("updated")
    if value is None or isinstance(value, dt.date):
        return
    if isinstance(value, str):
        try:
            dt.date.fromisoformat(value.strip())
            return
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


def _load_text(path: Path, raw: bytes) -> tuple[str, str, tuple[Section, ...]]:
    text = _decode_utf8(path, raw)
    paragraphs = [_clean_block(p) for p in re.split(r"\n[ \t]*\n", text)]
    paragraphs = [p for p in paragraphs if p]
    if not paragraphs:
        return _id_from_stem(path), path.stem, ()
    title = paragraphs[0].split("\n", 1)[0].strip()
    if paragraphs[0] == title and len(paragraphs) > 1:
        paragraphs = paragraphs[1:]  # a title line on its own is not body text
    section = Section(heading_path=(OVERVIEW,), text="\n\n".join(paragraphs))
    return _id_from_stem(path), " ".join(title.split()), (section,)


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
    return _decode_utf8(path, raw)


def _load_html(path: Path, raw: bytes) -> tuple[str, str, tuple[Section, ...]]:
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

    events: list[_Event] = []
    for element in soup.find_all(_HTML_BLOCKS):
        if not isinstance(element, Tag):
            continue
        name = element.name
        if name in ("h1", "h2", "h3"):
            heading = squash(element.get_text())
            if heading:
                events.append(_Heading(level=int(name[1]), text=heading))
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
    merged: list[_Event] = []
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
    title_index = _title_heading_index(merged)
    first_h1 = next((e.text for e in merged if isinstance(e, _Heading) and e.level == 1), "")
    title = squash(page_title) or first_h1 or path.stem
    return _id_from_stem(path), title, _sections_from_events(merged, title_index)


# --------------------------------------------------------------------------- PDF


_PLACEHOLDER_PDF_TITLES = frozenset({"untitled", "untitled document", "title", "document"})


def _load_pdf(path: Path, raw: bytes) -> tuple[str, str, tuple[Section, ...]]:
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
        paragraphs = [_clean_block(p) for p in re.split(r"\n[ \t]*\n", page_text.replace("\r", "\n"))]
        text = "\n\n".join(p for p in paragraphs if p)
        if text:
            sections.append(Section(heading_path=(f"Page {number}",), text=text))
    if not sections:
        raise LoaderError(path, "no extractable text (scanned PDF?); run OCR on it or supply a text version")
    title = " ".join(str(meta_title or "").split())
    if not title or title.lower() in _PLACEHOLDER_PDF_TITLES:
        title = " ".join(sections[0].text.split("\n", 1)[0].split())
    return _id_from_stem(path), title or path.stem, tuple(sections)


# --------------------------------------------------------------------------- entry point


def load_document(path: Path, root: Path, known_topics: Mapping[str, str]) -> LoadedDocument:
    """Load one file. Raises ``LoaderError`` for anything wrong with the file."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_EXTENSIONS:
        supported = ", ".join(sorted(SUPPORTED_EXTENSIONS))
        raise LoaderError(path, f"unsupported file type {suffix or '(none)'!r}; supported: {supported}")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise LoaderError(path, f"cannot read the file ({exc.strerror or exc})") from None
    summary = ""
    topics: tuple[str, ...] = ()
    if suffix in MARKDOWN_EXTENSIONS:
        doc_id, title, topics, summary, sections = _load_markdown(path, raw, known_topics)
    elif suffix == ".txt":
        doc_id, title, sections = _load_text(path, raw)
    elif suffix in (".html", ".htm"):
        doc_id, title, sections = _load_html(path, raw)
    else:
        doc_id, title, sections = _load_pdf(path, raw)
    if not sections:
        raise LoaderError(path, "no text to index; the file is empty or has only headings")
    return LoadedDocument(
        doc_id=doc_id,
        title=title,
        topics=topics,
        summary=summary,
        source=_source_of(path, root),
        sections=sections,
        content_hash=hashlib.sha256(raw).hexdigest(),
    )
