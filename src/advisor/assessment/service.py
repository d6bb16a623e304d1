"""Assessing an initiative: answers read from its description, overridden by those the user chose,
scored by the rules, with cited actions, risks and a plan; compared with an earlier scorecard."""

from __future__ import annotations

from collections.abc import Mapping

from advisor.assessment.extract import read_answers
from advisor.assessment.model import Answer, Assessment, Choice, OpenQuestion, Scorecard, TopicScore
from advisor.assessment.plan import CitationBook, Planner, biggest_risks, thirty_sixty_ninety
from advisor.assessment.rules import AssessmentRules, QuestionRule
from advisor.assessment.score import topic_levels
from advisor.guidance.rules import GuidanceRules
from advisor.retrieval.retriever import Retriever


def open_question(question: QuestionRule) -> OpenQuestion:
    """A question as clients show it: its text and its answers."""
    return OpenQuestion(
        question.id, question.topic, question.text, tuple(Choice(c.id, c.label) for c in question.choices)
    )


class AnswerError(ValueError):
    """A chosen answer names a question or an answer the rules do not have."""


class Assessor:
    def __init__(self, retriever: Retriever, rules: AssessmentRules, guidance: GuidanceRules) -> None:
        self._rules = rules
        self._planner = Planner(retriever, rules, guidance)

    @property
    def rules(self) -> AssessmentRules:
        return self._rules

    def answers(self, initiative: str, chosen: Mapping[str, str]) -> dict[str, Answer]:
        """What the description says, then what the user chose (which wins); AnswerError naming an
        unknown question or answer."""
        found = read_answers([initiative], self._rules)
        for question_id, choice_id in chosen.items():
            question = self._rules.question(question_id)
            if question is None:
                known = ", ".join(q.id for q in self._rules.questions)
                raise AnswerError(f"no question {question_id!r}; the questions are {known}")
            if question.choice(choice_id) is None:
                known = ", ".join(c.id for c in question.choices)
                raise AnswerError(f"question {question_id!r} has no answer {choice_id!r}; one of {known}")
            found[question_id] = Answer(question_id, choice_id, "chosen")
        return found

    def assess(
        self, initiative: str, chosen: Mapping[str, str] | None = None, before: Scorecard | None = None
    ) -> Assessment:
        answers = self.answers(initiative, chosen or {})
        levels = topic_levels(answers, self._rules)
        book = CitationBook()
        topics = []
        for topic in self._rules.scored_topics:
            level, reasons = levels[topic]
            facts = tuple(
                a.said
                for q in self._rules.questions
                if q.topic == topic and (a := answers.get(q.id)) is not None and a.said
            )
            actions = self._planner.actions(topic, answers, initiative, book) if level is not None else ()
            label = self._rules.levels[level] if level is not None else "not assessed"
            topics.append(
                TopicScore(topic, self._rules.group_of(topic), level, label, facts, reasons, actions)
            )
        risks = biggest_risks(topics, self._rules.scored_topics)
        open_questions = tuple(open_question(q) for q in self._rules.questions if q.id not in answers)
        scorecard = Scorecard(
            tuple(topics), risks, thirty_sixty_ninety(topics, risks), tuple(book.citations), open_questions
        )
        changes: tuple[tuple[str, int | None, int | None], ...] = ()
        if before is not None:
            changes = tuple(
                (t.topic, before.level_of(t.topic), t.level)
                for t in topics
                if before.level_of(t.topic) != t.level
            )
        return Assessment(
            initiative,
            tuple(answers[q.id] for q in self._rules.questions if q.id in answers),
            scorecard,
            changes,
        )
