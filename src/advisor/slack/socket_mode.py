"""Socket Mode for local development: Slack delivers events over a WebSocket the bot opens, so no
public URL is needed. Needs slack.app_token (xapp-...) with the connections:write scope."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from advisor.slack.app import SlackNotConfiguredError, build_app, web_client

if TYPE_CHECKING:
    from advisor.channel_settings import SlackSettings
    from advisor.container import Container


def check_slack(settings: SlackSettings) -> None:
    """Before connecting: both tokens work and Slack answers, else one line saying which is wrong
    (not the client's retries and a 115-line traceback)."""
    from urllib.error import URLError

    from slack_sdk.errors import SlackApiError

    assert settings.app_token is not None
    client = web_client(settings)
    sdk_log = logging.getLogger("slack_sdk")
    level = sdk_log.level
    sdk_log.setLevel(logging.CRITICAL)  # the error below says it once
    checking = "ADVISOR_SLACK__BOT_TOKEN"
    try:
        client.auth_test()
        checking = "ADVISOR_SLACK__APP_TOKEN"
        client.apps_connections_open(app_token=settings.app_token.get_secret_value())
    except SlackApiError as exc:
        error = exc.response.get("error") if exc.response is not None else None
        raise SlackNotConfiguredError(f"Slack refused {checking}: {error or 'unknown error'}") from None
    except (URLError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise SlackNotConfiguredError(f"cannot reach Slack at {settings.api_url}: {reason}") from None
    finally:
        sdk_log.setLevel(level)


def run_socket_mode(container: Container) -> None:
    """Connect and handle events until interrupted."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    settings = container.settings.slack
    if settings.bot_token is None or settings.app_token is None:
        raise SlackNotConfiguredError(
            "Socket Mode needs slack.bot_token and slack.app_token "
            "(ADVISOR_SLACK__BOT_TOKEN, ADVISOR_SLACK__APP_TOKEN)"
        )
    from advisor.slack.recovery import build_sweeper

    app = build_app(container, socket_mode=True)
    sweeper = build_sweeper(app.client, container)
    sweeper.start()  # questions a crash left unanswered, first
    try:
        SocketModeHandler(app, settings.app_token.get_secret_value()).start()  # type: ignore[no-untyped-call]
    finally:
        sweeper.stop()
