"""Reading a free-text description into answers: for each question, the answers whose patterns match
one of the description's clauses; a stated problem (level 1) wins, else the highest level matched,
and the matching words are quoted back."""

from __future__ import annotations

import re
from collections.abc import Iterable

from advisor.assessment.model import Answer
from advisor.assessment.rules import AssessmentRules
from advisor.guidance.facts import clauses, quote

# Words just before a match that deny or postpone it: "no drift monitoring" is not drift monitoring,
# "moving to Azure next year" is not Azure yet. An answer that states the denial itself ("no KPI")
# matches from the denial on, so it is not affected.
_DENIED = re.compile(
    r"\b(?:no|not|nothing|never|neither|nor|without|lack(?:s|ing)?|haven't|hasn't|don't|doesn't|isn't|aren't|won't|can't|cannot"
    r"|moving to|migrating to|plan(?:s|ning)? to|will|would)\b(?:\s+(?!(?:and|but|or|so|because)\b)\S+){0,3}\s*$",
    re.I,
)


def _affirmed(clause: str, match: re.Match[str]) -> bool:
    return _DENIED.search(clause[: match.start()]) is None


def read_answers(texts: Iterable[str], rules: AssessmentRules) -> dict[str, Answer]:
    """Question id -> the answer the texts give, for the questions they answer."""
    parts = [clause for text in texts for clause in clauses(text)]
    found: dict[str, Answer] = {}
    for question in rules.questions:
        candidates = []
        for choice in question.choices:
            matcher = rules.matchers.get((question.id, choice.id))
            hit = (
                next(((c, m) for c in parts if (m := matcher.search(c)) and _affirmed(c, m)), None)
                if matcher
                else None
            )
            if hit is not None:
                candidates.append((choice.level, choice.id, quote(*hit)))
        if candidates:
            problems = [c for c in candidates if c[0] == 1]
            _, choice_id, said = problems[0] if problems else max(candidates, key=lambda c: c[0])
            found[question.id] = Answer(question.id, choice_id, "read", said)
    return found
