"""The console's pages: sign-in, overview and the audit log. Every form carries the
session's CSRF token and every action is written to the audit log with the key that took it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from advisor.admin.charts import overview_charts
from advisor.admin.common import Admin, NotSignedIn, form_refusal, page, refused, same_origin, sessions_of
from advisor.admin.session import COOKIE, ConsoleUnavailableError
from advisor.api.deps import ContainerDep
from advisor.store.admin import percentiles

__all__ = ["NotSignedIn", "router"]

router = APIRouter(prefix="/admin", include_in_schema=False)


@router.get("/sign-in")
async def sign_in_page(request: Request, container: ContainerDep) -> Response:
    try:
        sessions_of(container)
    except ConsoleUnavailableError as exc:
        return page(request, "refused.html", 503, reason=str(exc))
    return page(request, "sign_in.html")


@router.post("/sign-in")
async def sign_in(request: Request, container: ContainerDep, key: Annotated[str, Form()] = "") -> Response:
    if not same_origin(request):
        return refused(request, "a sign-in from another site is refused")
    sessions = sessions_of(container)
    session = await run_in_threadpool(sessions.sign_in, key.strip())
    if session is None:
        return page(request, "sign_in.html", 401, error="That is not a key with the admin scope.")
    await run_in_threadpool(container.admin_store.audit, session.key_id, "sign in")
    reply = RedirectResponse("/admin", status_code=303)
    secure = request.url.scheme == "https"
    reply.set_cookie(
        COOKIE,
        sessions.cookie(session),
        max_age=sessions.max_age,
        httponly=True,
        samesite="strict",
        secure=secure,
        path="/admin",
    )
    return reply


@router.post("/sign-out")
async def sign_out(
    request: Request, container: ContainerDep, admin: Admin, csrf: Annotated[str | None, Form()] = None
) -> Response:
    if (refusal := form_refusal(request, admin, csrf)) is not None:
        return refusal
    await run_in_threadpool(container.admin_store.audit, admin.key_id, "sign out")
    reply = RedirectResponse("/admin/sign-in", status_code=303)
    reply.delete_cookie(COOKIE, path="/admin")
    return reply


@router.get("")
async def overview(request: Request, container: ContainerDep, admin: Admin, days: int = 30) -> Response:
    days = days if days in (7, 30, 90) else 30

    def gather() -> dict[str, Any]:
        activity = container.admin_store.daily_activity(days)
        state = container.index_repository.get_index_state()
        documents = container.index_repository.indexed_documents(state.collection) if state else {}
        answers = sum(d.answers for d in activity)
        p50, p95 = percentiles(container.admin_store.latencies(days))
        return {
            "charts": overview_charts(activity),
            "p50": p50,
            "p95": p95,
            "activity": activity,
            "answers": answers,
            "abstention_rate": sum(d.abstained for d in activity) / answers if answers else 0.0,
            "fallback_rate": sum(d.fallback for d in activity) / answers if answers else 0.0,
            "rated_up": sum(d.rated_up for d in activity),
            "rated_down": sum(d.rated_down for d in activity),
            "state": state,
            "documents": len(documents),
            "sources": container.index_repository.sources(),
            "health": {"database": container.database_ready(), "index": container.index_ready()},
        }

    return page(request, "overview.html", admin=admin, days=days, **await run_in_threadpool(gather))


@router.get("/audit")
async def audit_page(request: Request, container: ContainerDep, admin: Admin) -> Response:
    entries = await run_in_threadpool(container.admin_store.audit_log)
    return page(request, "audit.html", admin=admin, entries=entries)
