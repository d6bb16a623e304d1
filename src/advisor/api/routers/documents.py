"""GET /v1/documents/{doc_id}: a whole document of the guidance, e.g. the one a citation names."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from advisor.api.bodies import UsableText
from advisor.api.deps import ChatServiceDep, ReaderCaller
from advisor.api.responses import COMMON, error_responses
from advisor.api.schemas import DocumentOut

router = APIRouter(prefix="/v1", tags=["search"], responses=error_responses(*COMMON, 404))


@router.get("/documents/{doc_id}", response_model=DocumentOut)
async def get_document(doc_id: UsableText, chat: ChatServiceDep, caller: ReaderCaller) -> DocumentOut:
    """The document's sections in order; a key with the chat or the search scope, widget keys too."""
    return DocumentOut.of(await run_in_threadpool(chat.document, doc_id, caller))
