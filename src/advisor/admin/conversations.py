"""The console's conversations: search and filter them, open one turn by turn with its citations and
ratings, export what the filter found (JSON or CSV), delete one."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from advisor.admin.common import Admin, form_refusal, page
from advisor.api.deps import ContainerDep
from advisor.retention import CHANNELS
from advisor.store.admin import ConversationFilter

router = APIRouter(prefix="/admin/conversations", include_in_schema=False)
_PAGE_SIZE = 50
_EXPORT_LIMIT = 10_000


def _filter(
    channel: str, days: str, rating: str, abstained: str, q: str, key: str = ""
) -> ConversationFilter:
    return ConversationFilter(
        channel=channel if channel in CHANNELS else None,
        since_days=int(days) if days in ("1", "7", "30", "90") else None,
        rating=rating if rating in ("up", "down", "none") else None,
        abstained=abstained == "1",
        text=q[:200],
        key_id=key.strip()[:128] or None,
    )


@router.get("")
async def list_conversations(
    request: Request,
    container: ContainerDep,
    admin: Admin,
    channel: str = "",
    days: str = "",
    rating: str = "",
    abstained: str = "",
    q: str = "",
    key: str = "",
    offset: int = 0,
) -> Response:
    wanted = _filter(channel, days, rating, abstained, q, key)
    offset = max(offset, 0)
    found = await run_in_threadpool(container.admin_store.conversations, wanted, _PAGE_SIZE + 1, offset)
    of_key = (
        await run_in_threadpool(container.admin_store.conversations_of_key, wanted.key_id)
        if wanted.key_id
        else 0
    )
    query = {"channel": channel, "days": days, "rating": rating, "abstained": abstained, "q": q, "key": key}
    return page(
        request,
        "conversations.html",
        admin=admin,
        rows=found[:_PAGE_SIZE],
        more=len(found) > _PAGE_SIZE,
        offset=offset,
        page_size=_PAGE_SIZE,
        query=query,
        channels=CHANNELS,
        of_key=of_key,
        retention=container.settings.retention,
    )


@router.get("/export.{kind}")
async def export(
    container: ContainerDep,
    admin: Admin,
    kind: str,
    channel: str = "",
    days: str = "",
    rating: str = "",
    abstained: str = "",
    q: str = "",
    key: str = "",
) -> Response:
    wanted = _filter(channel, days, rating, abstained, q, key)
    rows = await run_in_threadpool(container.admin_store.conversations, wanted, _EXPORT_LIMIT, 0)
    await run_in_threadpool(
        container.admin_store.audit, admin.key_id, f"export {kind}", f"{len(rows)} conversations"
    )
    if kind == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            [
                "id",
                "channel",
                "api_key_id",
                "updated_at",
                "messages",
                "first_question",
                "abstentions",
                "rated_up",
                "rated_down",
            ]
        )
        for r in rows:
            writer.writerow(
                [
                    r.id,
                    r.channel or "",
                    r.api_key_id or "",
                    r.updated_at.isoformat(),
                    r.messages,
                    r.first_question,
                    r.abstentions,
                    r.rated_up,
                    r.rated_down,
                ]
            )
        headers = {"Content-Disposition": 'attachment; filename="conversations.csv"'}
        return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)
    if kind != "json":
        return Response("export as .json or .csv", status_code=404)

    def whole() -> list[dict[str, object]]:
        return [
            {
                **asdict(r),
                "updated_at": r.updated_at.isoformat(),
                "turns": [
                    {**asdict(t), "at": t.at.isoformat()}
                    for t in container.admin_store.conversation_turns(r.id) or []
                ],
            }
            for r in rows
        ]

    body = json.dumps(await run_in_threadpool(whole), ensure_ascii=False, indent=1)
    headers = {"Content-Disposition": 'attachment; filename="conversations.json"'}
    return Response(body, media_type="application/json", headers=headers)


@router.get("/{conversation_id}")
async def show(request: Request, container: ContainerDep, admin: Admin, conversation_id: str) -> Response:
    turns = await run_in_threadpool(container.admin_store.conversation_turns, conversation_id[:64])
    if turns is None:
        return page(
            request, "refused.html", 404, admin=admin, reason=f"no conversation {conversation_id[:64]}"
        )
    return page(request, "conversation.html", admin=admin, conversation_id=conversation_id, turns=turns)


@router.post("/{conversation_id}/delete")
async def delete(
    request: Request,
    container: ContainerDep,
    admin: Admin,
    conversation_id: str,
    csrf: Annotated[str | None, Form()] = None,
) -> Response:
    if (refusal := form_refusal(request, admin, csrf)) is not None:
        return refusal
    if await run_in_threadpool(container.admin_store.delete_conversation, conversation_id[:64]):
        await run_in_threadpool(
            container.admin_store.audit, admin.key_id, "delete conversation", conversation_id
        )
    return RedirectResponse("/admin/conversations", status_code=303)
