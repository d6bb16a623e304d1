"""``advisor keys ...``: issue, list and revoke scoped API keys stored (hashed) in the database.

The database is opened when a command runs, so ``advisor --help`` stays instant.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from advisor.auth import SCOPES
from advisor.cli.common import fail

if TYPE_CHECKING:
    from advisor.store.api_keys import ApiKeyRecord, ApiKeyStore

keys_app = typer.Typer(help="Manage scoped API keys (stored hashed in the database).", no_args_is_help=True)


@keys_app.callback()
def _keys() -> None:
    """Manage scoped API keys (stored hashed in the database)."""


def _key_store() -> ApiKeyStore:
    from advisor.container import Container
    from advisor.settings import SettingsError, get_settings

    try:
        settings = get_settings()
    except SettingsError as exc:
        fail(str(exc))
    return Container(settings).api_keys


def _as_dict(record: ApiKeyRecord) -> dict[str, object]:
    return {
        "id": record.id,
        "name": record.name,
        "prefix": record.prefix,
        "scopes": list(record.scopes),
        "created_at": record.created_at.isoformat(),
        "revoked_at": record.revoked_at.isoformat() if record.revoked_at else None,
        "active": record.active,
    }


@keys_app.command("create")
def create(
    scope: Annotated[
        list[str], typer.Option("--scope", help=f"What the key may call (repeatable): {', '.join(SCOPES)}.")
    ],
    name: Annotated[str | None, typer.Option(help="A label, e.g. the portal that uses the key.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the key and its record as JSON.")] = False,
) -> None:
    """Issue a key. It is printed once, on stdout; only its hash is stored."""
    store = _key_store()
    try:
        issued = store.create(scope, name)
    except ValueError as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps({"key": issued.key, **_as_dict(issued.record)}, indent=2))
        return
    record = issued.record
    label = f", name {record.name!r}" if record.name else ""
    typer.echo(
        f"created {record.id} (scopes: {', '.join(record.scopes)}{label}); "
        "the key below is shown only this once:",
        err=True,
    )
    typer.echo(issued.key)


@keys_app.command("list")
def list_keys(
    as_json: Annotated[bool, typer.Option("--json", help="Print the keys as JSON.")] = False,
) -> None:
    """List keys (ids, names, scopes, status; never the keys themselves)."""
    records = _key_store().list()
    if as_json:
        typer.echo(json.dumps([_as_dict(r) for r in records], indent=2))
        return
    if not records:
        typer.echo("no API keys; create one with: advisor keys create --scope chat")
        return
    for r in records:
        status = "active" if r.active else f"revoked {r.revoked_at:%Y-%m-%d %H:%M}Z"
        typer.echo(
            f"{r.id}  {r.prefix}...  {','.join(r.scopes):<28} {status:<24}  "
            f"created {r.created_at:%Y-%m-%d %H:%M}Z  {r.name or ''}".rstrip()
        )


@keys_app.command("revoke")
def revoke(
    key_id: Annotated[str, typer.Argument(help="The key id (key_...), from `advisor keys list`.")],
) -> None:
    """Revoke a key: every request with it is refused (401) from now on, on every replica."""
    from advisor.store.api_keys import ApiKeyNotFoundError

    store = _key_store()
    try:
        record, changed = store.revoke(key_id)
    except ApiKeyNotFoundError:
        fail(f"no API key with id {key_id!r} (see `advisor keys list`)", 1)
    typer.echo(f"revoked {record.id}" if changed else f"{record.id} was already revoked")
    if not any(r.active for r in store.list()):
        typer.echo(
            "advisor: no active database key remains; requests need an api.keys key or a new key",
            err=True,
        )
