"""Which vector collection is active, the documents it holds, and the retriever contents stored
with it (advisor.retrieval.index_contents): the bookkeeping behind an atomic index switch."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from advisor.store.models import CorpusSource, IndexContentsRow, IndexedDocument, IndexState, utcnow
from advisor.store.records import (
    CorpusSourceRecord,
    IndexedDocumentRecord,
    IndexStateRecord,
    document_record,
    index_state_record,
)
from advisor.store.sessions import SessionScopes


class IndexRepository(SessionScopes):
    """The index pointer, its document rows and stored contents; thread-safe (one session per call)."""

    def get_index_state(self, name: str = "active") -> IndexStateRecord | None:
        with self._read() as session:
            row = session.get(IndexState, name)
            return None if row is None else index_state_record(row)

    def activate_index(
        self,
        collection: str,
        model: str,
        dimension: int,
        documents: Sequence[IndexedDocumentRecord],
        name: str = "active",
        contents: bytes | None = None,
        sources: Sequence[CorpusSourceRecord] = (),
        dropped_sources: Sequence[str] = (),
    ) -> str | None:
        """Write ``collection``'s document rows (and its stored index ``contents``, see
        advisor.retrieval.index_contents) and point ``index_state[name]`` at it, atomically.

        Existing rows of ``collection`` are replaced. Returns the collection previously pointed at
        (None for the first activation; equal to ``collection`` when re-activating it). On any error
        nothing changes: the old pointer and the old rows stay. ``sources`` are recorded (added or
        their folder updated) and ``dropped_sources`` forgotten in the same transaction.
        """
        with self._write() as session:
            self._write_documents(session, collection, documents)
            self._record_sources(session, sources, dropped_sources)
            if contents is not None:
                session.merge(IndexContentsRow(collection=collection, data=contents, created_at=utcnow()))
            return self._point_index(
                session,
                name=name,
                collection=collection,
                model=model,
                dimension=dimension,
                chunk_count=sum(len(doc.chunk_ids) for doc in documents),
            )

    def _write_documents(
        self, session: Session, collection: str, documents: Sequence[IndexedDocumentRecord]
    ) -> None:
        session.execute(delete(IndexedDocument).where(IndexedDocument.collection == collection))
        session.add_all(
            IndexedDocument(
                collection=collection,
                doc_id=doc.doc_id,
                source=doc.source,
                content_hash=doc.content_hash,
                chunk_ids=list(doc.chunk_ids),
                title=doc.title,
                source_name=doc.source_name,
                topics=list(doc.topics),
                updated=doc.updated or None,
            )
            for doc in documents
        )
        session.flush()

    def _point_index(
        self, session: Session, *, name: str, collection: str, model: str, dimension: int, chunk_count: int
    ) -> str | None:
        row = session.get(IndexState, name, with_for_update=True)
        previous = None if row is None else row.collection
        if row is None:
            row = IndexState(name=name)
            session.add(row)
        row.collection = collection
        row.model = model
        row.dimension = dimension
        row.chunk_count = chunk_count
        row.updated_at = utcnow()
        session.flush()
        return previous

    def index_contents(self, collection: str) -> bytes | None:
        """The index contents stored for ``collection``, or None (an index built before they were)."""
        with self._read() as session:
            data: bytes | None = session.scalar(
                select(IndexContentsRow.data).where(IndexContentsRow.collection == collection)
            )
            return data

    def has_index_contents(self, collection: str) -> bool:
        with self._read() as session:
            found = session.scalar(
                select(IndexContentsRow.collection).where(IndexContentsRow.collection == collection)
            )
            return found is not None

    def save_index_contents(self, collection: str, contents: bytes) -> None:
        """Store (or replace) the contents of an already active collection, e.g. one indexed before
        contents were stored."""
        with self._write() as session:
            session.merge(IndexContentsRow(collection=collection, data=contents, created_at=utcnow()))

    def record_sources(self, sources: Sequence[CorpusSourceRecord], dropped: Sequence[str] = ()) -> None:
        """Add the sources (or update their folders) and forget ``dropped``."""
        with self._write() as session:
            self._record_sources(session, sources, dropped)

    @staticmethod
    def _record_sources(
        session: Session, sources: Sequence[CorpusSourceRecord], dropped: Sequence[str]
    ) -> None:
        now = utcnow()
        for source in sources:
            row = session.get(CorpusSource, source.name)
            if row is None:
                session.add(CorpusSource(name=source.name, path=source.path, added_at=now, updated_at=now))
            else:
                row.path, row.updated_at = source.path, now
        if dropped:
            session.execute(delete(CorpusSource).where(CorpusSource.name.in_(dropped)))

    def sources(self) -> list[CorpusSourceRecord]:
        """The named corpus sources, by name."""
        with self._read() as session:
            rows = session.scalars(select(CorpusSource).order_by(CorpusSource.name))
            return [CorpusSourceRecord(r.name, r.path, r.added_at, r.updated_at) for r in rows]

    def indexed_documents(self, collection: str) -> dict[str, IndexedDocumentRecord]:
        """The document rows of ``collection`` keyed by doc_id (empty for an unknown collection)."""
        with self._read() as session:
            rows = session.scalars(select(IndexedDocument).where(IndexedDocument.collection == collection))
            return {row.doc_id: document_record(row) for row in rows}

    def forget_collection(self, collection: str) -> int:
        """Delete ``collection``'s document rows; returns how many were deleted.

        Raises ValueError if an index_state row still points at the collection.
        """
        with self._write() as session:
            active = session.scalars(select(IndexState.name).where(IndexState.collection == collection)).all()
            if active:
                raise ValueError(f"collection {collection!r} is still active as {', '.join(sorted(active))}")
            where = IndexedDocument.collection == collection
            count = session.scalar(select(func.count()).select_from(IndexedDocument).where(where)) or 0
            session.execute(delete(IndexedDocument).where(where))
            session.execute(delete(IndexContentsRow).where(IndexContentsRow.collection == collection))
            return count
