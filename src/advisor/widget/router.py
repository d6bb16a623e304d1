"""Serves the widget's script and stylesheet (ETag, correct types) and the demo page at /."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, Template, select_autoescape

from advisor.api.deps import ContainerDep
from advisor.channel_settings import normalise_origin

router = APIRouter(tags=["widget"])
_HERE = Path(__file__).resolve().parent
_TYPES = {"widget.js": "text/javascript; charset=utf-8", "widget.css": "text/css; charset=utf-8"}


# widget.js is one script assembled from its parts (static/parts/), in this order, inside one function
# scope: the parts share it, and nothing but window.AdvisorWidget reaches the host page.
_SCRIPT_PARTS = ("dom.js", "markdown.js", "main.js", "reader.js", "assess.js")
_SCRIPT_HEAD = """/* Advisor chat widget: one <script src=".../widget.js" data-advisor-url=... defer> tag embeds it.
 * Plain JavaScript, no dependencies, no build step. Everything is rendered inside a shadow root with
 * DOM APIs and textContent: answer text is never parsed as HTML. */
(() => {
"use strict";
"""


def _script() -> bytes:
    parts = [(_HERE / "static" / "parts" / name).read_text() for name in _SCRIPT_PARTS]
    return (_SCRIPT_HEAD + "\n".join(parts) + "})();\n").encode()


@lru_cache(maxsize=4)
def _asset(name: str) -> tuple[bytes, str]:
    data = _script() if name == "widget.js" else (_HERE / "static" / name).read_bytes()
    return data, '"' + hashlib.sha256(data).hexdigest()[:32] + '"'


def _serve(name: str, request: Request) -> Response:
    data, etag = _asset(name)
    headers = {
        "ETag": etag,
        # Unversioned URLs: browsers may reuse a copy briefly, then revalidate with the ETag.
        "Cache-Control": "public, max-age=300",
        # Host pages on other origins load these files; allow it even under their COEP.
        "Cross-Origin-Resource-Policy": "cross-origin",
        "X-Content-Type-Options": "nosniff",
    }
    if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=_TYPES[name], headers=headers)


@router.get("/widget.js", include_in_schema=False)
async def widget_js(request: Request) -> Response:
    return _serve("widget.js", request)


@router.get("/widget.css", include_in_schema=False)
async def widget_css(request: Request) -> Response:
    return _serve("widget.css", request)


@lru_cache(maxsize=1)
def _demo_template() -> Template:
    env = Environment(
        loader=FileSystemLoader(_HERE / "templates"), autoescape=select_autoescape(default=True)
    )
    return env.get_template("demo.html")


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def demo_page(request: Request, container: ContainerDep) -> HTMLResponse:
    settings = container.settings
    if not settings.widget.demo_page:
        raise HTTPException(404, "the demo page is turned off (widget.demo_page)")
    advisor_url = str(request.base_url).rstrip("/")
    keyring = container.widget_keyring
    own_origin = normalise_origin(advisor_url) or advisor_url
    entry = keyring.demo_key(own_origin, settings.widget.demo_key)
    html = _demo_template().render(
        advisor_url=advisor_url,
        own_origin=own_origin,
        # Only ever a widget key: server API keys must never reach a page.
        widget_key=entry.key.get_secret_value() if entry else None,
        keys_configured=bool(keyring),
        auth_required=container.authenticator.auth_required(),
    )
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})
