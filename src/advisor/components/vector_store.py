"""Vector storage behind a small seam: retrieval and ingest see only ``VectorStore`` and
``VectorCollection``, in Advisor's own terms. ``ChromaVectorStore`` implements them with Chroma (an
embedded persistent client by default, a Chroma server in http mode); the fast test tier swaps in an
in-memory store (tests/fakes/vector_store.py) that passes the same contract tests.

The contract every implementation keeps (tests/components/test_vector_store_contract.py):

* Collections are created empty, for vectors of one dimension compared by cosine similarity; the
  store never embeds anything itself (the caller does).
* ``add`` keeps rows in insertion order; adding an id the collection already holds is ignored (the
  stored row stays, as in Chroma).
* ``get`` returns rows in insertion order, paged by ``offset`` and ``limit``. Given ids, it returns the
  rows of those ids that are stored, still in insertion order (not the order of the ids given; each
  row once, unknown ids left out), and ``offset`` and ``limit`` page through those rows. This is
  Chroma's own order; the indexer copies rows in it, so a copied collection is laid out as before.
* ``query`` returns up to ``n`` neighbours, most similar first, with similarity = 1 - cosine distance;
  ``topics`` keeps only chunks whose ``topics`` metadata list holds any of them (None or empty: all).
* An unknown collection name, or a collection used after it was deleted, raises
  ``CollectionNotFoundError``; creating a name that exists raises ``CollectionExistsError``.
"""

from __future__ import annotations

import shutil
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, cast

import numpy as np

from advisor.settings import Settings

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection
    from chromadb.api.types import Include, Metadata, Where

    from advisor.components.embedder import Vector

# A chunk's metadata: scalars, and lists of strings (its topics).
MetadataValue = str | int | float | bool | list[str]
ChunkMetadata = Mapping[str, MetadataValue]


class VectorStoreError(RuntimeError):
    pass


class CollectionNotFoundError(VectorStoreError):
    """No collection of that name (never created, or deleted since)."""


class CollectionExistsError(VectorStoreError):
    """A collection of that name exists already."""


@dataclass(frozen=True, eq=False)
class StoredChunks:
    """Rows read from a collection; a field not asked for is None."""

    ids: list[str]
    vectors: Vector | None = None  # float32, shape (len(ids), dimension)
    documents: list[str] | None = None
    metadatas: list[dict[str, MetadataValue]] | None = None


@dataclass(frozen=True, eq=False)
class Neighbour:
    chunk_id: str
    similarity: float  # 1 - cosine distance
    vector: Vector  # the stored vector, float32


class VectorCollection(Protocol):
    """One index collection: chunk ids, each with a vector, a document (the embedded text) and metadata."""

    @property
    def name(self) -> str: ...

    def add(
        self,
        ids: Sequence[str],
        vectors: Vector,
        documents: Sequence[str],
        metadatas: Sequence[ChunkMetadata],
    ) -> None:
        """Store rows; ``vectors`` is 2-D, one row per id."""
        ...

    def count(self) -> int: ...

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
        """Rows in insertion order; given ``ids``, only the rows of those ids (see the module doc)."""
        ...

    def query(self, vector: Vector, n: int, topics: Sequence[str] | None = None) -> list[Neighbour]:
        """The ``n`` stored vectors most similar to ``vector``, best first; none when ``n`` < 1."""
        ...


class VectorStore(Protocol):
    def create_collection(self, name: str, model: str, dimension: int) -> VectorCollection: ...

    def get_collection(self, name: str) -> VectorCollection: ...

    def list_collection_names(self) -> list[str]:
        """Advisor's collections: those named with the configured prefix."""
        ...

    def delete_collection(self, name: str) -> None:
        """Best-effort: deleting a collection that is not there does nothing."""
        ...

    def heartbeat(self) -> bool: ...


def _topic_where(topics: Sequence[str] | None) -> Where | None:
    """Chroma's filter for chunks whose ``topics`` list holds any of ``topics``."""
    if not topics:
        return None
    clauses = [cast("Where", {"topics": {"$contains": t}}) for t in topics]
    return clauses[0] if len(clauses) == 1 else {"$or": clauses}


@contextmanager
def _chroma_errors(name: str) -> Iterator[None]:
    """Chroma's not-found error as ours, so no caller needs Chroma's exception types."""
    try:
        yield
    except Exception as exc:
        from chromadb.errors import NotFoundError

        if isinstance(exc, NotFoundError):
            raise CollectionNotFoundError(f"collection {name!r} does not exist") from exc
        raise


