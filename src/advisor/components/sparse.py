"""BM25 over chunk texts (Lucene variant, English stemming), rebuilt from the active collection.

Building from Chroma's stored documents keeps API replicas stateless: each one derives the
same sparse index from the shared vector store instead of shipping index files around.

A small numpy implementation rather than a library: the index is a term -> (chunk, weight)
postings table with every BM25 weight precomputed, so a query is one array addition per query
term. It scores exactly as bm25s's default (Lucene) method with the same tokeniser, without
importing numba and scipy at start-up or compiling anything on the first query.
"""

from __future__ import annotations

import re
import threading
from array import array
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import Stemmer

_WORD = re.compile(r"(?u)\b\w\w+\b")
# The English stop words of Lucene (and bm25s): only words too common to tell chunks apart.
_STOPWORDS = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their then there "
    "these they this to was will with".split()
)
_K1 = 1.5
_B = 0.75


@dataclass(frozen=True)
class SparseHit:
    index: int  # position in the texts the index was built from
    score: float


class SparseIndex:
    def __init__(self, texts: Sequence[str]) -> None:
        self._size = len(texts)
        self._stemmer = Stemmer.Stemmer("english")
        self._stem_lock = threading.Lock()  # a PyStemmer object is not safe to share between threads
        self._vocab: dict[str, int] = {}
        # Postings gathered per term, so they come out grouped by term without sorting millions of
        # entries (a 100k-chunk index has about six million): compact arrays, not Python lists.
        postings: list[tuple[array[int], array[float]]] = []
        lengths = np.zeros(self._size, dtype=np.float32)
        for doc, text in enumerate(texts):
            counts = Counter(self._tokens(text))
            lengths[doc] = sum(counts.values())
            for token, count in counts.items():
                term = self._vocab.setdefault(token, len(postings))
                if term == len(postings):
                    postings.append((array("i"), array("f")))
                postings[term][0].append(doc)
                postings[term][1].append(count)
        df = np.fromiter((len(p[0]) for p in postings), dtype=np.int64, count=len(postings))
        self._starts = np.concatenate(([0], np.cumsum(df))).astype(np.int64)
        self._docs: npt.NDArray[np.int32] = np.concatenate(
            [np.frombuffer(p[0], dtype=np.int32) for p in postings] or [np.zeros(0, dtype=np.int32)]
        )
        tf = np.concatenate(
            [np.frombuffer(p[1], dtype=np.float32) for p in postings] or [np.zeros(0, dtype=np.float32)]
        )
        del postings
        idf = np.log1p((self._size - df + 0.5) / (df + 0.5)).astype(np.float32)
        avg = float(lengths.mean()) if self._size else 1.0
        # weight = idf * tf / (tf + k1 * (1 - b + b * length / avg)), computed in place.
        weights = lengths[self._docs]
        weights *= _K1 * _B / (avg or 1.0)
        weights += _K1 * (1 - _B)
        weights += tf
        np.divide(tf, weights, out=weights)
        del tf
        weights *= np.repeat(idf, df)
        self._weights: npt.NDArray[np.float32] = weights

    def _tokens(self, text: str) -> list[str]:
        words = [w for w in _WORD.findall(text.lower()) if w not in _STOPWORDS]
        with self._stem_lock:
            stems: list[str] = self._stemmer.stemWords(words)
        return stems

    def __len__(self) -> int:
        return self._size

    def search(self, query: str, k: int, allowed: set[int] | None = None) -> list[SparseHit]:
        """Top-k chunks by BM25; ``allowed`` restricts results (e.g. to a topic filter)."""
        if not self._size or k <= 0:
            return []
        term_ids = [t for t in (self._vocab.get(tok) for tok in self._tokens(query)) if t is not None]
        if not term_ids:
            return []
        scores = np.zeros(self._size, dtype=np.float32)
        for term in term_ids:  # a repeated query word counts again, as in bm25s
            start, end = self._starts[term], self._starts[term + 1]
            scores[self._docs[start:end]] += self._weights[start:end]
        if allowed is not None:
            mask = np.zeros(self._size, dtype=bool)
            mask[np.fromiter(allowed, dtype=np.int64, count=len(allowed))] = True
            scores[~mask] = 0.0
        want = min(k, self._size)
        top = np.argpartition(-scores, want - 1)[:want] if want < self._size else np.arange(self._size)
        top = top[np.argsort(-scores[top], kind="stable")]
        return [SparseHit(int(i), float(scores[i])) for i in top if scores[i] > 0]
