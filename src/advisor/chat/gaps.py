"""Knowledge gaps: the questions Advisor abstained on, answered without grounding, or that users rated
down, clustered by meaning (the embedding model, then scikit-learn's agglomerative clustering), each
cluster with its nearest documents, the taxonomy topic it falls under and the document it suggests
writing. `advisor gaps` prints it; the admin console shows the same report."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from advisor.components.embedder import Embedder
    from advisor.retrieval.retriever import Retriever
    from advisor.store.records import GapQuestion

# Questions closer than this (cosine distance, average linkage) share a cluster. On the nine groups of
# tests/chat/test_gap_clusters.py (MiniLM), adjusted Rand index 0.23 at 0.45, 0.69 at 0.6, 0.75 at
# 0.65, 0.79 at 0.7; but unrelated questions came as close as 0.65, so no further.
_DISTANCE = 0.65
# A nearest document this similar covers the subject: the gap is in that document, not a new one.
_NEAR_DOCUMENT = 0.55
# Below this, no document and no topic description is near: the questions are likely out of scope.
_RELATED = 0.3


@dataclass(frozen=True)
class NearDocument:
    doc_id: str
    title: str
    similarity: float
    topic: str = ""  # its primary topic


@dataclass
class GapCluster:
    size: int
    examples: list[str]  # the most typical first
    reasons: dict[str, int]
    topic: str  # "" when nothing in the taxonomy is near
    nearest: list[NearDocument] = field(default_factory=list)
    suggestion: str = ""


@dataclass
class GapReport:
    since: datetime
    questions: int
    clusters: list[GapCluster]

    def as_dict(self) -> dict[str, object]:
        return {
            "since": self.since.isoformat(),
            "questions": self.questions,
            "clusters": [asdict(c) for c in self.clusters],
        }


def find_gaps(
    questions: list[GapQuestion],
    embedder: Embedder,
    retriever: Retriever,
    topics: dict[str, str],
    since: datetime,
) -> GapReport:
    """Cluster ``questions`` and describe each cluster, largest first."""
    if not questions:
        return GapReport(since, 0, [])
    texts = [q.question for q in questions]
    vectors = _unit(np.asarray(embedder.embed_documents(texts), dtype=np.float64))
    labels = _cluster(vectors)
    topic_ids = list(topics)
    topic_vectors = _unit(
        np.asarray(embedder.embed_documents([f"{t}: {topics[t]}" for t in topic_ids]), dtype=np.float64)
    )
    clusters = []
    for label in sorted(set(labels), key=lambda lab: -int(np.sum(labels == lab))):
        members = np.flatnonzero(labels == label)
        centre = _unit(vectors[members].mean(axis=0, keepdims=True))[0]
        typical = members[np.argsort(-(vectors[members] @ centre))]
        examples = list(dict.fromkeys(texts[i] for i in typical))[:3]
        reasons = dict(Counter(questions[i].reason for i in members).most_common())
        nearest = _nearest_documents(retriever, examples[0])
        # The topic of the nearest document when one is related, else the nearest topic description.
        scores = topic_vectors @ centre
        if nearest and nearest[0].similarity >= _RELATED and nearest[0].topic:
            topic = nearest[0].topic
        else:
            topic = topic_ids[int(np.argmax(scores))] if float(scores.max()) >= _RELATED else ""
        suggestion = _suggest(examples[0], topic, nearest)
        clusters.append(GapCluster(len(members), examples, reasons, topic, nearest, suggestion))
    return GapReport(since, len(questions), clusters)


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1.0, norms)


def _cluster(vectors: np.ndarray) -> np.ndarray:
    if len(vectors) == 1:
        return np.zeros(1, dtype=int)
    from sklearn.cluster import AgglomerativeClustering

    model = AgglomerativeClustering(
        n_clusters=None, distance_threshold=_DISTANCE, metric="cosine", linkage="average"
    )
    return np.asarray(model.fit_predict(vectors))


def _nearest_documents(retriever: Retriever, question: str) -> list[NearDocument]:
    found = retriever.retrieve_passages(question, 8)
    best: dict[str, NearDocument] = {}
    for passage in found.passages:
        if passage.doc_id not in best:
            topic = passage.topics[0] if passage.topics else ""
            best[passage.doc_id] = NearDocument(
                passage.doc_id, passage.title, round(passage.similarity, 3), topic
            )
    return sorted(best.values(), key=lambda d: -d.similarity)[:3]


def _suggest(example: str, topic: str, nearest: list[NearDocument]) -> str:
    if nearest and nearest[0].similarity >= _NEAR_DOCUMENT:
        return (
            f'Extend "{nearest[0].title}": it is close to questions such as "{example}" but did not answer '
            "them well; add the missing section or its warning signs and first steps."
        )
    if not topic and not any(d.similarity >= _RELATED for d in nearest):
        return (
            f'Likely out of scope: nothing in the guidance or its topics is near "{example}". If such '
            "questions belong to Advisor, declare a topic in topics.yaml and write a document for it."
        )
    return f'Write a document under {topic or "a new topic"} that answers questions such as "{example}".'
