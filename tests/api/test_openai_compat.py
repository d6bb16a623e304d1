"""The OpenAI-compatible endpoint, driven by the official `openai` SDK over loopback.

Keys are real database keys (`ApiKeyStore.create`, what `advisor keys create` calls), so scopes and
revocation are exercised end to end.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import httpx
import openai
import pytest

from advisor.api.openai.completion import RESTART_NOTE, count_tokens
from tests.api.helpers import ABSTAIN_ON_UNKNOWN_NAMES, CHURN_QUESTION, UNKNOWN_NAME_QUESTION, llm_settings
from tests.fakes.openai_server import FakeOpenAIServer
from tests.plugins.advisor_app import LiveServer
from tests.plugins.fast import FastServer

INITIATIVE = "churn model for a telecom, data in three CRMs, two data scientists, no MLOps"


@contextmanager
def portal(
    start_server: Callable[..., AbstractContextManager[LiveServer]], *scopes: str, **overrides: Any
) -> Iterator[tuple[LiveServer, str, str]]:
    """The app served over loopback (by ``fast_server`` or ``live_server``) with one database key
    holding ``scopes`` (default: chat)."""
    # These tests read back what a turn stored: stateless turns are stored only when asked.
    overrides.setdefault("retention", {"store_stateless": True})
    with start_server(**overrides) as server:
        issued = server.container.api_keys.create(scopes or ("chat",), name="test portal")
        yield server, issued.key, issued.record.id


def sdk(server: LiveServer, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=key, max_retries=0, timeout=60)


def advisor_of(response: openai.BaseModel) -> dict[str, Any]:
    """The extra `advisor` field of a completion or chunk, as the SDK keeps unknown fields."""
    extra = response.to_dict()["advisor"]
    assert isinstance(extra, dict), extra
    return extra


def assert_openai_error(reply: httpx.Response, status: int) -> dict[str, Any]:
    """The reply is OpenAI's error shape with this status; returns the error object."""
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"].startswith("application/json")
    body = reply.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"message", "type", "param", "code"}, error
    assert isinstance(error["message"], str) and error["message"].strip(), error
    assert isinstance(error["type"], str) and error["type"], error
    assert "Traceback" not in reply.text
    return dict(error)


def assert_cited_reply(content: str, advisor: dict[str, Any]) -> None:
    """[n] markers in the text, a sources list at its end, and the same citations in `advisor`."""
    citations = advisor["citations"]
    assert citations and advisor["grounded"] is True and advisor["abstained"] is False, advisor
    answer, _, sources = content.partition("\n\nSources:\n")
    assert sources, content
    for c in citations:
        assert f"[{c['n']}]" in answer, (c["n"], answer)
        assert f"[{c['n']}] {c['title']} > {c['section']} ({c['source']})" in sources
    assert {"conversation_id", "message_id", "fallback", "standalone_question"} <= set(advisor)


def test_sdk_lists_the_model_and_gets_a_cited_completion(fast_server: FastServer) -> None:
    with portal(fast_server) as (server, key, key_id):
        client = sdk(server, key)
        assert [m.id for m in client.models.list()] == ["advisor"]
        assert client.models.retrieve("advisor").owned_by == "advisor"

        completion = client.chat.completions.create(
            model="advisor",
            messages=[{"role": "system", "content": INITIATIVE}, {"role": "user", "content": CHURN_QUESTION}],
            user="portal-user-42",
            extra_body={"some_future_field": {"ignored": True}},  # unknown fields are ignored
        )
        assert completion.object == "chat.completion" and completion.model == "advisor"
        choice = completion.choices[0]
        assert choice.finish_reason == "stop" and choice.message.role == "assistant"
        content = choice.message.content or ""
        advisor = advisor_of(completion)
        assert_cited_reply(content, advisor)
        assert completion.usage is not None
        assert completion.usage.completion_tokens == count_tokens(content)

        # The turn is recorded under the key's id, with the system message as the initiative.
        store = server.container.conversations
        conversation = store.get_conversation(advisor["conversation_id"], key_id)
        assert conversation is not None and conversation.initiative == INITIATIVE
        stored = store.list_messages(conversation.id)
        assert [m.role for m in stored] == ["user", "assistant"]
        assert stored[1].id == advisor["message_id"] and stored[1].content in content


