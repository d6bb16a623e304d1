"""Text no part of the service can handle (a NUL, an unpaired surrogate) is refused at the edge with
a 422 naming the field, on every route and on both databases' behalf; a request that carries some
never fails anyone else's request."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.api.helpers import CHURN_QUESTION, assert_json_error
from tests.plugins.fast import FastServer

NUL, SURROGATE = "\x00", "\udfff"


def _post(http: Any, path: str, body: dict[str, Any]) -> Any:
    # json.dumps escapes both as \u0000 and \udfff, as a client would send them.
    return http.post(path, content=json.dumps(body), headers={"content-type": "application/json"})


@pytest.mark.parametrize("bad", [NUL, SURROGATE], ids=["nul", "surrogate"])
@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/chat", {"message": "why is it slow {}?"}, "message"),
        ("/v1/chat", {"message": CHURN_QUESTION, "initiative": "churn model {}"}, "initiative"),
        ("/v1/chat", {"message": CHURN_QUESTION, "initiative": {"goal": "churn {}"}}, "initiative"),
        ("/v1/chat", {"message": CHURN_QUESTION, "conversation_id": "ab{}cd"}, "conversation_id"),
        ("/v1/chat", {"message": CHURN_QUESTION, "topics": ["deployment{}"]}, "topics"),
        ("/v1/search", {"query": "canary {}"}, "query"),
        ("/v1/feedback", {"message_id": "m{}", "rating": "up"}, "message_id"),
        ("/v1/feedback", {"message_id": "m1", "rating": "up", "comment": "ok {}"}, "comment"),
    ],
)
def test_the_json_api_refuses_unusable_text_naming_the_field(
    fast_server: FastServer, bad: str, path: str, body: dict[str, Any], field: str
) -> None:
    filled = json.loads(json.dumps(body).replace("{}", json.dumps(bad)[1:-1]))
    with fast_server() as server, server.client() as http:
        reason = assert_json_error(_post(http, path, filled), 422, "invalid_request")
        assert reason.startswith(field) and ("NUL" in reason or "surrogate" in reason), reason


@pytest.mark.parametrize("bad", [NUL, SURROGATE], ids=["nul", "surrogate"])
def test_the_openai_route_refuses_unusable_text_in_its_own_error_shape(
    fast_server: FastServer, bad: str
) -> None:
    with fast_server() as server, server.client() as http:
        for messages in (
            [{"role": "user", "content": f"why {bad}?"}],
            [{"role": "user", "content": [{"type": "text", "text": f"why {bad}?"}]}],
            [{"role": "system", "content": f"bank {bad}"}, {"role": "user", "content": CHURN_QUESTION}],
        ):
            reply = _post(http, "/v1/chat/completions", {"model": "advisor", "messages": messages})
            assert reply.status_code == 400, reply.text
            error = reply.json()["error"]
            assert error["param"].startswith("messages") and "Traceback" not in reply.text, error


@pytest.mark.parametrize("path", ["/v1/conversations/ab%00cd", "/v1/conversations/ab%ED%BF%BFcd"])
def test_a_conversation_path_with_a_nul_is_refused(fast_server: FastServer, path: str) -> None:
    with fast_server() as server, server.client() as http:
        reply = http.get(path)
        assert reply.status_code in (404, 422), reply.text
        assert "Traceback" not in reply.text and reply.status_code != 500


def test_refused_text_leaves_the_service_answering(fast_server: FastServer) -> None:
    with fast_server() as server, server.client() as http:
        assert _post(http, "/v1/search", {"query": f"canary {SURROGATE}"}).status_code == 422
        assert http.post("/v1/search", json={"query": "canary release"}).status_code == 200
