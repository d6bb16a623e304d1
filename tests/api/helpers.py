"""Small helpers shared by the HTTP API tests: SSE parsing, Prometheus samples, error shapes."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.fakes.openai_server import FakeOpenAIServer

# A question the bundled corpus answers well, with a numbered list of steps.
CHURN_QUESTION = "How do we get our churn model from a notebook into production?"
OFF_TOPIC_QUESTION = "What's a good banana bread recipe?"

# The fast tier's hashing embedder puts every question near some passage (hashed words collide), so
# no similarity floor tells an off-topic question there. The retriever's other out-of-scope rule
# does: a question naming something the corpus never mentions is out of scope below
# `retrieval.unknown_name_floor`. With the floor at its maximum (ABSTAIN_ON_UNKNOWN_NAMES), this
# question abstains on the fakes as OFF_TOPIC_QUESTION does on the real model, while questions that
# name nothing (every other question of these tests) are answered as before.
UNKNOWN_NAME_QUESTION = "What's a good banana bread recipe from Mary Berry?"
ABSTAIN_ON_UNKNOWN_NAMES: dict[str, Any] = {"retrieval": {"unknown_name_floor": 1.0}}

# Keys long enough to pass validation and unlike any placeholder.
KEY_A = "test-key-alpha-0123456789"
KEY_B = "test-key-bravo-9876543210"

CHAT_KEYS = {"conversation_id", "message_id", "answer", "citations", "grounded", "abstained", "fallback"}
CITATION_KEYS = {"n", "doc_id", "title", "section", "topics", "snippet", "source", "score"}
SEARCH_RESULT_KEYS = {"doc_id", "title", "section", "topics", "text", "source", "score"}

_NUMBERED_STEP = re.compile(r"^\s*(\d+)\.\s+\*\*(.+?)\*\*", re.MULTILINE)


@dataclass(frozen=True)
class SSEEvent:
    event: str
    data: Any


def parse_sse(body: str) -> list[SSEEvent]:
    """Events of a text/event-stream body, each with its JSON data parsed (comments/pings skipped)."""
    events: list[SSEEvent] = []
    for block in body.replace("\r\n", "\n").split("\n\n"):
        name, data_lines = "message", []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[len("event:") :].strip()
            elif line.startswith("data:"):
                data_lines.append(line[len("data:") :].removeprefix(" "))
        if data_lines:
            events.append(SSEEvent(name, json.loads("\n".join(data_lines))))
    return events


def stream_chat(
    http: httpx.Client, payload: dict[str, Any], **kwargs: Any
) -> tuple[httpx.Response, list[SSEEvent]]:
    with http.stream("POST", "/v1/chat", json={**payload, "stream": True}, **kwargs) as reply:
        body = reply.read().decode()
    return reply, parse_sse(body) if reply.status_code == 200 else []


def assert_json_error(reply: httpx.Response, status: int, code: str) -> str:
    """The reply is the JSON error shape with this status and code; returns the reason."""
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"].startswith("application/json"), reply.headers
    body = reply.json()
    assert body["error"] == code, body
    assert isinstance(body["reason"], str) and body["reason"].strip(), body
    assert "Traceback" not in reply.text
    return str(body["reason"])


def assert_cites_consistently(body: dict[str, Any]) -> None:
    """Citations are numbered 1..n, well formed, and every one is referenced in the answer."""
    citations = body["citations"]
    assert citations, body
    assert [c["n"] for c in citations] == list(range(1, len(citations) + 1))
    for c in citations:
        assert set(c) == CITATION_KEYS, c
        assert c["doc_id"] and c["title"] and c["source"].endswith(".md") and c["snippet"]
        assert isinstance(c["topics"], list) and c["topics"]
        assert isinstance(c["score"], float)
        assert f"[{c['n']}]" in body["answer"], (c["n"], body["answer"])


def numbered_steps(answer: str) -> dict[int, str]:
    """The bold headlines of an answer's numbered steps ("2. **Ship it.**" -> {2: "Ship it."})."""
    return {int(m.group(1)): m.group(2) for m in _NUMBERED_STEP.finditer(answer)}


def metric(exposition: str, name: str, **labels: str) -> float:
    """The value of one sample in a Prometheus text exposition (0.0 when absent)."""
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


def metric_sum(exposition: str, name: str, **labels: str) -> float:
    """The sum over every sample of ``name`` matching ``labels`` (other labels free)."""
    total = 0.0
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += float(sample.value)
    return total


def llm_settings(fake: FakeOpenAIServer, timeout: float = 5.0) -> dict[str, Any]:
    """llm settings pointing the real OpenAI client at the fake server."""
    return {
        "provider": "openai",
        "model": "fake-model",
        "base_url": f"{fake.url}/v1",
        "timeout_seconds": timeout,
        "max_retries": 0,
    }


def prompt_section(text: str, tag: str) -> str:
    """The text between <tag> and </tag> in a rendered prompt ("" when the section is absent)."""
    match = re.search(rf"<{tag}>\n?(.*?)</{tag}>", text, re.DOTALL)
    return match.group(1) if match else ""


def user_prompt(request_messages: list[dict[str, Any]]) -> str:
    """The human message of a recorded chat-completions request."""
    return "\n".join(str(m.get("content", "")) for m in request_messages if m.get("role") == "user")
