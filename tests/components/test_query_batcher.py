"""Queries embedded together: one request's unusable text fails that request alone."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from advisor.components.embedder import _QueryBatcher
from advisor.container import Container


class _Tokenizer:
    """Encodes like the real tokenizer fails: a TypeError for the whole batch when any text in it
    holds a lone surrogate. The first pass waits until the others have queued behind it."""

    def __init__(self, queued: threading.Event) -> None:
        self.queued = queued
        self.batches: list[list[str]] = []

    def __call__(self, texts: list[str]) -> np.ndarray:
        if not self.batches:
            self.queued.wait(5)
        self.batches.append(list(texts))
        if any("\udfff" in t for t in texts):
            raise TypeError("TextEncodeInput must be Union[TextInputSequence, ...]")
        return np.array([[float(len(t)), 1.0] for t in texts], dtype=np.float32)


def _wait_until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def test_a_failing_query_fails_alone_and_the_others_in_its_batch_get_their_vectors() -> None:
    queued = threading.Event()
    encode = _Tokenizer(queued)
    batcher = _QueryBatcher(encode)
    texts = ["first", "canary release", "x \udfff", "drift", "x \udfff"]
    with ThreadPoolExecutor(len(texts)) as pool:
        lead = pool.submit(batcher.embed, texts[0])
        _wait_until(lambda: batcher._busy)  # the lead's pass has started and waits for the others
        rest = [pool.submit(batcher.embed, t) for t in texts[1:]]
        _wait_until(lambda: len(batcher._queue) >= len(texts) - 1)
        queued.set()
        assert lead.result(5)[0] == len("first")
        for text, future in zip(texts[1:], rest, strict=True):
            if "\udfff" in text:
                with pytest.raises(TypeError):
                    future.result(5)
            else:
                assert future.result(5)[0] == len(text)
    # The second pass held the good and the bad together, failed, and was retried text by text.
    assert ["canary release", "x \udfff", "drift"] in encode.batches
    assert ["canary release"] in encode.batches and ["drift"] in encode.batches


def test_the_real_embedder_takes_a_lone_surrogate_as_a_replacement_character(
    extractive_container: Container,
) -> None:
    # A channel that does not refuse such text at its edge (Slack, the CLI) still gets an answer.
    embedder = extractive_container.embedder
    assert np.array_equal(embedder.embed_query("canary \udfff"), embedder.embed_query("canary \ufffd"))
