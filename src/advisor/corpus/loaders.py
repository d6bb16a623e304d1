"""Turn guidance files (Markdown, plain text, HTML, PDF) into ``LoadedDocument``s.

Every failure a user can cause with a file is reported as a ``LoaderError`` naming the file
(and the line, when there is one) rather than as a traceback.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path

from advisor.corpus.common import OVERVIEW, LoaderError
from advisor.corpus.formats import load_html, load_markdown, load_pdf, load_text
from advisor.corpus.markdown import (
    SLUG_PATTERN,
    FrontMatter,
    FrontMatterError,
    MarkdownLine,
    heading_of,
    markdown_lines,
    parse_front_matter,
    slugify,
    split_front_matter,
)
from advisor.types import LoadedDocument

__all__ = [
    "MARKDOWN_EXTENSIONS",
    "OVERVIEW",
    "SKIPPED_NAMES",
    "SLUG_PATTERN",
    "SUPPORTED_EXTENSIONS",
    "FrontMatter",
    "FrontMatterError",
    "LoaderError",
    "MarkdownLine",
    "discover_files",
    "heading_of",
    "load_document",
    "markdown_lines",
    "parse_front_matter",
    "slugify",
    "split_front_matter",
]

SUPPORTED_EXTENSIONS = frozenset({".md", ".markdown", ".txt", ".html", ".htm", ".pdf"})
MARKDOWN_EXTENSIONS = frozenset({".md", ".markdown"})
SKIPPED_NAMES = frozenset({"readme.md", "topics.yaml"})


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


def _source_of(path: Path, root: Path) -> str:
    resolved = path.resolve()
    try:
        return resolved.relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(resolved)


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
    questions: tuple[str, ...] = ()
    updated = ""
    if suffix in MARKDOWN_EXTENSIONS:
        doc_id, title, topics, summary, sections, questions, updated = load_markdown(path, raw, known_topics)
    elif suffix == ".txt":
        doc_id, title, sections = load_text(path, raw)
    elif suffix in (".html", ".htm"):
        doc_id, title, sections = load_html(path, raw)
    else:
        doc_id, title, sections = load_pdf(path, raw)
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
        questions=questions,
        # Without a front matter date, when the file last changed.
        updated=updated or dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).date().isoformat(),
    )
