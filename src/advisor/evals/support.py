"""Does a passage support an answer sentence? An offline test (no LLM judge) that combines the
embedding model's cosine similarity with stemmed token overlap, each with a threshold calibrated on
the labelled sentence/passage pairs that ship with the suite."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from advisor.compose.extractive import terms
from advisor.compose.grounding import cited_numbers

if TYPE_CHECKING:
    from advisor.components.embedder import Embedder
    from advisor.evals.datasets import SupportPair

_MARKERS = re.compile(r"\s*\[\d{1,3}(?:\s*,\s*\d{1,3})*\]")
_LIST_LEAD = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_MARKUP = re.compile(r"\*\*|__|`|^#+\s*")
# A sentence ends at . ! ? or an ellipsis, optionally followed by its citation markers.
_SENTENCE_END = re.compile(r"(?<=[.!?…])((?:\s*\[\d{1,3}(?:\s*,\s*\d{1,3})*\])*)\s+(?=[A-Z0-9\"'(*])")
# Conversation management, not a claim about AI delivery: needs no source. Kept short on purpose;
# anything else with enough content words must be supported.
_FRAMING = re.compile(
    r"^(ask a follow-up|the guidance below|here (is|are)|i can't|i cannot|i can not|i won't|"
    r"let me know|hope this helps|in short|to summari[sz]e)",
    re.IGNORECASE,
)
_MIN_CLAIM_TERMS = 4
_UNITS_COMPARED = 4
_PLAIN_WORDS = re.compile(r"[a-z0-9]+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def numbers(text: str) -> set[str]:
    """Figures in a text ("1,000" and "1000" alike): a claim's figures must appear in its sources."""
    return {n.replace(",", "") for n in _NUMBER.findall(text)}


@dataclass(frozen=True)
class Statement:
    """One answer sentence with the citation numbers that apply to it."""

    text: str  # plain text, markers and markup removed
    cited: tuple[int, ...]
    needs_support: bool


def statements(answer: str) -> list[Statement]:
    """Split an answer into sentences. A sentence without markers inherits the markers that close its
    line ("**Do X.** Because Y. [2]" cites [2] for both), as a reader would attribute them."""
    found: list[Statement] = []
    for raw_line in answer.splitlines():
        line = _MARKUP.sub("", _LIST_LEAD.sub("", raw_line)).strip()
        if not line:
            continue
        pieces: list[str] = []
        start = 0
        for match in _SENTENCE_END.finditer(line):
            pieces.append(line[start : match.end(1)])
            start = match.end()
        pieces.append(line[start:])
        line_markers = tuple(cited_numbers(pieces[-1]))
        for piece in pieces:
            text = _MARKERS.sub("", piece).strip()
            if not text:
                continue
            cited = tuple(cited_numbers(piece)) or line_markers
            claim = len(terms(text)) >= _MIN_CLAIM_TERMS and not _FRAMING.match(text)
            found.append(Statement(text, cited, bool(cited) or claim))
    return found


def passage_units(passage: str) -> list[str]:
    """The passage and its sentences: a short claim is compared with the sentence that states it."""
    plain = " ".join(_MARKUP.sub("", _LIST_LEAD.sub("", line)) for line in passage.splitlines()).strip()
    units = [s.strip() for s in re.split(r"(?<=[.!?])\s+", plain) if len(s.strip()) > 20]
    return [plain, *units] if plain else []


@dataclass(frozen=True)
class SupportThresholds:
    cosine: float
    overlap: float
    accuracy: float = 0.0  # on the labelled pairs, at these thresholds
    pairs: int = 0

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> SupportThresholds:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                float(data["cosine"]),
                float(data["overlap"]),
                float(data.get("accuracy", 0.0)),
                int(data.get("pairs", 0)),
            )
        except FileNotFoundError:
            raise ValueError(f"{path}: no calibration yet: run `advisor eval --calibrate`") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}: invalid calibration file ({exc})") from None


def quotes(sentence: str, passages: Sequence[str]) -> bool:
    """Whether the sentence (words only) appears verbatim in one of the passages."""
    words = " ".join(_PLAIN_WORDS.findall(sentence.lower()))
    return len(words) > 20 and any(words in " ".join(_PLAIN_WORDS.findall(p.lower())) for p in passages)


