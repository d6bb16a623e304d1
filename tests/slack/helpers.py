"""Requests signed the way Slack signs them (slack_sdk's own SignatureVerifier code) and the payload
shapes Slack sends: Events API callbacks, slash commands and block actions."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

from tests.fakes.slack_api import BOT_TOKEN, BOT_USER_ID, TEAM_ID, FakeSlackAPI, SlackCall

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
CHANNEL = "C0PLANNING"
USER = "U0ALICE"
OTHER_USER = "U0BOB"

_counter = itertools.count(1)


def slack_settings(fake: FakeSlackAPI, **extra: Any) -> dict[str, Any]:
    return {"bot_token": BOT_TOKEN, "signing_secret": SIGNING_SECRET, "api_url": fake.api_url, **extra}


def new_ts() -> str:
    return f"{1_700_000_000 + next(_counter)}.{next(_counter):06d}"


class SlackSender:
    """Posts signed requests to /slack/events of a running app."""

    def __init__(self, http: httpx.Client, secret: str = SIGNING_SECRET) -> None:
        self.http = http
        self.secret = secret

    def post(
        self,
        body: str,
        content_type: str,
        *,
        timestamp: int | None = None,
        secret: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        signature = SignatureVerifier(secret or self.secret).generate_signature(timestamp=stamp, body=body)
        assert signature is not None
        return self.http.post(
            "/slack/events",
            content=body.encode(),
            headers={
                "Content-Type": content_type,
                "X-Slack-Request-Timestamp": stamp,
                "X-Slack-Signature": signature,
                **(headers or {}),
            },
        )

    def event(self, event: dict[str, Any], *, event_id: str | None = None, **kwargs: Any) -> httpx.Response:
        return self.post(json.dumps(event_callback(event, event_id)), "application/json", **kwargs)

    def command(self, text: str, response_url: str, *, user: str = USER, **kwargs: Any) -> httpx.Response:
        form = {
            "token": "legacy-verification-token",
            "team_id": TEAM_ID,
            "team_domain": "advisor-test",
            "channel_id": CHANNEL,
            "channel_name": "planning",
            "user_id": user,
            "user_name": "alice",
            "command": "/advisor",
            "text": text,
            "api_app_id": "A0ADVISOR",
            "response_url": response_url,
            "trigger_id": "1337.42.abcd",
        }
        return self.post(urlencode(form), "application/x-www-form-urlencoded", **kwargs)

    def click(
        self, button: dict[str, Any], source: SlackCall, *, response_url: str, ephemeral: bool = False
    ) -> httpx.Response:
        """Click ``button`` (a block element) on the message ``source`` carried."""
        payload = block_action(button, source, response_url=response_url, ephemeral=ephemeral)
        return self.post(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")


def event_callback(event: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM_ID,
        "api_app_id": "A0ADVISOR",
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{next(_counter):08d}",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
    }


def mention(
    text: str, *, ts: str | None = None, thread_ts: str | None = None, user: str = USER
) -> dict[str, Any]:
    event = {
        "type": "app_mention",
        "user": user,
        "text": f"<@{BOT_USER_ID}> {text}",
        "ts": ts or new_ts(),
        "channel": CHANNEL,
        "event_ts": ts,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def message(
    text: str,
    *,
    channel: str = CHANNEL,
    channel_type: str = "channel",
    thread_ts: str | None = None,
    user: str = USER,
    **extra: Any,
) -> dict[str, Any]:
    ts = new_ts()
    event = {
        "type": "message",
        "user": user,
        "text": text,
        "ts": ts,
        "channel": channel,
        "channel_type": channel_type,
        "event_ts": ts,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    event.update(extra)
    return event


def block_action(
    button: dict[str, Any], source: SlackCall, *, response_url: str, ephemeral: bool
) -> dict[str, Any]:
    channel = source.args.get("channel", CHANNEL)
    return {
        "type": "block_actions",
        "user": {"id": USER, "username": "alice", "team_id": TEAM_ID},
        "api_app_id": "A0ADVISOR",
        "token": "legacy-verification-token",
        "container": {
            "type": "message",
            "message_ts": source.args.get("ts", "1.0"),
            "channel_id": channel,
            "is_ephemeral": ephemeral,
        },
        "trigger_id": "1337.42.efgh",
        "team": {"id": TEAM_ID, "domain": "advisor-test"},
        "channel": {"id": channel, "name": "planning"},
        "message": {
            "type": "message",
            "ts": source.args.get("ts", "1.0"),
            "thread_ts": source.args.get("thread_ts"),
            "blocks": source.blocks,
        },
        "response_url": response_url,
        "actions": [{**button, "block_id": "advisor_answer_actions", "action_ts": str(time.time())}],
    }


def buttons(call: SlackCall) -> dict[str, dict[str, Any]]:
    """The buttons of a recorded message, by action_id."""
    return {
        element["action_id"]: element
        for block in call.blocks
        if block["type"] == "actions"
        for element in block["elements"]
    }


def section_text(call: SlackCall) -> str:
    return "\n".join(b["text"]["text"] for b in call.blocks if b["type"] == "section")


def context_text(call: SlackCall) -> str:
    return "\n".join(e["text"] for b in call.blocks if b["type"] == "context" for e in b["elements"])
