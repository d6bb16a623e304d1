"""POST /v1/search: result shape, ranking, topic filter and its validation."""

from __future__ import annotations

from tests.api.helpers import SEARCH_RESULT_KEYS, assert_json_error
from tests.plugins.fast import FastServer

DRIFT = "How do we notice that our model's accuracy is drifting and decide when to retrain?"


def test_search_returns_ranked_passages_of_the_right_shape(fast_server: FastServer) -> None:
    with fast_server() as server, server.client() as http:
        reply = http.post("/v1/search", json={"query": DRIFT, "k": 4})
        assert reply.status_code == 200, reply.text
        body = reply.json()
        results = body["results"]
        assert 1 <= len(results) <= 4
        for r in results:
            assert set(r) >= SEARCH_RESULT_KEYS, r
            assert r["doc_id"] and r["title"] and r["text"].strip() and r["source"].endswith(".md")
            assert isinstance(r["topics"], list) and all(isinstance(t, str) for t in r["topics"])
            assert isinstance(r["score"], float)
        # The hashing embedder of the fast tier ranks by shared words; the full tier checks the order.
        assert "drift-detection-and-retraining" in [r["doc_id"] for r in results], results
        assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)

        default_k = http.post("/v1/search", json={"query": DRIFT}).json()["results"]
        assert len(results) <= len(default_k) <= server.container.settings.retrieval.k


def test_topic_filter_keeps_only_passages_with_that_topic(fast_server: FastServer) -> None:
    with fast_server() as server, server.client() as http:
        query = {"query": "Who should own the model and how do we hire for it?", "k": 8}
        unfiltered = http.post("/v1/search", json=query).json()["results"]
        assert any("talent" not in r["topics"] for r in unfiltered), "the filter would prove nothing"

        filtered = http.post("/v1/search", json={**query, "topics": ["talent"]}).json()["results"]
        assert filtered
        assert all("talent" in r["topics"] for r in filtered), filtered

        either = http.post("/v1/search", json={**query, "topics": ["talent", "security-governance"]}).json()
        assert either["results"]
        assert all({"talent", "security-governance"} & set(r["topics"]) for r in either["results"])


def test_unknown_topic_and_bad_queries_are_422(fast_server: FastServer) -> None:
    with fast_server() as server, server.client() as http:
        reply = http.post("/v1/search", json={"query": DRIFT, "topics": ["monitoring", "astrology"]})
        reason = assert_json_error(reply, 422, "invalid_request")
        assert "astrology" in reason and "monitoring" not in reason

        for payload, field in [({}, "query"), ({"query": ""}, "query"), ({"query": DRIFT, "k": 0}, "k")]:
            reason = assert_json_error(http.post("/v1/search", json=payload), 422, "invalid_request")
            assert field in reason, (payload, reason)
