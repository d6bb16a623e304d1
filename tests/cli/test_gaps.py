"""`advisor gaps`: questions Advisor did not answer well, clustered by meaning, with a suggestion per
cluster (fast tier: the hashing embedder groups questions that share their words)."""

from __future__ import annotations

import json
from pathlib import Path

from advisor.store.conversations import MessageDraft, NewConversation
from advisor.store.models import new_id
from tests.cli.conftest import Invoke
from tests.plugins.fast import FastContainer

PARKING = [
    "Where can visitors park their cars at the Leeds office car park?",
    "Is the Leeds office car park free for visitors to park cars?",
    "How many car park spaces does the Leeds office have for visitors' cars?",
]
BAKING = [
    "What is a good banana bread recipe with walnuts?",
    "Can I bake banana bread with walnuts and no eggs, recipe please?",
]


def test_abstained_questions_cluster_by_meaning(
    fast_container: FastContainer, invoke: Invoke, tmp_path: Path
) -> None:
    container = fast_container()
    store = container.conversations
    for question in PARKING + BAKING:  # as the chat core records an abstention
        store.record_turn(
            new_id(),
            question,
            MessageDraft("I can't answer that from the guidance.", abstained=True),
            new_conversation=NewConversation(None, None, "widget"),
        )
    answered = store.record_turn(
        new_id(),
        "How do we roll back a canary release?",
        MessageDraft("Shift traffic back [1]."),
        new_conversation=NewConversation(None, None, "api"),
    )
    assert answered is not None
    store.add_feedback(answered.id, "down", "too vague", None)

    page = tmp_path / "gaps.html"
    done = invoke(container, "gaps", "--since", "1d", "--json", "--html", str(page))
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert report["questions"] == len(PARKING) + len(BAKING) + 1
    clusters = report["clusters"]
    print("\n" + "\n".join(f"{c['size']} {c['reasons']} {c['topic']}: {c['examples'][0]}" for c in clusters))
    by_first = {c["examples"][0]: c for c in clusters}
    parking = next(c for c in clusters if c["examples"][0] in PARKING)
    assert parking["size"] == len(PARKING) and set(parking["examples"]) == set(PARKING)
    assert parking["reasons"] == {"abstained": len(PARKING)}
    baking = next(c for c in clusters if c["examples"][0] in BAKING)
    assert baking["size"] == len(BAKING)
    assert any(c["reasons"] == {"rated down": 1} for c in clusters), by_first
    for cluster in clusters:
        assert cluster["topic"] in container.retriever.known_topics() | {""}
        assert cluster["suggestion"] and cluster["nearest"]
    assert PARKING[0] in page.read_text() and "<script" not in page.read_text()

    text = invoke(container, "gaps", "--since", "1d")
    assert text.exit_code == 0 and f"{report['questions']} questions not answered well" in text.stdout


def test_gaps_refuses_a_bad_period(fast_container: FastContainer, invoke: Invoke) -> None:
    refused = invoke(fast_container(), "gaps", "--since", "a while")
    assert refused.exit_code == 2 and "is not an age such as 90d" in refused.stderr
