"""Reading a free-text description into answers: for each question, the first answer (in the rules'
order) whose patterns match one of the description's clauses, with those words quoted back."""

from __future__ import annotations

from collections.abc import Iterable

from advisor.assessment.model import Answer
from advisor.assessment.rules import AssessmentRules
from advisor.guidance.facts import clauses, quote


def read_answers(texts: Iterable[str], rules: AssessmentRules) -> dict[str, Answer]:
    """Question id -> the answer the texts give, for the questions they answer."""
    parts = [clause for text in texts for clause in clauses(text)]
    found: dict[str, Answer] = {}
    for question in rules.questions:
        for choice in question.choices:
            matcher = rules.matchers.get((question.id, choice.id))
            if matcher is None:
                continue
            hit = next(((c, m) for c in parts if (m := matcher.search(c))), None)
            if hit is not None:
                found[question.id] = Answer(question.id, choice.id, "read", quote(*hit))
                break
    return found
