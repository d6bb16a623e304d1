"""Vectors for the 10k and 100k corpora without hours of embedding on two CPU cores.

Synthetic chunks are made of real blocks (paragraphs and list items) of the bundled corpus, and
there are only about two thousand distinct ones. Each is embedded once with the real model and
cached on disk; a synthetic chunk's vector is the normalised mean of its blocks' vectors (lines the
cache does not know, such as a merged section's bold heading, are embedded with the real model).
The index then has the same size, dimension and topical clustering as a real one, which is what
search latency and memory depend on. Ingest *throughput* is measured with the real model only.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from advisor.components.embedder import Embedder, SentenceTransformerEmbedder, Vector
from advisor.settings import EmbeddingSettings
from benchmarks.corpus import source_blocks


class BlockVectorCache:
    def __init__(self, path: Path, embedder: Embedder) -> None:
        self._path = path
        self._embedder = embedder
        self._vectors: dict[str, Vector] = {}
        self.live_embedded = 0

    def load_or_build(self) -> float:
        """Fill the cache from disk, or embed every source block; returns the seconds spent embedding."""
        import time

        keys_path, data_path = self._path.with_suffix(".json"), self._path.with_suffix(".npy")
        blocks = source_blocks()
        if keys_path.is_file() and data_path.is_file():
            keys = json.loads(keys_path.read_text())
            if keys == blocks:
                data = np.load(data_path)
                self._vectors = dict(zip(keys, data, strict=True))
                return 0.0
        started = time.perf_counter()
        data = self._embedder.embed_documents(blocks)
        seconds = time.perf_counter() - started
        self._path.parent.mkdir(parents=True, exist_ok=True)
        keys_path.write_text(json.dumps(blocks))
        np.save(data_path, data)
        self._vectors = dict(zip(blocks, data, strict=True))
        return seconds

    def vector(self, text: str) -> Vector:
        # The first line is the "Title. Section." prefix the indexer adds; the rest are blocks.
        lines = [line.strip() for line in text.split("\n")[1:] if line.strip()]
        missing = [line for line in lines if line not in self._vectors]
        if missing:
            fresh = self._embedder.embed_documents(missing)
            self.live_embedded += len(missing)
            self._vectors.update(zip(missing, fresh, strict=True))
        if not lines:
            only: Vector = self._embedder.embed_documents([text])[0]
            return only
        mean = np.mean([self._vectors[line] for line in lines], axis=0)
        unit: Vector = (mean / np.linalg.norm(mean)).astype(np.float32)
        return unit


class BlockVectorEmbedder(SentenceTransformerEmbedder):
    """An embedder for the indexer only: documents get block-mean vectors, queries the real model."""

    def __init__(self, settings: EmbeddingSettings, cache: BlockVectorCache) -> None:
        super().__init__(settings)
        self._blocks = cache

    def embed_documents(self, texts: Sequence[str], show_progress: bool = False) -> Vector:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self._blocks.vector(t) for t in texts])
