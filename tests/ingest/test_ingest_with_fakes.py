"""The fast tier: the real Indexer and Retriever over the bundled corpus, on the fakes behind the
component seams (HashingEmbedder, InMemoryVectorStore) and the real store on a tmp SQLite file.

No model and no Chroma: a full ingest of the bundled corpus takes about a second, so these tests can
afford to ingest for real, several times over.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from sqlalchemy import text

from advisor.components.vector_store import CollectionNotFoundError
from tests.ingest.conftest import Fakes

# Keyword-heavy questions, each naming what one document of the bundled corpus is about.
QUESTIONS = {
    "How do we roll back a canary release?": "release-strategies",
    "blue-green deployment switch": "release-strategies",
    "data contracts between producer and consumer teams": "data-contracts",
    "detecting data drift and retraining triggers": "drift-detection-and-retraining",
    "feature store point-in-time correctness": "feature-engineering-and-feature-stores",
}


QUOKKA = """## Quokka gates

A quokka gate holds a rollout until the on-call engineer signs off the canary metrics.
"""


def test_the_bundled_corpus_ingests_and_answers_on_fakes(
    fakes: Fakes, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.perf_counter()
    report = fakes.indexer.ingest([fakes.settings.knowledge_dir])
    seconds = time.perf_counter() - started
    with capsys.disabled():
        print(
            f"\n[fake tier] ingest of the bundled corpus: {report.added} documents, {report.chunks} chunks "
            f"in {seconds:.2f} s ({report.chunks / seconds:,.0f} chunks/s)"
        )

    assert report.switched and not report.skipped and report.added > 50
    assert report.chunks == report.embedded_chunks == fakes.embedder.embedded > 500
    assert fakes.vectors.list_collection_names() == [report.collection]
    assert fakes.vectors.get_collection(report.collection).count() == report.chunks
    state = fakes.store.get_index_state()
    assert state is not None and (state.collection, state.chunk_count) == (report.collection, report.chunks)
    assert (state.model, state.dimension) == ("hashing-384", 384)
    assert seconds < 30  # a couple of seconds in practice; minutes would mean a real model crept in

    retriever = fakes.retriever()
    for question, doc_id in QUESTIONS.items():
        found = retriever.retrieve_passages(question)
        assert found.in_scope and found.passages, question
        assert found.passages[0].doc_id == doc_id, (question, [p.doc_id for p in found.passages])
    dense = retriever.retrieve_passages("How do we roll back a canary release?", strategy="dense")
    assert dense.passages[0].doc_id == "release-strategies"
    filtered = retriever.retrieve_passages("canary release rollback", topics=["talent"]).passages
    assert filtered and all("talent" in p.topics for p in filtered)


def test_reingest_on_fakes_copies_unchanged_vectors_and_switches(fakes: Fakes) -> None:
    first = fakes.indexer.ingest([fakes.settings.knowledge_dir])
    again = fakes.indexer.ingest([fakes.settings.knowledge_dir])
    assert not again.switched and again.embedded_chunks == 0 and again.collection == first.collection

    doc = fakes.settings.knowledge_dir / "release-strategies.md"
    content = doc.read_text(encoding="utf-8")
    assert "\n## Related guidance\n" in content
    doc.write_text(
        content.replace("\n## Related guidance\n", f"\n{QUOKKA}\n## Related guidance\n"), encoding="utf-8"
    )
    before = fakes.store.indexed_documents(first.collection)
    kept = [cid for doc_id, d in before.items() if doc_id != "release-strategies" for cid in d.chunk_ids]
    old = fakes.vectors.get_collection(first.collection).get(kept, vectors=True)
    serving = fakes.retriever()  # a running service, with the first collection loaded
    assert serving.retrieve_passages("canary release rollback").passages
    fakes.embedder.embedded = 0

    report = fakes.indexer.ingest([fakes.settings.knowledge_dir])

    after = fakes.store.indexed_documents(report.collection)
    assert report.switched and (report.updated, report.added, report.removed) == (1, 0, 0)
    assert report.embedded_chunks == fakes.embedder.embedded == len(after["release-strategies"].chunk_ids)
    assert fakes.vectors.list_collection_names() == [report.collection]  # the previous one is gone
    new = fakes.vectors.get_collection(report.collection).get(kept, vectors=True)
    assert old.vectors is not None and new.vectors is not None and sorted(new.ids) == sorted(kept)
    old_vectors = dict(zip(old.ids, old.vectors, strict=True))
    for cid, vector in zip(new.ids, new.vectors, strict=True):
        assert np.array_equal(vector, old_vectors[cid])  # copied, not re-embedded
    found = fakes.retriever().retrieve_passages("What is a quokka gate?").passages
    assert found[0].doc_id == "release-strategies" and "quokka" in found[0].text.lower()
    # The running service's collection is gone (CollectionNotFoundError): it looks again and follows.
    with pytest.raises(CollectionNotFoundError):
        fakes.vectors.get_collection(first.collection)
    found = serving.retrieve_passages("What is a quokka gate?").passages
    assert found[0].doc_id == "release-strategies" and "quokka" in found[0].text.lower()


def test_a_retriever_reads_the_collection_when_no_contents_were_stored(fakes: Fakes) -> None:
    fakes.indexer.ingest([fakes.settings.knowledge_dir])
    questions = list(QUESTIONS)

    def results() -> list[list[tuple[str, float]]]:
        retriever = fakes.retriever()
        return [[(p.chunk_id, p.score) for p in retriever.retrieve_passages(q).passages] for q in questions]

    stored = results()
    with fakes.store.engine.begin() as connection:
        connection.execute(text("DELETE FROM index_contents"))
    assert results() == stored
