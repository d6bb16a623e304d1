"""Checking a scorecard's citations: every action must be quoted from the passage it cites (its
words in that document section), and every number must resolve. The eval and the tests use it."""

from __future__ import annotations

import re

from advisor.assessment.model import Assessment
from advisor.retrieval.retriever import Retriever

_MARKUP = re.compile(r"\*\*|__|`|^\s*(?:[-*+]|\d+[.)])\s+", re.M)


def _plain(text: str) -> str:
    return " ".join(_MARKUP.sub("", text).split()).lower()


def invalid_citations(assessment: Assessment, retriever: Retriever) -> list[str]:
    """What is wrong with the scorecard's citations; empty when every action is found in its source."""
    card = assessment.scorecard
    problems = []
    actions = [a for t in card.topics for a in t.actions] + [p.action for p in card.plan]
    for action in actions:
        if not 1 <= action.n <= len(card.citations):
            problems.append(f"[{action.n}] does not resolve: {action.text[:60]}")
            continue
        cited = card.citations[action.n - 1]
        document = retriever.document(cited.doc_id)
        sections = [
            text for section, text in (document.sections if document else ()) if section == cited.section
        ]
        headline = _plain(action.text.split(". ")[0])
        if not any(headline in _plain(text) for text in sections):
            problems.append(f"[{action.n}] {cited.doc_id} / {cited.section} does not say: {action.text[:60]}")
    return problems
