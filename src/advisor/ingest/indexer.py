"""Incremental, atomic indexing of a corpus into a fresh vector store collection.

Every change produces a new collection: unchanged documents are copied with their stored
embeddings (no model call), changed ones are embedded, the result is validated, and only then
does the active-collection pointer move, in one database transaction. A crash anywhere before
that leaves the previous collection serving; its leftovers are cleaned by the next run.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from filelock import FileLock, Timeout

from advisor.corpus.loaders import LoaderError, discover_files, load_document
from advisor.corpus.taxonomy import load_topics
from advisor.ingest.chunking import chunk_document
from advisor.ingest.sources import encode_paths, name_sources
from advisor.retrieval.index_contents import encode, read_collection
from advisor.store.records import CorpusSourceRecord, IndexedDocumentRecord
from advisor.types import QUESTIONS_SECTION, Chunk, LoadedDocument

if TYPE_CHECKING:
    from advisor.components.embedder import Embedder
    from advisor.components.vector_store import VectorCollection, VectorStore
    from advisor.settings import Settings
    from advisor.store.index_state import IndexRepository

ProgressCallback = Callable[[int, int], None]
_ADD_BATCH = 500
# Link lists add no advice of their own and would only crowd out real passages.
_SKIPPED_SECTIONS = frozenset({"related guidance", "related documents", "see also", "further reading"})


class IngestError(RuntimeError):
    pass


@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    chunks: int = 0
    embedded_chunks: int = 0
    skipped: list[str] = field(default_factory=list)
    seconds: float = 0.0
    collection: str = ""
    switched: bool = False
    full_rebuild: bool = False
    other_sources: int = 0  # documents of sources this run did not touch, kept as they were

    def summary(self) -> str:
        kept = f", {self.other_sources} kept from other sources" if self.other_sources else ""
        return (
            f"documents: {self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.removed} removed, {len(self.skipped)} skipped{kept}; chunks: {self.chunks} "
            f"({self.embedded_chunks} embedded); {self.seconds:.1f} s"
        )


def embedding_text(chunk: Chunk) -> str:
    """What is embedded and BM25-indexed: title and section give short chunks their context. A
    user's question is embedded as it stands, so that questions worded like it find it."""
    if chunk.heading_path == (QUESTIONS_SECTION,):
        return chunk.text
    return f"{chunk.title}. {chunk.section}.\n{chunk.text}"


def chunk_metadata(chunk: Chunk, content_hash: str) -> dict[str, Any]:
    return {
        "doc_id": chunk.doc_id,
        "title": chunk.title,
        "section": chunk.section,
        "heading_path": json.dumps(list(chunk.heading_path)),
        # Chroma needs a non-empty list for array metadata.
        "topics": list(chunk.topics) or [""],
        "source": chunk.source,
        "position": chunk.position,
        "content_hash": content_hash,
        "text": chunk.text,
    }


