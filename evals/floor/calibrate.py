"""Calibrate the relevance floor (retrieval.min_similarity) on a labelled question set.

Prints, for every question, the best cosine similarity retrieval found and whether the service
answers it, then the false-refusal rate and off-topic recall with the configured floor and scope rule
(knowledge/rules/scope.toml), and for a range of floors. Run against an ingested data dir:

    ADVISOR_DATA_DIR=data .venv/bin/python evals/floor/calibrate.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from advisor.container import Container
from advisor.guidance.questions import within_scope
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
        margin = min(
            min((s - floor for s in pos if s >= floor), default=0),
            min((floor - s for s in neg if s < floor), default=0),
        )
        if (acc, margin) > (best[1], best[2]):
            best = (floor, acc, margin)
    return round(best[0], 3), best[1]


def rates(container: Container, scored: list[tuple[float, bool, str]], floor: float) -> tuple[float, float]:
    """(false refusal on in-scope questions, recall of out-of-scope ones) with ``floor`` and the rule."""
    rules = container.rules
    ins = [within_scope(q, s, floor, rules) for s, inside, q in scored if inside]
    outs = [within_scope(q, s, floor, rules) for s, inside, q in scored if not inside]
    return 1 - sum(ins) / len(ins), 1 - sum(outs) / len(outs)


def main() -> int:
    # questions.jsonl: the set the test holds the default floor to; domain_questions.jsonl: in-scope
    # questions in domain words and near misses, for the scope rule (retrieval.scope_rule).
    files = [HERE / "questions.jsonl", HERE / "domain_questions.jsonl"]
    rows = [json.loads(line) for path in files for line in path.read_text().splitlines() if line.strip()]
    container = Container(get_settings())
    scored = best_similarities(container, rows)
    configured = container.settings.retrieval.min_similarity
    for sim, inside, question in sorted(scored):
        answered = within_scope(question, sim, configured, container.rules)
        print(
            f"{sim:.3f}  {'IN ' if inside else 'out'}  {'answered' if answered else 'refused '}  {question}"
        )
    floor, acc = choose_floor(scored)
    print(f"\nsimilarity alone: best floor {floor} (balanced accuracy {acc:.3f})")
    for candidate in sorted({configured, 0.36, 0.38, 0.40, 0.42, 0.44}):
        refusal, recall = rates(container, scored, candidate)
        mark = "  <- configured" if candidate == configured else ""
        print(
            f"floor {candidate:.2f} with the scope rule: false refusal {refusal:.3f}, off-topic recall {recall:.3f}{mark}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
