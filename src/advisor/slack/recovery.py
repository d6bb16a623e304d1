"""The delivery sweep: questions whose answer a crash or restart cut short are answered again
(at least once, updating the placeholder already posted), questions that kept failing are given up,
and handled deliveries past the retention period are forgotten. Runs beside the bot, in every
replica: a claim is taken by one of them only (advisor.store.deliveries)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from advisor.periodic import Periodic
from advisor.slack.threads import MESSAGES, Ask

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from advisor.channel_settings import SlackSettings
    from advisor.container import Container
    from advisor.slack.threads import SlackAdvisor

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sweep:
    resumed: int
    given_up: int
    purged: int


class DeliverySweeper:
    def __init__(self, advisor: SlackAdvisor, client: WebClient, settings: SlackSettings, usage: str) -> None:
        self._advisor = advisor
        self._client = client
        self._settings = settings
        self._usage = usage
        self._worker = Periodic("advisor-slack-sweep", settings.sweep_seconds, self.sweep)

    def sweep(self) -> Sweep:
        deliveries = self._advisor.deliveries
        lease, attempts = self._advisor.lease, self._settings.max_attempts
        resumed = 0
        for event_id in deliveries.stalled(MESSAGES, lease, attempts):
            claim = deliveries.reclaim(MESSAGES, event_id, lease)
            if claim is None or claim.payload is None:
                continue  # another replica took it, or nothing to answer from
            log.warning(
                "slack: answering %s again (attempt %d): the last attempt never finished",
                event_id,
                claim.attempt,
            )
            self._advisor.reply_in_thread(self._client, Ask.restored(claim.payload), self._usage, claim)
            resumed += 1
        given_up = deliveries.give_up(MESSAGES, attempts)
        if given_up:
            log.error("slack: gave up on %d question(s) after %d attempts", given_up, attempts)
        purged = deliveries.purge(timedelta(days=self._settings.retention_days))
        return Sweep(resumed, given_up, purged)

    def start(self) -> None:
        self._worker.start()

    def stop(self) -> None:
        self._worker.stop()


def build_sweeper(bolt_client: WebClient, container: Container) -> DeliverySweeper:
    """The sweep for the bot built from ``container``, posting with the bolt app's client."""
    from advisor.slack.blocks import usage
    from advisor.slack.threads import SlackAdvisor

    settings = container.settings.slack
    return DeliverySweeper(SlackAdvisor(container), bolt_client, settings, usage(settings.command))
