"""The fast tier's fake embedder: deterministic, unit length, and similar for texts sharing words."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from advisor.components.embedder import Embedder
from tests.fakes.embedding import DIMENSION, HashingEmbedder

REPO = Path(__file__).resolve().parents[2]
TEXTS = [
    "How do we roll back a canary release that misbehaves?",
    "Canary releases: route a small share of traffic to the new model and roll back on errors.",
    "Hiring machine learning engineers: writing the role and interviewing.",
    "",
]


def as_embedder(embedder: Embedder) -> Embedder:
    return embedder  # type-checks that the fake implements the protocol


def test_it_implements_the_embedder_protocol() -> None:
    embedder = as_embedder(HashingEmbedder())
    assert embedder.model_name == "hashing-384" and embedder.loaded and embedder.dimension == DIMENSION == 384
    embedder.load()  # a no-op
    vectors = embedder.embed_documents(TEXTS, show_progress=True)
    assert vectors.shape == (len(TEXTS), DIMENSION) and vectors.dtype == np.float32
    assert embedder.embed_documents([]).shape == (0, DIMENSION)
    query = embedder.embed_query(TEXTS[0])
    assert query.shape == (DIMENSION,) and query.dtype == np.float32
    assert np.array_equal(query, vectors[0])


def test_every_vector_has_unit_length() -> None:
    texts = [*TEXTS, "the of and to", "x", "Data " * 500, "ÄÖÜ façade café"]
    norms = np.linalg.norm(HashingEmbedder().embed_documents(texts), axis=1)
    assert np.allclose(norms, 1.0, atol=1e-6)


def test_text_without_words_gets_one_fixed_vector() -> None:
    embedder = HashingEmbedder()
    empty = embedder.embed_query("")
    assert np.array_equal(embedder.embed_query("   "), empty)
    assert np.array_equal(embedder.embed_query("the and of it"), empty)  # stop words only
    assert not np.array_equal(embedder.embed_query("drift"), empty)


def test_the_same_text_gives_the_same_vector_in_every_instance_and_process() -> None:
    here = HashingEmbedder().embed_documents(TEXTS)
    assert np.array_equal(HashingEmbedder().embed_documents(TEXTS), here)
    # Another interpreter, with another hash seed: a hash() based fake would differ here.
    script = (
        "import sys; from tests.fakes.embedding import HashingEmbedder; "
        f"sys.stdout.buffer.write(HashingEmbedder().embed_documents({TEXTS!r}).tobytes())"
    )
    for seed in ("1", "2"):
        env = {
            **os.environ,
            "PYTHONHASHSEED": seed,
            "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO)]),
        }
        done = subprocess.run(
            [sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, check=True
        )
        there = np.frombuffer(done.stdout, dtype=np.float32).reshape(here.shape)
        assert np.array_equal(there, here)


@pytest.mark.parametrize(
    ("text", "related", "unrelated"),
    [
        (TEXTS[0], TEXTS[1], TEXTS[2]),
        (
            "detecting data drift and retraining triggers",
            "Monitor input drift; retrain when the drift detector fires.",
            "Writing annotation guidelines for labellers.",
        ),
        ("rolled back releases", "roll back a release", "release the budget"),  # stems, then bigrams
    ],
)
def test_texts_sharing_words_are_closer_than_texts_that_do_not(
    text: str, related: str, unrelated: str
) -> None:
    embedder = HashingEmbedder()
    query = embedder.embed_query(text)
    near = float(query @ embedder.embed_query(related))
    far = float(query @ embedder.embed_query(unrelated))
    assert near > far + 0.2, (near, far)
    assert near > 0.3
