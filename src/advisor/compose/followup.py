"""Rewriting a follow-up into a standalone question without an LLM."""

from __future__ import annotations

import re
from collections.abc import Sequence

from advisor.types import Turn

_ANAPHORA = re.compile(
    r"\b(it|its|this|that|these|those|they|them|there|above|same|such|former|latter|else|more|"
    r"first|second|third|fourth|fifth|sixth|last|previous|step|one)\b|^(and|but|so|also|what about|how about)\b",
    re.IGNORECASE,
)
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6}
_STEP_REF = re.compile(
    r"(?:\b(?:step|point|item|recommendation|number)\s*#?\s*|#)(\d)\b|\b(first|second|third|fourth|fifth|sixth)\b",
    re.I,
)
_NUMBERED = re.compile(r"^\s*(\d+)\.\s+\*\*(.+?)\*\*", re.MULTILINE)
# The extractive answer's first step is its opening line ("Start here: **...**"), numbered 2 onwards.
_OPENING_STEP = re.compile(r"^Start here: \*\*(.+?)\*\*", re.MULTILINE)


def refers_back(question: str) -> bool:
    return bool(_ANAPHORA.search(question))


def needs_context(question: str) -> bool:
    return len(question.split()) <= 6 or refers_back(question)


def rewrite_followup(question: str, history: Sequence[Turn]) -> str:
    """Attach what the follow-up refers to: the previous question and, for "the second step",
    that step's headline from the previous answer."""
    previous_questions = [t.content for t in history if t.role == "user"]
    if not previous_questions or not needs_context(question):
        return question
    parts = [question.strip()]
    last_answer = next((t.content for t in reversed(history) if t.role == "assistant"), "")
    ref = _STEP_REF.search(question)
    if ref and last_answer:
        n = int(ref.group(1)) if ref.group(1) else _ORDINALS[ref.group(2).lower()]
        steps = {int(m.group(1)): m.group(2) for m in _NUMBERED.finditer(last_answer)}
        if (opening := _OPENING_STEP.search(last_answer)) and 1 not in steps:
            steps[1] = opening.group(1)
        if n in steps:
            parts.append(f"(about: {steps[n]})")
    # A chain of follow-ups keeps the subject of the last question that stood on its own.
    previous = previous_questions[-1].strip()
    subject = next((q.strip() for q in reversed(previous_questions) if not refers_back(q)), previous)
    context = previous if subject == previous else f"{previous}; {subject}"
    parts.append(f"(context: {context})")
    return " ".join(parts)
