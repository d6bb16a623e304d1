"""The real model end to end (full tier): a question in the corpus's own terms is answered with
citations whose topics fit, and an off-topic one abstains. These are retrieval and answer quality,
which only the real embedding model can show; the protocol around them (answer shape, storage,
abstention without citations) is tested on the fast tier in test_chat.py and test_sse.py."""

from __future__ import annotations

from typing import Any


def test_chat_answers_with_citations_whose_topics_fit(live_server: Any) -> None:
    with live_server() as server, server.client() as http:
        reply = http.post(
            "/v1/chat",
            json={
                "message": "Our churn model works in a notebook but never reached production. What are we missing?"
            },
        )
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert not body["abstained"] and body["grounded"]
        assert body["citations"], body
        topics = {t for c in body["citations"] for t in c["topics"]}
        assert topics & {"deployment", "infrastructure"}
        for c in body["citations"]:
            assert f"[{c['n']}]" in body["answer"]


def test_banana_bread_abstains(live_server: Any) -> None:
    with live_server() as server, server.client() as http:
        body = http.post("/v1/chat", json={"message": "What's a good banana bread recipe?"}).json()
        assert body["abstained"] is True
        assert body["citations"] == []
