"""The Slack bot over real HTTP: signed Events API requests to the running app, answers observed at
a fake Slack Web API. Mentions and DMs are answered once, in their thread; threads are conversations.
Fast tier: the app over the fast index (tests/plugins/fast.py)."""

from __future__ import annotations

from advisor.store.slack_links import thread_conversation_id
from tests.api.helpers import CHURN_QUESTION
from tests.fakes.slack_api import BOT_ID, BOT_USER_ID, TEAM_ID, FakeSlackAPI, SlackCall
from tests.plugins.fast import FastServer
from tests.slack.helpers import (
    CHANNEL,
    SlackSender,
    buttons,
    context_text,
    mention,
    message,
    section_text,
    slack_settings,
)


def answered(fake: FakeSlackAPI, count: int = 1) -> list[SlackCall]:
    """The first ``count`` answers (chat.update of a placeholder), waiting for them."""
    return fake.wait_for_calls("chat.update", count)[:count]


def test_a_mention_gets_one_threaded_answer_with_sources_and_buttons(
    fast_server: FastServer, fake_slack: FakeSlackAPI
) -> None:
    with fast_server(slack=slack_settings(fake_slack)) as server, server.client() as http:
        event = mention(CHURN_QUESTION)
        reply = SlackSender(http).event(event)
        assert reply.status_code == 200, reply.text

        (update,) = answered(fake_slack)
        (placeholder,) = fake_slack.calls_to("chat.postMessage")
        # The placeholder went into the mention's thread and is what the answer replaced.
        assert placeholder.args["channel"] == CHANNEL and placeholder.args["thread_ts"] == event["ts"]
        assert (update.args["channel"], update.args["ts"]) == (CHANNEL, placeholder.reply["ts"])
        text = section_text(update)
        assert "[1]" in text and "**" not in text, text  # cited, and Markdown bold became mrkdwn
        assert context_text(update).startswith("*Sources:* [1] ")
        assert set(buttons(update)) == {"advisor_feedback_up", "advisor_feedback_down"}
        assert update.args["text"], "a notification text accompanies the blocks"

        conversation = thread_conversation_id(TEAM_ID, CHANNEL, event["ts"])
        stored = server.container.conversations.list_messages(conversation)
        assert [m.role for m in stored] == ["user", "assistant"]
        assert stored[0].content == CHURN_QUESTION  # the mention itself is not part of the question
        assert buttons(update)["advisor_feedback_up"]["value"] == stored[1].id


def test_a_retried_delivery_is_not_answered_again_even_after_a_restart(
    fast_server: FastServer, fake_slack: FakeSlackAPI
) -> None:
    event = mention(CHURN_QUESTION)
    with fast_server(slack=slack_settings(fake_slack)) as server, server.client() as http:
        assert SlackSender(http).event(event, event_id="EvFIRST").status_code == 200
        answered(fake_slack)

    # A new process on the same database (a restart, or another replica) gets Slack's retry.
    # One worker: the retry is handled before the sentinel event, so once the sentinel is answered
    # the retry has certainly been processed, and must have produced nothing.
    with fast_server(slack=slack_settings(fake_slack, workers=1)) as server, server.client() as http:
        sender = SlackSender(http)
        retry_headers = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
        assert sender.event(event, event_id="EvFIRST", headers=retry_headers).status_code == 200
        sentinel = mention("How should we monitor a model in production?")
        sender.event(sentinel)
        answered(fake_slack, 2)

    threads = [c.args.get("thread_ts") for c in fake_slack.calls_to("chat.postMessage")]
    assert threads == [event["ts"], sentinel["ts"]]


def test_a_second_message_in_the_thread_continues_the_conversation(
    fast_server: FastServer, fake_slack: FakeSlackAPI
) -> None:
    with fast_server(slack=slack_settings(fake_slack)) as server, server.client() as http:
        sender = SlackSender(http)
        first = mention(CHURN_QUESTION)
        sender.event(first)
        answered(fake_slack)

        # No mention needed inside one of our threads.
        followup = message("What about the second step?", thread_ts=first["ts"])
        sender.event(followup)
        second = answered(fake_slack, 2)[1]

        placeholders = fake_slack.calls_to("chat.postMessage")
        assert [p.args["thread_ts"] for p in placeholders] == [first["ts"], first["ts"]]
        assert "[1]" in section_text(second)
        conversation = thread_conversation_id(TEAM_ID, CHANNEL, first["ts"])
        stored = server.container.conversations.list_messages(conversation)
        assert [m.role for m in stored] == ["user", "assistant", "user", "assistant"]
        # Answered in context: the follow-up was rewritten into a standalone question from the thread.
        assert (
            stored[3].standalone_question and stored[3].standalone_question != "What about the second step?"
        )


def test_direct_messages_are_answered_and_other_messages_ignored(
    fast_server: FastServer, fake_slack: FakeSlackAPI
) -> None:
    with fast_server(slack=slack_settings(fake_slack, workers=1)) as server, server.client() as http:
        sender = SlackSender(http)
        # Ignored: our own message, another bot, a top-level channel message without a mention, an edit.
        sender.event(message("I am the bot", user=BOT_USER_ID, bot_id=BOT_ID))
        sender.event(message("beep", bot_id="B0OTHER", subtype="bot_message"))
        sender.event(message("Any thoughts on canary releases?"))
        sender.event(message("edited", subtype="message_changed"))
        dm = message(
            "How should we roll out a new model version safely?", channel="D0ALICE", channel_type="im"
        )
        sender.event(dm)

        (update,) = answered(fake_slack)
        (placeholder,) = fake_slack.calls_to("chat.postMessage")
        assert placeholder.args["channel"] == "D0ALICE" and placeholder.args["thread_ts"] == dm["ts"]
        assert "[1]" in section_text(update)


def test_a_mention_inside_our_thread_is_answered_once_though_slack_sends_two_events(
    fast_server: FastServer, fake_slack: FakeSlackAPI
) -> None:
    with fast_server(slack=slack_settings(fake_slack, workers=1)) as _server, _server.client() as http:
        sender = SlackSender(http)
        first = mention(CHURN_QUESTION)
        sender.event(first)
        answered(fake_slack)

        # Slack delivers a mention in a channel as app_mention *and* message (different event ids).
        again = mention("What about the second step?", thread_ts=first["ts"])
        sender.event(again)
        sender.event({**again, "type": "message", "channel_type": "channel"})
        sentinel = mention("How should we monitor a model in production?")
        sender.event(sentinel)
        answered(fake_slack, 3)

    threads = [c.args.get("thread_ts") for c in fake_slack.calls_to("chat.postMessage")]
    assert threads == [first["ts"], first["ts"], sentinel["ts"]]
