"""Passages cut from the bundled corpus exactly as ingest cuts them, with no index: composer tests
choose the material a retriever would have found and check what the composer makes of it."""

from __future__ import annotations

from advisor.corpus.loaders import load_document
from advisor.corpus.taxonomy import BUILTIN_TOPICS
from advisor.ingest.chunking import chunk_document
from advisor.types import Passage
from tests.plugins.advisor_app import KNOWLEDGE


def corpus_passages(*doc_ids: str, sections: tuple[str, ...] = ()) -> list[Passage]:
    """The chunks of the named documents (only those whose section starts with one of ``sections``,
    when given), scored in the order given: the first document ranks highest."""
    passages: list[Passage] = []
    for doc_id in doc_ids:
        doc = load_document(KNOWLEDGE / f"{doc_id}.md", KNOWLEDGE, BUILTIN_TOPICS)
        for chunk in chunk_document(doc):
            if sections and not chunk.section.lower().startswith(tuple(s.lower() for s in sections)):
                continue
            score = 1.0 - 0.01 * len(passages)
            passages.append(
                Passage(
                    chunk.chunk_id,
                    chunk.doc_id,
                    chunk.title,
                    chunk.section,
                    chunk.topics,
                    chunk.text,
                    chunk.source,
                    score,
                    score,
                )
            )
    return passages


def written_passage(section: str, text: str, doc_id: str = "doc-1", score: float = 0.5) -> Passage:
    """A passage a test writes itself, for the case the corpus does not show plainly enough."""
    return Passage(
        chunk_id=f"{doc_id}-1",
        doc_id=doc_id,
        title=doc_id.capitalize(),
        section=section,
        topics=("deployment",),
        text=text,
        source=f"{doc_id}.md",
        score=score,
        similarity=score,
    )