class ChromaCollection:
    """A Chroma collection in VectorCollection's terms."""

    def __init__(self, collection: Collection) -> None:
        self._collection = collection
        dimension = (collection.metadata or {}).get("dimension")
        self._dimension = dimension if isinstance(dimension, int) else 0

    @property
    def name(self) -> str:
        return self._collection.name

    def add(
        self,
        ids: Sequence[str],
        vectors: Vector,
        documents: Sequence[str],
        metadatas: Sequence[ChunkMetadata],
    ) -> None:
        if not ids:
            return
        with _chroma_errors(self.name):
            self._collection.add(
                ids=list(ids),
                embeddings=vectors,
                documents=list(documents),
                metadatas=[cast("Metadata", m) for m in metadatas],
            )

    def count(self) -> int:
        with _chroma_errors(self.name):
            return int(self._collection.count())

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
        include: Include = []
        if vectors:
            include.append("embeddings")
        if documents:
            include.append("documents")
        if metadatas:
            include.append("metadatas")
        # Chroma refuses an empty id list, and the same id twice.
        wanted = None if ids is None else list(dict.fromkeys(ids))
        got_ids: list[str] = []
        got_vectors: object = None
        got_documents: Sequence[str | None] = []
        got_metadatas: Sequence[Mapping[str, object] | None] = []
        if wanted != []:
            with _chroma_errors(self.name):
                got = self._collection.get(ids=wanted, limit=limit, offset=offset, include=include)
            got_ids = list(got["ids"])
            got_vectors = got["embeddings"]
            got_documents = got["documents"] or []
            got_metadatas = got["metadatas"] or []
        matrix: Vector | None = None
        if vectors:
            matrix = np.zeros((0, self._dimension), dtype=np.float32)
            if got_ids and got_vectors is not None:
                matrix = np.asarray(got_vectors, dtype=np.float32)
        return StoredChunks(
            ids=got_ids,
            vectors=matrix,
            documents=[d or "" for d in got_documents] if documents else None,
            metadatas=(
                [cast("dict[str, MetadataValue]", dict(m or {})) for m in got_metadatas]
                if metadatas
                else None
            ),
        )

    def query(self, vector: Vector, n: int, topics: Sequence[str] | None = None) -> list[Neighbour]:
        if n < 1:  # Chroma refuses n_results < 1
            return []
        with _chroma_errors(self.name):
            res = self._collection.query(
                query_embeddings=vector.reshape(1, -1),
                n_results=n,
                where=_topic_where(topics),
                include=["distances", "embeddings"],
            )
        ids = res["ids"][0] if res["ids"] else []
        distances = (res["distances"] or [[]])[0]
        embeddings = (res["embeddings"] or [[]])[0]
        return [
            Neighbour(cid, 1.0 - float(dist), np.asarray(emb, dtype=np.float32))
            for cid, dist, emb in zip(ids, distances, embeddings, strict=True)
        ]


class ChromaVectorStore:
    """Owns the Chroma client; collections are created without an embedding function (we embed)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._client: ClientAPI | None = None
        self._lock = threading.Lock()

    @property
    def client(self) -> ClientAPI:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._connect()
        return self._client

    def _connect(self) -> ClientAPI:
        import chromadb
        from chromadb.config import Settings as ChromaClientSettings

        client_settings = ChromaClientSettings(anonymized_telemetry=False, allow_reset=False)
        cfg = self._settings.chroma
        try:
            if cfg.mode == "http":
                return chromadb.HttpClient(
                    host=cfg.host, port=cfg.port, ssl=cfg.ssl, settings=client_settings
                )
            path = self._settings.chroma_path
            path.mkdir(parents=True, exist_ok=True)
            return chromadb.PersistentClient(path=str(path), settings=client_settings)
        except Exception as exc:  # chromadb raises several unrelated types on connect
            where = f"{cfg.host}:{cfg.port}" if cfg.mode == "http" else str(self._settings.chroma_path)
            raise VectorStoreError(f"cannot open Chroma ({cfg.mode}) at {where}: {exc}") from exc

    def create_collection(self, name: str, model: str, dimension: int) -> ChromaCollection:
        client = self.client
        try:
            collection = client.create_collection(
                name,
                embedding_function=None,
                configuration={"hnsw": {"space": "cosine", "ef_search": self._settings.chroma.ef_search}},
                metadata={"model": model, "dimension": dimension},
            )
        except Exception as exc:
            if "already exists" in str(exc):  # Chroma raises a generic error type for this
                raise CollectionExistsError(f"collection {name!r} already exists") from exc
            raise
        return ChromaCollection(collection)

    def get_collection(self, name: str) -> ChromaCollection:
        client = self.client
        with _chroma_errors(name):
            return ChromaCollection(client.get_collection(name, embedding_function=None))

    def list_collection_names(self) -> list[str]:
        prefix = self._settings.chroma.collection_prefix + "-"
        return [c.name for c in self.client.list_collections() if c.name.startswith(prefix)]

    def delete_collection(self, name: str) -> None:
        segment_dirs = self._segment_dirs(name)
        try:
            self.client.delete_collection(name)
        except Exception:  # already gone: deleting is best-effort clean-up
            return
        # Chroma's persistent mode drops the collection but leaves its vector index files on disk
        # (chroma-core/chroma#5520), so every re-index would leak a directory.
        for path in segment_dirs:
            shutil.rmtree(path, ignore_errors=True)

    def _segment_dirs(self, name: str) -> list[Path]:
        """The directories holding ``name``'s segments in persistent mode; empty when unknown."""
        if self._settings.chroma.mode != "persistent":
            return []
        root = self._settings.chroma_path
        try:
            collection_id = str(self.client.get_collection(name, embedding_function=None).id)
            uri = (root / "chroma.sqlite3").resolve().as_uri() + "?mode=ro"
            with closing(sqlite3.connect(uri, uri=True)) as db:
                rows = db.execute("SELECT id FROM segments WHERE collection = ?", (collection_id,)).fetchall()
        except Exception:  # not there, or a Chroma layout we do not know: leave the files alone
            return []
        return [path for (segment_id,) in rows if (path := root / str(segment_id)).is_dir()]

    def heartbeat(self) -> bool:
        try:
            self.client.heartbeat()
            return True
        except Exception:
            return False
