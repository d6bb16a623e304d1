"""Slack questions are answered at least once (issue 16, item 9). Before, an event was marked handled
before it was answered, so a crash mid-answer lost the question. Now the delivery stays open until
the answer is out; the sweep of the next process (or another replica) answers it, updating the
placeholder already posted instead of posting a second one. And `advisor slack socket` says in one
line when a token is wrong or Slack cannot be reached (it printed a 115-line traceback)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from advisor.app import create_app
from advisor.cli import common
from advisor.cli.main import app as cli_app
from advisor.slack.recovery import build_sweeper
from advisor.slack.threads import MESSAGES, Ask
from advisor.store.models import ProcessedEvent, utcnow
from tests.api.helpers import CHURN_QUESTION
from tests.fakes.slack_api import TEAM_ID, FakeSlackAPI
from tests.plugins.advisor_app import free_port, serve_app
from tests.plugins.fast import FastContainer
from tests.slack.helpers import CHANNEL, USER, new_ts, section_text, slack_settings

APP_TOKEN = "xapp-1-A0TEST-1234567890-abcdef0123456789"
QUICK_SWEEP = {"sweep_seconds": 0.2, "redeliver_after_seconds": 1.0}


def _cut_short(container: Any, ask: Ask, ts: str, placeholder: str | None) -> None:
    """What a process leaves when it dies mid-answer: the claim open, maybe a placeholder posted,
    taken long enough ago for its lease to have run out."""
    claim = container.deliveries.claim(
        MESSAGES, f"{TEAM_ID}/{CHANNEL}/{ts}", ask.stored(), timedelta(minutes=2)
    )
    assert claim is not None
    if placeholder is not None:
        container.deliveries.record_reply(claim, placeholder)
    with container.engine.begin() as connection:
        connection.execute(update(ProcessedEvent).values(claimed_at=utcnow() - timedelta(minutes=5)))


@pytest.mark.parametrize("placeholder", ["1700000000.999999", None])
def test_a_question_a_crash_cut_short_is_answered_by_the_next_process(
    fast_container: FastContainer, fake_slack: FakeSlackAPI, placeholder: str | None
) -> None:
    container = fast_container(slack=slack_settings(fake_slack, **QUICK_SWEEP))
    ts = new_ts()
    _cut_short(container, Ask(TEAM_ID, CHANNEL, USER, CHURN_QUESTION, ts), ts, placeholder)

    with serve_app(create_app(container=container), free_port()):
        (update_call,) = fake_slack.wait_for_calls("chat.update", 1, timeout=30)
    assert "[1]" in section_text(update_call)
    posted = fake_slack.calls_to("chat.postMessage")
    if placeholder is not None:  # the earlier placeholder is replaced; nothing new is posted
        assert update_call.args["ts"] == placeholder and posted == []
    else:
        (thinking,) = posted
        assert thinking.args["thread_ts"] == ts and update_call.args["ts"] == thinking.reply["ts"]
    # Answered once: a further sweep finds nothing to do.
    sweep = build_sweeper(_client(container), container).sweep()
    assert (sweep.resumed, sweep.given_up) == (0, 0)


def _client(container: Any) -> Any:
    from advisor.slack.app import web_client

    return web_client(container.settings.slack)


def test_when_slack_cannot_be_told_the_question_stays_open_for_the_next_sweep(
    fast_container: FastContainer, fake_slack: FakeSlackAPI
) -> None:
    container = fast_container(slack=slack_settings(fake_slack, redeliver_after_seconds=1.0))
    ts = new_ts()
    _cut_short(container, Ask(TEAM_ID, CHANNEL, USER, CHURN_QUESTION, ts), ts, "1700000000.888888")
    sweeper = build_sweeper(_client(container), container)
    fake_slack.fail("chat.update", "internal_error")  # neither the answer nor the apology goes out
    assert sweeper.sweep().resumed == 1
    fake_slack.reset()
    with container.engine.begin() as connection:  # its lease runs out again
        connection.execute(update(ProcessedEvent).values(claimed_at=utcnow() - timedelta(minutes=5)))
    assert sweeper.sweep().resumed == 1
    (delivered,) = fake_slack.calls_to("chat.update")
    assert delivered.args["ts"] == "1700000000.888888" and "[1]" in section_text(delivered)


@pytest.mark.parametrize(
    ("trouble", "expected"),
    [
        ("invalid_auth", "advisor: Slack refused ADVISOR_SLACK__BOT_TOKEN: invalid_auth"),
        (
            "unreachable",
            "advisor: cannot reach Slack at http://127.0.0.1:{port}/api/: [Errno 111] Connection refused",
        ),
    ],
)
def test_socket_mode_says_in_one_line_what_is_wrong(
    fast_container: FastContainer,
    fake_slack: FakeSlackAPI,
    monkeypatch: pytest.MonkeyPatch,
    trouble: str,
    expected: str,
) -> None:
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api/" if trouble == "unreachable" else fake_slack.api_url
    if trouble == "invalid_auth":
        fake_slack.fail("auth.test", "invalid_auth")
    container = fast_container(slack=slack_settings(fake_slack, app_token=APP_TOKEN, api_url=api_url))
    monkeypatch.setattr(common, "build_container", lambda: container)
    done = CliRunner().invoke(cli_app, ["slack", "socket"])
    assert done.exit_code == 2, done.output
    assert done.stderr.strip() == expected.format(port=port)
