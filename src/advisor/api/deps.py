"""FastAPI dependencies as Annotated aliases: the container, the chat core, and the caller.

Every /v1 route takes its caller from :func:`caller_for`, which authenticates the key, checks the
scope the route needs and refuses widget keys on any route outside :data:`WIDGET_ROUTES`. A route added
later is therefore closed to widget keys until it is listed here, and whatever limits apply to a widget
caller are applied by the chat core's admission on every route it may use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from advisor.auth import LOCAL_PRINCIPAL, KeyRejectedError, Principal, Scope
from advisor.chat.assessments import AssessmentDesk
from advisor.chat.model import Caller, Channel
from advisor.chat.service import ChatService
from advisor.container import Container
from advisor.settings import Settings

_bearer = HTTPBearer(auto_error=False, description="An API key (ADVISOR_API__KEYS or `advisor keys create`).")

#: The routes a widget key may call (method, route template): chat, feedback and reading back its
#: conversation after a reload. CORS for widget origins is answered on these paths only.
WIDGET_ROUTES: frozenset[tuple[str, str]] = frozenset(
    {
        ("POST", "/v1/chat"),
        ("POST", "/v1/feedback"),
        ("GET", "/v1/conversations/{conversation_id}"),
        ("GET", "/v1/documents/{doc_id}"),
        ("POST", "/v1/assessments"),
        ("GET", "/v1/assessments/{assessment_id}"),
        ("PATCH", "/v1/assessments/{assessment_id}"),
    }
)
WIDGET_ONLY_REACHES = (
    "a widget key may only call POST /v1/chat, POST /v1/feedback, GET /v1/conversations/{id}, "
    "GET /v1/documents/{id} and /v1/assessments"
)


def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


def get_app_settings(container: ContainerDep) -> Settings:
    return container.settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]


def get_chat_service(container: ContainerDep) -> ChatService:
    return container.chat


ChatServiceDep = Annotated[ChatService, Depends(get_chat_service)]


def get_assessments(container: ContainerDep) -> AssessmentDesk:
    return container.assessments


AssessmentsDep = Annotated[AssessmentDesk, Depends(get_assessments)]


def request_origin(request: Request) -> str | None:
    """The page's origin. Browsers omit Origin on same-origin GETs: the page is then on our own origin."""
    origin = request.headers.get("origin")
    if (
        origin is None
        and request.headers.get("sec-fetch-site") == "same-origin"
        and "host" in request.headers
    ):
        origin = f"{request.url.scheme}://{request.headers['host']}"
    return origin


def get_principal(
    request: Request,
    container: ContainerDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller. Without any configured key the service is local-only and everyone is local."""
    authenticator = container.authenticator
    token = credentials.credentials if credentials and credentials.scheme.lower() == "bearer" else None
    if token is None:
        if not authenticator.auth_required():
            return LOCAL_PRINCIPAL
        raise HTTPException(
            401, "missing API key: send Authorization: Bearer <key>", {"WWW-Authenticate": "Bearer"}
        )
    try:
        principal = authenticator.resolve(token, request_origin(request))
    except KeyRejectedError as exc:
        raise HTTPException(exc.status, str(exc), {"WWW-Authenticate": "Bearer"}) from None
    if principal is None:
        if not authenticator.auth_required():
            return LOCAL_PRINCIPAL
        raise HTTPException(401, "invalid API key", {"WWW-Authenticate": "Bearer"})
    request.state.principal = principal  # for access logs: the key id, never the key
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def caller_for(
    scope: Scope | tuple[Scope, ...] | None, channel: Channel = "api"
) -> Callable[[Request, Principal], Caller]:
    """The dependency that admits a caller with ``scope`` (one of them, for a tuple; None: any key)
    to the route it guards."""
    wanted = (scope,) if isinstance(scope, str) else scope

    def caller(request: Request, principal: PrincipalDep) -> Caller:
        route = request.scope.get("route")
        if principal.kind == "widget" and (request.method, getattr(route, "path", "")) not in WIDGET_ROUTES:
            raise HTTPException(403, WIDGET_ONLY_REACHES)
        if wanted is not None and not any(principal.allows(s) for s in wanted):
            raise HTTPException(403, f"this key lacks the {' or '.join(map(repr, wanted))} scope")
        client = request.client.host if request.client else None
        return Caller(principal, "widget" if principal.kind == "widget" else channel, client)

    return caller


def docs_access(
    request: Request,
    container: ContainerDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """/openapi.json and /docs: any valid key when keys are on, unless api.public_docs."""
    if not container.settings.api.public_docs:
        get_principal(request, container, credentials)


def metrics_access(
    request: Request,
    container: ContainerDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """/metrics: a key with the metrics (or admin) scope when keys are on, unless api.public_metrics."""
    if container.settings.api.public_metrics:
        return
    principal = get_principal(request, container, credentials)
    if not (principal.allows("metrics") or principal.allows("admin")):
        raise HTTPException(403, "this key lacks the 'metrics' scope")


DocsAccess = Annotated[None, Depends(docs_access)]
MetricsAccess = Annotated[None, Depends(metrics_access)]
ChatCaller = Annotated[Caller, Depends(caller_for("chat"))]
SearchCaller = Annotated[Caller, Depends(caller_for("search"))]
ReaderCaller = Annotated[Caller, Depends(caller_for(("chat", "search")))]
FeedbackCaller = Annotated[Caller, Depends(caller_for("feedback"))]
AdminCaller = Annotated[Caller, Depends(caller_for("admin"))]
OpenAICaller = Annotated[Caller, Depends(caller_for("chat", "openai"))]
ModelsCaller = Annotated[Caller, Depends(caller_for(None, "openai"))]
