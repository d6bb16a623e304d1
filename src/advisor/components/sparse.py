"""BM25 over chunk texts (bm25s, with English stemming).

Built at ingest from the collection's stored texts and saved with bm25s's own format (see
advisor.retrieval.index_contents), so a replica loads it instead of re-tokenising every chunk.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import bm25s
import Stemmer
from bm25s.tokenization import Tokenizer


@dataclass(frozen=True)
class SparseHit:
    index: int  # position in the texts the index was built from
    score: float


def _tokenizer() -> Tokenizer:
    return Tokenizer(stopwords="en", stemmer=Stemmer.Stemmer("english").stemWord)


class SparseIndex:
    def __init__(self, texts: Sequence[str]) -> None:
        self._size = len(texts)
        self._tokenizer = _tokenizer()
        self._bm25 = bm25s.BM25()
        if self._size:
            ids = self._tokenizer.tokenize(
                list(texts), return_as="ids", update_vocab=True, show_progress=False
            )
            self._bm25.index(ids, show_progress=False)

    def __len__(self) -> int:
        return self._size

    def save(self, directory: Path) -> None:
        """The index and the tokenizer's vocabulary, as bm25s writes them, into ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)
        if self._size:
            # Indexed from token ids, bm25s keys its vocabulary by int, which its JSON writer
            # refuses: save it keyed by the id's text, and turn the keys back on load.
            by_id = self._bm25.vocab_dict
            self._bm25.vocab_dict = {str(token_id): i for token_id, i in by_id.items()}
            try:
                self._bm25.save(str(directory), show_progress=False)
            finally:
                self._bm25.vocab_dict = by_id
            self._tokenizer.save_vocab(str(directory))

    @classmethod
    def load(cls, directory: Path, size: int) -> SparseIndex:
        """An index saved by ``save`` over ``size`` texts; searches exactly like the original."""
        index = cls([])
        index._size = size
        if size:
            bm25 = bm25s.BM25.load(str(directory), show_progress=False)
            bm25.vocab_dict = {int(token_id): i for token_id, i in bm25.vocab_dict.items()}
            index._bm25 = bm25
            index._tokenizer.load_vocab(str(directory))
        return index

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
