"""``advisor widget ...``: widget keys for the embeddable chat widget.

A widget key is public (it sits in the host page's HTML): it only reaches chat and feedback, and
only from the origins listed with it. The command prints the settings entry; nothing is stored.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

widget_app = typer.Typer(help="The embeddable web chat widget.", no_args_is_help=True)


@widget_app.callback()
def _widget() -> None:
    """The embeddable web chat widget."""


@widget_app.command("create-key")
def create_key(
    origin: Annotated[
        list[str],
        typer.Option(
            "--origin",
            help="A page origin allowed to use the key (repeatable), e.g. https://intranet.example",
        ),
    ],
    name: Annotated[str, typer.Option(help="A label for the key (logs, widget.demo_key).")] = "widget",
    url: Annotated[
        str, typer.Option(help="Where Advisor is served, for the embed snippet.")
    ] = "http://127.0.0.1:8000",
) -> None:
    """Generate a widget key and print its settings entry and the tag to embed."""
    from advisor.auth.widget_keys import generate_widget_key
    from advisor.channel_settings import WidgetKey, normalise_origin

    origins = []
    for value in origin:
        normal = normalise_origin(value)
        if normal is None:
            typer.echo(f"advisor: --origin {value!r} is not an origin: use scheme://host[:port]", err=True)
            raise typer.Exit(2)
        origins.append(normal)
    try:
        entry = WidgetKey(name=name, key=generate_widget_key(), origins=origins)
    except ValueError:
        typer.echo(
            f"advisor: --name {name!r} is not a valid key name: use letters, digits, '.', '_' or '-' "
            "(up to 64, starting with a letter or digit)",
            err=True,
        )
        raise typer.Exit(2) from None
    key = entry.key.get_secret_value()
    item = {"name": entry.name, "key": key, "origins": entry.origins}
    base = url.rstrip("/")
    typer.echo(f"Widget key {entry.name!r} for {', '.join(entry.origins)}:\n\n  {key}\n")
    typer.echo("Add it to the settings, as an environment variable (append to any keys already there):\n")
    typer.echo(f"  ADVISOR_WIDGET__KEYS='{json.dumps([item])}'\n")
    typer.echo("or in the settings file (TOML):\n")
    typer.echo(
        f'  [[widget.keys]]\n  name = "{entry.name}"\n  key = "{key}"\n  origins = {json.dumps(entry.origins)}\n'
    )
    typer.echo("Then embed the widget on those pages:\n")
    typer.echo(
        f'  <script src="{base}/widget.js" data-advisor-url="{base}" data-widget-key="{key}" defer></script>'
    )
