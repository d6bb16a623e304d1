from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from advisor.api.deps import ContainerDep

router = APIRouter(tags=["operations"])


@router.get("/healthz")
@router.head("/healthz", include_in_schema=False)  # load balancers often probe with HEAD
async def healthz() -> dict[str, str]:
    """The process is up (it may still be loading)."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "not ready yet"}})
@router.head("/readyz", include_in_schema=False)
async def readyz(container: ContainerDep) -> JSONResponse:
    """Ready when the embedding model and the active index are loaded and the database answers."""
    checks = {
        "model": container.embedder.loaded,
        "index": await run_in_threadpool(container.retriever.ready, False),
        "database": await run_in_threadpool(container.database_ready),
    }
    ready = all(checks.values())
    if ready:
        return JSONResponse({"status": "ready", "checks": checks})
    # A 503 is an error response like any other: {"error", "reason"}, plus the checks.
    missing = ", ".join(name for name, ok in checks.items() if not ok)
    reason = container.warm_error or f"not loaded yet: {missing}"
    body = {"error": "not_ready", "reason": reason, "status": "not_ready", "checks": checks}
    return JSONResponse(body, status_code=503)


@router.get("/metrics", response_class=Response)
async def metrics(container: ContainerDep) -> Response:
    return Response(generate_latest(container.metrics.registry), media_type=CONTENT_TYPE_LATEST)