class SupportTest:
    """Scores (sentence, passages) pairs; embeddings are cached, as passages recur across answers."""

    def __init__(self, embedder: Embedder, thresholds: SupportThresholds | None = None) -> None:
        self._embedder = embedder
        self._cache: dict[str, np.ndarray] = {}
        self._terms_cache: dict[str, set[str]] = {}
        self.thresholds = thresholds

    def _vectors(self, texts: Sequence[str]) -> list[np.ndarray]:
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            for text, vec in zip(missing, self._embedder.embed_documents(missing), strict=True):
                self._cache[text] = np.asarray(vec, dtype=np.float32)
        return [self._cache[t] for t in texts]

    def prefetch(self, sentences: Sequence[str], passages: Sequence[str]) -> None:
        """Embed everything in a few large batches instead of many small ones."""
        units = [u for p in dict.fromkeys(passages) for u in passage_units(p)]
        self._vectors([*dict.fromkeys(sentences), *units])

    def _terms(self, text: str) -> set[str]:
        if text not in self._terms_cache:
            self._terms_cache[text] = terms(text)
        return self._terms_cache[text]

    def overlap(self, sentence: str, passages: Sequence[str]) -> float:
        """Share of the sentence's stemmed content words found in the union of the passages."""
        wanted = self._terms(sentence)
        if not wanted:
            return 0.0
        have: set[str] = set()
        for p in passages:
            have |= self._terms(p)
        return len(wanted & have) / len(wanted)

    def cosine(self, sentence: str, passages: Sequence[str]) -> float:
        """Best cosine similarity between the sentence and any passage or passage sentence."""
        units = [u for p in passages for u in passage_units(p)]
        if not units:
            return 0.0
        # Only the units sharing the most words with the sentence can state it: embed those alone.
        wanted = self._terms(sentence)
        units = sorted(units, key=lambda u: len(wanted & self._terms(u)), reverse=True)[:_UNITS_COMPARED]
        svec, *uvecs = self._vectors([sentence, *units])
        return max(float(svec @ u) for u in uvecs)

    def features(self, sentence: str, passages: Sequence[str]) -> tuple[float, float]:
        return self.cosine(sentence, passages), self.overlap(sentence, passages)

    def supports(self, sentence: str, passages: Sequence[str]) -> bool:
        """Figures must appear in the passages, then the cheap overlap test must pass; a verbatim
        quote is supported as it stands, anything else also needs the embedding similarity."""
        if self.thresholds is None:
            raise RuntimeError("support test used before calibration")
        if not passages:
            return False
        if not numbers(sentence) <= set().union(*(numbers(p) for p in passages)):
            return False  # a figure the sources do not give is never supported
        if self.overlap(sentence, passages) < self.thresholds.overlap:
            return False
        if quotes(sentence, passages):
            return True
        return self.cosine(sentence, passages) >= self.thresholds.cosine


def calibrate(test: SupportTest, pairs: Sequence[SupportPair]) -> SupportThresholds:
    """Grid-search both thresholds for the best accuracy on the labelled pairs (ties: the
    better-balanced accuracy, then the stricter thresholds)."""
    if not pairs or all(p.supported for p in pairs) or not any(p.supported for p in pairs):
        raise ValueError("calibration needs both supported and unsupported pairs")
    test.prefetch([p.sentence for p in pairs], [p.passage for p in pairs])
    feats = np.array([test.features(p.sentence, [p.passage]) for p in pairs])
    figures_ok = np.array([numbers(p.sentence) <= numbers(p.passage) for p in pairs])
    quoted = np.array([quotes(p.sentence, [p.passage]) for p in pairs])
    labels = np.array([p.supported for p in pairs])
    best: tuple[float, float, float, float] = (-1.0, -1.0, 0.0, 0.0)
    for cos in np.round(np.arange(0.0, 1.0001, 0.01), 2):
        for ov in np.round(np.arange(0.0, 1.0001, 0.02), 2):
            predicted = figures_ok & (feats[:, 1] >= ov) & (quoted | (feats[:, 0] >= cos))
            acc = float((predicted == labels).mean())
            balanced = float((predicted[labels].mean() + (~predicted[~labels]).mean()) / 2)
            if (acc, balanced) > best[:2] or ((acc, balanced) == best[:2] and cos + ov > best[2] + best[3]):
                best = (acc, balanced, float(cos), float(ov))
    return SupportThresholds(cosine=best[2], overlap=best[3], accuracy=round(best[0], 4), pairs=len(pairs))


def support_accuracy(test: SupportTest, pairs: Sequence[SupportPair]) -> float:
    """Accuracy of the test, at its current thresholds, on labelled pairs."""
    test.prefetch([p.sentence for p in pairs], [p.passage for p in pairs])
    right = sum(test.supports(p.sentence, [p.passage]) == p.supported for p in pairs)
    return right / len(pairs) if pairs else 0.0
