"""The console's keys: API keys (create with scopes and a name, revoke) and widget keys (create,
change their origins and chat limit, revoke). Keys in the settings stay bootstrap keys, not listed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from advisor.admin.common import Admin, form_refusal, page
from advisor.admin.session import AdminSession
from advisor.api.deps import ContainerDep
from advisor.auth import SCOPES
from advisor.container import Container

router = APIRouter(prefix="/admin/keys", include_in_schema=False)
widgets = APIRouter(prefix="/admin/widget-keys", include_in_schema=False)


async def _refused(request: Request, container: Container, admin: AdminSession, error: str) -> Response:
    """The keys page again, with what was wrong with the form."""
    context = await run_in_threadpool(_keys_context, container)
    return page(request, "keys.html", 422, admin=admin, issued=None, error=error, **context)


def _keys_context(container: Container) -> dict[str, Any]:
    return {
        "keys": container.api_keys.list(),
        "widget_keys": container.widget_key_store.list(),
        "scopes": SCOPES,
        "default_limit": container.settings.widget.rate_limit_per_ip,
    }


@router.get("")
async def keys_page(request: Request, container: ContainerDep, admin: Admin) -> Response:
    return page(
        request, "keys.html", admin=admin, issued=None, **await run_in_threadpool(_keys_context, container)
    )


@router.post("")
async def create_key(
    request: Request,
    container: ContainerDep,
    admin: Admin,
    csrf: Annotated[str | None, Form()] = None,
    name: Annotated[str, Form()] = "",
    scope: Annotated[list[str] | None, Form()] = None,
) -> Response:
    if (refusal := form_refusal(request, admin, csrf)) is not None:
        return refusal
    try:
        issued = await run_in_threadpool(container.api_keys.create, scope or [], name)
    except ValueError as exc:
        return await _refused(request, container, admin, str(exc))
    await run_in_threadpool(container.admin_store.audit, admin.key_id, "create key", issued.record.id)
    return page(
        request, "keys.html", admin=admin, issued=issued, **await run_in_threadpool(_keys_context, container)
    )


@widgets.post("")
async def create_widget_key(
    request: Request,
    container: ContainerDep,
    admin: Admin,
    csrf: Annotated[str | None, Form()] = None,
    name: Annotated[str, Form()] = "",
    origins: Annotated[str, Form()] = "",
    rate_limit: Annotated[str, Form()] = "",
) -> Response:
    if (refusal := form_refusal(request, admin, csrf)) is not None:
        return refusal
    try:
        key, record = await run_in_threadpool(
            container.widget_key_store.create, name, origins.split(), rate_limit
        )
    except ValueError as exc:
        return await _refused(request, container, admin, str(exc))
    await run_in_threadpool(container.admin_store.audit, admin.key_id, "create widget key", record.id)
    context = await run_in_threadpool(_keys_context, container)
    own = f"{request.url.scheme}://{request.url.netloc}"
    return page(
        request, "keys.html", admin=admin, issued=None, widget_issued=(key, record), own=own, **context
    )


@widgets.post("/{key_id}")
async def update_widget_key(
    request: Request,
    container: ContainerDep,
    admin: Admin,
    key_id: str,
    csrf: Annotated[str | None, Form()] = None,
    origins: Annotated[str, Form()] = "",
    rate_limit: Annotated[str, Form()] = "",
) -> Response:
    if (refusal := form_refusal(request, admin, csrf)) is not None:
        return refusal
    try:
        record = await run_in_threadpool(
            container.widget_key_store.update, key_id[:128], origins.split(), rate_limit
        )
    except ValueError as exc:
        return await _refused(request, container, admin, str(exc))
    if record is None:
        return page(request, "refused.html", 404, admin=admin, reason=f"no active widget key {key_id[:80]}")
    change = f"{record.id}: {', '.join(record.origins)}; {record.rate_limit or 'default limit'}"
    await run_in_threadpool(container.admin_store.audit, admin.key_id, "change widget key", change)
    return RedirectResponse("/admin/keys", status_code=303)


@widgets.post("/{key_id}/revoke")
async def revoke_widget_key(
    request: Request,
    container: ContainerDep,
    admin: Admin,
    key_id: str,
    csrf: Annotated[str | None, Form()] = None,
) -> Response:
    if (refusal := form_refusal(request, admin, csrf)) is not None:
        return refusal
    if await run_in_threadpool(container.widget_key_store.revoke, key_id[:128]):
        await run_in_threadpool(container.admin_store.audit, admin.key_id, "revoke widget key", key_id)
    return RedirectResponse("/admin/keys", status_code=303)


@router.post("/{key_id}/revoke")
async def revoke_key(
    request: Request,
    container: ContainerDep,
    admin: Admin,
    key_id: str,
    csrf: Annotated[str | None, Form()] = None,
) -> Response:
    if (refusal := form_refusal(request, admin, csrf)) is not None:
        return refusal
    from advisor.store.api_keys import ApiKeyNotFoundError

    try:
        await run_in_threadpool(container.api_keys.revoke, key_id)
    except ApiKeyNotFoundError:
        return page(request, "refused.html", 404, reason=f"no key {key_id}")
    await run_in_threadpool(container.admin_store.audit, admin.key_id, "revoke key", key_id)
    return RedirectResponse("/admin/keys", status_code=303)
