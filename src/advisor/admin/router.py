"""The console's pages: sign-in, overview, API keys and the audit log. Every form carries the
session's CSRF token and every action is written to the audit log with the key that took it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from advisor.admin.session import COOKIE, AdminSession, ConsoleUnavailableError, Sessions, csrf_matches
from advisor.api.deps import ContainerDep
from advisor.auth import SCOPES
from advisor.container import Container

router = APIRouter(prefix="/admin", include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")


class NotSignedIn(Exception):
    pass


def _sessions(container: Container) -> Sessions:
    sessions: Sessions | None = container.__dict__.get("_admin_sessions")
    if sessions is None:
        sessions = container.__dict__["_admin_sessions"] = Sessions(container)
    return sessions


async def signed_in(request: Request, container: ContainerDep) -> AdminSession:
    session = await run_in_threadpool(_sessions(container).read, request.cookies.get(COOKIE))
    if session is None:
        raise NotSignedIn
    return session


Admin = Annotated[AdminSession, Depends(signed_in)]


def _page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=status)


def _refused(request: Request, reason: str) -> HTMLResponse:
    return _page(request, "refused.html", 403, reason=reason)


def _same_origin(request: Request) -> bool:
    """A form post from this console's own pages (browsers send Origin on POST)."""
    origin = request.headers.get("origin")
    return origin is None or origin == f"{request.url.scheme}://{request.url.netloc}"


@router.get("/sign-in")
async def sign_in_page(request: Request, container: ContainerDep) -> Response:
    try:
        _sessions(container)
    except ConsoleUnavailableError as exc:
        return _page(request, "refused.html", 503, reason=str(exc))
    return _page(request, "sign_in.html")


@router.post("/sign-in")
async def sign_in(request: Request, container: ContainerDep, key: Annotated[str, Form()] = "") -> Response:
    if not _same_origin(request):
        return _refused(request, "a sign-in from another site is refused")
    sessions = _sessions(container)
    session = await run_in_threadpool(sessions.sign_in, key.strip())
    if session is None:
        return _page(request, "sign_in.html", 401, error="That is not a key with the admin scope.")
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
    if not csrf_matches(admin, csrf) or not _same_origin(request):
        return _refused(request, "the form had no valid CSRF token; reload the page and try again")
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
        return {
            "activity": activity,
            "peak": max([d.answers for d in activity] + [1]),
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

    return _page(request, "overview.html", admin=admin, days=days, **await run_in_threadpool(gather))


@router.get("/keys")
async def keys_page(request: Request, container: ContainerDep, admin: Admin) -> Response:
    keys = await run_in_threadpool(container.api_keys.list)
    return _page(request, "keys.html", admin=admin, keys=keys, scopes=SCOPES, issued=None)


@router.post("/keys")
async def create_key(
    request: Request,
    container: ContainerDep,
    admin: Admin,
    csrf: Annotated[str | None, Form()] = None,
    name: Annotated[str, Form()] = "",
    scope: Annotated[list[str] | None, Form()] = None,
) -> Response:
    if not csrf_matches(admin, csrf) or not _same_origin(request):
        return _refused(request, "the form had no valid CSRF token; reload the page and try again")
    try:
        issued = await run_in_threadpool(container.api_keys.create, scope or [], name)
    except ValueError as exc:
        keys = await run_in_threadpool(container.api_keys.list)
        return _page(
            request, "keys.html", 422, admin=admin, keys=keys, scopes=SCOPES, issued=None, error=str(exc)
        )
    await run_in_threadpool(container.admin_store.audit, admin.key_id, "create key", issued.record.id)
    keys = await run_in_threadpool(container.api_keys.list)
    return _page(request, "keys.html", admin=admin, keys=keys, scopes=SCOPES, issued=issued)


@router.post("/keys/{key_id}/revoke")
async def revoke_key(
    request: Request,
    container: ContainerDep,
    admin: Admin,
    key_id: str,
    csrf: Annotated[str | None, Form()] = None,
) -> Response:
    if not csrf_matches(admin, csrf) or not _same_origin(request):
        return _refused(request, "the form had no valid CSRF token; reload the page and try again")
    from advisor.store.api_keys import ApiKeyNotFoundError

    try:
        await run_in_threadpool(container.api_keys.revoke, key_id)
    except ApiKeyNotFoundError:
        return _page(request, "refused.html", 404, reason=f"no key {key_id}")
    await run_in_threadpool(container.admin_store.audit, admin.key_id, "revoke key", key_id)
    return RedirectResponse("/admin/keys", status_code=303)


@router.get("/audit")
async def audit_page(request: Request, container: ContainerDep, admin: Admin) -> Response:
    entries = await run_in_threadpool(container.admin_store.audit_log)
    return _page(request, "audit.html", admin=admin, entries=entries)
