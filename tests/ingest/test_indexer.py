"""The indexer against a real Chroma and the real embedding model, on a four-document corpus.

Each ingest here goes through a fresh ``Container``, as a new ``advisor ingest`` run would; only
the loaded model is shared (it is per process). Model calls are counted by wrapping the
container's ``embed_documents``, so "nothing was embedded" is observed, not inferred.
"""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest
from filelock import FileLock
from sqlalchemy import text

from advisor.components.embedder import Vector
from advisor.container import Container
from advisor.ingest.indexer import IngestError, IngestReport
from advisor.retrieval.index_contents import decode
from advisor.settings import Settings
from advisor.store.records import IndexedDocumentRecord
from advisor.types import Passage
from tests.plugins.advisor_app import KNOWLEDGE, SettingsFactory
from tests.plugins.small_corpus import SMALL_CORPUS, write_small_corpus

# The real model and embedded Chroma; tests/ingest/test_ingest_with_fakes.py runs the fast tier.
pytestmark = pytest.mark.slow

DOC_IDS = {Path(name).stem for name in SMALL_CORPUS}
HIRING = "hiring-ml-engineers.md"
OLD_RETENTION = "Pay matters, but growth matters more."
NEW_RETENTION = "Equity and a visible promotion path keep senior engineers longer than salary rises do."


class EmbedCounter:
    """Replaces ``container.embedder.embed_documents`` with a wrapper that records each batch."""

    def __init__(self, container: Container, monkeypatch: pytest.MonkeyPatch) -> None:
        self.batches: list[int] = []
        real: Callable[..., Vector] = container.embedder.embed_documents

        def counting(texts: Sequence[str], show_progress: bool = False) -> Vector:
            self.batches.append(len(texts))
            return real(texts, show_progress)

        monkeypatch.setattr(container.embedder, "embed_documents", counting)

    @property
    def texts(self) -> int:
        return sum(self.batches)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return write_small_corpus(tmp_path / "corpus")


@pytest.fixture
def settings(make_settings: SettingsFactory, corpus: Path) -> Settings:
    return make_settings(knowledge_dir=corpus)


def ingest(settings: Settings, container: Container | None = None) -> IngestReport:
    return (container or Container(settings)).indexer.ingest([settings.knowledge_dir])


def documents(settings: Settings, collection: str) -> dict[str, IndexedDocumentRecord]:
    return Container(settings).index_repository.indexed_documents(collection)


def active_collection(settings: Settings) -> str:
    state = Container(settings).index_repository.get_index_state()
    assert state is not None
    return state.collection


def collection_names(settings: Settings) -> list[str]:
    return Container(settings).vectors.list_collection_names()


def search(settings: Settings, query: str) -> list[Passage]:
    """What a freshly started service would answer."""
    return Container(settings).retriever.retrieve_passages(query).passages


def edit(path: Path, old: str, new: str) -> None:
    content = path.read_text(encoding="utf-8")
    assert old in content
    path.write_text(content.replace(old, new), encoding="utf-8")


def crash(*args: object, **kwargs: object) -> None:
    raise RuntimeError("simulated crash before the pointer switch")


