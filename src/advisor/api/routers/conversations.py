from __future__ import annotations

from fastapi import APIRouter, HTTPException
from starlette.concurrency import run_in_threadpool

from advisor.api.deps import ChatAuth, ContainerDep, FeedbackAuth
from advisor.api.schemas import CitationOut, ConversationOut, FeedbackIn, FeedbackOut, MessageOut
from advisor.store.records import NotFoundError

router = APIRouter(prefix="/v1", tags=["conversations"])


@router.get("/conversations/{conversation_id}", response_model=ConversationOut)
async def get_conversation(
    conversation_id: str, container: ContainerDep, principal: ChatAuth
) -> ConversationOut:
    store = container.store
    conv = await run_in_threadpool(store.get_conversation, conversation_id, principal.key_id)
    if conv is None:
        raise HTTPException(404, "conversation not found for this API key")
    messages = await run_in_threadpool(store.list_messages, conv.id)
    return ConversationOut(
        id=conv.id,
        initiative=conv.initiative,
        created_at=conv.created_at.isoformat(),
        messages=[
            MessageOut(
                id=m.id,
                role=m.role,
                content=m.content,
                citations=[CitationOut(**c) for c in m.citations],
                grounded=m.grounded,
                abstained=m.abstained,
                fallback=m.fallback,
                created_at=m.created_at.isoformat(),
            )
            for m in messages
        ],
    )


@router.post("/feedback", response_model=FeedbackOut, status_code=201)
async def add_feedback(body: FeedbackIn, container: ContainerDep, principal: FeedbackAuth) -> FeedbackOut:
    try:
        feedback_id = await run_in_threadpool(
            container.store.add_feedback, body.message_id, body.rating, body.comment, principal.key_id
        )
    except NotFoundError:
        raise HTTPException(404, "message not found for this API key") from None
    container.metrics.feedback.labels(body.rating).inc()
    return FeedbackOut(id=feedback_id)
