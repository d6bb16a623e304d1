"""What the OpenAI route cannot do, it says (issue 16, item 7): options Advisor cannot honour are a
400 naming the parameter, OpenAI API paths it does not serve are a 404 in OpenAI's error shape, and
a quiet stream carries keep-alive comments that the official SDK skips."""

from __future__ import annotations

from typing import Any

import openai
import pytest

from tests.api.helpers import CHURN_QUESTION, llm_settings
from tests.api.test_openai_compat import assert_openai_error, portal, sdk
from tests.fakes.openai_server import FakeOpenAIServer
from tests.plugins.fast import FastServer

QUESTION = [{"role": "user", "content": CHURN_QUESTION}]
TOOL = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}


@pytest.mark.parametrize(
    ("option", "param", "code"),
    [
        ({"n": 2}, "n", "unsupported_value"),
        ({"tools": [TOOL]}, "tools", "unsupported_parameter"),
        ({"tool_choice": "required"}, "tool_choice", "unsupported_parameter"),
        ({"tool_choice": {"type": "function", "function": {"name": "lookup"}}}, "tool_choice", None),
        ({"functions": [TOOL["function"]]}, "functions", "unsupported_parameter"),
        ({"function_call": {"name": "lookup"}}, "function_call", "unsupported_parameter"),
        ({"response_format": {"type": "json_object"}}, "response_format", "unsupported_value"),
        (
            {"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {}}}},
            "response_format",
            "unsupported_value",
        ),
    ],
)
def test_options_advisor_cannot_honour_are_refused_naming_the_parameter(
    fast_server: FastServer, option: dict[str, Any], param: str, code: str | None
) -> None:
    with portal(fast_server) as (server, key, _), server.client() as http:
        body = {"model": "advisor", "messages": QUESTION, **option}
        reply = http.post("/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"})
        error = assert_openai_error(reply, 400)
        assert error["param"] == param and error["type"] == "invalid_request_error", error
        if code:
            assert error["code"] == code, error


def test_the_harmless_values_of_those_options_are_accepted(fast_server: FastServer) -> None:
    with portal(fast_server) as (server, key, _):
        completion = sdk(server, key).chat.completions.create(
            model="advisor",
            messages=QUESTION,  # type: ignore[arg-type]
            n=1,
            tool_choice="none",
            response_format={"type": "text"},
        )
        assert len(completion.choices) == 1 and completion.choices[0].message.content


def test_the_sdk_reads_the_refusal(fast_server: FastServer) -> None:
    with portal(fast_server) as (server, key, _), pytest.raises(openai.BadRequestError) as refused:
        sdk(server, key).chat.completions.create(model="advisor", messages=QUESTION, n=3)  # type: ignore[arg-type]
    assert refused.value.param == "n" and "one answer" in refused.value.message


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/responses"),
        ("POST", "/v1/embeddings"),
        ("GET", "/v1/files"),
        ("POST", "/v1/completions"),
    ],
)
def test_openai_paths_advisor_does_not_serve_are_404_in_openai_shape(
    fast_server: FastServer, method: str, path: str
) -> None:
    with fast_server() as server, server.client() as http:
        error = assert_openai_error(http.request(method, path, json={"model": "advisor"}), 404)
        assert error["code"] == "unknown_url" and path in error["message"], error


def test_advisor_own_paths_keep_their_error_shape(fast_server: FastServer) -> None:
    with fast_server() as server, server.client() as http:
        missing = http.get("/v1/conversations/no-such-conversation")
        assert missing.status_code == 404 and set(missing.json()) == {"error", "reason"}, missing.text
        elsewhere = http.get("/no/such/page")
        assert elsewhere.status_code == 404 and set(elsewhere.json()) == {"error", "reason"}
        # A known path with the wrong method is a 405, not an unknown URL.
        assert http.get("/v1/chat/completions").status_code == 405


def test_the_sdk_reads_an_unknown_path_as_not_found(fast_server: FastServer) -> None:
    with portal(fast_server) as (server, key, _), pytest.raises(openai.NotFoundError) as missing:
        sdk(server, key).embeddings.create(model="advisor", input="drift")
    assert "Invalid URL" in missing.value.message


def test_a_quiet_stream_gets_keep_alive_comments_the_sdk_skips(
    fast_server: FastServer, fake_openai: FakeOpenAIServer
) -> None:
    answer = "Package the notebook code, then ship a minimal version end to end [1]."
    fake_openai.reply_with(answer)
    fake_openai.stall(1.0, after_chunks=5)  # the model thinks for a second mid-answer
    overrides = {"llm": llm_settings(fake_openai), "api": {"stream_keepalive_seconds": 0.2}}
    with portal(fast_server, **overrides) as (server, key, _), server.client() as http:
        body = {"model": "advisor", "messages": QUESTION, "stream": True}
        with http.stream(
            "POST", "/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"}
        ) as reply:
            raw = reply.read().decode()
        assert raw.count(": keep-alive\n\n") >= 3, raw[:500]
        assert raw.rstrip().endswith("data: [DONE]")

        fake_openai.reset()
        fake_openai.reply_with(answer)
        fake_openai.stall(1.0, after_chunks=5)
        chunks = list(
            sdk(server, key).chat.completions.create(model="advisor", messages=QUESTION, stream=True)
        )  # type: ignore[arg-type]
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert text.startswith(answer)

        # /v1/chat's stream pings in the same way.
        fake_openai.reset()
        fake_openai.reply_with(answer)
        fake_openai.stall(1.0, after_chunks=5)
        chat = {"message": CHURN_QUESTION, "stream": True}
        with http.stream("POST", "/v1/chat", json=chat, headers={"Authorization": f"Bearer {key}"}) as reply:
            assert ": ping" in reply.read().decode()
