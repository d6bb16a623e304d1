"""``advisor purge``: delete idle conversations, by an age given here or by the retention settings."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from advisor.cli import common
from advisor.cli.common import fail


def purge(
    older_than: Annotated[
        str | None,
        typer.Option(
            "--older-than", help="Idle for longer than this (90d, 12h, 2w); default: the retention settings."
        ),
    ] = None,
    channel: Annotated[
        str | None,
        typer.Option("--channel", help="Only this channel's conversations (api, widget, slack, openai...)."),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count, delete nothing.")] = False,
) -> None:
    """Delete conversations (with their messages and feedback) that have been idle too long."""
    from advisor.retention import CHANNELS, kept_channels, parse_age

    container = common.build_container()
    if channel is not None and channel not in CHANNELS:
        fail(f"unknown channel {channel!r}; one of {', '.join(CHANNELS)}")
    if older_than is not None:
        try:
            cutoffs: dict[str | None, datetime] = {channel: datetime.now(UTC) - parse_age(older_than)}
        except ValueError as exc:
            fail(str(exc))
    else:
        cutoffs = container.settings.retention.cutoffs()
        if channel is not None:
            cutoffs = {channel: cutoffs[channel if channel in cutoffs else None]} if cutoffs else {}
        if not cutoffs:
            fail(
                "nothing to purge by: give --older-than, or set retention.conversation_days or retention.channel_days"
            )
    own = any(c is not None for c in cutoffs)
    kept = kept_channels(container.settings.retention) if older_than is None else []
    done = container.conversations.purge_idle(cutoffs, kept=kept, dry_run=dry_run)
    for name, count in done.items():
        who = name or ("every other channel" if own else "every channel")
        since = cutoffs[name].strftime("%Y-%m-%d %H:%M")
        typer.echo(
            f"{'would delete' if dry_run else 'deleted'} {count} conversations of {who} idle since before {since} UTC"
        )
    if len(done) > 1:
        typer.echo(f"{sum(done.values())} in all")
