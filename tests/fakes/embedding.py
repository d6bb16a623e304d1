"""A deterministic, model-free embedder for the fast test tier (implements advisor's ``Embedder``).

Feature hashing over words: a text is lower-cased, split into words, stripped of very common English
words and stemmed (Snowball English, as the BM25 index does); each stem and each pair of neighbouring
stems is hashed with BLAKE2b (stable across processes, unlike ``hash()``) to one of 384 buckets with
a sign, and the bucket counts are L2-normalised. Texts sharing words therefore have a positive cosine
similarity that grows with what they share; texts sharing none sit near zero. A text with no words
left (empty, or only stop words) gets one fixed unit vector.

Similarities are lower than a sentence model's for the same texts (a short question shares only a
few of a passage's words), so tests that use it lower the relevance floors (``RETRIEVAL_SETTINGS``).
"""

from __future__ import annotations

import hashlib
import itertools
import re
import threading
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import Stemmer

Vector = npt.NDArray[np.float32]

DIMENSION = 384
BIGRAM_WEIGHT = 0.5
_WORD = re.compile(r"[a-z0-9]+")
STOP_WORDS = frozenset(
    """a about after all also an and any are as at be been before being but by can could did do does
    doing for from had has have having he her here hers him his how i if in into is it its itself just
    me more most my no nor not of off on once only or other our ours out over own same she should so
    some such than that the their theirs them then there these they this those through to too under
    until up very was we were what when where which while who whom why will with would you your yours
    yourself s t""".split()
)
# Retrieval settings for tests on these vectors: the defaults are calibrated on the sentence model.
RETRIEVAL_SETTINGS = {"min_similarity": 0.05, "unknown_name_floor": 0.1}

_stemmer_lock = threading.Lock()
_stemmer = Stemmer.Stemmer("english")


@lru_cache(maxsize=200_000)
def _bucket(feature: str) -> tuple[int, float]:
    digest = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "little")
    return digest % DIMENSION, 1.0 if (digest >> 63) & 1 else -1.0


def _empty_vector() -> Vector:
    vector = np.zeros(DIMENSION, dtype=np.float32)
    vector[0] = 1.0
    vector.setflags(write=False)
    return vector


_EMPTY = _empty_vector()


def stems(text: str) -> list[str]:
    words = [w for w in _WORD.findall(text.lower()) if w not in STOP_WORDS]
    with _stemmer_lock:  # a PyStemmer Stemmer is not safe to share between threads
        return list(_stemmer.stemWords(words))


class HashingEmbedder:
    """Implements ``advisor.components.embedder.Embedder`` without a model: fast and deterministic."""

    model_name = f"hashing-{DIMENSION}"

    @property
    def loaded(self) -> bool:
        return True

    @property
    def dimension(self) -> int:
        return DIMENSION

    def load(self) -> None:
        return None

    def embed_documents(self, texts: Sequence[str], show_progress: bool = False) -> Vector:
        out = np.empty((len(texts), DIMENSION), dtype=np.float32)
        for row, text in enumerate(texts):
            out[row] = self._embed(text)
        return out

    def embed_query(self, text: str) -> Vector:
        vector = self._embed(text)
        vector.setflags(write=False)
        return vector

    @staticmethod
    def _embed(text: str) -> Vector:
        words = stems(text)
        features = [_bucket(w) for w in words]
        bigrams = (_bucket(f"{a} {b}") for a, b in itertools.pairwise(words))
        features += [(bucket, sign * BIGRAM_WEIGHT) for bucket, sign in bigrams]
        if not features:
            return _EMPTY.copy()
        buckets, weights = zip(*features, strict=True)
        vector = np.bincount(buckets, weights=weights, minlength=DIMENSION)
        norm = float(np.linalg.norm(vector))
        if norm == 0.0:  # every feature cancelled out: as good as no words
            return _EMPTY.copy()
        unit: Vector = (vector / norm).astype(np.float32)
        return unit
