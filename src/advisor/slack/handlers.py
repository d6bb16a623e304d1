"""Bolt listeners. Each acknowledges Slack at once (the ack function) and does the work in a lazy
listener on bolt's thread pool, so Slack always gets its answer within 3 seconds."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any, Literal

from advisor.slack.assess import CALLBACK, DESCRIPTION, read_submission
from advisor.slack.blocks import FEEDBACK_UP, SHARE, escape, mrkdwn_message, notice, usage
from advisor.slack.threads import FAILED, Ask, SlackAdvisor, question_text

if TYPE_CHECKING:
    from slack_bolt import Ack, App, BoltContext, Respond
    from slack_sdk import WebClient

    from advisor.channel_settings import SlackSettings

log = logging.getLogger(__name__)

# Message subtypes that are someone writing to us; edits, joins, deletions and the like are not.
_USER_SUBTYPES = frozenset({None, "file_share", "thread_broadcast"})
_FEEDBACK_ACTION = re.compile(r"^advisor_feedback_(up|down)$")


def parse_command(text: str) -> tuple[str, str]:
    """(kind, text) for the slash command's text: ("help", ""), ("initiative", text), ("assess",
    description) or ("ask", question)."""
    cleaned = question_text(text, None)
    word, _, rest = cleaned.partition(" ")
    if not cleaned or word.lower() in ("help", "?"):
        return "help", ""
    if word.lower() in ("initiative", "assess"):
        return word.lower(), rest.strip()
    return "ask", cleaned


def message_ask(
    body: dict[str, Any], event: dict[str, Any], bot_user_id: str | None, *, ignore_bots: bool
) -> Ask | None:
    """The question in a message event, or None when it is not addressed to us."""
    allowed = _USER_SUBTYPES if ignore_bots else _USER_SUBTYPES | {"bot_message"}
    if event.get("subtype") not in allowed or (ignore_bots and event.get("bot_id")):
        return None
    sender = event.get("user") or event.get("bot_id")
    channel, ts = event.get("channel"), event.get("ts")
    team = body.get("team_id") or event.get("team")
    if not (sender and channel and ts and team):
        return None
    return Ask(
        team_id=str(team),
        channel_id=str(channel),
        user_id=str(sender),
        text=question_text(str(event.get("text") or ""), bot_user_id),
        thread_ts=str(event.get("thread_ts") or ts),
    )


def register_handlers(app: App, advisor: SlackAdvisor, settings: SlackSettings) -> None:
    help_text = usage(settings.command)

    def ack_now(ack: Ack) -> None:
        ack()

    def answer_event(
        body: dict[str, Any], event: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        """A mention or a message: answered in its thread when it is addressed to us."""
        try:
            bot_user_id = context.bot_user_id
            ask = message_ask(body, event, bot_user_id, ignore_bots=settings.ignore_bots)
            if ask is None:
                return
            if event.get("type") == "message" and event.get("channel_type") != "im":
                mentioned = bool(bot_user_id) and f"<@{bot_user_id}>" in str(event.get("text") or "")
                # A mention is answered by its app_mention event; other channel messages only
                # when they continue one of our threads.
                if mentioned or not event.get("thread_ts"):
                    return
                if not advisor.is_advisor_thread(ask.team_id, ask.channel_id, str(event["thread_ts"])):
                    return
            event_id = str(body.get("event_id") or "") or None
            claim = advisor.claim_message(ask, event_id, str(event["ts"]))
            if claim is None:
                return
            advisor.reply_in_thread(client, ask, help_text, claim)
        except Exception:
            log.exception("slack: handling event %s failed", body.get("event_id"))

    app.event("app_mention")(ack=ack_now, lazy=[answer_event])
    app.event("message")(ack=ack_now, lazy=[answer_event])

    def command_ask(command: dict[str, Any], text: str) -> Ask:
        return Ask(
            team_id=str(command.get("team_id")),
            channel_id=str(command.get("channel_id")),
            user_id=str(command.get("user_id")),
            text=text,
        )

    def ack_command(ack: Ack, command: dict[str, Any]) -> None:
        kind, text = parse_command(str(command.get("text") or ""))
        if kind == "help":
            reply = help_text
        elif kind == "initiative":
            try:
                reply = advisor.record_initiative(command_ask(command, text))
            except Exception:
                log.exception("slack: recording an initiative failed")
                reply = escape(FAILED)
        elif kind == "assess":
            ack()  # the modal is the reply
            return
        else:
            reply = f":hourglass_flowing_sand: Looking through the guidance for: {escape(text)}"
        ack(response_type="ephemeral", **mrkdwn_message(reply).payload())

    def answer_command(command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        kind, text = parse_command(str(command.get("text") or ""))
        if kind == "ask":
            advisor.answer_command(respond, command_ask(command, text))
        elif kind == "assess":
            try:
                advisor.open_assessment(client, str(command.get("trigger_id")), command_ask(command, text))
            except Exception:
                log.exception("slack: could not open the assessment modal")
                respond(response_type="ephemeral", **notice(FAILED).payload())

    app.command(settings.command)(ack=ack_command, lazy=[answer_command])

    def ack_assessment(ack: Ack, view: dict[str, Any]) -> None:
        description, chosen, _ = read_submission(view)
        if not description and not chosen:
            ack(
                response_action="errors",
                errors={DESCRIPTION: "Describe the initiative, or answer at least one question."},
            )
            return
        ack()  # closes the modal; the scorecard follows in a direct message

    def score_assessment(view: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        description, chosen, meta = read_submission(view)
        if not description and not chosen:
            return  # refused in the modal by the ack; bolt runs lazy listeners all the same
        user = meta.get("user") or str((body.get("user") or {}).get("id"))
        team = meta.get("team") or str((body.get("team") or {}).get("id"))
        ask = Ask(team_id=team, channel_id=meta.get("channel", ""), user_id=user, text=description)
        advisor.post_assessment(client, ask, chosen)

    app.view(CALLBACK)(ack=ack_assessment, lazy=[score_assessment])

    def action_ask(body: dict[str, Any]) -> Ask:
        channel = body.get("channel") or body.get("container") or {}
        message = body.get("message") or {}
        return Ask(
            team_id=str((body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id")),
            channel_id=str(channel.get("id") or channel.get("channel_id")),
            user_id=str((body.get("user") or {}).get("id")),
            text="",
            thread_ts=message.get("thread_ts"),
        )

    def record_feedback(
        body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond
    ) -> None:
        ask = action_ask(body)
        rating: Literal["up", "down"] = "up" if action.get("action_id") == FEEDBACK_UP else "down"
        try:
            text = advisor.record_feedback(ask.team_id, str(action.get("value")), rating)
        except Exception:
            log.exception("slack: storing feedback failed")
            text = FAILED
        try:
            if (body.get("container") or {}).get("is_ephemeral"):
                respond(response_type="ephemeral", replace_original=False, **notice(text).payload())
            else:
                client.chat_postEphemeral(
                    channel=ask.channel_id,
                    user=ask.user_id,
                    thread_ts=ask.thread_ts,
                    **notice(text).payload(),
                )
        except Exception:
            log.exception("slack: could not confirm feedback to %s", ask.user_id)

    app.action(_FEEDBACK_ACTION)(ack=ack_now, lazy=[record_feedback])

    def share(body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond) -> None:
        advisor.share(client, respond, action_ask(body), str(action.get("value")))

    app.action(SHARE)(ack=ack_now, lazy=[share])

    def report_error(error: Exception, body: dict[str, Any]) -> None:
        log.error("slack: unhandled error for %s: %s", body.get("type"), error, exc_info=error)

    app.error(report_error)
