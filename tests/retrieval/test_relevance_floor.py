"""The default relevance floor separates the labelled in-scope and out-of-scope questions."""

from __future__ import annotations

import json
from typing import Any

from advisor.container import Container
from advisor.settings import Settings
from tests.plugins.advisor_app import REPO

QUESTIONS = REPO / "evals" / "floor" / "questions.jsonl"


def test_default_floor_separates_labelled_questions(indexed_settings: Any) -> None:
    settings = indexed_settings()
    assert settings.retrieval.min_similarity == Settings().retrieval.min_similarity
    rows = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line.strip()]
    assert sum(r["in_scope"] for r in rows) >= 30 and sum(not r["in_scope"] for r in rows) >= 20
    retriever = Container(settings).retriever
    wrong = [
        (r["question"], round(found.best_similarity, 3))
        for r in rows
        if (found := retriever.retrieve_passages(r["question"])).in_scope != r["in_scope"]
    ]
    accuracy = 1 - len(wrong) / len(rows)
    assert accuracy >= 0.95, f"floor misclassifies {wrong}"
