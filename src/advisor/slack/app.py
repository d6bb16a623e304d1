"""The bolt App, built from settings. Its Web API client's base URL comes from ``slack.api_url`` (tests
point it at a local fake) and it retries rate-limited calls after Slack's Retry-After."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

from advisor.slack.handlers import register_handlers
from advisor.slack.threads import SlackAdvisor

if TYPE_CHECKING:
    from advisor.channel_settings import SlackSettings
    from advisor.container import Container

log = logging.getLogger(__name__)


class SlackNotConfiguredError(RuntimeError):
    pass


def web_client(settings: SlackSettings) -> WebClient:
    if settings.bot_token is None:
        raise SlackNotConfiguredError("set slack.bot_token (ADVISOR_SLACK__BOT_TOKEN) to run the Slack bot")
    api_url = settings.api_url if settings.api_url.endswith("/") else settings.api_url + "/"
    return WebClient(
        token=settings.bot_token.get_secret_value(),
        base_url=api_url,
        timeout=30,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=1),
            RateLimitErrorRetryHandler(max_retry_count=settings.max_retries),
        ],
    )


def build_app(container: Container, *, socket_mode: bool = False) -> App:
    """The bolt App with Advisor's listeners.

    ``process_before_response`` is on: bolt runs the ack function before answering Slack's HTTP
    request and starts the lazy listeners on its thread pool, so the HTTP response (within 3 s) never
    waits for an answer. The token is verified (auth.test) on the first request, not here, so the
    service starts even while Slack is unreachable.
    """
    settings = container.settings.slack
    secret = settings.signing_secret.get_secret_value() if settings.signing_secret else ""
    if not socket_mode and not secret:
        raise SlackNotConfiguredError(
            "set slack.signing_secret (ADVISOR_SLACK__SIGNING_SECRET) to serve /slack/events"
        )
    app = App(
        name="advisor",
        logger=logging.getLogger("advisor.slack.bolt"),
        client=web_client(settings),
        signing_secret=secret,
        token_verification_enabled=False,
        process_before_response=True,
        # Socket Mode requests arrive over an authenticated WebSocket and carry no signature.
        request_verification_enabled=not socket_mode,
        listener_executor=ThreadPoolExecutor(
            max_workers=settings.workers, thread_name_prefix="advisor-slack"
        ),
    )
    register_handlers(app, SlackAdvisor(container), settings)
    return app
