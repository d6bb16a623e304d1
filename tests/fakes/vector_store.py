"""An in-memory vector store for the fast test tier (implements advisor's ``VectorStore``).

Brute-force cosine search with numpy over each collection's rows. It keeps the contract the Chroma
adapter keeps (see advisor.components.vector_store, proven by tests/components/
test_vector_store_contract.py): rows in insertion order, also when ``get`` is given ids (it returns the
rows of the ids stored, in insertion order, not in the order of the ids given), re-added ids ignored, ``query`` best first with similarity = 1 -
cosine distance, the ``topics`` filter as "the chunk's topics list holds any of them", and
``CollectionNotFoundError`` for an unknown name or a deleted collection. Like Chroma it checks
collection names (3-512 characters of ``[a-zA-Z0-9._-]``, starting and ending alphanumeric) and
refuses duplicate ids within one ``add`` and vectors of another dimension.

Every operation holds a lock, so an ingest and searches may run from several threads.
"""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Sequence

import numpy as np

from advisor.components.embedder import Vector
from advisor.components.vector_store import (
    ChunkMetadata,
    CollectionExistsError,
    CollectionNotFoundError,
    MetadataValue,
    Neighbour,
    StoredChunks,
    VectorStoreError,
)

_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._-]{1,510}[a-zA-Z0-9]$")


class InMemoryCollection:
    def __init__(self, name: str, model: str, dimension: int) -> None:
        self._name = name
        self.model = model
        self.dimension = dimension
        self._lock = threading.Lock()
        self._dropped = False
        self._ids: list[str] = []
        self._row: dict[str, int] = {}
        self._documents: list[str] = []
        self._metadatas: list[dict[str, MetadataValue]] = []
        self._blocks: list[Vector] = []  # added batches, joined into _matrix when read
        self._matrix = np.zeros((0, dimension), dtype=np.float32)

    @property
    def name(self) -> str:
        return self._name

    def drop(self) -> None:
        with self._lock:
            self._dropped = True

    def add(
        self,
        ids: Sequence[str],
        vectors: Vector,
        documents: Sequence[str],
        metadatas: Sequence[ChunkMetadata],
    ) -> None:
        batch = np.asarray(vectors, dtype=np.float32)
        if not len(ids) == len(batch) == len(documents) == len(metadatas):
            raise ValueError(
                f"add needs as many vectors ({len(batch)}), documents ({len(documents)}) and "
                f"metadatas ({len(metadatas)}) as ids ({len(ids)})"
            )
        if not ids:
            return
        if batch.ndim != 2 or batch.shape[1] != self.dimension:
            raise ValueError(f"vectors of shape {batch.shape}; collection dimension is {self.dimension}")
        if len(set(ids)) != len(ids):
            raise ValueError("add got the same id more than once")
        with self._lock:
            self._check()
            fresh = [i for i, cid in enumerate(ids) if cid not in self._row]  # re-added ids: ignored
            for i in fresh:
                self._row[ids[i]] = len(self._ids)
                self._ids.append(ids[i])
                self._documents.append(documents[i])
                self._metadatas.append(_copy_metadata(metadatas[i]))
            if fresh:
                self._blocks.append(batch[fresh].copy())

    def count(self) -> int:
        with self._lock:
            self._check()
            return len(self._ids)

    def get(
        self,
        ids: Sequence[str] | None = None,
        *,
        limit: int | None = None,
        offset: int = 0,
        vectors: bool = False,
        documents: bool = False,
        metadatas: bool = False,
    ) -> StoredChunks:
        if offset < 0 or (limit is not None and limit < 0):
            raise ValueError("offset and limit must not be negative")
        stop = None if limit is None else offset + limit
        with self._lock:
            self._check()
            if ids is None:
                rows = list(range(len(self._ids)))[offset:stop]
            else:
                rows = sorted({self._row[cid] for cid in ids if cid in self._row})[offset:stop]
            return StoredChunks(
                ids=[self._ids[r] for r in rows],
                vectors=self._joined()[rows].copy() if vectors else None,
                documents=[self._documents[r] for r in rows] if documents else None,
                metadatas=[_copy_metadata(self._metadatas[r]) for r in rows] if metadatas else None,
            )

    def query(self, vector: Vector, n: int, topics: Sequence[str] | None = None) -> list[Neighbour]:
        if n < 1:
            return []
        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        with self._lock:
            self._check()
            matrix = self._joined()
            rows = np.arange(len(self._ids))
            if topics:
                wanted = set(topics)
                rows = np.array(
                    [r for r in rows if not wanted.isdisjoint(_topics(self._metadatas[r]))], dtype=np.int64
                )
            if not len(rows):
                return []
            candidates = matrix[rows]
            norms = np.linalg.norm(candidates, axis=1) * max(float(np.linalg.norm(query)), 1e-12)
            similarity = (candidates @ query) / np.maximum(norms, 1e-12)
            best = np.argsort(-similarity, kind="stable")[:n]  # ties: the earlier row first
            return [Neighbour(self._ids[rows[i]], float(similarity[i]), candidates[i].copy()) for i in best]

    def _joined(self) -> Vector:
        if self._blocks:
            self._matrix = np.concatenate([self._matrix, *self._blocks])
            self._blocks = []
        return self._matrix

    def _check(self) -> None:
        if self._dropped:
            raise CollectionNotFoundError(f"collection {self._name!r} does not exist")


class InMemoryVectorStore:
    """Implements ``advisor.components.vector_store.VectorStore`` in memory.

    ``collection_prefix`` plays ``chroma.collection_prefix``: ``list_collection_names`` lists only the
    collections named ``<prefix>-...``.
    """

    def __init__(self, collection_prefix: str = "advisor") -> None:
        self._prefix = collection_prefix + "-"
        self._lock = threading.Lock()
        self._collections: dict[str, InMemoryCollection] = {}

    def create_collection(self, name: str, model: str, dimension: int) -> InMemoryCollection:
        if not _NAME.match(name):
            raise VectorStoreError(f"invalid collection name {name!r}")
        with self._lock:
            if name in self._collections:
                raise CollectionExistsError(f"collection {name!r} already exists")
            collection = self._collections[name] = InMemoryCollection(name, model, dimension)
            return collection

    def get_collection(self, name: str) -> InMemoryCollection:
        with self._lock:
            try:
                return self._collections[name]
            except KeyError:
                raise CollectionNotFoundError(f"collection {name!r} does not exist") from None

    def list_collection_names(self) -> list[str]:
        with self._lock:
            return [name for name in self._collections if name.startswith(self._prefix)]

    def delete_collection(self, name: str) -> None:
        with self._lock:
            collection = self._collections.pop(name, None)
        if collection is not None:
            collection.drop()

    def heartbeat(self) -> bool:
        return True


def _topics(metadata: dict[str, MetadataValue]) -> list[str]:
    value = metadata.get("topics")
    return value if isinstance(value, list) else []


def _copy_metadata(metadata: ChunkMetadata) -> dict[str, MetadataValue]:
    """A private copy: callers may change what they passed in or got back."""
    return {key: copy.copy(value) for key, value in metadata.items()}