def test_sdk_streams_chunks_with_citations_and_usage(fast_server: FastServer) -> None:
    with portal(fast_server) as (server, key, key_id):
        stream = sdk(server, key).chat.completions.create(
            model="advisor",
            messages=[{"role": "user", "content": CHURN_QUESTION}],
            stream=True,
            stream_options={"include_usage": True},
            metadata={"initiative": INITIATIVE},
        )
        chunks = list(stream)
        assert all(c.object == "chat.completion.chunk" and c.model == "advisor" for c in chunks)
        assert len({c.id for c in chunks}) == 1
        assert chunks[0].choices[0].delta.role == "assistant"
        content_chunks = [c for c in chunks if c.choices and c.choices[0].delta.content]
        assert len(content_chunks) > 3, "the answer arrives in several pieces"
        content = "".join(c.choices[0].delta.content or "" for c in content_chunks)
        final = [c for c in chunks if c.choices and c.choices[0].finish_reason]
        assert len(final) == 1 and final[0].choices[0].finish_reason == "stop"
        advisor = advisor_of(final[0])
        assert_cited_reply(content, advisor)
        assert chunks[-1].choices == [] and chunks[-1].usage is not None
        assert chunks[-1].usage.completion_tokens == count_tokens(content)
        conversation = server.container.conversations.get_conversation(advisor["conversation_id"], key_id)
        assert conversation is not None and conversation.initiative == INITIATIVE

        # On the wire: plain `data:` events, the last one [DONE].
        with (
            server.client() as http,
            http.stream(
                "POST",
                "/v1/chat/completions",
                json={
                    "model": "advisor",
                    "messages": [{"role": "user", "content": CHURN_QUESTION}],
                    "stream": True,
                },
                headers={"Authorization": f"Bearer {key}"},
            ) as reply,
        ):
            assert reply.headers["content-type"].startswith("text/event-stream")
            events = [line for line in reply.read().decode().split("\n\n") if line.strip()]
        assert all(e.startswith("data: ") for e in events)
        assert events[-1] == "data: [DONE]"
        assert "advisor" in json.loads(events[-2].removeprefix("data: "))


def test_key_without_chat_scope_gets_403(fast_server: FastServer) -> None:
    with portal(fast_server, "search", "feedback") as (server, key, _):
        with pytest.raises(openai.PermissionDeniedError) as denied:
            sdk(server, key).chat.completions.create(
                model="advisor", messages=[{"role": "user", "content": CHURN_QUESTION}]
            )
        assert denied.value.status_code == 403 and "chat" in denied.value.message
        with server.client() as http:
            reply = http.post(
                "/v1/chat/completions",
                json={"model": "advisor", "messages": [{"role": "user", "content": CHURN_QUESTION}]},
                headers={"Authorization": f"Bearer {key}"},
            )
            assert assert_openai_error(reply, 403)["type"] == "permission_error"
            # The same key may search, and the rest of the API keeps its own error shape.
            search = http.post(
                "/v1/search", json={"query": "canary"}, headers={"Authorization": f"Bearer {key}"}
            )
            assert search.status_code == 200, search.text
            chat = http.post("/v1/chat", json={"message": "hi"}, headers={"Authorization": f"Bearer {key}"})
            assert chat.status_code == 403 and chat.json()["error"] == "forbidden"


