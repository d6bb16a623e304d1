"""The fallback policy: the configured composer writes the answer; when it is unavailable (an LLM
provider failed or timed out), the extractive composer answers instead, and the answer says so."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from advisor.chat.model import Restart, TextDelta
from advisor.compose.protocol import Brief, Composer, ComposerUnavailable, Draft

if TYPE_CHECKING:
    from advisor.observability import Metrics
    from advisor.types import Turn

log = logging.getLogger(__name__)

FALLBACK_NOTE = (
    "(The language model was unavailable, so this answer was composed directly from the guidance.)"
)


@dataclass(frozen=True)
class Composition:
    draft: Draft
    fallback: bool  # the fallback composer wrote it


class ComposerChain:
    """The primary composer, and the one that answers when it cannot (None: the primary always can)."""

    def __init__(
        self,
        primary: Composer,
        fallback: Composer | None,
        metrics: Metrics,
        turn_seconds: float | None = None,
    ) -> None:
        """``turn_seconds``: how long the primary may take to start its reply, all calls of a turn
        together (a follow-up's rewrite and then the answer); past it the fallback answers."""
        self.primary = primary
        self.fallback = fallback
        self._metrics = metrics
        self._turn_seconds = turn_seconds

    @property
    def name(self) -> str:
        return self.primary.name

    def turn_deadline(self) -> float | None:
        """The ``reply_by`` of a turn starting now."""
        return None if self._turn_seconds is None else time.monotonic() + self._turn_seconds

    def standalone_question(
        self, question: str, history: Sequence[Turn], reply_by: float | None = None
    ) -> str:
        if not history:
            return question
        try:
            return self.primary.standalone_question(question, history, reply_by)
        except ComposerUnavailable as exc:
            if self.fallback is None:
                raise
            log.warning("follow-up rewrite failed, using the fallback: %s", exc.reason)
            return self.fallback.standalone_question(question, history)

    def compose(self, brief: Brief) -> Generator[TextDelta | Restart, None, Composition]:
        sent = False
        try:
            for text in _relay(self.primary.compose(brief)):
                if isinstance(text, Draft):
                    return Composition(text, fallback=False)
                sent = True
                yield TextDelta(text)
        except ComposerUnavailable as exc:
            if self.fallback is None:
                raise
            log.warning("%s composer failed, falling back: %s", self.primary.name, exc.reason)
            self._metrics.fallbacks.inc()
            if sent:
                yield Restart()
        assert self.fallback is not None
        draft: Draft | None = None
        for text in _relay(self.fallback.compose(brief)):
            if isinstance(text, Draft):
                draft = text
            else:
                yield TextDelta(text)
        assert draft is not None
        if not draft.text:
            return Composition(draft, fallback=True)
        yield TextDelta(f"\n\n{FALLBACK_NOTE}")
        return Composition(dataclasses.replace(draft, text=f"{draft.text}\n\n{FALLBACK_NOTE}"), fallback=True)


def _relay(stream: Generator[str, None, Draft]) -> Iterator[str | Draft]:
    """The stream's text, then its returned draft as the last item."""
    draft = yield from stream
    yield draft
