"""FastAPI dependencies as Annotated aliases."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from advisor.answer.service import AnswerService
from advisor.container import Container, api_key_id
from advisor.settings import Settings

_bearer = HTTPBearer(auto_error=False, description="An API key from api.keys (ADVISOR_API__KEYS).")


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


def get_api_key_id(
    settings: SettingsDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> str | None:
    """The caller's key id (None when the service runs without keys, on loopback only)."""
    if not settings.auth_enabled:
        return None
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(
            401, "missing API key: send Authorization: Bearer <key>", {"WWW-Authenticate": "Bearer"}
        )
    given = credentials.credentials.encode()
    for key in settings.api.keys:
        if hmac.compare_digest(given, key.get_secret_value().encode()):
            return api_key_id(key.get_secret_value())
    raise HTTPException(401, "invalid API key", {"WWW-Authenticate": "Bearer"})


ApiKeyDep = Annotated[str | None, Depends(get_api_key_id)]
