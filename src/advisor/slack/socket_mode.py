"""Socket Mode for local development: Slack delivers events over a WebSocket the bot opens, so no
public URL is needed. Needs slack.app_token (xapp-...) with the connections:write scope."""

from __future__ import annotations

from typing import TYPE_CHECKING

from advisor.slack.app import SlackNotConfiguredError, build_app

if TYPE_CHECKING:
    from advisor.container import Container


def run_socket_mode(container: Container) -> None:
    """Connect and handle events until interrupted."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    settings = container.settings.slack
    if settings.bot_token is None or settings.app_token is None:
        raise SlackNotConfiguredError(
            "Socket Mode needs slack.bot_token and slack.app_token "
            "(ADVISOR_SLACK__BOT_TOKEN, ADVISOR_SLACK__APP_TOKEN)"
        )
    app = build_app(container, socket_mode=True)
    SocketModeHandler(app, settings.app_token.get_secret_value()).start()  # type: ignore[no-untyped-call]
