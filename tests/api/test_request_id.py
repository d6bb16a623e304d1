"""Every request has an id (issue 16, item 1: unexpected errors are logged at ERROR with it): the
client's X-Request-ID when it is a sane token, else a new one; returned in the X-Request-ID header
and carried by every log line written while serving the request, in worker threads too."""

from __future__ import annotations

import logging

import pytest

from advisor.observability import RequestIdFilter
from tests.api.helpers import CHURN_QUESTION
from tests.plugins.fast import FastServer


def test_each_response_carries_a_request_id_and_a_sane_client_id_is_kept(fast_server: FastServer) -> None:
    with fast_server() as server, server.client() as http:
        first, second = http.get("/healthz"), http.get("/healthz")
        assert first.headers["x-request-id"] != second.headers["x-request-id"]
        assert len(first.headers["x-request-id"]) == 16
        kept = http.post("/v1/search", json={"query": "drift"}, headers={"X-Request-ID": "lb-7f3a.42"})
        assert kept.headers["x-request-id"] == "lb-7f3a.42"
        replaced = http.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces" + "x" * 80})
        assert replaced.headers["x-request-id"] != "bad id" and len(replaced.headers["x-request-id"]) == 16


def test_an_unexpected_failure_is_logged_at_error_with_the_request_id(
    own_index_server: FastServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.handler.addFilter(RequestIdFilter())
    with own_index_server() as server, server.client() as http:
        assert http.post("/v1/search", json={"query": CHURN_QUESTION}).status_code == 200  # index loaded
        state = server.container.index_repository.get_index_state()
        assert state is not None
        server.container.vectors.delete_collection(state.collection)
        with caplog.at_level(logging.INFO, logger="advisor"):
            reply = http.post(
                "/v1/search", json={"query": CHURN_QUESTION}, headers={"X-Request-ID": "req-broken"}
            )
    assert reply.status_code == 503, reply.text
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors, [r.getMessage() for r in caplog.records]
    assert {getattr(r, "request_id", None) for r in errors} == {"req-broken"}  # logged in a worker thread
