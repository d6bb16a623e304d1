"""POST /v1/search: the corpus passages for a query, without composing an answer."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from advisor.api.deps import ChatServiceDep, SearchCaller
from advisor.api.responses import COMMON, error_responses
from advisor.api.schemas import SearchIn, SearchOut

router = APIRouter(prefix="/v1", tags=["search"], responses=error_responses(*COMMON))


@router.post("/search", response_model=SearchOut)
async def search(body: SearchIn, chat: ChatServiceDep, caller: SearchCaller) -> SearchOut:
    return SearchOut.of(await run_in_threadpool(chat.search, body.to_request(), caller))