def test_revoked_key_gets_401_at_once(fast_server: FastServer) -> None:
    with portal(fast_server) as (server, key, key_id):
        client = sdk(server, key)
        messages: Any = [{"role": "user", "content": CHURN_QUESTION}]
        assert client.chat.completions.create(model="advisor", messages=messages).choices[0].message.content

        server.container.api_keys.revoke(key_id)
        with pytest.raises(openai.AuthenticationError) as refused:
            client.chat.completions.create(model="advisor", messages=messages)
        assert refused.value.status_code == 401 and "revoked" in refused.value.message
        with pytest.raises(openai.AuthenticationError):
            client.models.list()
        # Unknown and missing keys are refused too (a database key exists, so keys are required).
        with pytest.raises(openai.AuthenticationError):
            sdk(server, "adv_not-a-key-that-was-ever-issued").models.list()
        with server.client() as http:
            reply = http.post("/v1/chat/completions", json={"model": "advisor", "messages": messages})
            assert assert_openai_error(reply, 401)["code"] == "invalid_api_key"
            assert reply.headers["www-authenticate"] == "Bearer"


MALFORMED: list[tuple[str, Any, str | None]] = [
    ("no messages", {"model": "advisor"}, "messages"),
    ("empty messages", {"model": "advisor", "messages": []}, "messages"),
    ("bad role", {"model": "advisor", "messages": [{"role": "wizard", "content": "hi"}]}, "messages.0.role"),
    ("tool role", {"model": "advisor", "messages": [{"role": "tool", "content": "x"}]}, "messages.0.role"),
    (
        "last not from user",
        {
            "model": "advisor",
            "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}],
        },
        "messages",
    ),
    ("messages not a list", {"model": "advisor", "messages": "hello"}, "messages"),
    ("content a number", {"model": "advisor", "messages": [{"role": "user", "content": 42}]}, None),
    (
        "stream a string",
        {"model": "advisor", "messages": [{"role": "user", "content": "hi"}], "stream": "yes"},
        "stream",
    ),
    (
        "temperature a string",
        {"model": "advisor", "messages": [{"role": "user", "content": "hi"}], "temperature": "hot"},
        "temperature",
    ),
    (
        "max_tokens zero",
        {"model": "advisor", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 0},
        "max_tokens",
    ),
    ("no model", {"messages": [{"role": "user", "content": "hi"}]}, "model"),
    ("blank question", {"model": "advisor", "messages": [{"role": "user", "content": "   "}]}, "messages"),
    ("body an array", [{"role": "user", "content": "hi"}], None),
]


@pytest.mark.parametrize(("case", "payload", "param"), MALFORMED, ids=[c[0] for c in MALFORMED])
def test_malformed_requests_get_400_in_openai_shape(
    fast_server: FastServer, case: str, payload: Any, param: str | None
) -> None:
    with portal(fast_server) as (server, key, _), server.client() as http:
        headers = {"Authorization": f"Bearer {key}"}
        reply = http.post("/v1/chat/completions", json=payload, headers=headers)
        error = assert_openai_error(reply, 400)
        assert error["type"] == "invalid_request_error", error
        if param is not None:
            assert error["param"] is not None and error["param"].startswith(param), error


def test_invalid_json_and_sdk_bad_request(fast_server: FastServer) -> None:
    with portal(fast_server) as (server, key, _), server.client() as http:
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        reply = http.post(
            "/v1/chat/completions", content=b'{"model": "advisor", "messages": [', headers=headers
        )
        assert "not valid JSON" in assert_openai_error(reply, 400)["message"]
        with pytest.raises(openai.BadRequestError) as bad:
            sdk(server, key).chat.completions.create(
                model="advisor", messages=[{"role": "assistant", "content": "I spoke last"}]
            )
        assert bad.value.status_code == 400 and "last message" in bad.value.message
        too_long = {"model": "advisor", "messages": [{"role": "user", "content": "why? " * 1000}]}
        assert (
            "limit is"
            in assert_openai_error(http.post("/v1/chat/completions", json=too_long, headers=headers), 400)[
                "message"
            ]
        )
        too_large = {"model": "advisor", "messages": [{"role": "user", "content": "x" * 70_000}]}
        assert assert_openai_error(http.post("/v1/chat/completions", json=too_large, headers=headers), 413)[
            "code"
        ]
        # Nothing was recorded for the rejected requests.
        with server.container.engine.connect() as connection:
            from sqlalchemy import text

            assert connection.execute(text("SELECT count(*) FROM conversations")).scalar_one() == 0


