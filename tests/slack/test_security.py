"""Slack's request verification (signature and a 5-minute window), the settings that switch the bot
on, and the service without Slack."""

from __future__ import annotations

import time
from typing import Any

import pytest

from advisor.settings import SettingsError, load_settings
from tests.api.helpers import CHURN_QUESTION
from tests.fakes.slack_api import BOT_TOKEN, FakeSlackAPI
from tests.plugins.fast import FastServer
from tests.slack.helpers import SlackSender, mention, slack_settings


def test_forged_and_stale_signatures_get_401_and_no_answer(
    fast_server: FastServer, fake_slack: FakeSlackAPI
) -> None:
    with fast_server(slack=slack_settings(fake_slack)) as _server, _server.client() as http:
        sender = SlackSender(http)
        forged = sender.event(mention(CHURN_QUESTION), secret="not-the-signing-secret-at-all")
        assert forged.status_code == 401
        stale = sender.event(mention(CHURN_QUESTION), timestamp=int(time.time()) - 6 * 60)
        assert stale.status_code == 401
        unsigned = http.post("/slack/events", json={"type": "event_callback"})
        assert unsigned.status_code == 401
        # Inside the window (4 minutes old) a correct signature is accepted.
        fresh = sender.event(mention(CHURN_QUESTION), timestamp=int(time.time()) - 4 * 60)
        assert fresh.status_code == 200
        fake_slack.wait_for_calls("chat.update")
        assert len(fake_slack.calls_to("chat.postMessage")) == 1, "only the genuine request was answered"


def test_url_verification_challenge_is_answered(fast_server: FastServer, fake_slack: FakeSlackAPI) -> None:
    with fast_server(slack=slack_settings(fake_slack)) as _server, _server.client() as http:
        reply = SlackSender(http).post(
            '{"token": "t", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", '
            '"type": "url_verification"}',
            "application/json",
        )
        assert reply.status_code == 200
        assert reply.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


def test_the_service_starts_without_slack_and_has_no_slack_route(fast_server: FastServer) -> None:
    with fast_server() as server, server.client() as http:
        assert http.get("/healthz").status_code == 200
        assert http.post("/slack/events", content=b"{}").status_code == 404
        assert "/slack/events" not in http.get("/openapi.json").text


@pytest.mark.parametrize(
    ("slack", "message"),
    [
        ({"bot_token": BOT_TOKEN}, "slack.signing_secret is required"),
        ({"signing_secret": "8f742231b10e8888abcd99yyyzzz85a5"}, "slack.bot_token is required"),
        ({"bot_token": BOT_TOKEN, "signing_secret": "changeme"}, "placeholder"),
        ({"bot_token": "xoxp-user-token-1234", "signing_secret": "8f742231b10e8888abcd"}, "xoxb-"),
        ({"bot_token": BOT_TOKEN, "app_token": "xoxb-not-an-app-token"}, "xapp-"),
        ({"bot_token": BOT_TOKEN, "signing_secret": "8f742231b10e8888abcd", "mystery": 1}, "slack.mystery"),
    ],
)
def test_invalid_slack_settings_are_refused_in_one_line(slack: dict[str, Any], message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings(slack=slack)
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_socket_mode_needs_no_signing_secret_and_http_mode_is_off_then() -> None:
    settings = load_settings(slack={"bot_token": BOT_TOKEN, "app_token": "xapp-1-A0ADVISOR-123-abc"})
    assert settings.slack.enabled and not settings.slack.http_enabled
    assert not load_settings().slack.enabled
