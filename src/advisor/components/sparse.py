"""BM25 over chunk texts (bm25s, with English stemming), rebuilt from the active collection.

Building from Chroma's stored documents keeps API replicas stateless: each one derives the
same sparse index from the shared vector store instead of shipping index files around.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import bm25s
import Stemmer
from bm25s.tokenization import Tokenizer


@dataclass(frozen=True)
class SparseHit:
    index: int  # position in the texts the index was built from
    score: float


class SparseIndex:
    def __init__(self, texts: Sequence[str]) -> None:
        self._size = len(texts)
        self._tokenizer = Tokenizer(stopwords="en", stemmer=Stemmer.Stemmer("english").stemWord)
        self._bm25 = bm25s.BM25()
        if self._size:
            ids = self._tokenizer.tokenize(
                list(texts), return_as="ids", update_vocab=True, show_progress=False
            )
            self._bm25.index(ids, show_progress=False)

    def __len__(self) -> int:
        return self._size

    def search(self, query: str, k: int, allowed: set[int] | None = None) -> list[SparseHit]:
        """Top-k chunks by BM25; ``allowed`` restricts results (e.g. to a topic filter)."""
        if not self._size or k <= 0:
            return []
        tokens = self._tokenizer.tokenize([query], return_as="ids", update_vocab=False, show_progress=False)
        if not any(tokens[0]):
            return []
        # With a filter, ask for more so enough allowed hits survive.
        want = self._size if allowed is not None else min(k, self._size)
        docs, scores = self._bm25.retrieve(tokens, k=want, show_progress=False, n_threads=0)
        hits: list[SparseHit] = []
        for idx, score in zip(docs[0], scores[0], strict=True):
            if score <= 0:
                break
            if allowed is None or int(idx) in allowed:
                hits.append(SparseHit(int(idx), float(score)))
                if len(hits) == k:
                    break
        return hits
