"""Hybrid retrieval: dense (the vector store) + BM25, fused by reciprocal rank fusion, diversified by MMR."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from advisor.components.sparse import SparseIndex
from advisor.guidance.questions import expand_query, within_scope
from advisor.retrieval.index_contents import (
    IndexContents,
    MetadataTable,
    StoredFormError,
    decode,
    read_collection,
)
from advisor.retrieval.names import unknown_names
from advisor.retrieval.ranking import Candidate, mmr, to_passage
from advisor.types import QUESTIONS_SECTION, DocumentText, Passage

if TYPE_CHECKING:
    from advisor.components.embedder import Embedder, Vector
    from advisor.components.vector_store import VectorCollection, VectorStore
    from advisor.guidance.rules import GuidanceRules
    from advisor.settings import Settings
    from advisor.store.index_state import IndexRepository

log = logging.getLogger(__name__)

_REFRESH_SECONDS = 2.0


class IndexNotReadyError(RuntimeError):
    """No active index yet: run `advisor ingest`."""


@dataclass(frozen=True)
class _Snapshot:
    collection_name: str
    collection: VectorCollection
    ids: list[str]
    metadatas: MetadataTable
    position: dict[str, int]
    topic_members: dict[str, set[int]]
    doc_chunks: dict[str, list[int]]
    sparse: SparseIndex
    vocabulary: tuple[str, ...]  # sorted lower-case words of the corpus


@dataclass(frozen=True)
class RetrievalResult:
    passages: list[Passage]
    best_similarity: float
    in_scope: bool
    strategy: str = "hybrid"


class Retriever:
    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        vectors: VectorStore,
        store: IndexRepository,
        rules: GuidanceRules | None = None,
    ) -> None:
        self._settings = settings
        self._rules = rules
        self._embedder = embedder
        self._vectors = vectors
        self._store = store
        self._snapshot: _Snapshot | None = None
        self._checked_at = 0.0
        self._lock = threading.Lock()

    # -- index lifecycle -------------------------------------------------
    def _current(self, force: bool = False, wait: bool = True) -> _Snapshot:
        now = time.monotonic()
        snap = self._snapshot
        if snap is not None and not force and now - self._checked_at < _REFRESH_SECONDS:
            return snap
        if not self._lock.acquire(blocking=wait):
            # Another thread is checking or loading: without waiting, what is loaded now counts.
            if snap is None:
                raise IndexNotReadyError("the index is loading")
            return snap
        try:
            self._checked_at = now
            state = self._store.get_index_state()
            if state is None:
                raise IndexNotReadyError("no index yet: run `advisor ingest` first")
            if self._snapshot is None or self._snapshot.collection_name != state.collection:
                self._snapshot = self._load(state.collection)
            return self._snapshot
        finally:
            self._lock.release()

    def _load(self, name: str) -> _Snapshot:
        collection = self._vectors.get_collection(name)
        contents = self._stored_contents(name) or read_collection(collection)
        topic_members: dict[str, set[int]] = {}
        doc_chunks: dict[str, list[int]] = {}
        metadatas = contents.metadatas
        columns = zip(metadatas.column("doc_id"), metadatas.column("topics"), strict=True)
        for i, (doc_id, topics) in enumerate(columns):
            doc_chunks.setdefault(str(doc_id or ""), []).append(i)
            for topic in topics if isinstance(topics, list) else []:
                if topic:
                    topic_members.setdefault(str(topic), set()).add(i)
        return _Snapshot(
            collection_name=name,
            collection=collection,
            ids=contents.ids,
            metadatas=contents.metadatas,
            position={cid: i for i, cid in enumerate(contents.ids)},
            topic_members=topic_members,
            doc_chunks=doc_chunks,
            sparse=contents.sparse,
            vocabulary=contents.vocabulary,
        )

    def _stored_contents(self, name: str) -> IndexContents | None:
        """The contents the ingest stored with the collection; None for an index built before they
        were stored, or stored in another format (read from the collection instead, as before)."""
        blob = self._store.index_contents(name)
        if blob is None:
            return None
        try:
            return decode(blob)
        except StoredFormError as exc:
            log.warning("index %s: %s; reading the collection instead", name, exc)
            return None

    def ready(self, wait: bool = True) -> bool:
        """Whether an index is loaded (loading it when none is). With ``wait=False`` a load already
        under way elsewhere is reported as not ready instead of waited for: a readiness probe must
        answer at once, not queue behind the warm-up."""
        try:
            self._current(wait=wait)
            return True
        except Exception:
            return False

    def require_index(self) -> None:
        """Load the active index if needed; IndexNotReadyError (or the store's error) when there is none."""
        self._current()

    def document_sections(self, doc_id: str) -> list[tuple[str, str]]:
        """(section, text) of every chunk of a document in the active index, in index order."""
        snap = self._current()
        rows = (snap.metadatas[i] for i in snap.doc_chunks.get(doc_id, []))
        return [(str(meta.get("section", "")), str(meta.get("text", ""))) for meta in rows]

    def document(self, doc_id: str) -> DocumentText | None:
        """The indexed document with this id, its user questions left out; None when unknown."""
        snap = self._current()
        rows = [snap.metadatas[i] for i in snap.doc_chunks.get(doc_id, [])]
        rows = [meta for meta in rows if meta.get("section") != QUESTIONS_SECTION]
        if not rows:
            return None
        first = rows[0]
        return DocumentText(
            doc_id=doc_id,
            title=str(first.get("title", "")),
            topics=tuple(str(t) for t in first.get("topics") or [] if t),
            source=str(first.get("source", "")),
            sections=tuple((str(meta.get("section", "")), str(meta.get("text", ""))) for meta in rows),
        )

    def known_topics(self) -> set[str]:
        return set(self._current().topic_members)

    def chunk_count(self) -> int:
        return len(self._current().ids)

    # -- search ------------------------------------------------------------
    def retrieve_passages(
        self,
        query: str,
        k: int | None = None,
        topics: Sequence[str] | None = None,
        context: str | None = None,
        strategy: str = "hybrid",
        said: str | None = None,
    ) -> RetrievalResult:
        """Top-k passages for ``query``; ``context`` (the initiative) nudges the dense query. What
        the user ``said`` before (default: the initiative) counts when judging whether the question
        is about an AI initiative at all: "how do we staff that?" is, after "our churn model..."."""
        k = k or self._settings.retrieval.k
        snap = self._current()
        # Everyday wording ("Black Friday") also searches for the corpus's words ("peak load"), by
        # keyword only: added to the meaning-based query, the words pulled it off the question.
        expansion = expand_query(query, self._rules) if self._rules else ""
        searched = f"{query} ({expansion})" if expansion else query
        qvec = self._query_vector(query, context)
        try:
            return self._search(snap, query, qvec, k, topics, strategy, searched, said or context)
        except Exception:
            # An ingest elsewhere may have switched the index and dropped our collection since the
            # last pointer check: look again before failing the request.
            fresh = self._current(force=True)
            if fresh.collection_name == snap.collection_name:
                raise
            return self._search(fresh, query, qvec, k, topics, strategy, searched, said or context)

    def _search(
        self,
        snap: _Snapshot,
        query: str,
        qvec: Vector,
        k: int,
        topics: Sequence[str] | None,
        strategy: str,
        keywords: str | None = None,
        scope_context: str | None = None,
    ) -> RetrievalResult:
        cfg = self._settings.retrieval
        allowed = self._allowed(snap, topics)
        if allowed is not None and not allowed:
            return RetrievalResult([], 0.0, False, strategy)

        candidates: dict[str, Candidate] = {}
        if strategy in ("hybrid", "dense"):
            self._dense(snap, qvec, cfg.candidates, topics, candidates)
        if strategy in ("hybrid", "bm25"):
            # BM25 sees the question only: an initiative's many words would outvote it.
            for rank, hit in enumerate(snap.sparse.search(keywords or query, cfg.candidates, allowed)):
                cid = snap.ids[hit.index]
                cand = candidates.setdefault(cid, Candidate(cid, snap.metadatas[hit.index]))
                cand.fused += cfg.bm25_weight / (cfg.rrf_k + rank + 1)
        if not candidates:
            return RetrievalResult([], 0.0, False, strategy)
        self._fill_vectors(snap, qvec, candidates)
        best = max(c.similarity or 0.0 for c in candidates.values())
        self._credit_asked_questions(snap, qvec, candidates)
        if not candidates:
            return RetrievalResult([], 0.0, False, strategy)
        if self._rules is None or not cfg.scope_rule:
            in_scope = best >= cfg.min_similarity
        else:
            in_scope = within_scope(f"{query} {scope_context or ''}", best, cfg.min_similarity, self._rules)
        if in_scope and best < cfg.unknown_name_floor and unknown_names(query, snap.vocabulary):
            # It asks about something the corpus never mentions, and nothing matches it closely.
            in_scope = False
        floor = max(best * cfg.passage_floor_ratio, cfg.min_similarity * 0.75)
        pool = [c for c in candidates.values() if max(c.similarity or 0.0, c.lent) >= floor]
        # MMR decides which passages make the set; they are then listed by relevance, so the
        # order and the reported scores agree.
        chosen = sorted(mmr(pool, k, cfg.mmr_lambda), key=lambda c: c.fused, reverse=True)
        return RetrievalResult([to_passage(c) for c in chosen], best, in_scope, strategy)

    def _credit_asked_questions(
        self, snap: _Snapshot, qvec: Vector, candidates: dict[str, Candidate]
    ) -> None:
        """A document's stored user questions are found like passages but never returned: each that
        matched credits its document's passages (those found, or else all of them, ranked by their
        own similarity) with its score, and lends them its similarity for the passage floor."""
        asked = [c for c in candidates.values() if c.metadata.get("section") == QUESTIONS_SECTION]
        if not asked:
            return
        weight = self._settings.retrieval.question_weight
        credit: dict[str, tuple[float, float]] = {}
        for cand in asked:
            del candidates[cand.chunk_id]
            doc = str(cand.metadata.get("doc_id", ""))
            fused, similarity = credit.get(doc, (0.0, 0.0))
            credit[doc] = (max(fused, cand.fused), max(similarity, cand.similarity or 0.0))
        added: dict[str, Candidate] = {}
        for doc, (fused, similarity) in credit.items():
            members = [
                snap.ids[i]
                for i in snap.doc_chunks.get(doc, [])
                if snap.metadatas[i].get("section") != QUESTIONS_SECTION
            ]
            present = [candidates[m] for m in members if m in candidates]
            for cand in present:
                cand.fused += weight * fused
                cand.lent = similarity
            if not present and weight > 0:
                for m in members:
                    added[m] = Candidate(
                        m, snap.metadatas[snap.position[m]], fused=weight * fused, lent=similarity
                    )
        if added:
            self._fill_vectors(snap, qvec, added)
            # Within a document the passage closest to the question leads.
            by_doc: dict[str, float] = {}
            for cand in added.values():
                doc = str(cand.metadata.get("doc_id", ""))
                by_doc[doc] = max(by_doc.get(doc, 0.0), cand.similarity or 0.0)
            for cand in added.values():
                top = by_doc[str(cand.metadata.get("doc_id", ""))] or 1.0
                cand.fused *= max(cand.similarity or 0.0, 0.0) / top
            candidates.update(added)

    def action_passages(
        self, passages: Sequence[Passage], sections: Sequence[str] = ("first steps",), docs: int = 2
    ) -> list[Passage]:
        """The action sections (e.g. "First steps") of the best documents, when retrieval matched
        their explanation rather than their advice. Ranked just below the passage that led to them."""
        have = {p.chunk_id for p in passages}
        extra: list[Passage] = []
        leading: list[Passage] = []
        for p in passages:
            if all(q.doc_id != p.doc_id for q in leading):
                leading.append(p)
        for lead in leading[:docs]:
            for found in self.sections_of([lead.doc_id], lead.score * 0.9, sections, lead.similarity):
                if found.chunk_id not in have:
                    extra.append(found)
                    have.add(found.chunk_id)
        return extra

    def parts_of(self, passages: Sequence[Passage], leading: int = 3) -> list[Passage]:
        """The subsections of the leading passages' sections ("The four layers to monitor > 1.
        Service health" under "The four layers to monitor"): retrieval matched the section's
        introduction, whose points are its parts. Ranked just below the passage that led to them."""
        snap = self._current()
        have = {p.chunk_id for p in passages}
        found: list[Passage] = []
        for lead in passages[:leading]:
            prefix = f"{lead.section} > "
            for i in snap.doc_chunks.get(lead.doc_id, []):
                meta = snap.metadatas[i]
                if str(meta.get("section", "")).startswith(prefix) and snap.ids[i] not in have:
                    candidate = Candidate(
                        snap.ids[i], meta, fused=lead.score * 0.95, similarity=lead.similarity
                    )
                    found.append(to_passage(candidate))
                    have.add(snap.ids[i])
        return found

    def sections_of(
        self,
        doc_ids: Sequence[str],
        score: float,
        sections: Sequence[str] = ("first steps",),
        similarity: float = 0.0,
    ) -> list[Passage]:
        """The named sections of the given documents (skipping documents not in the index), scored
        ``score``: e.g. the advice behind a fact the team stated, ranked below what retrieval found."""
        snap = self._current()
        found: list[Passage] = []
        for doc_id in doc_ids:
            for i in snap.doc_chunks.get(doc_id, []):
                meta = snap.metadatas[i]
                if any(str(meta.get("section", "")).lower().startswith(name) for name in sections):
                    found.append(to_passage(Candidate(snap.ids[i], meta, fused=score, similarity=similarity)))
        return found

    def _query_vector(self, query: str, context: str | None) -> Vector:
        qvec = self._embedder.embed_query(query)
        if not context:
            return qvec
        # The question leads; the initiative shifts the neighbourhood towards the team's situation.
        mixed = 0.85 * qvec + 0.15 * self._embedder.embed_query(context[:1000])
        normalised: Vector = (mixed / np.linalg.norm(mixed)).astype(np.float32)
        return normalised

    @staticmethod
    def _allowed(snap: _Snapshot, topics: Sequence[str] | None) -> set[int] | None:
        if not topics:
            return None
        allowed: set[int] = set()
        for topic in topics:
            allowed |= snap.topic_members.get(topic, set())
        return allowed

    def _dense(
        self,
        snap: _Snapshot,
        qvec: Vector,
        n: int,
        topics: Sequence[str] | None,
        candidates: dict[str, Candidate],
    ) -> None:
        neighbours = snap.collection.query(qvec, min(n, max(len(snap.ids), 1)), topics)
        for rank, hit in enumerate(neighbours):
            cid = hit.chunk_id
            cand = candidates.setdefault(cid, Candidate(cid, snap.metadatas[snap.position[cid]]))
            cand.fused += 1.0 / (self._settings.retrieval.rrf_k + rank + 1)
            cand.similarity = hit.similarity
            cand.vector = hit.vector

    @staticmethod
    def _fill_vectors(snap: _Snapshot, qvec: Vector, candidates: dict[str, Candidate]) -> None:
        missing = [cid for cid, c in candidates.items() if c.vector is None]
        if not missing:
            return
        got = snap.collection.get(missing, vectors=True)
        for cid, vec in zip(got.ids, got.vectors if got.vectors is not None else [], strict=True):
            candidates[cid].vector = vec
            candidates[cid].similarity = float(vec @ qvec)
