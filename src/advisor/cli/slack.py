"""`advisor slack ...` commands. Imports nothing heavy until a command runs."""

from __future__ import annotations

import typer

slack_app = typer.Typer(help="The Slack bot.", no_args_is_help=True)


@slack_app.command("socket")
def socket() -> None:
    """Run the Slack bot over Socket Mode (local development; no public URL needed)."""
    from advisor.cli.common import build_container, fail
    from advisor.slack.app import SlackNotConfiguredError
    from advisor.slack.socket_mode import check_slack, run_socket_mode

    container = build_container()
    slack = container.settings.slack
    if slack.bot_token is None or slack.app_token is None:
        fail("Socket Mode needs ADVISOR_SLACK__BOT_TOKEN (xoxb-...) and ADVISOR_SLACK__APP_TOKEN (xapp-...)")
    container.warm_up()
    if container.warm_error:
        fail(f"the index is not ready ({container.warm_error}); run `advisor ingest` first")
    try:
        check_slack(slack)
    except SlackNotConfiguredError as exc:
        fail(str(exc))
    typer.echo("advisor: connecting to Slack over Socket Mode; Ctrl-C to stop", err=True)
    try:
        run_socket_mode(container)
    except SlackNotConfiguredError as exc:
        fail(str(exc))
    except OSError as exc:  # the connection went away after the check
        fail(f"lost the connection to Slack: {exc}")
