"""Ranking the candidates retrieval found: a candidate's fused score and vector, maximal marginal
relevance over them, and the passage a chosen one becomes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from advisor.types import Passage

if TYPE_CHECKING:
    from advisor.components.embedder import Vector


@dataclass
class Candidate:
    chunk_id: str
    metadata: dict[str, Any]
    fused: float = 0.0
    similarity: float | None = None
    vector: Vector | None = None
    lent: float = 0.0  # the similarity of a stored user question of its document that matched


def mmr(pool: list[Candidate], k: int, lam: float) -> list[Candidate]:
    """Maximal marginal relevance over fused scores, so one document cannot fill every slot.

    Vectorised: one similarity matrix for the pool, then each pick updates every candidate's
    redundancy at once (a candidate without a vector is redundant with nothing).
    """
    if not pool:
        return []
    ordered = sorted(pool, key=lambda c: c.fused, reverse=True)  # ties go to the better-ranked
    relevance = np.array([c.fused for c in ordered], dtype=np.float64) / ordered[0].fused
    with_vector = [i for i, c in enumerate(ordered) if c.vector is not None]
    similarity = np.full((len(ordered), len(ordered)), -np.inf)
    if with_vector:
        vectors = np.stack([ordered[i].vector for i in with_vector]).astype(np.float64)  # type: ignore[misc]
        similarity[np.ix_(with_vector, with_vector)] = vectors @ vectors.T
    redundancy = np.full(len(ordered), -np.inf)  # highest similarity to anything chosen so far
    gain = np.empty(len(ordered))
    chosen: list[int] = []
    for _ in range(min(k, len(ordered))):
        np.subtract(lam * relevance, (1 - lam) * np.where(np.isinf(redundancy), 0.0, redundancy), out=gain)
        gain[chosen] = -np.inf
        best = int(np.argmax(gain))
        chosen.append(best)
        np.maximum(redundancy, similarity[best], out=redundancy)
    return [ordered[i] for i in chosen]


def to_passage(c: Candidate) -> Passage:
    meta = c.metadata
    topics = tuple(t for t in meta.get("topics") or [] if t)
    return Passage(
        chunk_id=c.chunk_id,
        doc_id=str(meta.get("doc_id", "")),
        title=str(meta.get("title", "")),
        section=str(meta.get("section", "")),
        topics=topics,
        text=str(meta.get("text", "")),
        source=str(meta.get("source", "")),
        score=round(c.fused, 6),
        similarity=round(c.similarity or 0.0, 6),
    )
