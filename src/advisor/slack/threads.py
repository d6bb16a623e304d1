"""What the bot does once Slack has been acknowledged: answer in threads (thread = conversation),
answer slash commands through their response URL, record initiatives and feedback, share answers.

Every entry point catches everything: a failure is logged and told to the user in a short message,
and never escapes into bolt's worker threads."""

from __future__ import annotations

import dataclasses
import html
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

from slack_sdk.errors import SlackApiError

from advisor.auth import Principal
from advisor.chat.errors import ChatError, InvalidRequest, NotFound, NotReady
from advisor.chat.model import Caller, ChatRequest, FeedbackRequest, TurnResult
from advisor.slack.blocks import SlackMessage, answer_messages, escape, notice
from advisor.store.slack_links import thread_conversation_id

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from advisor.container import Container
    from advisor.store.deliveries import Claim

log = logging.getLogger(__name__)

THINKING = ":hourglass_flowing_sand: Looking through the guidance…"
FAILED = "Sorry, something went wrong while I was answering. Please try again in a moment."
NOT_READY = "I'm not ready yet: the guidance index is still loading. Please try again in a minute."
UNAVAILABLE = "That answer is no longer available."
NOT_IN_CHANNEL = "I can't post in this conversation. Invite me first (`/invite @Advisor`), then share again."

# Sends one message payload (the response_url of a slash command or an action).
Respond = Callable[..., Any]


class UserFacingError(Exception):
    """A failure whose message is fit to show the user as it is."""


