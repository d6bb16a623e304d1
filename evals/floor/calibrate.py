"""Calibrate the relevance floor (retrieval.min_similarity) on a labelled question set.

Prints, for every question, the best cosine similarity retrieval found, then the floor that
best separates in-scope from out-of-scope questions (balanced accuracy, ties broken towards the
midpoint of the gap). Run against an ingested data dir:

    ADVISOR_DATA_DIR=data .venv/bin/python evals/floor/calibrate.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from advisor.container import Container
from advisor.settings import get_settings

HERE = Path(__file__).parent


def best_similarities(container: Container, rows: list[dict[str, object]]) -> list[tuple[float, bool, str]]:
    scored = []
    for row in rows:
        found = container.retriever.retrieve_passages(str(row["question"]))
        scored.append((found.best_similarity, bool(row["in_scope"]), str(row["question"])))
    return scored


def choose_floor(scored: list[tuple[float, bool, str]]) -> tuple[float, float]:
    """The floor maximising balanced accuracy; returns (floor, balanced accuracy)."""
    values = sorted({round(s, 4) for s, _, _ in scored})
    cands = [(a + b) / 2 for a, b in zip(values, values[1:], strict=False)]
    pos = [s for s, inside, _ in scored if inside]
    neg = [s for s, inside, _ in scored if not inside]
    best = (0.0, 0.0, 0.0)
    for floor in cands:
        tpr = sum(s >= floor for s in pos) / len(pos)
        tnr = sum(s < floor for s in neg) / len(neg)
        acc = (tpr + tnr) / 2
        # Prefer the floor with the widest margin among equally accurate ones.
        margin = min(min((s - floor for s in pos if s >= floor), default=0), min((floor - s for s in neg if s < floor), default=0))
        if (acc, margin) > (best[1], best[2]):
            best = (floor, acc, margin)
    return round(best[0], 3), best[1]


def main() -> int:
    rows = [json.loads(line) for line in (HERE / "questions.jsonl").read_text().splitlines() if line.strip()]
    container = Container(get_settings())
    scored = best_similarities(container, rows)
    for sim, inside, question in sorted(scored):
        print(f"{sim:.3f}  {'IN ' if inside else 'out'}  {question}")
    floor, acc = choose_floor(scored)
    configured = container.settings.retrieval.min_similarity
    print(f"\nchosen floor {floor} (balanced accuracy {acc:.3f}); configured floor {configured}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
