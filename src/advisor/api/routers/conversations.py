"""Reading a conversation back, and feedback on an answer."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from advisor.api.bodies import UsableText
from advisor.api.deps import ChatCaller, ChatServiceDep, FeedbackCaller
from advisor.api.responses import COMMON, error_responses
from advisor.api.schemas import ConversationOut, FeedbackIn, FeedbackOut

router = APIRouter(prefix="/v1", tags=["conversations"], responses=error_responses(*COMMON, 404))


@router.get("/conversations/{conversation_id}", response_model=ConversationOut)
async def get_conversation(
    conversation_id: UsableText, chat: ChatServiceDep, caller: ChatCaller
) -> ConversationOut:
    return ConversationOut.of(await run_in_threadpool(chat.conversation, conversation_id, caller))


@router.post("/feedback", response_model=FeedbackOut, status_code=201)
async def add_feedback(body: FeedbackIn, chat: ChatServiceDep, caller: FeedbackCaller) -> FeedbackOut:
    return FeedbackOut(id=await run_in_threadpool(chat.feedback, body.to_request(), caller))
