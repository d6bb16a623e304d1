"""One admission path: the same over-long question, unknown topic and over-long initiative are refused
with the same reason on every channel (JSON API, streamed API, OpenAI route, widget, Slack, CLI,
evaluation), each in its own protocol."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from advisor.app import create_app
from advisor.cli import common
from advisor.cli.main import app as cli_app
from advisor.evals.datasets import DatasetError
from advisor.evals.runner import InProcessRunner
from tests.fakes.slack_api import FakeSlackAPI
from tests.plugins.advisor_app import free_port, serve_app
from tests.plugins.fast import FastContainer, FastServer
from tests.slack.helpers import SlackSender, slack_settings
from tests.widget.conftest import WIDGET_KEY, widget_keys

API_KEY = "test-admission-api-key-0123"
QUESTION = "How do we get our churn model from a notebook into production?"
LONG_QUESTION = "Why? " * 900  # 4499 characters once stripped
LONG_INITIATIVE = "churn model, three CRMs " * 200

# What the core says, whichever channel asks (README, "Admission").
TOO_LONG = "message is 4499 characters; the limit is 4000"
UNKNOWN_TOPIC = "unknown topics: nosuchtopic"
INITIATIVE_TOO_LONG = f"initiative is {len(LONG_INITIATIVE.strip())} characters; the limit is 4000"

# (case, question, topics, initiative, the reason)
CASES = [
    ("over-long question", LONG_QUESTION, (), None, TOO_LONG),
    ("unknown topic", QUESTION, ("nosuchtopic",), None, UNKNOWN_TOPIC),
    ("over-long initiative", QUESTION, (), LONG_INITIATIVE, INITIATIVE_TOO_LONG),
]
IDS = [case[0] for case in CASES]

# The widget's own message limit is set to the API's here, so one question is over both.
SETTINGS: dict[str, Any] = {"api": {"keys": [API_KEY]}, "widget": {"max_message_chars": 4000}}


def _json_body(question: str, topics: tuple[str, ...], initiative: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"message": question}
    if topics:
        body["topics"] = list(topics)
    if initiative:
        body["initiative"] = initiative
    return body


@pytest.mark.parametrize(("case", "question", "topics", "initiative", "reason"), CASES, ids=IDS)
def test_the_http_channels_refuse_with_the_same_reason(
    fast_server: FastServer,
    case: str,
    question: str,
    topics: tuple[str, ...],
    initiative: str | None,
    reason: str,
) -> None:
    with fast_server(**SETTINGS) as live, live.client() as http:
        api = {"Authorization": f"Bearer {API_KEY}"}
        body = _json_body(question, topics, initiative)

        plain = http.post("/v1/chat", json=body, headers=api)
        assert (plain.status_code, plain.json()["reason"]) == (422, reason)

        streamed = http.post("/v1/chat", json={**body, "stream": True}, headers=api)
        assert (streamed.status_code, streamed.json()["reason"]) == (422, reason)

        metadata = {"topics": ",".join(topics)} if topics else {}
        if initiative:
            metadata["initiative"] = initiative
        completion = http.post(
            "/v1/chat/completions",
            json={
                "model": "advisor",
                "messages": [{"role": "user", "content": question}],
                "metadata": metadata,
            },
            headers=api,
        )
        error = completion.json()["error"]
        assert (completion.status_code, error["message"]) == (400, reason)
        assert error["type"] == "invalid_request_error" and error["param"] in ("messages", "topics")


@pytest.mark.parametrize(("case", "question", "topics", "initiative", "reason"), CASES, ids=IDS)
def test_the_widget_refuses_with_the_same_reason(
    fast_container: FastContainer,
    case: str,
    question: str,
    topics: tuple[str, ...],
    initiative: str | None,
    reason: str,
) -> None:
    port = free_port()
    widget = {**SETTINGS["widget"], "keys": widget_keys(f"http://127.0.0.1:{port}")}
    app = create_app(container=fast_container(api=SETTINGS["api"], widget=widget))
    with serve_app(app, port) as live, live.client() as http:
        headers = {"Authorization": f"Bearer {WIDGET_KEY}", "Origin": live.url}
        reply = http.post("/v1/chat", json=_json_body(question, topics, initiative), headers=headers)
        assert (reply.status_code, reply.json()["reason"]) == (422, reason)


def test_slack_refuses_with_the_same_reason(fast_server: FastServer, fake_slack: FakeSlackAPI) -> None:
    """Slack has no way to name topics; the question and the initiative are refused as elsewhere."""
    with fast_server(slack=slack_settings(fake_slack)) as live, live.client() as http:
        sender = SlackSender(http)
        sender.command(LONG_QUESTION, fake_slack.response_url("long"))
        (answer,) = fake_slack.wait_for_calls("response_url")
        assert _slack_text(answer.args) == f"Sorry, I can't take that: {TOO_LONG}."

        acknowledged = sender.command(f"initiative {LONG_INITIATIVE}", fake_slack.response_url("init"))
        assert _slack_text(acknowledged.json()) == f"Sorry, I can't take that: {INITIATIVE_TOO_LONG}."


def _slack_text(payload: dict[str, Any]) -> str:
    texts = [b["text"]["text"] for b in payload.get("blocks", []) if b.get("type") == "section"]
    return " ".join(texts) if texts else str(payload.get("text", ""))


@pytest.mark.parametrize(("case", "question", "topics", "initiative", "reason"), CASES, ids=IDS)
def test_the_cli_refuses_with_the_same_reason(
    fast_container: FastContainer,
    monkeypatch: pytest.MonkeyPatch,
    case: str,
    question: str,
    topics: tuple[str, ...],
    initiative: str | None,
    reason: str,
) -> None:
    container = fast_container()
    monkeypatch.setattr(common, "build_container", lambda: container)
    args = ["ask", question, *(f"--topic={t}" for t in topics)]
    if initiative:
        args.append(f"--initiative={initiative}")
    done = CliRunner().invoke(cli_app, args)
    assert (done.exit_code, done.stderr.strip()) == (2, f"advisor: {reason}")


def test_the_evaluation_names_the_case_the_core_refuses(fast_container: FastContainer) -> None:
    """Evaluation cases carry no topics; the question and the initiative are refused as elsewhere."""
    runner = InProcessRunner(fast_container())
    try:
        for question, initiative, reason in [
            (LONG_QUESTION, None, TOO_LONG),
            (QUESTION, LONG_INITIATIVE, INITIATIVE_TOO_LONG),
        ]:
            with pytest.raises(DatasetError) as refused:
                runner.ask("case-7", question, initiative)
            assert str(refused.value) == f"case case-7: refused: {reason}"
    finally:
        runner.close()


@pytest.mark.parametrize(
    ("query", "topics", "reason"),
    [
        (LONG_QUESTION, (), TOO_LONG.replace("message", "query")),
        ("canary release", ("nosuchtopic",), UNKNOWN_TOPIC),
    ],
)
def test_search_refuses_alike_over_http_and_on_the_command_line(
    fast_server: FastServer,
    fast_container: FastContainer,
    monkeypatch: pytest.MonkeyPatch,
    query: str,
    topics: tuple[str, ...],
    reason: str,
) -> None:
    with fast_server() as live, live.client() as http:
        reply = http.post("/v1/search", json={"query": query, "topics": list(topics) or None})
        assert (reply.status_code, reply.json()["reason"]) == (422, reason)
    container = fast_container()
    monkeypatch.setattr(common, "build_container", lambda: container)
    done = CliRunner().invoke(cli_app, ["search", query, *(f"--topic={t}" for t in topics)])
    assert (done.exit_code, done.stderr.strip()) == (2, f"advisor: {reason}")