class Indexer:
    def __init__(
        self, settings: Settings, embedder: Embedder, vectors: VectorStore, store: IndexRepository
    ) -> None:
        self._settings = settings
        self._embedder = embedder
        self._vectors = vectors
        self._store = store

    def ingest(
        self,
        paths: Sequence[Path],
        *,
        force: bool = False,
        on_progress: ProgressCallback | None = None,
        name: str | None = None,
    ) -> IngestReport:
        """Index ``paths`` as named sources (see advisor.ingest.sources): each folder's documents
        replace that source's; the documents of every other source stay as they are."""
        sources = name_sources(paths, self._settings.knowledge_dir, name)
        return self.ingest_sources(sources, force=force, on_progress=on_progress)

    def remove_source(self, name: str) -> IngestReport:
        """Drop a source and its documents from the index (a new collection without them)."""
        return self.ingest_sources({}, drop=(name,))

    def ingest_sources(
        self,
        sources: Mapping[str, Sequence[Path]],
        *,
        drop: Sequence[str] = (),
        force: bool = False,
        on_progress: ProgressCallback | None = None,
    ) -> IngestReport:
        self._settings.data_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self._settings.lock_path))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            raise IngestError(
                f"another ingest holds the lock {self._settings.lock_path}; wait for it to finish"
            ) from None
        try:
            return self._ingest_locked(sources, drop, force=force, on_progress=on_progress)
        finally:
            lock.release()

    def _load_sources(
        self, sources: Mapping[str, Sequence[Path]], report: IngestReport
    ) -> tuple[list[LoadedDocument], set[tuple[str, str]], dict[str, str]]:
        """Every source's documents, the (source name, file) pairs that failed to load, and each
        document's source name. An id already taken by an earlier source is skipped."""
        docs: list[LoadedDocument] = []
        failed: set[tuple[str, str]] = set()
        origin: dict[str, str] = {}
        for name, paths in sources.items():
            try:
                loaded, broken = self._load(paths, report)
            except IngestError as exc:
                raise IngestError(f"source {name!r}: {exc}") from None
            failed |= {(name, source) for source in broken}
            for doc in loaded:
                if doc.doc_id in origin:
                    report.skipped.append(
                        f"{doc.source}: duplicate id {doc.doc_id!r} (also in source {origin[doc.doc_id]!r})"
                    )
                    continue
                origin[doc.doc_id] = name
                docs.append(doc)
        return docs, failed, origin

    def _load(self, paths: Sequence[Path], report: IngestReport) -> tuple[list[LoadedDocument], set[str]]:
        """Load every file; returns the documents and the sources of files that failed to load."""
        for path in paths:
            if not path.exists():
                raise IngestError(f"{path}: no such file or directory")
        docs: dict[str, LoadedDocument] = {}
        failed_sources: set[str] = set()
        for path in discover_files(paths):
            root = next((p for p in paths if p.is_dir() and path.is_relative_to(p)), path.parent)
            try:
                doc = load_document(path, root, load_topics(root))
            except LoaderError as exc:
                report.skipped.append(str(exc))
                failed_sources.add(_relative_source(path, root))
                continue
            if doc.doc_id in docs:
                report.skipped.append(
                    f"{path}: duplicate id {doc.doc_id!r} (also in {docs[doc.doc_id].source})"
                )
                continue
            docs[doc.doc_id] = doc
        return list(docs.values()), failed_sources

    def _ingest_locked(
        self,
        sources: Mapping[str, Sequence[Path]],
        drop: Sequence[str],
        *,
        force: bool,
        on_progress: ProgressCallback | None,
    ) -> IngestReport:
        started = time.perf_counter()
        report = IngestReport()
        docs, failed_sources, origin = self._load_sources(sources, report)
        model = self._embedder.model_name

        state = self._store.get_index_state()
        # The same model directory gives the same dimension: an unchanged corpus then needs no model
        # load at all. Any other model is loaded to learn its dimension (and forces a rebuild).
        dimension = (
            state.dimension if state is not None and state.model == model else self._embedder.dimension
        )
        previous: dict[str, IndexedDocumentRecord] = {}
        if state is not None and state.model == model and state.dimension == dimension:
            previous = self._store.indexed_documents(state.collection)
        report.full_rebuild = state is not None and not previous and state.chunk_count > 0
        known = {s.name for s in self._store.sources()} | {r.source_name for r in previous.values()}
        unknown = sorted(set(drop) - known)
        if unknown:
            raise IngestError(f"no source named {unknown[0]!r}; see `advisor sources list`")

        # Other sources' documents stay as they are; an id they hold is not taken by this ingest.
        touched = set(sources) | set(drop)
        others = {k: v for k, v in previous.items() if v.source_name not in touched}
        for doc in [d for d in docs if d.doc_id in others]:
            held = others[doc.doc_id]
            report.skipped.append(
                f"{doc.source}: duplicate id {doc.doc_id!r} (already in source {held.source_name!r}: {held.source})"
            )
            docs.remove(doc)
        # A file that fails to load keeps its previous version: bad input never loses stored data.
        kept = {
            d.doc_id: d
            for d in previous.values()
            if d.source_name in sources and (d.source_name, d.source) in failed_sources
        }
        current = {d.doc_id for d in docs}
        kept = {k: v for k, v in kept.items() if k not in current}

        to_embed: list[LoadedDocument] = []
        to_copy: list[IndexedDocumentRecord] = [*kept.values(), *others.values()]
        moved = False
        for doc in docs:
            old = previous.get(doc.doc_id)
            if old is not None and old.content_hash == doc.content_hash and not force:
                report.unchanged += 1
                fresh = replace(old, source_name=origin[doc.doc_id], topics=doc.topics, updated=doc.updated)
                moved |= fresh != old  # its source, or what the listing shows of it, changed
                to_copy.append(fresh)
            else:
                report.updated += old is not None
                report.added += old is None
                to_embed.append(doc)
        report.unchanged += len(kept)
        report.other_sources = len(others)
        report.removed = len(
            {k for k, v in previous.items() if v.source_name in touched} - current - set(kept)
        )

        registered = [CorpusSourceRecord(n, encode_paths(paths)) for n, paths in sources.items()]
        changed = bool(to_embed) or report.removed > 0 or state is None or moved or bool(drop)
        if (
            not changed
            and state is not None
            and self._collection_healthy(state.collection, state.chunk_count)
        ):
            # Nothing to build, but a crashed run's collection must not outlive this one.
            self._remove_orphans(keep=state.collection)
            self._store.record_sources(registered)
            if not self._store.has_index_contents(state.collection):
                # Indexed before contents were stored: store them now, so replicas load them.
                contents = encode(read_collection(self._vectors.get_collection(state.collection)))
                self._store.save_index_contents(state.collection, contents)
            report.collection = state.collection
            report.chunks = state.chunk_count
            report.seconds = time.perf_counter() - started
            return report

        self._remove_orphans(keep=state.collection if state else None)
        name = f"{self._settings.chroma.collection_prefix}-{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"
        collection = self._vectors.create_collection(name, model, dimension)
        try:
            records = self._copy_unchanged(collection, state.collection if state else None, to_copy)
            records += self._embed_new(collection, to_embed, report, on_progress, origin)
            report.chunks = sum(len(r.chunk_ids) for r in records)
            self._validate(collection, report.chunks, dimension)
            # What each replica would otherwise rebuild from the collection at start, built once.
            contents = encode(read_collection(collection))
            previous_collection = self._store.activate_index(
                name, model, dimension, records, contents=contents, sources=registered, dropped_sources=drop
            )
        except BaseException:
            self._vectors.delete_collection(name)
            raise
        report.switched = True
        report.collection = name
        if previous_collection and previous_collection != name:
            self._vectors.delete_collection(previous_collection)
            self._store.forget_collection(previous_collection)
        report.seconds = time.perf_counter() - started
        return report

    def _collection_healthy(self, name: str, expected: int) -> bool:
        try:
            return self._vectors.get_collection(name).count() == expected
        except Exception:
            return False

    def _remove_orphans(self, keep: str | None) -> None:
        """Collections left by a crashed run are never active; drop them before building anew."""
        for name in self._vectors.list_collection_names():
            if name != keep:
                self._vectors.delete_collection(name)
                self._store.forget_collection(name)

    def _copy_unchanged(
        self, target: VectorCollection, source_name: str | None, docs: list[IndexedDocumentRecord]
    ) -> list[IndexedDocumentRecord]:
        if not docs or source_name is None:
            return []
        source = self._vectors.get_collection(source_name)
        ids = [cid for d in docs for cid in d.chunk_ids]
        for start in range(0, len(ids), _ADD_BATCH):
            wanted = ids[start : start + _ADD_BATCH]
            batch = source.get(wanted, vectors=True, documents=True, metadatas=True)
            if len(batch.ids) != len(wanted):
                raise IngestError(f"active collection {source_name} is missing chunks; run with --force")
            if batch.vectors is None or batch.documents is None or batch.metadatas is None:
                raise IngestError(f"active collection {source_name} returned incomplete chunks")
            target.add(batch.ids, batch.vectors, batch.documents, batch.metadatas)
        return docs

    def _embed_new(
        self,
        target: VectorCollection,
        docs: list[LoadedDocument],
        report: IngestReport,
        on_progress: ProgressCallback | None,
        origin: Mapping[str, str],
    ) -> list[IndexedDocumentRecord]:
        chunks_by_doc = [(doc, _indexable_chunks(doc)) for doc in docs]
        # Embedded in order of length, so each model batch holds texts of similar length and little
        # padding (what one big encode call does, while still reporting progress between batches).
        all_chunks = sorted(
            ((doc, c, embedding_text(c)) for doc, chunks in chunks_by_doc for c in chunks),
            key=lambda item: len(item[2]),
        )
        total = len(all_chunks)
        # One model batch per step, so the progress bar moves (and its ETA settles) from the start;
        # the model batches internally at this size anyway.
        batch_size = self._settings.embedding.batch_size
        if on_progress is not None:
            on_progress(0, total)
        for start in range(0, total, batch_size):
            batch = all_chunks[start : start + batch_size]
            texts = [text for _, _, text in batch]
            vectors = self._embedder.embed_documents(texts)
            target.add(
                ids=[c.chunk_id for _, c, _ in batch],
                vectors=vectors,
                documents=texts,
                metadatas=[chunk_metadata(c, doc.content_hash) for doc, c, _ in batch],
            )
            report.embedded_chunks += len(batch)
            if on_progress is not None:
                on_progress(report.embedded_chunks, total)
        return [
            IndexedDocumentRecord(
                doc_id=doc.doc_id,
                source=doc.source,
                content_hash=doc.content_hash,
                chunk_ids=tuple(c.chunk_id for c in chunks),
                title=doc.title,
                source_name=origin[doc.doc_id],
                topics=doc.topics,
                updated=doc.updated,
            )
            for doc, chunks in chunks_by_doc
        ]

    def _validate(self, collection: VectorCollection, expected: int, dimension: int) -> None:
        count = collection.count()
        if count != expected:
            raise IngestError(f"validation failed: collection holds {count} chunks, expected {expected}")
        if expected == 0:
            return
        stored = collection.get(limit=1, vectors=True).vectors
        if stored is None or len(stored) == 0:
            raise IngestError("validation failed: stored chunks have no embeddings")
        vector = np.asarray(stored[0], dtype=np.float32)
        if vector.shape != (dimension,):
            raise IngestError(
                f"validation failed: stored vectors have shape {vector.shape}, expected {dimension}"
            )
        if not collection.query(vector, 1):
            raise IngestError("validation failed: a probe query returned nothing")


def _indexable_chunks(doc: LoadedDocument) -> list[Chunk]:
    # Identical sections within one document would share an id; keep one.
    unique = {c.chunk_id: c for c in chunk_document(doc)}
    return [
        c for c in unique.values() if not c.heading_path or c.heading_path[0].lower() not in _SKIPPED_SECTIONS
    ]


def _relative_source(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path.resolve())
