"""Lint a Markdown guidance corpus before it is ingested.

``check_corpus`` returns one ``Problem`` per thing a corpus author should fix; each prints as
``path:line: message`` so editors and CI logs can jump to it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from advisor.corpus.loaders import MARKDOWN_EXTENSIONS, LoaderError, discover_files, load_document
from advisor.corpus.markdown import (
    SLUG_PATTERN,
    FrontMatter,
    FrontMatterError,
    heading_of,
    markdown_lines,
    parse_front_matter,
    slugify,
    split_front_matter,
)
from advisor.corpus.taxonomy import BUILTIN_TOPICS, TOPICS_FILE, CorpusError, load_topics

REQUIRED_KEYS = ("id", "title", "topics", "summary", "updated")
MAX_TOPICS = 3

_INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+[\"'(][^)]*)?\)")
_REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?([^\s>]+)>?")
_INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_WORD = re.compile(r"\w")


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int | None
    message: str

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.path}: {self.message}"
        return f"{self.path}:{self.line}: {self.message}"


def corpus_root(path: Path) -> Path:
    """The directory a corpus path stands for (a single file's corpus is its folder)."""
    return path if path.is_dir() else path.parent


def markdown_files(path: Path) -> list[Path]:
    """The Markdown documents ``check_corpus`` looks at under ``path`` (or ``path`` itself)."""
    return [p for p in discover_files([path]) if p.suffix.lower() in MARKDOWN_EXTENSIONS]


def body_word_count(body: str) -> int:
    """Words of prose in a Markdown body: tokens with a letter or digit (so '-' and '##' do not count)."""
    return sum(1 for token in body.split() if _WORD.search(token))


@dataclass
class _Doc:
    path: Path
    front_matter: FrontMatter | None
    body: str
    body_line: int


def _is_date(value: Any) -> bool:
    if isinstance(value, dt.date):
        return True
    if isinstance(value, str):
        try:
            dt.date.fromisoformat(value.strip())
        except ValueError:
            return False
        return True
    return False


def _check_front_matter(
    doc: _Doc, fm: FrontMatter, known_topics: dict[str, str], ids: dict[str, Path], root: Path
) -> list[Problem]:
    problems: list[Problem] = []
    path = doc.path

    def add(key: str | None, message: str) -> None:
        line = fm.key_lines.get(key) if key else None
        problems.append(Problem(path, line if line is not None else 1, message))

    missing = [key for key in REQUIRED_KEYS if fm.data.get(key) in (None, "")]
    for key in missing:
        example = {
            "id": f"id: {slugify(path.stem) or 'my-document'}",
            "title": "title: A short descriptive title",
            "topics": "topics: [data-quality]",
            "summary": "summary: One or two sentences on what the document answers.",
            "updated": f"updated: {dt.date.today().isoformat()}",
        }[key]
        add(None, f"front matter is missing '{key}'; add a line such as '{example}'")

    doc_id = fm.data.get("id")
    if doc_id not in (None, ""):
        if not isinstance(doc_id, str) or not SLUG_PATTERN.match(doc_id):
            suggestion = slugify(str(doc_id)) or "my-document"
            add(
                "id",
                f"id {doc_id!r} is not a slug; use lowercase letters, digits and hyphens, "
                f"e.g. '{suggestion}'",
            )
        elif doc_id in ids:
            other = ids[doc_id]
            try:
                other_name = other.relative_to(root).as_posix()
            except ValueError:
                other_name = str(other)
            add(
                "id", f"id '{doc_id}' is also used by {other_name}; ids must be unique, so rename one of them"
            )
        else:
            ids[doc_id] = path

    for key in ("title", "summary"):
        value = fm.data.get(key)
        if value not in (None, "") and not isinstance(value, str):
            add(
                key,
                f"'{key}' must be a line of text, not {value!r}; quote it if it looks like a number or date",
            )
        elif isinstance(value, str) and not value.strip():
            add(key, f"'{key}' is blank; write a short {key}")

    questions = fm.data.get("questions")
    if questions is not None and (
        not isinstance(questions, list) or not all(isinstance(q, str) and q.strip() for q in questions)
    ):
        add("questions", "'questions' must be a list of users' questions, one per '- \"...\"' line")

    updated = fm.data.get("updated")
    if updated not in (None, "") and not _is_date(updated):
        add("updated", f"'updated' must be a date in the form YYYY-MM-DD (e.g. 2025-01-31), not {updated!r}")

    topics = fm.data.get("topics")
    if topics not in (None, ""):
        problems.extend(_check_topics(path, fm.key_lines.get("topics", 1), topics, known_topics))
    return problems


def _check_topics(path: Path, line: int, topics: Any, known_topics: dict[str, str]) -> list[Problem]:
    if isinstance(topics, str):
        return [Problem(path, line, f"'topics' must be a list, e.g. 'topics: [{topics}]'")]
    if not isinstance(topics, list):
        return [Problem(path, line, "'topics' must be a list of topic ids, e.g. 'topics: [data-quality]'")]
    if not topics:
        return [Problem(path, line, "'topics' is empty; list 1 to 3 topic ids, the primary topic first")]
    problems: list[Problem] = []
    if len(topics) > MAX_TOPICS:
        problems.append(
            Problem(
                path,
                line,
                f"'topics' lists {len(topics)} topics; keep 1 to {MAX_TOPICS}, the primary topic first, "
                "and split the document if it really covers more",
            )
        )
    seen: set[str] = set()
    for topic in topics:
        if not isinstance(topic, str):
            problems.append(Problem(path, line, f"topic {topic!r} is not a topic id"))
            continue
        if topic not in known_topics:
            problems.append(
                Problem(
                    path,
                    line,
                    f"unknown topic '{topic}'; use one of the known ids ({', '.join(sorted(known_topics))}) "
                    f"or declare it in {TOPICS_FILE} at the corpus root (a line like '{topic}: description')",
                )
            )
        elif topic in seen:
            problems.append(Problem(path, line, f"topic '{topic}' is listed twice; list it once"))
        seen.add(topic)
    return problems


def _check_body(doc: _Doc, min_words: int, max_words: int, root: Path) -> list[Problem]:
    problems: list[Problem] = []
    offset = doc.body_line - 1

    words = body_word_count(doc.body)
    if words < min_words:
        problems.append(
            Problem(
                doc.path,
                None,
                f"body has {words} words, below the {min_words}-{max_words} word range; "
                "expand it or merge it into a related document",
            )
        )
    elif words > max_words:
        problems.append(
            Problem(
                doc.path,
                None,
                f"body has {words} words, above the {min_words}-{max_words} word range; "
                "split it into focused documents",
            )
        )

    lines = list(markdown_lines(doc.body))
    headings: list[tuple[int, int, str]] = []  # (index in lines, level, text)
    for index, line in enumerate(lines):
        heading = heading_of(line)
        if heading is not None:
            headings.append((index, heading[0], heading[1]))
    for position, (index, level, text) in enumerate(headings):
        following = headings[position + 1] if position + 1 < len(headings) else None
        end = following[0] if following is not None else len(lines)
        has_content = any(line.text.strip() for line in lines[index + 1 : end])
        if not has_content and (following is None or following[1] <= level):
            name = text or "(untitled)"
            problems.append(
                Problem(
                    doc.path,
                    lines[index].number + offset,
                    f"section '{name}' is empty; write text under the heading or remove it",
                )
            )

    root_resolved = root.resolve()
    for line in lines:
        if line.in_code:
            continue
        visible = _INLINE_CODE.sub("", line.text)
        targets = [m.group(1) for m in _INLINE_LINK.finditer(visible)]
        reference = _REFERENCE_LINK.match(visible)
        if reference:
            targets.append(reference.group(1))
        for target in targets:
            problem = _check_link(doc.path, target, root_resolved)
            if problem:
                problems.append(Problem(doc.path, line.number + offset, problem))
    return problems


def _check_link(path: Path, target: str, root: Path) -> str | None:
    if _SCHEME.match(target) or target.startswith(("#", "//")):
        return None
    file_part = unquote(target.split("#", 1)[0].split("?", 1)[0])
    if not file_part.lower().endswith(tuple(MARKDOWN_EXTENSIONS)):
        return None
    base = root if file_part.startswith("/") else path.parent.resolve()
    resolved = (base / file_part.lstrip("/")).resolve()
    if not resolved.is_relative_to(root):
        return (
            f"link '{target}' points outside the corpus; link to a document in the corpus or use a full URL"
        )
    if not resolved.is_file():
        return (
            f"link '{target}' does not resolve: there is no {resolved.relative_to(root).as_posix()} "
            "in the corpus; fix the path or remove the link"
        )
    return None


def check_corpus(path: Path, min_words: int = 400, max_words: int = 1200) -> list[Problem]:
    """All problems found in the Markdown documents under ``path``, sorted by file and line."""
    root = corpus_root(path)
    problems: list[Problem] = []
    try:
        known_topics = load_topics(root)
    except CorpusError as exc:
        problems.append(Problem(exc.path, exc.line, exc.reason))
        known_topics = dict(BUILTIN_TOPICS)

    try:
        files = markdown_files(path)
    except LoaderError as exc:
        return [*problems, Problem(exc.path, exc.line, exc.reason)]

    ids: dict[str, Path] = {}
    for file in files:
        try:
            text = file.read_bytes().decode("utf-8-sig").replace("\r\n", "\n")
        except UnicodeDecodeError:
            problems.append(Problem(file, None, "not valid UTF-8 text; re-save the file with UTF-8 encoding"))
            continue
        except OSError as exc:
            problems.append(Problem(file, None, f"cannot read the file ({exc.strerror or exc})"))
            continue
        try:
            fm = parse_front_matter(text)
        except FrontMatterError as exc:
            problems.append(Problem(file, exc.line, exc.reason))
            try:
                _, body, body_line = split_front_matter(text)
            except FrontMatterError:
                continue
            problems.extend(_check_body(_Doc(file, None, body, body_line), min_words, max_words, root))
            continue
        if fm is None:
            problems.append(
                Problem(
                    file,
                    1,
                    "no front matter; start the file with a '---' block declaring "
                    + ", ".join(REQUIRED_KEYS)
                    + ", closed by another '---' line",
                )
            )
            doc = _Doc(file, None, text, 1)
        else:
            doc = _Doc(file, fm, fm.body, fm.body_line)
            problems.extend(_check_front_matter(doc, fm, known_topics, ids, root))
        problems.extend(_check_body(doc, min_words, max_words, root))
    problems.extend(_check_other_formats(path, root, known_topics, ids))
    return sorted(problems, key=lambda p: (str(p.path), p.line or 0))


def _check_other_formats(
    path: Path, root: Path, known_topics: dict[str, str], ids: dict[str, Path]
) -> list[Problem]:
    """Text, HTML and PDF files, as ingest reads them: they load, yield text, and their ids (from
    the file name) clash with no other document's."""
    problems: list[Problem] = []
    for file in discover_files([path]):
        if file.suffix.lower() in MARKDOWN_EXTENSIONS:
            continue
        try:
            doc = load_document(file, root, known_topics)
        except LoaderError as exc:
            problems.append(Problem(exc.path, exc.line, exc.reason))
            continue
        if doc.doc_id in ids:
            problems.append(
                Problem(
                    file, None, f"id {doc.doc_id!r} (from the file name) is also used by {ids[doc.doc_id]}"
                )
            )
        ids.setdefault(doc.doc_id, file)
    return problems
