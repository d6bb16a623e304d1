"""`advisor slack socket` in-process over the fast index: it opens Socket Mode through
apps.connections.open at the fake Slack Web API, acknowledges the envelopes the fake Socket Mode server
delivers over the WebSocket (events, slash commands, button clicks) and answers through the Web API.

The command runs in a thread through typer's CliRunner (which swaps sys.stdout and sys.stderr for the
whole process while it runs). slack_bolt's ``SocketModeHandler.start`` (connect, then block until the
process is killed) is replaced by: connect, block until the test is done, close; everything else is
the command's own code.

One full-tier test runs the installed command as a real process on the real components.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from slack_bolt.adapter.socket_mode import SocketModeHandler
from typer.testing import CliRunner, Result

from advisor.cli import common
from advisor.cli.main import app as cli_app
from advisor.container import Container
from advisor.store.slack_links import thread_conversation_id
from tests.api.helpers import CHURN_QUESTION
from tests.fakes.slack_api import APP_TOKEN, BOT_TOKEN, TEAM_ID, FakeSlackAPI
from tests.fakes.slack_socket_mode import FakeSocketMode
from tests.plugins.advisor_app import KNOWLEDGE, SettingsFactory
from tests.plugins.fast import FastContainer
from tests.slack.helpers import (
    CHANNEL,
    USER,
    block_action,
    buttons,
    context_text,
    event_callback,
    mention,
    section_text,
    slack_settings,
)


@pytest.fixture
def socket_mode(fake_slack: FakeSlackAPI) -> Iterator[FakeSocketMode]:
    server = FakeSocketMode()
    fake_slack.socket_url = server.url
    try:
        yield server
    finally:
        fake_slack.socket_url = None
        server.close()


class SocketBot:
    """`advisor slack socket` running in a thread until :meth:`stop`."""

    def __init__(self, container: Container) -> None:
        self.container = container
        self.connected = threading.Event()
        self._stopping = threading.Event()
        self._result: Result | None = None
        self._thread = threading.Thread(target=self._run, name="socket-bot", daemon=True)

    def start(self, timeout: float = 30.0) -> None:
        """Run the command; return once it is connected (fail at once if it stops instead)."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.connected.wait(0.02):
            if not self._thread.is_alive():
                output = self._result.output if self._result else ""
                raise AssertionError(f"`advisor slack socket` stopped before connecting: {output}")
            assert time.monotonic() < deadline, "`advisor slack socket` did not connect"

    def _run(self) -> None:
        self._result = CliRunner().invoke(cli_app, ["slack", "socket"])

    def serve_until_stopped(self, handler: SocketModeHandler) -> None:
        """In place of SocketModeHandler.start."""
        handler.connect()  # type: ignore[no-untyped-call]
        self.connected.set()
        self._stopping.wait(timeout=120)
        # close() drops the connection at once, then waits up to ~3 s for slack_sdk's polling threads
        # (1 s queue and socket timeouts): they wind down in the background, the command returns now.
        threading.Thread(target=handler.close, name="socket-close", daemon=True).start()

    def stop(self) -> Result:
        self._stopping.set()
        self._thread.join(timeout=30)
        assert not self._thread.is_alive(), "`advisor slack socket` did not stop"
        assert self._result is not None
        return self._result


StartBot = Callable[..., SocketBot]


@pytest.fixture
def socket_bot(
    fast_container: FastContainer, monkeypatch: pytest.MonkeyPatch, socket_mode: FakeSocketMode
) -> Iterator[StartBot]:
    """socket_bot(**slack_settings) -> the command, started over a fast container and connected."""
    bots: list[SocketBot] = []

    def start(**slack: Any) -> SocketBot:
        bot = SocketBot(fast_container(slack=slack))
        monkeypatch.setattr(common, "build_container", lambda: bot.container)
        monkeypatch.setattr(SocketModeHandler, "start", lambda handler: bot.serve_until_stopped(handler))
        bots.append(bot)
        bot.start()
        socket_mode.wait_connected(timeout=5)
        return bot

    yield start
    for bot in bots:
        bot.stop()


