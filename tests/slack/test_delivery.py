"""Getting answers to Slack safely: rate limits retried after Retry-After, Slack's escaping, feedback
buttons stored, and failures shown to the user instead of crashing the bot. Fast tier: the app over
the fast index (tests/plugins/fast.py); the LLM is the real OpenAI client against the fake server."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from tests.api.helpers import CHURN_QUESTION, llm_settings
from tests.fakes.openai_server import FakeOpenAIServer
from tests.fakes.slack_api import FakeSlackAPI
from tests.plugins.fast import FastServer
from tests.slack.helpers import SlackSender, buttons, mention, section_text, slack_settings


def test_a_rate_limited_post_is_retried_after_retry_after(
    fast_server: FastServer, fake_slack: FakeSlackAPI
) -> None:
    fake_slack.rate_limit("chat.postMessage", times=1, retry_after=1)
    with fast_server(slack=slack_settings(fake_slack)) as _server, _server.client() as http:
        event = mention(CHURN_QUESTION)
        SlackSender(http).event(event)
        fake_slack.wait_for_calls("chat.update")

        limited, accepted = fake_slack.calls_to("chat.postMessage", ok_only=False)
        assert (limited.status, accepted.status) == (429, 200)
        assert accepted.args == limited.args and accepted.args["thread_ts"] == event["ts"]
        waited = accepted.received_at - limited.received_at
        assert waited >= 1.0, f"retried after {waited:.2f}s, before Retry-After"
        assert len(fake_slack.calls_to("chat.update")) == 1


def test_mass_mentions_in_an_answer_are_escaped(
    fast_server: FastServer, fake_slack: FakeSlackAPI, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.reply_with(
        "Tell <!channel> and <@U0CEO> to ship behind a **canary release** first [1]. Q&A later."
    )
    with (
        fast_server(slack=slack_settings(fake_slack), llm=llm_settings(fake_openai)) as _server,
        _server.client() as http,
    ):
        SlackSender(http).event(mention("How should we roll out a new model version safely?"))
        (update,) = fake_slack.wait_for_calls("chat.update")

    text = section_text(update)
    assert "&lt;!channel&gt;" in text and "&lt;@U0CEO&gt;" in text and "Q&amp;A later" in text
    assert "<!channel>" not in text and "<@U0CEO>" not in text
    assert "<!channel>" not in update.args["text"], "the notification text is escaped too"
    assert "*canary release*" in text and "**" not in text


def test_a_feedback_click_is_stored(fast_server: FastServer, fake_slack: FakeSlackAPI) -> None:
    with fast_server(slack=slack_settings(fake_slack)) as server, server.client() as http:
        sender = SlackSender(http)
        event = mention(CHURN_QUESTION)
        sender.event(event)
        (update,) = fake_slack.wait_for_calls("chat.update")
        up = buttons(update)["advisor_feedback_up"]
        source = fake_slack.calls_to("chat.postMessage")[0]
        # The click carries the posted message (channel, ts, thread) and its blocks.
        clicked = replace(update, args={**update.args, "thread_ts": source.args["thread_ts"]})

        reply = sender.click(up, clicked, response_url=fake_slack.response_url("feedback"))
        assert reply.status_code == 200
        (confirmation,) = fake_slack.wait_for_calls("chat.postEphemeral")
        assert confirmation.args["text"] == "Thanks for the feedback!"
        assert confirmation.args["thread_ts"] == event["ts"]
        (feedback,) = server.container.conversations.feedback_for(up["value"])
        assert feedback.rating == "up"

        forged = {**buttons(update)["advisor_feedback_down"], "value": "0" * 32}
        sender.click(forged, clicked, response_url=fake_slack.response_url("feedback"))
        fake_slack.wait_for_calls("chat.postEphemeral", 2)
        assert (
            fake_slack.calls_to("chat.postEphemeral")[1].args["text"] == "That answer is no longer available."
        )
        assert len(server.container.conversations.feedback_for(up["value"])) == 1


def test_failures_are_shown_in_the_thread_and_the_bot_keeps_working(
    fast_server: FastServer, fake_slack: FakeSlackAPI, tmp_path: Path
) -> None:
    # No index (an empty data directory): the user is told, in the thread, instead of getting silence.
    empty = {"data_dir": tmp_path / "empty", "slack": slack_settings(fake_slack)}
    with fast_server(fresh_vectors=True, **empty) as server, server.client() as http:
        SlackSender(http).event(mention(CHURN_QUESTION))
        (update,) = fake_slack.wait_for_calls("chat.update")
        assert "not ready yet" in section_text(update)
    fake_slack.reset()

    with fast_server(slack=slack_settings(fake_slack, workers=1)) as server, server.client() as http:
        sender = SlackSender(http)
        # Slack refuses the answer once: the placeholder is replaced by an apology, not left spinning.
        fake_slack.fail("chat.update", "msg_too_long", times=1)
        sender.event(mention(CHURN_QUESTION))
        (apology,) = fake_slack.wait_for_calls("chat.update")
        assert "something went wrong" in section_text(apology)
        # A question over the length limit is refused with the reason.
        sender.event(mention("why " * 2000))
        (_, too_long) = fake_slack.wait_for_calls("chat.update", 2)
        assert "the limit is 4000" in section_text(too_long)
        # And the bot still answers.
        sender.event(mention(CHURN_QUESTION))
        third = fake_slack.wait_for_calls("chat.update", 3)[2]
        assert "[1]" in section_text(third)


def test_a_long_answer_arrives_in_several_messages_within_slack_limits(
    fast_server: FastServer, fake_slack: FakeSlackAPI, fake_openai: FakeOpenAIServer
) -> None:
    paragraph = "Roll out behind a canary, watch the error budget and keep a rollback ready [1]. " * 12
    fake_openai.reply_with("\n\n".join(f"**Step {n}.** {paragraph}" for n in range(1, 13)))
    with (
        fast_server(slack=slack_settings(fake_slack), llm=llm_settings(fake_openai)) as _server,
        _server.client() as http,
    ):
        event = mention("How should we roll out a new model version safely?")
        SlackSender(http).event(event)
        (update,) = fake_slack.wait_for_calls("chat.update")
        # The answer is complete once a message with the buttons (always the last one) is posted.
        fake_slack.wait_for(lambda calls: any(buttons(c) for c in calls if c.method == "chat.postMessage"))

    _placeholder, *continuations = fake_slack.calls_to("chat.postMessage")
    assert continuations and all(p.args["thread_ts"] == event["ts"] for p in continuations)
    parts = [update, *continuations]
    assert all(len(p.blocks) <= 50 for p in parts)
    assert all(len(b["text"]["text"]) <= 3000 for p in parts for b in p.blocks if b["type"] == "section")
    # Sources and buttons once, at the end of the answer.
    assert [bool(buttons(p)) for p in parts] == [False] * (len(parts) - 1) + [True]
    assert "Step 1." in section_text(update) and "Step 12." in section_text(parts[-1])
