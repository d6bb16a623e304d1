"""The cited side of a scorecard: for each topic, up to three actions from the guidance found with
the topic's search words and its weak answers' (only documents about that topic), the three
biggest risks, and what to do in the next 30, 60 and 90 days, every item citing its passage."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

from advisor.assessment.model import Action, Answer, PlanItem, TopicScore
from advisor.assessment.rules import AssessmentRules
from advisor.compose.items import Item, extract_items, is_imperative, terms, too_similar
from advisor.compose.sanitise import sanitise_passages
from advisor.guidance.rules import GuidanceRules
from advisor.retrieval.retriever import Retriever
from advisor.types import Citation, Passage

ACTIONS_PER_TOPIC = 3
PASSAGES_PER_TOPIC = 6
RISKS = 3
# Production concerns that the 90-day horizon covers when the risks leave room.
LATER_TOPICS = ("deployment", "monitoring", "scalability", "testing-validation")
_ADVICE = ("action", "checklist", "good", "other")


class CitationBook:
    """Passages numbered in the order the scorecard first cites them."""

    def __init__(self) -> None:
        self._numbers: dict[str, int] = {}
        self.citations: list[Citation] = []

    def number(self, passage: Passage) -> int:
        if passage.chunk_id not in self._numbers:
            n = len(self.citations) + 1
            self._numbers[passage.chunk_id] = n
            self.citations.append(
                Citation(
                    n,
                    passage.doc_id,
                    passage.title,
                    passage.section,
                    passage.topics,
                    passage.text,
                    passage.source,
                    passage.score,
                )
            )
        return self._numbers[passage.chunk_id]


def action_text(item: Item) -> str:
    detail = f" {item.detail}" if item.detail else ""
    return f"{item.headline}{detail}".strip()


class Planner:
    def __init__(self, retriever: Retriever, rules: AssessmentRules, guidance: GuidanceRules) -> None:
        self._retriever = retriever
        self._rules = rules
        self._guidance = guidance

    def weak_words(self, topic: str, answers: Mapping[str, Answer]) -> str:
        """The search words of the topic's weak answers (level 2 or below)."""
        weak = []
        for question in self._rules.questions:
            answer = answers.get(question.id)
            choice = question.choice(answer.choice) if answer and question.topic == topic else None
            if choice is not None and choice.level <= 2 and choice.query:
                weak.append(choice.query)
        return " ".join(weak)

    def search_words(self, topic: str, answers: Mapping[str, Answer]) -> str:
        return f"{self.weak_words(topic, answers)} {self._rules.topics[topic].query}".strip()

    def actions(
        self, topic: str, answers: Mapping[str, Answer], initiative: str, book: CitationBook
    ) -> tuple[Action, ...]:
        found = self._retriever.retrieve_passages(
            self.search_words(topic, answers), PASSAGES_PER_TOPIC, topics=[topic], context=initiative or None
        )
        # The leading documents' first steps join the passages: retrieval often finds a topic's
        # explanation ("what a first team needs") rather than its advice.
        passages = sanitise_passages(found.passages + self._retriever.action_passages(found.passages))
        # The advice that names what is weak comes first ("add an ML engineer" for a team of two),
        # then the rest in retrieval's order.
        wanted = terms(self.weak_words(topic, answers) or self._rules.topics[topic].query)
        advice = [
            item
            for item in extract_items(passages, self._guidance)
            if item.material in _ADVICE
            and not item.headline.endswith(":")
            and is_imperative(item.headline, strict=item.material != "action")
        ]
        ranked = sorted(advice, key=lambda i: (-len(terms(i.headline) & wanted), i.passage))
        chosen: list[Item] = []
        for item in ranked:
            if len(chosen) == ACTIONS_PER_TOPIC:
                break
            if not too_similar(item, chosen):
                chosen.append(item)
        return tuple(Action(action_text(item), book.number(passages[item.passage])) for item in chosen)


def biggest_risks(topics: Sequence[TopicScore], order: Sequence[str]) -> tuple[TopicScore, ...]:
    """The weakest topics (level 3 or below), weakest first, ties in the groups' order."""
    scored = [t for t in topics if t.level is not None and t.level <= 3]
    scored.sort(key=lambda t: (t.level or 0, order.index(t.topic)))
    return tuple(scored[:RISKS])


def thirty_sixty_ninety(topics: Sequence[TopicScore], risks: Sequence[TopicScore]) -> tuple[PlanItem, ...]:
    """30 days: the first action on each big risk. 60: their second actions, then the first on the
    next weakest topics. 90: what remains of the risks, then the production concerns still short."""
    used: set[str] = set()
    plan: list[PlanItem] = []

    def take(days: Literal[30, 60, 90], topic: TopicScore, index: int) -> bool:
        if index < len(topic.actions) and topic.actions[index].text not in used:
            used.add(topic.actions[index].text)
            plan.append(PlanItem(days, topic.topic, topic.actions[index]))
            return True
        return False

    for risk in risks:
        take(30, risk, 0)
    for risk in risks:
        take(60, risk, 1)
    others = sorted(
        (t for t in topics if t not in risks and t.level is not None and t.level <= 2),
        key=lambda t: t.level or 0,
    )
    for topic in others:
        if sum(p.days == 60 for p in plan) >= RISKS:
            break
        take(60, topic, 0)
    for risk in risks:
        take(90, risk, 2)
    later = [t for t in topics if t.topic in LATER_TOPICS and t.level is not None and t.level <= 3]
    for topic in later:
        if sum(p.days == 90 for p in plan) >= RISKS:
            break
        take(90, topic, 0) or take(90, topic, 1)
    return tuple(plan)
