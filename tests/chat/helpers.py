"""Helpers shared by the answer-pipeline tests: asking a container, reading the prompt the fake
server received, and parsing Server-Sent Events."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from advisor.api.routers.chat import sse_events
from advisor.api.schemas import ChatOut
from advisor.auth import LOCAL_PRINCIPAL
from advisor.chat.model import Caller, ChatRequest
from advisor.chat.pipeline import passages_for
from advisor.container import Container
from advisor.guidance.facts import extract_facts
from advisor.guidance.questions import read_question
from advisor.types import Passage
from tests.fakes.openai_server import FakeOpenAIServer

# A test key that is neither empty nor a known placeholder, so settings accept it.
LLM_API_KEY = "test-key-advisor-llm-0123456789"

# Questions the bundled corpus answers with numbered "First steps" actions.
NOTEBOOK_QUESTION = "Our model works in a notebook but never reached production. What are we missing?"
DRIFT_QUESTION = "How do we monitor a model in production for drift?"
VALUE_QUESTION = "How do we measure the business value of an AI project?"
HIRING_QUESTION = "How should we hire and retain ML engineers?"
SECRETS_QUESTION = "How should we manage API keys and secrets for our ML pipeline?"
OFF_TOPIC_QUESTION = "What is the best recipe for chocolate cake?"

# Retrieval settings with a relevance floor no passage clears: every question is out of scope, whatever
# the embedder (abstention tests on the fast tier, where the hashing embedder cannot tell off-topic).
NOTHING_IN_SCOPE = {"retrieval": {"min_similarity": 0.99}}

# A bold-headline numbered step of an answer: "2. **Ship it.** Why. [1]"
NUMBERED_STEP = re.compile(r"^(\d+)\. \*\*(.+?)\*\*(.*?)((?: ?\[\d+(?:, \d+)*\])+)$", re.MULTILINE)
_PASSAGE_HEADER = re.compile(r"^\[(\d+)\] (.+?)(?: — (.+))?$", re.MULTILINE)


def llm_overrides(server: FakeOpenAIServer) -> dict[str, Any]:
    """llm settings for the real OpenAI client against the fake server: 1 s timeout, one retry."""
    return {
        "provider": "openai",
        "base_url": f"{server.url}/v1",
        "model": "fake-model",
        "api_key": LLM_API_KEY,
        "timeout_seconds": 1.0,
        "max_retries": 1,
    }


#: The caller of these tests: local mode (no keys), through the JSON API.
LOCAL = Caller(LOCAL_PRINCIPAL, "api")


@dataclass(frozen=True)
class StreamEvent:
    """One event of a streamed turn, named and shaped as /v1/chat streams it (delta, reset,
    citations, done, error)."""

    kind: str
    data: dict[str, Any]


def ask(container: Container, message: str, **request: Any) -> dict[str, Any]:
    """One turn through the chat core, as the /v1/chat JSON response."""
    result = container.chat.ask(ChatRequest(message, **request), LOCAL)
    return ChatOut.of(result).model_dump(mode="json")


def stream(container: Container, message: str, **request: Any) -> list[StreamEvent]:
    """One streamed turn through the chat core, as the events /v1/chat sends."""
    chat = container.chat
    turn = chat.start_turn(ChatRequest(message, **request), LOCAL)
    return [StreamEvent(name, data) for event in chat.stream(turn) for name, data in sse_events(event)]  # type: ignore[misc]


def retrieved(
    container: Container,
    question: str,
    k: int | None = None,
    said: Sequence[str] = (),
    asked: str | None = None,
) -> list[Passage]:
    """The passages the service composes from: the top k, the leading documents' first steps, and
    the first steps behind the facts in what the user ``said`` (the initiative, earlier questions)."""
    general = read_question(asked or question, container.rules).general
    # As the pipeline does: a "where do we start?" is searched with the initiative (said first).
    query = f"{question} ({said[0][:500]})" if general and said and said[0] else question
    found = container.retriever.retrieve_passages(query, k, said=" ".join(said) or None)
    assert found.in_scope and found.passages, question
    facts = extract_facts(said, container.rules)
    return passages_for(container.retriever, found.passages, facts, general)


def cited(answer: str) -> list[int]:
    return [int(n) for marker in re.findall(r"\[([\d, ]+)\]", answer) for n in marker.split(",")]


@dataclass(frozen=True)
class PromptPassage:
    n: int
    title: str
    section: str


def passages_block(prompt: str) -> str:
    """The text between the <passages> and </passages> lines; fails unless there is exactly one."""
    assert prompt.count("<passages>") == 1 and prompt.count("</passages>") == 1, prompt
    match = re.search(r"^<passages>$\n(.*?)^</passages>$", prompt, re.MULTILINE | re.DOTALL)
    assert match is not None, prompt
    return match.group(1)


def prompt_passages(prompt: str) -> list[PromptPassage]:
    """The numbered passage headers ("[n] Title — Section") inside the passages block."""
    return [
        PromptPassage(int(m.group(1)), m.group(2), m.group(3) or "")
        for m in _PASSAGE_HEADER.finditer(passages_block(prompt))
    ]


def human_message(messages: list[dict[str, Any]]) -> str:
    users = [str(m.get("content", "")) for m in messages if m.get("role") == "user"]
    assert len(users) == 1, messages
    return users[0]


@dataclass(frozen=True)
class SSEEvent:
    event: str
    data: dict[str, Any]


def parse_sse(body: str) -> list[SSEEvent]:
    """The events of a text/event-stream body with their JSON data (comments and pings skipped)."""
    events: list[SSEEvent] = []
    for block in body.replace("\r\n", "\n").split("\n\n"):
        name, data = "message", []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line.removeprefix("event:").strip()
            elif line.startswith("data:"):
                data.append(line.removeprefix("data:").removeprefix(" "))
        if data:
            events.append(SSEEvent(name, json.loads("\n".join(data))))
    return events