@dataclass(frozen=True)
class Ask:
    """A question from Slack and where its answer goes."""

    team_id: str
    channel_id: str
    user_id: str
    text: str
    thread_ts: str | None = None  # None for a slash command (ephemeral, no thread)

    def stored(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def restored(cls, payload: str) -> Ask:
        return cls(**json.loads(payload))


MESSAGES = "slack-message"  # deliveries of messages to answer in their thread


def principal_key(team_id: str) -> str:
    """The key id Slack conversations and feedback are recorded under: one per workspace."""
    return f"slack:{team_id}"


def slack_caller(team_id: str) -> Caller:
    """A workspace as the chat core's caller: it may chat and give feedback."""
    return Caller(Principal(principal_key(team_id), "slack", frozenset({"chat", "feedback"})), "slack")


def refusal_text(exc: ChatError) -> str:
    """What the user reads when the core refuses: the core's own reason for a bad request."""
    if isinstance(exc, InvalidRequest):
        return f"Sorry, I can't take that: {exc.reason}."
    if isinstance(exc, NotReady):
        return NOT_READY
    return FAILED


def question_text(text: str, bot_user_id: str | None) -> str:
    """A Slack message as a question: without the bot's mention, Slack's escaping undone."""
    if bot_user_id:
        text = text.replace(f"<@{bot_user_id}>", " ")
    return " ".join(html.unescape(text).split())


class SlackAdvisor:
    def __init__(self, container: Container) -> None:
        self._chat = container.chat
        self._assessor = container.assessor
        self._assessments = container.assessments
        self.links = container.slack_links
        self.deliveries = container.deliveries
        self.lease = timedelta(seconds=container.settings.slack.redeliver_after_seconds)

    # -- idempotency ----------------------------------------------------------------------------

    def claim_message(self, ask: Ask, event_id: str | None, ts: str) -> Claim | None:
        """The message to answer now; None for a retried delivery (same event id) and for the second
        event of one message (a mention in a thread arrives as both app_mention and message). In the
        database, so it holds across restarts and replicas; the claim stays open until the answer is
        out, and a sweep answers claims a crash left open (advisor.slack.recovery)."""
        if event_id and not self.deliveries.first_delivery("slack-event", event_id):
            log.info("slack: event %s already handled; ignoring the retry", event_id)
            return None
        key = f"{ask.team_id}/{ask.channel_id}/{ts}"
        return self.deliveries.claim(MESSAGES, key, ask.stored(), self.lease)

    def is_advisor_thread(self, team_id: str, channel_id: str, thread_ts: str) -> bool:
        return self.links.thread_conversation(team_id, channel_id, thread_ts) is not None

    # -- answering ------------------------------------------------------------------------------

    def _answer(self, ask: Ask, conversation_id: str | None) -> TurnResult:
        initiative = self.links.initiative(ask.team_id, ask.channel_id, ask.user_id)
        # A thread's conversation id is derived from the thread: the first answer starts it.
        request = ChatRequest(
            ask.text, conversation_id, initiative, open_if_missing=conversation_id is not None
        )
        try:
            return self._chat.ask(request, slack_caller(ask.team_id))
        except ChatError as exc:
            if exc.kind == "failed":
                log.warning("slack: answer failed for %s/%s: %s", ask.team_id, ask.channel_id, exc.reason)
            raise UserFacingError(refusal_text(exc)) from None

    def reply_in_thread(self, client: WebClient, ask: Ask, usage: str, claim: Claim) -> None:
        """Answer a mention or direct message in its thread: a placeholder first, replaced by the
        answer; the thread's conversation is continued by later messages. The claim is closed once
        the user has an answer (or was told it failed); an attempt after a crash updates the
        placeholder the first one posted rather than posting another."""
        channel, thread_ts = ask.channel_id, ask.thread_ts
        placeholder = claim.reply_ts
        try:
            if not ask.text:
                client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=usage)
                self.deliveries.mark_answered(claim)
                return
            if placeholder is None:
                posted = client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=THINKING)
                placeholder = str(posted["ts"])
                self.deliveries.record_reply(claim, placeholder)
            conversation_id = self.links.thread_conversation(
                ask.team_id, channel, str(thread_ts)
            ) or thread_conversation_id(ask.team_id, channel, str(thread_ts))
            result = self._answer(ask, conversation_id)
            self.links.link_thread(ask.team_id, channel, str(thread_ts), result.conversation_id)
            messages = answer_messages(result.answer, result.citations, result.message_id)
            self._deliver(client, channel, thread_ts, placeholder, messages)
            self.deliveries.mark_answered(claim)
        except Exception as exc:
            if self._report_in_thread(client, ask, placeholder, exc):
                self.deliveries.mark_answered(claim)  # the user was told; else a later sweep tries again

    def _deliver(
        self,
        client: WebClient,
        channel: str,
        thread_ts: str | None,
        placeholder: str,
        messages: Sequence[SlackMessage],
    ) -> None:
        first, *rest = messages
        client.chat_update(channel=channel, ts=placeholder, **first.payload())
        for message in rest:
            client.chat_postMessage(channel=channel, thread_ts=thread_ts, **message.payload())

    def _report_in_thread(self, client: WebClient, ask: Ask, placeholder: str | None, exc: Exception) -> bool:
        """Tell the user answering failed; False when Slack could not be told either."""
        text = _user_message(exc, ask)
        try:
            if placeholder is not None:
                client.chat_update(channel=ask.channel_id, ts=placeholder, **notice(text).payload())
            else:
                client.chat_postMessage(
                    channel=ask.channel_id, thread_ts=ask.thread_ts, **notice(text).payload()
                )
        except Exception:
            log.exception("slack: could not tell the user in %s that answering failed", ask.channel_id)
            return False
        return True

    def answer_command(self, respond: Respond, ask: Ask) -> None:
        """A slash-command question: the answer, only for the asker, with a button to share it."""
        try:
            result = self._answer(ask, None)
            messages = answer_messages(
                result.answer,
                result.citations,
                result.message_id,
                share=True,
                preface=f"You asked: {escape(ask.text)}",
            )
            for index, message in enumerate(messages):
                respond(response_type="ephemeral", replace_original=index == 0, **message.payload())
        except Exception as exc:
            _safely(respond, _user_message(exc, ask))

    def record_initiative(self, ask: Ask) -> str:
        """Store (or forget, when blank) the user's initiative for this channel; the confirmation."""
        try:
            self._chat.admission.initiative(ask.text or None)
        except ChatError as exc:
            return refusal_text(exc)
        self.links.set_initiative(ask.team_id, ask.channel_id, ask.user_id, ask.text or None)
        if not ask.text:
            return "Forgotten: your questions in this channel no longer carry an initiative."
        return f"Noted. Your questions in this channel will take this initiative into account: {escape(ask.text)}"

    # -- readiness assessment ----------------------------------------------------------------------

    def open_assessment(self, client: WebClient, trigger_id: str, ask: Ask) -> None:
        """The assessment modal, with the command's text as the description."""
        from advisor.slack.assess import assessment_modal

        metadata = {"team": ask.team_id, "channel": ask.channel_id, "user": ask.user_id}
        client.views_open(
            trigger_id=trigger_id, view=assessment_modal(self._assessor.rules, ask.text, metadata)
        )

    def post_assessment(self, client: WebClient, ask: Ask, chosen: dict[str, str]) -> None:
        """Score a submitted modal and post the scorecard to the user in a direct message."""
        from advisor.slack.assess import scorecard_message

        try:
            record = self._assessments.create(ask.text or None, chosen, None, slack_caller(ask.team_id))
            message = scorecard_message(record.assessment)
        except ChatError as exc:
            message = notice(refusal_text(exc))
        except Exception:
            log.exception("slack: assessing for %s failed", ask.user_id)
            message = notice(FAILED)
        client.chat_postMessage(channel=ask.user_id, **message.payload())

    # -- interactions ---------------------------------------------------------------------------

    def record_feedback(self, team_id: str, message_id: str, rating: Literal["up", "down"]) -> str:
        try:
            self._chat.feedback(FeedbackRequest(message_id, rating), slack_caller(team_id))
        except NotFound:
            return UNAVAILABLE
        return "Thanks for the feedback!"

    def share(self, client: WebClient, respond: Respond, ask: Ask, message_id: str) -> None:
        """Post a slash-command answer in the channel for everyone; its thread continues it."""
        try:
            shared = self.links.shared_answer(message_id, principal_key(ask.team_id))
            if shared is None:
                _safely(respond, UNAVAILABLE)
                return
            preface = f"<@{ask.user_id}> asked: {escape(shared.question or '')}"
            answer = shared.message
            first, *rest = answer_messages(answer.content, answer.citations, answer.id, preface=preface)
            try:
                posted = client.chat_postMessage(channel=ask.channel_id, **first.payload())
            except SlackApiError as exc:
                if exc.response.get("error") in ("not_in_channel", "channel_not_found"):
                    _safely(respond, NOT_IN_CHANNEL)
                    return
                raise
            thread_ts = str(posted["ts"])
            for message in rest:
                client.chat_postMessage(channel=ask.channel_id, thread_ts=thread_ts, **message.payload())
            self.links.link_thread(ask.team_id, ask.channel_id, thread_ts, answer.conversation_id)
            respond(delete_original=True)
        except Exception as exc:
            _safely(respond, _user_message(exc, ask))


def _user_message(exc: Exception, ask: Ask) -> str:
    if isinstance(exc, UserFacingError):
        return str(exc)
    log.exception("slack: answering in %s/%s failed", ask.team_id, ask.channel_id, exc_info=exc)
    return FAILED


def _safely(respond: Respond, text: str) -> None:
    try:
        respond(response_type="ephemeral", replace_original=False, **notice(text).payload())
    except Exception:
        log.exception("slack: could not send a message to the response URL")
