"""Our postings-table BM25 must score exactly as bm25s (Lucene variant, same tokeniser) does:
the library stays the reference, checked on the bundled corpus and real questions."""

from __future__ import annotations

import json

import pytest

from advisor.components.sparse import SparseIndex
from advisor.corpus.taxonomy import load_topics
from advisor.ingest.chunking import chunk_document
from advisor.ingest.loaders import discover_files, load_document
from tests.plugins.advisor_app import KNOWLEDGE, REPO

bm25s = pytest.importorskip("bm25s")


def _corpus_texts() -> list[str]:
    texts: list[str] = []
    topics = load_topics(KNOWLEDGE)
    for path in discover_files([KNOWLEDGE]):
        texts.extend(chunk.text for chunk in chunk_document(load_document(path, KNOWLEDGE, topics)))
    return texts


def _questions() -> list[str]:
    lines = (REPO / "evals" / "datasets" / "answerable.jsonl").read_text().splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()][:60]


def test_scores_and_ranking_equal_bm25s_on_the_bundled_corpus() -> None:
    import Stemmer
    from bm25s.tokenization import Tokenizer

    texts = _corpus_texts()
    ours = SparseIndex(texts)
    tokenizer = Tokenizer(stopwords="en", stemmer=Stemmer.Stemmer("english").stemWord)
    reference = bm25s.BM25()
    reference.index(tokenizer.tokenize(texts, return_as="ids", show_progress=False), show_progress=False)

    for question in _questions():
        hits = ours.search(question, k=10)
        tokens = tokenizer.tokenize([question], return_as="ids", update_vocab=False, show_progress=False)
        docs, scores = reference.retrieve(tokens, k=10, show_progress=False, n_threads=0)
        expected = [(int(d), float(s)) for d, s in zip(docs[0], scores[0], strict=True) if s > 0]
        assert [h.score for h in hits] == pytest.approx([s for _, s in expected], rel=1e-4), question
        # Same chunks, allowing ties to be ordered differently.
        assert {h.index for h in hits if h.score > expected[-1][1] + 1e-4} <= {d for d, _ in expected}


def test_topic_filter_only_returns_allowed_chunks() -> None:
    texts = _corpus_texts()
    index = SparseIndex(texts)
    allowed = set(range(0, len(texts), 7))
    hits = index.search("how do we monitor drift in production", k=5, allowed=allowed)
    assert hits and all(h.index in allowed for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