def test_progress_starts_with_the_total_and_moves_per_model_batch(
    make_settings: SettingsFactory, corpus: Path
) -> None:
    # Before, it was reported every 512 chunks: the bar showed "embedding 0/?" for most of a run.
    settings = make_settings(knowledge_dir=corpus, embedding={"batch_size": 2})
    progress: list[tuple[int, int]] = []
    report = Container(settings).indexer.ingest(
        [corpus], on_progress=lambda done, total: progress.append((done, total))
    )
    total = report.chunks
    assert total > 2 and progress[0] == (0, total) and progress[-1] == (total, total)
    steps = [b[0] - a[0] for a, b in itertools.pairwise(progress)]
    assert len(steps) == -(-total // 2) and max(steps) == 2, progress


def test_first_ingest_indexes_every_chunk_and_activates_the_collection(settings: Settings) -> None:
    container = Container(settings)
    progress: list[tuple[int, int]] = []
    report = container.indexer.ingest(
        [settings.knowledge_dir], on_progress=lambda done, total: progress.append((done, total))
    )

    assert (report.added, report.updated, report.unchanged, report.removed) == (4, 0, 0, 0)
    assert report.skipped == [] and report.switched and not report.full_rebuild
    docs = container.index_repository.indexed_documents(report.collection)
    assert set(docs) == DOC_IDS
    assert all(doc.chunk_ids for doc in docs.values())
    chunk_ids = [cid for doc in docs.values() for cid in doc.chunk_ids]
    assert report.chunks == report.embedded_chunks == len(chunk_ids) == len(set(chunk_ids))
    assert progress[-1] == (report.chunks, report.chunks)

    state = container.index_repository.get_index_state()
    assert state is not None
    assert state.collection == report.collection and state.chunk_count == report.chunks
    assert (state.model, state.dimension) == (container.embedder.model_name, container.embedder.dimension)
    collection = container.vectors.get_collection(state.collection)
    assert collection.count() == report.chunks
    assert sorted(collection.get().ids) == sorted(chunk_ids)
    stored = collection.get(docs["key-person-risk"].chunk_ids, metadatas=True)
    assert stored.metadatas is not None and set(stored.ids) == set(docs["key-person-risk"].chunk_ids)
    assert all(m["topics"] == ["talent", "monitoring"] for m in stored.metadatas)
    assert container.vectors.list_collection_names() == [report.collection]


def test_unchanged_corpus_embeds_nothing_and_keeps_the_collection(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = ingest(settings)
    container = Container(settings)
    counter = EmbedCounter(container, monkeypatch)

    report = ingest(settings, container)

    assert counter.batches == []
    assert report.embedded_chunks == 0 and report.unchanged == 4
    assert (report.added, report.updated, report.removed) == (0, 0, 0)
    assert not report.switched and report.collection == first.collection and report.chunks == first.chunks
    assert active_collection(settings) == first.collection
    assert collection_names(settings) == [first.collection]


def test_every_activated_collection_carries_its_index_contents(
    settings: Settings, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = ingest(settings)
    store = Container(settings).index_repository
    blob = store.index_contents(first.collection)
    assert blob is not None and len(decode(blob).ids) == first.chunks

    edit(corpus / HIRING, OLD_RETENTION, NEW_RETENTION)
    second = ingest(settings)
    assert second.switched and second.collection != first.collection
    assert store.index_contents(first.collection) is None  # forgotten with its collection
    contents = store.index_contents(second.collection)
    assert contents is not None and "equity" in decode(contents).vocabulary

    # An index built before contents were stored gets them from the next (no-op) ingest, unembedded.
    with store.engine.begin() as connection:
        connection.execute(text("DELETE FROM index_contents"))
    container = Container(settings)
    counter = EmbedCounter(container, monkeypatch)
    third = ingest(settings, container)
    assert not third.switched and counter.batches == []
    restored = store.index_contents(second.collection)
    assert restored is not None and decode(restored).ids == decode(contents).ids


def test_editing_one_document_reembeds_only_its_chunks(
    settings: Settings, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = ingest(settings)
    before = documents(settings, first.collection)
    kept_ids = [
        cid for doc_id, doc in before.items() if doc_id != "hiring-ml-engineers" for cid in doc.chunk_ids
    ]
    old = Container(settings).vectors.get_collection(first.collection).get(kept_ids, vectors=True)
    assert old.vectors is not None
    old_vectors = dict(zip(old.ids, old.vectors, strict=True))

    edit(corpus / HIRING, OLD_RETENTION, NEW_RETENTION)
    container = Container(settings)
    counter = EmbedCounter(container, monkeypatch)
    report = ingest(settings, container)

    after = documents(settings, report.collection)
    hiring = after["hiring-ml-engineers"]
    assert (report.added, report.updated, report.unchanged, report.removed) == (0, 1, 3, 0)
    assert report.embedded_chunks == counter.texts == len(hiring.chunk_ids) < report.chunks
    assert report.chunks == first.chunks
    assert report.switched and report.collection != first.collection
    assert active_collection(settings) == report.collection
    assert collection_names(settings) == [report.collection]  # the previous one is gone
    assert hiring.content_hash != before["hiring-ml-engineers"].content_hash
    assert set(hiring.chunk_ids) != set(before["hiring-ml-engineers"].chunk_ids)
    assert {k: v for k, v in after.items() if k != "hiring-ml-engineers"} == {
        k: v for k, v in before.items() if k != "hiring-ml-engineers"
    }
    # Unchanged chunks carry their stored vectors over (hnswlib re-normalises them: float noise only).
    new = container.vectors.get_collection(report.collection).get(kept_ids, vectors=True)
    assert set(new.ids) == set(kept_ids) and new.vectors is not None
    for cid, vector in zip(new.ids, new.vectors, strict=True):
        assert np.allclose(vector, old_vectors[cid], rtol=0, atol=1e-6)

    found = search(settings, "Does a promotion path or equity keep senior engineers?")
    assert any(NEW_RETENTION in p.text for p in found)
    assert not any(OLD_RETENTION in p.text for p in found)


def test_deleted_file_is_pruned_from_the_index(
    settings: Settings, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    query = "How do we measure agreement between two annotators?"
    first = ingest(settings)
    gone = documents(settings, first.collection)["labelling-guidelines"]
    assert "labelling-guidelines" in {p.doc_id for p in search(settings, query)}

    (corpus / "labelling-guidelines.md").unlink()
    container = Container(settings)
    counter = EmbedCounter(container, monkeypatch)
    report = ingest(settings, container)

    assert report.removed == 1 and report.unchanged == 3 and report.embedded_chunks == 0
    assert counter.batches == []
    assert report.switched and report.chunks == first.chunks - len(gone.chunk_ids)
    assert set(documents(settings, report.collection)) == DOC_IDS - {"labelling-guidelines"}
    collection = container.vectors.get_collection(report.collection)
    assert collection.get(gone.chunk_ids).ids == []
    assert collection.count() == report.chunks
    assert "labelling-guidelines" not in {p.doc_id for p in search(settings, query)}


BAD_FRONT_MATTER = "topics: [talent, monitoring"  # an unclosed YAML list


def test_malformed_file_is_reported_and_the_rest_ingested(settings: Settings, corpus: Path) -> None:
    bad = corpus / "broken.md"
    bad.write_text(f"---\nid: broken\n{BAD_FRONT_MATTER}\n---\n\nSome advice.\n", encoding="utf-8")

    report = ingest(settings)

    assert len(report.skipped) == 1
    assert str(bad) in report.skipped[0] and "YAML" in report.skipped[0]
    assert report.added == 4 and report.switched
    assert set(documents(settings, report.collection)) == DOC_IDS


def test_file_that_becomes_malformed_keeps_its_previous_version(
    settings: Settings, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    query = "Write a runbook and pair a second engineer on retraining"
    first = ingest(settings)
    kept = documents(settings, first.collection)["key-person-risk"]
    broken = corpus / "key-person-risk.md"
    edit(broken, "topics: [talent, monitoring]", BAD_FRONT_MATTER)

    container = Container(settings)
    counter = EmbedCounter(container, monkeypatch)
    report = ingest(settings, container)

    assert len(report.skipped) == 1 and str(broken) in report.skipped[0]
    assert report.removed == 0 and report.unchanged == 4 and counter.batches == []
    assert active_collection(settings) == first.collection
    assert "key-person-risk" in {p.doc_id for p in search(settings, query)}

    # A rebuild for another change copies the previous version along instead of dropping it.
    edit(corpus / HIRING, OLD_RETENTION, NEW_RETENTION)
    rebuilt = ingest(settings)
    assert rebuilt.switched and rebuilt.removed == 0 and len(rebuilt.skipped) == 1
    after = documents(settings, rebuilt.collection)
    assert after["key-person-risk"] == kept
    assert rebuilt.embedded_chunks == len(after["hiring-ml-engineers"].chunk_ids)
    assert "key-person-risk" in {p.doc_id for p in search(settings, query)}


def test_failure_before_the_pointer_switch_keeps_the_old_index_serving(
    settings: Settings, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = ingest(settings)
    first_chunks = {cid for doc in documents(settings, first.collection).values() for cid in doc.chunk_ids}
    edit(corpus / HIRING, OLD_RETENTION, NEW_RETENTION)
    container = Container(settings)
    monkeypatch.setattr(container.index_repository, "activate_index", crash)

    with pytest.raises(RuntimeError, match="simulated crash"):
        ingest(settings, container)

    assert active_collection(settings) == first.collection
    assert collection_names(settings) == [first.collection]  # the half-built collection was dropped
    found = search(settings, "What keeps engineers from leaving?")
    assert found and {p.chunk_id for p in found} <= first_chunks
    assert any(OLD_RETENTION in p.text for p in found)

    report = ingest(settings)
    assert report.switched and report.updated == 1
    assert collection_names(settings) == [report.collection]


def test_next_ingest_removes_the_collection_a_crashed_run_left_behind(
    settings: Settings, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = ingest(settings)
    original = (corpus / HIRING).read_text(encoding="utf-8")
    edit(corpus / HIRING, OLD_RETENTION, NEW_RETENTION)
    container = Container(settings)
    monkeypatch.setattr(container.index_repository, "activate_index", crash)
    # As if the process died there: its own clean-up never runs.
    monkeypatch.setattr(container.vectors, "delete_collection", lambda name: None)
    with pytest.raises(RuntimeError, match="simulated crash"):
        ingest(settings, container)
    orphans = set(collection_names(settings)) - {first.collection}
    assert len(orphans) == 1
    assert active_collection(settings) == first.collection
    assert search(settings, "What keeps engineers from leaving?")

    # The corpus is back to what the active index holds: nothing to build, but still clean up.
    (corpus / HIRING).write_text(original, encoding="utf-8")
    report = ingest(settings)

    assert report.embedded_chunks == 0 and not report.switched and report.collection == first.collection
    assert collection_names(settings) == [first.collection]


def test_killed_ingest_leaves_the_previous_index_serving(
    settings: Settings, corpus: Path, tmp_path: Path
) -> None:
    """A real `advisor ingest` process, killed with SIGKILL while it embeds a larger corpus."""
    first = ingest(settings)
    first_chunks = {cid for doc in documents(settings, first.collection).values() for cid in doc.chunk_ids}
    big = tmp_path / "big"
    shutil.copytree(corpus, big)
    for source in KNOWLEDGE.glob("*.md"):  # hundreds of chunks: seconds of embedding even on a fast CPU
        shutil.copy(source, big / source.name)
    env = {
        **os.environ,
        "ADVISOR_DATA_DIR": str(settings.data_dir),
        "ADVISOR_KNOWLEDGE_DIR": str(big),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    log = tmp_path / "ingest.log"
    vectors = Container(settings).vectors
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "advisor"), "ingest"], env=env, stdout=out, stderr=out
        )
        try:
            # The new collection is created before copying and embedding start.
            deadline = time.monotonic() + 120
            while vectors.list_collection_names() == [first.collection]:
                assert proc.poll() is None, f"ingest exited early: {log.read_text()}"
                assert time.monotonic() < deadline, "ingest never created its collection"
                time.sleep(0.05)
            time.sleep(0.2)
            assert proc.poll() is None, f"ingest finished before it could be killed: {log.read_text()}"
            proc.send_signal(signal.SIGKILL)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    assert active_collection(settings) == first.collection
    assert len(set(collection_names(settings)) - {first.collection}) == 1  # the half-built one
    found = search(settings, "Should we deduplicate customer records before splitting?")
    assert found and {p.chunk_id for p in found} <= first_chunks
    assert found[0].doc_id == "data-quality-basics"

    # The lock died with the process; the next run rebuilds and clears the leftovers.
    edit(corpus / HIRING, OLD_RETENTION, NEW_RETENTION)
    report = ingest(settings)
    assert report.switched and report.updated == 1 and report.skipped == []
    assert collection_names(settings) == [report.collection]
    assert any(NEW_RETENTION in p.text for p in search(settings, "What keeps engineers from leaving?"))


def test_changing_the_embedding_model_reembeds_everything(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = ingest(settings)
    with Container(settings).engine.begin() as connection:
        connection.execute(text("UPDATE index_state SET model = 'someone/another-model'"))
    container = Container(settings)
    counter = EmbedCounter(container, monkeypatch)

    report = ingest(settings, container)

    assert report.full_rebuild and report.switched and report.collection != first.collection
    assert report.unchanged == 0 and report.removed == 0
    assert report.embedded_chunks == report.chunks == first.chunks == counter.texts
    state = Container(settings).index_repository.get_index_state()
    assert state is not None and state.model == container.embedder.model_name
    assert collection_names(settings) == [report.collection]


def test_ingest_refuses_to_run_while_another_holds_the_lock(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(settings.lock_path)):
        with pytest.raises(IngestError, match="lock") as caught:
            ingest(settings)
        assert str(settings.lock_path) in str(caught.value)
        assert Container(settings).index_repository.get_index_state() is None
    assert ingest(settings).switched


def test_replaced_collections_leave_no_vector_files_behind(settings: Settings, corpus: Path) -> None:
    """Chroma keeps a deleted collection's index directory unless the store removes it."""
    ingest(settings)
    edit(corpus / HIRING, OLD_RETENTION, NEW_RETENTION)
    assert ingest(settings).switched
    edit(corpus / HIRING, NEW_RETENTION, OLD_RETENTION)
    last = ingest(settings)
    assert last.switched

    assert collection_names(settings) == [last.collection]
    segment_dirs = [p.name for p in settings.chroma_path.iterdir() if p.is_dir()]
    assert len(segment_dirs) == 1, segment_dirs
    assert search(settings, "What keeps engineers from leaving?")
