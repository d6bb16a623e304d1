"""The seam between the chat core and whatever writes the answer.

A composer receives a :class:`Brief` (the question, the initiative, the history and the numbered,
sanitised passages) and streams the answer's text, returning a :class:`Draft`. The extractive composer
and the LLM composer implement it; which one runs, and what happens when one is unavailable, is the
core's fallback policy (``advisor.chat.composing``), not the composers' business.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from advisor.types import Passage, ReadinessNote, Turn

if TYPE_CHECKING:
    from advisor.guidance.facts import Fact
    from advisor.guidance.questions import QuestionReading


@dataclass(frozen=True)
class Brief:
    question: str  # as the user asked it
    standalone: str  # the question with what a follow-up refers to spelled out
    initiative: str | None
    history: tuple[Turn, ...]
    passages: tuple[Passage, ...]  # sanitised; ``[n]`` in the answer is passages[n - 1]
    temperature: float | None = None  # a channel's request for the LLM (ignored by extractive)
    reading: QuestionReading | None = None  # the kind of question; None: the composer reads it
    facts: tuple[Fact, ...] | None = None  # what the team said about itself; None: not extracted
    reply_by: float | None = (
        None  # time.monotonic() by which a model must start replying (the turn's deadline)
    )
    readiness: tuple[ReadinessNote, ...] = ()  # the conversation's assessment, weakest topics first


@dataclass(frozen=True)
class Draft:
    text: str
    passages: tuple[Passage, ...]  # what ``[n]`` in ``text`` refers to
    grounded: bool = True  # False when markers the composer invented were removed
    withdrawn: bool = False  # the composer took its reply back (it repeated its own instructions)


class ComposerUnavailable(Exception):
    """The composer cannot answer now (a provider failed or timed out); ``reason`` is safe to log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Composer(Protocol):
    @property
    def name(self) -> str:
        """``extractive`` or ``llm``: the label of the answers metric."""
        ...

    def compose(self, brief: Brief) -> Generator[str, None, Draft]:
        """Yield the answer's text as it is written; return the finished draft.

        Raises ComposerUnavailable, possibly after some text was yielded."""
        ...

    def standalone_question(
        self, question: str, history: Sequence[Turn], reply_by: float | None = None
    ) -> str:
        """The follow-up ``question`` rewritten to stand on its own, by ``reply_by`` (a
        ``time.monotonic()`` value) when a model writes it; raises ComposerUnavailable."""
        ...


_STREAM_WORDS = re.compile(r"\S+\s*")


def stream_words(text: str) -> Iterator[str]:
    """A finished text a few words at a time, so every composer streams alike."""
    words = _STREAM_WORDS.findall(text)
    for start in range(0, len(words), 4):
        yield "".join(words[start : start + 4])