def test_the_socket_mode_bot_answers_mentions_commands_and_clicks(
    socket_bot: StartBot,
    fake_slack: FakeSlackAPI,
    socket_mode: FakeSocketMode,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # No signing secret: Socket Mode requests come over an authenticated WebSocket, unsigned.
    bot = socket_bot(bot_token=BOT_TOKEN, app_token=APP_TOKEN, api_url=fake_slack.api_url)
    # Opened twice: once to check the token before connecting, once to connect.
    checked, opened = fake_slack.calls_to("apps.connections.open")
    for call in (checked, opened):
        assert call.headers["authorization"] == f"Bearer {APP_TOKEN}"  # the app-level token opens it

    # An event is acknowledged over the socket, then answered in its thread through the Web API.
    event = mention(CHURN_QUESTION)
    envelope = socket_mode.deliver("events_api", event_callback(event))
    assert socket_mode.wait_ack(envelope) == {"envelope_id": envelope}
    (update,) = fake_slack.wait_for_calls("chat.update")
    (placeholder,) = fake_slack.calls_to("chat.postMessage")
    assert placeholder.args["channel"] == CHANNEL and placeholder.args["thread_ts"] == event["ts"]
    assert "[1]" in section_text(update) and context_text(update).startswith("*Sources:* [1] ")
    assert set(buttons(update)) == {"advisor_feedback_up", "advisor_feedback_down"}
    conversation = thread_conversation_id(TEAM_ID, CHANNEL, event["ts"])
    stored = bot.container.conversations.list_messages(conversation)
    assert [m.role for m in stored] == ["user", "assistant"] and stored[0].content == CHURN_QUESTION

    # A click on a button of the answer is acknowledged and recorded.
    up = buttons(update)["advisor_feedback_up"]
    clicked = block_action(up, update, response_url=fake_slack.response_url("socket-click"), ephemeral=False)
    assert socket_mode.wait_ack(socket_mode.deliver("interactive", clicked))["envelope_id"]
    (thanks,) = fake_slack.wait_for_calls("chat.postEphemeral")
    assert thanks.args["text"] == "Thanks for the feedback!" and thanks.args["user"] == USER
    (feedback,) = bot.container.conversations.feedback_for(up["value"])
    assert feedback.rating == "up"

    # A slash command gets its reply in the acknowledgement's payload...
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
    # ...and a question, acknowledged at once, is answered at its response URL.
    asked = {**command, "text": CHURN_QUESTION, "response_url": fake_slack.response_url("socket-ask")}
    ack = socket_mode.wait_ack(socket_mode.deliver("slash_commands", asked))
    assert "Looking through the guidance" in ack["payload"]["text"]
    (answer,) = fake_slack.wait_for_calls("response_url")
    assert answer.path == "/response/socket-ask" and answer.args["response_type"] == "ephemeral"
    assert "[1]" in section_text(answer) and "advisor_share" in buttons(answer)

    done = bot.stop()
    assert done.exit_code == 0, done.output
    assert "connecting to Slack over Socket Mode" in done.stderr
    # (The fake server may log the client's close without a close frame: slack_sdk's client does that.)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith("advisor")]
    assert not errors, caplog.text


@pytest.mark.parametrize("slack", ["none", "http"])
def test_without_both_tokens_the_command_says_what_to_set(
    fast_container: FastContainer, monkeypatch: pytest.MonkeyPatch, fake_slack: FakeSlackAPI, slack: str
) -> None:
    settings = {
        "none": {"api_url": fake_slack.api_url},
        "http": slack_settings(fake_slack),  # a bot token and a signing secret: HTTP mode only
    }[slack]
    container = fast_container(slack=settings)
    monkeypatch.setattr(common, "build_container", lambda: container)
    done = CliRunner().invoke(cli_app, ["slack", "socket"])
    assert done.exit_code == 2, done.output
    assert done.stderr.strip() == (
        "advisor: Socket Mode needs ADVISOR_SLACK__BOT_TOKEN (xoxb-...) and ADVISOR_SLACK__APP_TOKEN (xapp-...)"
    )
    assert fake_slack.calls == [], "nothing was opened"


def test_without_an_index_the_command_says_to_ingest(
    fast_container: FastContainer, monkeypatch: pytest.MonkeyPatch, fake_slack: FakeSlackAPI, tmp_path: Path
) -> None:
    slack = slack_settings(fake_slack, app_token=APP_TOKEN)
    container = fast_container(fresh_vectors=True, data_dir=tmp_path / "empty", slack=slack)
    monkeypatch.setattr(common, "build_container", lambda: container)
    started: list[SocketModeHandler] = []
    monkeypatch.setattr(SocketModeHandler, "start", lambda handler: started.append(handler))
    done = CliRunner().invoke(cli_app, ["slack", "socket"])
    assert done.exit_code == 2, done.output
    assert done.stderr.startswith("advisor: the index is not ready (")
    assert done.stderr.rstrip().endswith("run `advisor ingest` first")
    assert started == [] and fake_slack.calls == [], "nothing was opened"


# -- full tier: the installed command as a real process ---------------------------------------------

ADVISOR = Path(sys.executable).parent / "advisor"


def test_the_installed_command_answers_over_socket_mode(
    indexed_settings: SettingsFactory, fake_slack: FakeSlackAPI, socket_mode: FakeSocketMode, tmp_path: Path
) -> None:
    """Settings from the environment, the real components, slack_bolt's blocking start, a clean stop."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADVISOR_")}
    env.update(
        HF_HUB_OFFLINE="1",
        ADVISOR_DATA_DIR=str(indexed_settings().data_dir),
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
        socket_mode.wait_ack(socket_mode.deliver("events_api", event_callback(event)))
        (update,) = fake_slack.wait_for_calls("chat.update")
        (placeholder,) = fake_slack.calls_to("chat.postMessage")
        assert placeholder.args["thread_ts"] == event["ts"]
        assert "[1]" in section_text(update) and "advisor_feedback_up" in buttons(update)
    finally:
        bot.terminate()
        bot.wait(timeout=30)
        log.close()
    assert "Traceback" not in (tmp_path / "bot.log").read_text()