def test_unknown_model_is_404(fast_server: FastServer) -> None:
    with portal(fast_server) as (server, key, _):
        client = sdk(server, key)
        with pytest.raises(openai.NotFoundError) as missing:
            client.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": CHURN_QUESTION}]
            )
        assert missing.value.code == "model_not_found" and "gpt-4o" in missing.value.message
        with pytest.raises(openai.NotFoundError):
            client.models.retrieve("gpt-4o")
        with server.client() as http:
            reply = http.post(
                "/v1/chat/completions",
                json={"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]},
                headers={"Authorization": f"Bearer {key}"},
            )
            assert assert_openai_error(reply, 404)["param"] == "model"


def test_follow_up_uses_the_earlier_messages(fast_server: FastServer) -> None:
    with portal(fast_server) as (server, key, _):
        client = sdk(server, key)
        first = client.chat.completions.create(
            model="advisor", messages=[{"role": "user", "content": CHURN_QUESTION}]
        )
        earlier = first.choices[0].message.content or ""
        follow_up = "How do we staff that?"

        alone = client.chat.completions.create(
            model="advisor", messages=[{"role": "user", "content": follow_up}]
        )
        assert advisor_of(alone)["standalone_question"] == follow_up

        continued = client.chat.completions.create(
            model="advisor",
            messages=[
                {"role": "user", "content": CHURN_QUESTION},
                {"role": "assistant", "content": earlier},  # sent back with its sources list
                {"role": "user", "content": follow_up},
            ],
        )
        advisor = advisor_of(continued)
        assert advisor["standalone_question"].startswith(follow_up)
        assert CHURN_QUESTION in advisor["standalone_question"], advisor["standalone_question"]
        # Each request is its own stored turn: the client's history is not duplicated server-side.
        stored = server.container.conversations.list_messages(advisor["conversation_id"])
        assert [m.role for m in stored] == ["user", "assistant"] and stored[0].content == follow_up


def test_max_tokens_cuts_the_reply(fast_server: FastServer) -> None:
    with portal(fast_server) as (server, key, _):
        completion = sdk(server, key).chat.completions.create(
            model="advisor", messages=[{"role": "user", "content": CHURN_QUESTION}], max_tokens=12
        )
        content = completion.choices[0].message.content or ""
        assert completion.choices[0].finish_reason == "length"
        assert count_tokens(content) == 12 and completion.usage and completion.usage.completion_tokens == 12
        # The full answer is still in the structured field and in the store.
        advisor = advisor_of(completion)
        assert advisor["citations"]
        stored = server.container.conversations.list_messages(advisor["conversation_id"])[1].content
        assert stored.startswith(content.rstrip()) and len(stored) > len(content)

        stream = sdk(server, key).chat.completions.create(
            model="advisor",
            messages=[{"role": "user", "content": CHURN_QUESTION}],
            max_tokens=12,
            stream=True,
        )
        chunks = list(stream)
        streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert streamed == content
        assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "length"


def test_out_of_scope_question_abstains_without_sources(fast_server: FastServer) -> None:
    with portal(fast_server, **ABSTAIN_ON_UNKNOWN_NAMES) as (server, key, _):
        completion = sdk(server, key).chat.completions.create(
            model="advisor", messages=[{"role": "user", "content": UNKNOWN_NAME_QUESTION}]
        )
        advisor = advisor_of(completion)
        assert advisor["abstained"] is True and advisor["citations"] == []
        assert "Sources:" not in (completion.choices[0].message.content or "")


def test_temperature_reaches_the_language_model(
    fast_server: FastServer, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.reply_with("Put the churn model behind a versioned API and monitor it for drift [1].")
    with portal(fast_server, llm=llm_settings(fake_openai)) as (server, key, _):
        completion = sdk(server, key).chat.completions.create(
            model="advisor", messages=[{"role": "user", "content": CHURN_QUESTION}], temperature=0.05
        )
        assert "[1]" in (completion.choices[0].message.content or "")
        answers = [r for r in fake_openai.chat_requests if r.streamed]
        assert answers and answers[0].body["temperature"] == 0.05

        fake_openai.reset()
        fake_openai.reply_with("Monitor it for drift [1].")
        sdk(server, key).chat.completions.create(
            model="advisor", messages=[{"role": "user", "content": CHURN_QUESTION}]
        )
        configured = server.container.settings.llm.temperature
        assert [r.body["temperature"] for r in fake_openai.chat_requests if r.streamed] == [configured]

        # A streamed answer the service withdraws (the model cited nothing) says so in the text.
        fake_openai.reset()
        fake_openai.reply_with("Just ship it and hope for the best.")
        chunks = list(
            sdk(server, key).chat.completions.create(
                model="advisor", messages=[{"role": "user", "content": CHURN_QUESTION}], stream=True
            )
        )
        content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        shown, _, replacement = content.partition(RESTART_NOTE)
        assert "Just ship it" in shown and "won't guess" in replacement, content
        advisor = advisor_of(chunks[-1])
        assert advisor["abstained"] is True and advisor["citations"] == []


def test_access_log_names_the_key_id_never_the_key(
    fast_server: FastServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="advisor.access")
    with portal(fast_server) as (server, key, key_id):
        sdk(server, key).models.list()
    lines = [r.getMessage() for r in caplog.records if r.name == "advisor.access"]
    assert any("/v1/models" in line and f"key={key_id}" in line for line in lines), lines
    assert not any(key in r.getMessage() for r in caplog.records)


def test_scoped_keys_and_503_on_each_database(live_server: Any, db_url: str) -> None:
    # A database of its own (SQLite, and PostgreSQL when configured) has no active index yet.
    with portal(live_server, "chat", database={"url": db_url}) as (server, key, key_id):
        assert server.container.engine.dialect.name == db_url.split(":")[0].split("+")[0]
        client = sdk(server, key)
        assert [m.id for m in client.models.list()] == ["advisor"]
        with pytest.raises(openai.InternalServerError) as unavailable:
            client.chat.completions.create(
                model="advisor", messages=[{"role": "user", "content": CHURN_QUESTION}]
            )
        assert unavailable.value.status_code == 503 and "advisor ingest" in unavailable.value.message
        assert unavailable.value.code == "service_unavailable"

        search_only = server.container.api_keys.create(["search"])
        with pytest.raises(openai.PermissionDeniedError):
            sdk(server, search_only.key).chat.completions.create(
                model="advisor", messages=[{"role": "user", "content": CHURN_QUESTION}]
            )
        server.container.api_keys.revoke(key_id)
        with pytest.raises(openai.AuthenticationError) as refused:
            client.models.list()
        assert "revoked" in refused.value.message


def test_a_stateless_turn_is_not_stored_unless_retention_asks(fast_server: FastServer) -> None:
    with portal(fast_server, retention={}) as (server, key, key_id):
        completion = sdk(server, key).chat.completions.create(
            model="advisor", messages=[{"role": "user", "content": CHURN_QUESTION}]
        )
        assert completion.choices[0].message.content
        advisor = advisor_of(completion)
        store = server.container.conversations
        assert store.get_conversation(advisor["conversation_id"], key_id) is None
        assert store.list_messages(advisor["conversation_id"]) == []
