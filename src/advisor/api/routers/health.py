from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from advisor.api.deps import ContainerDep, MetricsAccess
from advisor.api.responses import error_responses
from advisor.container import Container

router = APIRouter(tags=["operations"])


# Load balancers often probe with HEAD. The GET route is registered first, so a 405 says
# "Allow: GET", the method the document lists (HEAD goes with GET, as in HTTP itself).
@router.head("/healthz", include_in_schema=False)
@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up (it may still be loading)."""
    return {"status": "ok"}


@router.head("/readyz", include_in_schema=False)
@router.get("/readyz", responses=error_responses(503))
async def readyz(container: ContainerDep) -> JSONResponse:
    """Ready when the embedding model and the active index are loaded and the database answers."""
    checks = {
        "model": container.embedder.loaded,
        "index": await run_in_threadpool(container.index_ready),
        "database": await run_in_threadpool(container.database_ready),
    }
    ready = all(checks.values())
    # The LLM's breaker is a detail, not a check: with it open, answers come from the guidance.
    details = {"llm": _llm_details(container)} if container.settings.llm.provider != "extractive" else {}
    if ready:
        return JSONResponse({"status": "ready", "checks": checks, **details})
    # A 503 is an error response like any other: {"error", "reason"}, plus the checks.
    missing = ", ".join(name for name, ok in checks.items() if not ok)
    reason = container.warm_error or f"not loaded yet: {missing}"
    body = {"error": "not_ready", "reason": reason, "status": "not_ready", "checks": checks, **details}
    return JSONResponse(body, status_code=503)


def _llm_details(container: Container) -> dict[str, object]:
    guard = container.llm_guard
    if guard is None:
        return {"provider": container.settings.llm.provider, "breaker": "unknown"}
    return {
        "provider": container.settings.llm.provider,
        "breaker": guard.state,
        "retry_in_seconds": round(guard.retry_in(), 1),
        "calls_in_flight": guard.in_flight,
        "calls_limit": guard.max_concurrent,
    }


@router.get("/metrics", response_class=Response, responses=error_responses(401, 403))
async def metrics(container: ContainerDep, _: MetricsAccess) -> Response:
    """Prometheus metrics; with keys on, a key with the metrics scope (see api.public_metrics)."""
    return Response(generate_latest(container.metrics.registry), media_type=CONTENT_TYPE_LATEST)
