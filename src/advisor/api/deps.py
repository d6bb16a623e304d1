"""FastAPI dependencies as Annotated aliases."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from advisor.answer.service import AnswerService
from advisor.auth import LOCAL_PRINCIPAL, KeyRejectedError, Principal, Scope
from advisor.container import Container
from advisor.settings import Settings

_bearer = HTTPBearer(auto_error=False, description="An API key (ADVISOR_API__KEYS or `advisor keys create`).")


def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


def get_app_settings(container: ContainerDep) -> Settings:
    return container.settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]


def get_answer_service(container: ContainerDep) -> AnswerService:
    return container.answers


AnswerServiceDep = Annotated[AnswerService, Depends(get_answer_service)]


def get_principal(
    request: Request,
    container: ContainerDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller. Without any configured key the service is local-only and everyone is local."""
    token = credentials.credentials if credentials and credentials.scheme.lower() == "bearer" else None
    if token is None:
        if not container.auth_required():
            return LOCAL_PRINCIPAL
        raise HTTPException(
            401, "missing API key: send Authorization: Bearer <key>", {"WWW-Authenticate": "Bearer"}
        )
    try:
        principal = container.resolve_key(token, request.headers.get("origin"))
    except KeyRejectedError as exc:
        raise HTTPException(exc.status, str(exc), {"WWW-Authenticate": "Bearer"}) from None
    if principal is None:
        if not container.auth_required():
            return LOCAL_PRINCIPAL
        raise HTTPException(401, "invalid API key", {"WWW-Authenticate": "Bearer"})
    request.state.principal = principal  # for access logs: the key id, never the key
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require_scope(scope: Scope) -> Callable[[Principal], Principal]:
    def check(principal: PrincipalDep) -> Principal:
        if not principal.allows(scope):
            raise HTTPException(403, f"this key lacks the {scope!r} scope")
        return principal

    return check


ChatAuth = Annotated[Principal, Depends(require_scope("chat"))]
SearchAuth = Annotated[Principal, Depends(require_scope("search"))]
FeedbackAuth = Annotated[Principal, Depends(require_scope("feedback"))]
AdminAuth = Annotated[Principal, Depends(require_scope("admin"))]
