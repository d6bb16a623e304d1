"""Scoring: a topic's level is its weakest answer, then lowered by any cap rule that holds. Each
answer and rule that sets the level becomes a Reason the user can read."""

from __future__ import annotations

from collections.abc import Mapping

from advisor.assessment.model import Answer, Reason
from advisor.assessment.rules import AssessmentRules


def topic_levels(
    answers: Mapping[str, Answer], rules: AssessmentRules
) -> dict[str, tuple[int | None, tuple[Reason, ...]]]:
    """Topic -> (level or None when nothing about it is answered, the reasons for it)."""
    found: dict[str, tuple[int | None, tuple[Reason, ...]]] = {}
    for topic in rules.scored_topics:
        reasons: list[Reason] = []
        for question in rules.questions:
            answer = answers.get(question.id)
            choice = question.choice(answer.choice) if answer else None
            if question.topic == topic and choice is not None:
                reasons.append(Reason(f"{question.text} {choice.label}.", choice.level))
        level = min((r.level for r in reasons), default=None)
        for cap in rules.caps:
            if cap.topic != topic or level is None or level <= cap.at_most:
                continue
            if all(answers.get(q) is not None and answers[q].choice in ok for q, ok in cap.when.items()):
                level = cap.at_most
                reasons.append(
                    Reason(f"At most {rules.levels[cap.at_most]}: {cap.reason}.", cap.at_most, cap.id)
                )
        found[topic] = (level, tuple(reasons))
    return found
