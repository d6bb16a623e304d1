"""Chroma access: embedded persistent client by default, a Chroma server in http mode."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

from advisor.settings import Settings

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection


class VectorStoreError(RuntimeError):
    pass


class VectorStore:
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

    def create_collection(self, name: str, model: str, dimension: int) -> Collection:
        return self.client.create_collection(
            name,
            embedding_function=None,
            configuration={"hnsw": {"space": "cosine"}},
            metadata={"model": model, "dimension": dimension},
        )

    def get_collection(self, name: str) -> Collection:
        return self.client.get_collection(name, embedding_function=None)

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
            collection_id = str(self.get_collection(name).id)
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
