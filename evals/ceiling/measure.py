"""How much of `answer.must_include` an extractive answer could reach at all, on the answerable set.

Prints, for retrieval depths k, the share of expected concepts present anywhere in the k passages
retrieval returns (the most any composer quoting them could cover, at any length), and the share an
oracle reaches when it picks the composer's items (headline and detail) knowing the expected
concepts, within the composer's word budget. A target above the oracle is out of the extractive
composer's reach whatever its heuristics; only retrieval (more of the right passages) or an LLM
composer (which may paraphrase across passages) moves it. It also prints the recall@5 a perfect
reranker of the first N retrieved documents would reach. Run against an ingested data dir:

    ADVISOR_DATA_DIR=data .venv/bin/python evals/ceiling/measure.py
"""

from __future__ import annotations

import sys
from pathlib import Path
from statistics import fmean

from advisor.compose.extractive import WORD_BUDGET
from advisor.compose.items import Item, extract_items
from advisor.container import Container
from advisor.evals.datasets import AnswerableCase, load_suite
from advisor.evals.scoring import coverage, plain
from advisor.guidance.rules import load_rules
from advisor.settings import get_settings

EVALS = Path(__file__).resolve().parent.parent
DEPTHS = (6, 10, 15)
DOC_DEPTHS = (5, 10, 15, 20)  # candidate documents a reranker could reorder


def concepts_in(text: str, concepts: list[list[str]]) -> set[int]:
    found = f" {plain(text)} "
    return {n for n, phrasings in enumerate(concepts) if any(plain(p) in found for p in phrasings)}


def oracle_share(items: list[Item], concepts: list[list[str]], budget: int) -> float:
    """Greedy: the item adding the most missing concepts per word, until the budget is spent."""
    covered: set[int] = set()
    words = 0
    pool = [(item, f"{item.headline} {item.detail}".strip()) for item in items]
    while pool:
        item, text = max(pool, key=lambda p: len(concepts_in(p[1], concepts) - covered) / len(p[1].split()))
        pool.remove((item, text))
        gain = concepts_in(text, concepts) - covered
        if not gain:
            break
        if words + len(text.split()) <= budget:
            covered |= gain
            words += len(text.split())
    return len(covered) / len(concepts) if concepts else 1.0


def main() -> None:
    container = Container(get_settings())
    rules = load_rules()
    suite = load_suite(EVALS / "datasets", container.settings.knowledge_dir, EVALS / "fixtures" / "poisoned")
    cases = [c for c in suite.answerable if c.must_include]
    for k in DEPTHS:
        anywhere, oracle = [], []
        for case in cases:
            passages = container.retriever.retrieve_passages(
                case.question, k, context=case.initiative
            ).passages
            concepts = [list(c) for c in case.must_include]
            anywhere.append(coverage("\n".join(p.text for p in passages), concepts)[0])
            oracle.append(oracle_share(extract_items(passages, rules), concepts, WORD_BUDGET))
        print(
            f"k={k:>2}: concepts in the passages {fmean(anywhere):.3f}; "
            f"oracle item choice within {WORD_BUDGET} words {fmean(oracle):.3f}  ({len(cases)} questions)"
        )
    recall_ceiling(container, suite.answerable)
    sys.stdout.flush()


def recall_ceiling(container: Container, cases: list[AnswerableCase]) -> None:
    """recall@5 that a perfect reranker would reach by reordering the first N documents retrieval
    ranks (the relevant ones among them, at most five): what any reranking stage could gain."""
    ranked = {
        case.id: list(
            dict.fromkeys(
                p.doc_id
                for p in container.retriever.retrieve_passages(
                    case.question, 40, context=case.initiative
                ).passages
            )
        )
        for case in cases
    }
    for depth in DOC_DEPTHS:
        shares = [
            min(5, len(set(ranked[c.id][:depth]) & set(c.relevant))) / min(5, len(c.relevant)) for c in cases
        ]
        print(f"recall@5 with the first {depth:>2} documents perfectly reordered: {fmean(shares):.3f}")


if __name__ == "__main__":
    main()
