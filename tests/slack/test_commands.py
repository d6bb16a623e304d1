"""The /advisor slash command: acknowledged at once, answered ephemerally through the response URL,
shared in the channel by a button; help and per-channel initiatives. Fast tier: the app over the
fast index (tests/plugins/fast.py), served over real HTTP, talking to the fake Slack Web API."""

from __future__ import annotations

import time

from advisor.slack.threads import principal_key
from tests.api.helpers import CHURN_QUESTION
from tests.fakes.slack_api import TEAM_ID, FakeSlackAPI
from tests.plugins.advisor_app import LiveServer
from tests.plugins.fast import FastServer
from tests.slack.helpers import (
    CHANNEL,
    USER,
    SlackSender,
    buttons,
    context_text,
    message,
    section_text,
    slack_settings,
)


def test_the_command_is_acknowledged_at_once_and_answered_at_its_response_url(
    fast_server: FastServer, fake_slack: FakeSlackAPI
) -> None:
    with fast_server(slack=slack_settings(fake_slack)) as server, server.client() as http:
        sender = SlackSender(http)
        started = time.monotonic()
        reply = sender.command(CHURN_QUESTION, fake_slack.response_url("ask-1"))
        elapsed = time.monotonic() - started
        assert reply.status_code == 200, reply.text
        assert elapsed < 3.0, f"Slack needs the acknowledgement within 3 s, took {elapsed:.2f}"
        assert "Looking through the guidance" in reply.json()["text"]

        (answer,) = fake_slack.wait_for_calls("response_url")
        assert answer.path == "/response/ask-1"
        assert answer.args["response_type"] == "ephemeral"
        assert "[1]" in section_text(answer) and context_text(answer).count("*Sources:*") == 1
        assert set(buttons(answer)) == {"advisor_feedback_up", "advisor_feedback_down", "advisor_share"}
        assert not fake_slack.calls_to("chat.postMessage"), "nothing is posted for everyone until shared"

        # Share: the answer is posted in the channel, the ephemeral one deleted, and the new
        # thread continues the same conversation.
        share = buttons(answer)["advisor_share"]
        sender.click(share, answer, response_url=fake_slack.response_url("share-1"), ephemeral=True)
        (posted,) = fake_slack.wait_for_calls("chat.postMessage")
        assert posted.args["channel"] == CHANNEL and "thread_ts" not in posted.args
        assert f"<@{USER}> asked:" in context_text(posted)
        assert section_text(posted) == section_text(answer)
        assert "advisor_share" not in buttons(posted)
        deleted = fake_slack.wait_for(
            lambda calls: any(c.path == "/response/share-1" and c.args.get("delete_original") for c in calls)
        )
        assert deleted

        sender.event(message("What about the second step?", thread_ts=posted.reply["ts"]))
        fake_slack.wait_for_calls("chat.update")
        conversation = _conversation_of(server, share["value"])
        roles = [m.role for m in server.container.conversations.list_messages(conversation)]
        assert roles == ["user", "assistant", "user", "assistant"]


def _conversation_of(server: LiveServer, message_id: str) -> str:
    from advisor.store.slack_links import SlackLinks

    shared = SlackLinks(server.container.engine).shared_answer(message_id, principal_key(TEAM_ID))
    assert shared is not None
    return shared.message.conversation_id


def test_help_and_initiative(fast_server: FastServer, fake_slack: FakeSlackAPI) -> None:
    with fast_server(slack=slack_settings(fake_slack)) as server, server.client() as http:
        sender = SlackSender(http)
        for text in ("", "help"):
            usage = sender.command(text, fake_slack.response_url("help")).json()["text"]
            assert "`/advisor &lt;question&gt;`" in usage and "`/advisor initiative &lt;text&gt;`" in usage

        initiative = "churn model, data in three CRMs, two data scientists, no MLOps"
        confirmation = sender.command(f"initiative {initiative}", fake_slack.response_url("init")).json()[
            "text"
        ]
        assert confirmation.startswith("Noted.") and initiative in confirmation

        sender.command(CHURN_QUESTION, fake_slack.response_url("ask-2"))
        (answer,) = fake_slack.wait_for_calls("response_url")
        conversation = _conversation_of(server, buttons(answer)["advisor_feedback_up"]["value"])
        stored = server.container.conversations.get_conversation(conversation, principal_key(TEAM_ID))
        assert stored is not None and stored.initiative == initiative

        forgotten = sender.command("initiative", fake_slack.response_url("forget")).json()["text"]
        assert forgotten.startswith("Forgotten")
