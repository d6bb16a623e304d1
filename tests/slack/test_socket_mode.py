"""`advisor slack socket` as a real process: it opens Socket Mode through apps.connections.open,
acknowledges envelopes over the WebSocket and answers through the Web API."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.helpers import CHURN_QUESTION
from tests.fakes.slack_api import APP_TOKEN, BOT_TOKEN, TEAM_ID, FakeSlackAPI
from tests.fakes.slack_socket_mode import FakeSocketMode
from tests.plugins.advisor_app import KNOWLEDGE, SettingsFactory
from tests.slack.helpers import CHANNEL, USER, buttons, event_callback, mention, section_text

ADVISOR = Path(sys.executable).parent / "advisor"


@pytest.fixture
def socket_mode(fake_slack: FakeSlackAPI) -> Iterator[FakeSocketMode]:
    server = FakeSocketMode()
    fake_slack.socket_url = server.url
    try:
        yield server
    finally:
        fake_slack.socket_url = None
        server.close()


def test_the_socket_mode_bot_answers_mentions_and_commands(
    indexed_settings: SettingsFactory, fake_slack: FakeSlackAPI, socket_mode: FakeSocketMode, tmp_path: Path
) -> None:
    data_dir = indexed_settings().data_dir
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADVISOR_")}
    env.update(
        HF_HUB_OFFLINE="1",
        ADVISOR_DATA_DIR=str(data_dir),
        ADVISOR_KNOWLEDGE_DIR=str(KNOWLEDGE),
        ADVISOR_SLACK__BOT_TOKEN=BOT_TOKEN,
        ADVISOR_SLACK__APP_TOKEN=APP_TOKEN,
        ADVISOR_SLACK__API_URL=fake_slack.api_url,
    )
    log = (tmp_path / "bot.log").open("w")
    bot = subprocess.Popen([str(ADVISOR), "slack", "socket"], env=env, cwd=tmp_path, stdout=log, stderr=log)
    try:
        socket_mode.wait_connected()
        event = mention(CHURN_QUESTION)
        envelope = socket_mode.deliver("events_api", event_callback(event))
        socket_mode.wait_ack(envelope)
        (update,) = fake_slack.wait_for_calls("chat.update")
        (placeholder,) = fake_slack.calls_to("chat.postMessage")
        assert placeholder.args["thread_ts"] == event["ts"]
        assert "[1]" in section_text(update) and "advisor_feedback_up" in buttons(update)

        command = {
            "team_id": TEAM_ID,
            "channel_id": CHANNEL,
            "user_id": USER,
            "command": "/advisor",
            "text": "help",
            "response_url": fake_slack.response_url("socket-help"),
        }
        ack = socket_mode.wait_ack(socket_mode.deliver("slash_commands", command))
        assert "/advisor initiative" in ack["payload"]["text"]
    finally:
        bot.terminate()
        bot.wait(timeout=30)
        log.close()
    assert "Traceback" not in (tmp_path / "bot.log").read_text()
