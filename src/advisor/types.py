"""Plain data shapes passed between ingestion, retrieval and answering."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True)
class Section:
    """A run of text under one heading path, e.g. ("First steps",) or ("Scaling", "Horizontal")."""

    heading_path: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class LoadedDocument:
    doc_id: str
    title: str
    topics: tuple[str, ...]
    summary: str
    source: str  # path relative to the ingested root, or a URL
    sections: tuple[Section, ...]
    content_hash: str  # sha256 of the raw file bytes
    # Questions users ask that the document answers, in their words (front matter `questions`):
    # indexed to find the document, never quoted.
    questions: tuple[str, ...] = ()
    updated: str = ""  # YYYY-MM-DD: the front matter's `updated`, else when the file last changed


@dataclass(frozen=True)
class ReadinessNote:
    """One topic of the conversation's readiness assessment, for answers to use: its level and the
    team's own words behind it."""

    topic: str
    level: int
    label: str  # "at risk"
    said: tuple[str, ...] = ()


# The section of the chunks that hold a document's ``questions``: searched, never quoted.
QUESTIONS_SECTION = "Questions this answers"


@dataclass(frozen=True)
class DocumentText:
    """A whole indexed document as readers see it: its sections in order (what a citation opens)."""

    doc_id: str
    title: str
    topics: tuple[str, ...]
    source: str
    sections: tuple[tuple[str, str], ...]  # (section heading, text)


@dataclass(frozen=True)
class Chunk:
    chunk_id: str  # stable: derived from doc id, heading path and text
    doc_id: str
    title: str
    heading_path: tuple[str, ...]
    topics: tuple[str, ...]
    source: str
    text: str
    position: int  # order of the chunk within its document

    @property
    def section(self) -> str:
        return " > ".join(self.heading_path)


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its scores."""

    chunk_id: str
    doc_id: str
    title: str
    section: str
    topics: tuple[str, ...]
    text: str
    source: str
    score: float  # fused relevance used for ranking
    similarity: float  # cosine similarity to the query (dense), used for the relevance floor

    def as_search_result(self) -> dict[str, object]:
        """The /v1/search result shape (also printed by `advisor search --json`)."""
        return {
            "doc_id": self.doc_id,
            "title": self.title,
            "section": self.section,
            "topics": list(self.topics),
            "text": self.text,
            "source": self.source,
            "score": self.score,
            "similarity": self.similarity,
        }


Role = Literal["user", "assistant"]


@dataclass(frozen=True)
class Turn:
    role: Role
    content: str


@dataclass(frozen=True)
class Citation:
    n: int
    doc_id: str
    title: str
    section: str
    topics: tuple[str, ...]
    snippet: str
    source: str
    score: float

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Citation:
        """A citation from its JSON shape (a stored message's column)."""
        return cls(
            n=int(data["n"]),
            doc_id=str(data.get("doc_id", "")),
            title=str(data.get("title", "")),
            section=str(data.get("section", "")),
            topics=tuple(str(t) for t in data.get("topics") or ()),
            snippet=str(data.get("snippet", "")),
            source=str(data.get("source", "")),
            score=float(data.get("score", 0.0)),
        )

    def as_dict(self) -> dict[str, object]:
        """The JSON shape of a citation in responses and in stored messages."""
        return {
            "n": self.n,
            "doc_id": self.doc_id,
            "title": self.title,
            "section": self.section,
            "topics": list(self.topics),
            "snippet": self.snippet,
            "source": self.source,
            "score": self.score,
        }
