"""What the console's pages share: the templates, the signed-in admin as a dependency, pages, refusals
and the checks every form post passes (its CSRF token, and an Origin that is this console's own)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from advisor.admin.session import COOKIE, AdminSession, ConsoleUnavailableError, Sessions, csrf_matches
from advisor.api.deps import ContainerDep
from advisor.container import Container

templates = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")
CSRF_REFUSAL = "the form had no valid CSRF token; reload the page and try again"


class NotSignedIn(Exception):
    pass


def sessions_of(container: Container) -> Sessions:
    sessions: Sessions | None = container.__dict__.get("_admin_sessions")
    if sessions is None:
        sessions = container.__dict__["_admin_sessions"] = Sessions(container)
    return sessions


async def signed_in(request: Request, container: ContainerDep) -> AdminSession:
    try:
        sessions = sessions_of(container)
    except ConsoleUnavailableError:
        raise NotSignedIn from None  # the sign-in page says what to set
    session = await run_in_threadpool(sessions.read, request.cookies.get(COOKIE))
    if session is None:
        raise NotSignedIn
    return session


Admin = Annotated[AdminSession, Depends(signed_in)]


def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=status)


def refused(request: Request, reason: str) -> HTMLResponse:
    return page(request, "refused.html", 403, reason=reason)


def same_origin(request: Request) -> bool:
    """A form post from this console's own pages (browsers send Origin on POST)."""
    origin = request.headers.get("origin")
    return origin is None or origin == f"{request.url.scheme}://{request.url.netloc}"


def form_refusal(request: Request, admin: AdminSession, csrf: str | None) -> HTMLResponse | None:
    """The refusal page for a form post without this session's token or from another site."""
    if csrf_matches(admin, csrf) and same_origin(request):
        return None
    return refused(request, CSRF_REFUSAL)
