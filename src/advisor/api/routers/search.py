from __future__ import annotations

import logging

from fastapi import APIRouter, HTTPException
from starlette.concurrency import run_in_threadpool

from advisor.api.deps import ContainerDep, SearchAuth
from advisor.api.schemas import SearchIn, SearchOut, SearchResult
from advisor.retrieval.retriever import IndexNotReadyError

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1", tags=["search"])


@router.post("/search", response_model=SearchOut)
async def search(body: SearchIn, container: ContainerDep, _principal: SearchAuth) -> SearchOut:
    limits = container.settings.limits
    if len(body.query) > limits.max_message_chars:
        raise HTTPException(
            422, f"query is {len(body.query)} characters; the limit is {limits.max_message_chars}"
        )
    if body.k is not None and body.k > limits.max_k:
        raise HTTPException(422, f"k is {body.k}; the limit is {limits.max_k}")
    # Unsent k is the configured default (never a fixed number the limit could reject).
    k = body.k or min(container.settings.retrieval.k, limits.max_k)
    retriever = container.retriever
    try:
        if body.topics:
            unknown = sorted(set(body.topics) - await run_in_threadpool(retriever.known_topics))
            if unknown:
                raise HTTPException(422, f"unknown topics: {', '.join(unknown)}")
        found = await run_in_threadpool(retriever.retrieve_passages, body.query, k, body.topics)
    except HTTPException:
        raise
    except IndexNotReadyError as exc:
        raise HTTPException(503, str(exc)) from None
    except Exception as exc:  # the vector store or index failed: as /v1/chat reports it, not a 500
        log.exception("search failed")
        raise HTTPException(503, f"search failed: {type(exc).__name__}; please try again") from None
    return SearchOut(
        results=[SearchResult.model_validate(p.as_search_result()) for p in found.passages],
        in_scope=found.in_scope,
    )
