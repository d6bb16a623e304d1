"""The console's retention actions: purge conversations idle for longer than an age (all channels or
one), and delete every conversation of one key. Each first shows what it would delete and asks again."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from advisor.admin.common import Admin, form_refusal, page
from advisor.api.deps import ContainerDep
from advisor.retention import CHANNELS, parse_age

router = APIRouter(prefix="/admin/conversations", include_in_schema=False)


@router.post("/purge")
async def purge(
    request: Request,
    container: ContainerDep,
    admin: Admin,
    csrf: Annotated[str | None, Form()] = None,
    older_than: Annotated[str, Form()] = "",
    channel: Annotated[str, Form()] = "",
    confirm: Annotated[str, Form()] = "",
) -> Response:
    if (refusal := form_refusal(request, admin, csrf)) is not None:
        return refusal
    try:
        before = datetime.now(UTC) - parse_age(older_than)
    except ValueError as exc:
        return page(request, "refused.html", 422, admin=admin, reason=str(exc))
    if channel and channel not in CHANNELS:
        return page(request, "refused.html", 422, admin=admin, reason=f"unknown channel {channel[:40]!r}")
    purge_now = confirm == "1"
    count = await run_in_threadpool(
        container.conversations.purge, before, channel or None, dry_run=not purge_now
    )
    who = f"the {channel} channel" if channel else "every channel"
    what = f"{count} conversations of {who} idle since before {before:%Y-%m-%d %H:%M} UTC"
    if not purge_now:
        fields = {"older_than": older_than, "channel": channel, "confirm": "1"}
        return page(
            request,
            "confirm.html",
            admin=admin,
            question=f"Delete {what}, with their messages and feedback?",
            action="/admin/conversations/purge",
            fields=fields,
            button=f"Delete {count} conversations",
            nothing=count == 0,
        )
    await run_in_threadpool(container.admin_store.audit, admin.key_id, "purge conversations", what)
    return RedirectResponse("/admin/conversations", status_code=303)


@router.post("/of-key")
async def delete_of_key(
    request: Request,
    container: ContainerDep,
    admin: Admin,
    csrf: Annotated[str | None, Form()] = None,
    key: Annotated[str, Form()] = "",
) -> Response:
    if (refusal := form_refusal(request, admin, csrf)) is not None:
        return refusal
    key = key.strip()[:128]
    if not key:
        return page(request, "refused.html", 422, admin=admin, reason="which key? none was given")
    count = await run_in_threadpool(container.admin_store.delete_conversations_of_key, key)
    await run_in_threadpool(
        container.admin_store.audit, admin.key_id, "delete conversations of key", f"{key}: {count}"
    )
    return RedirectResponse("/admin/conversations", status_code=303)
