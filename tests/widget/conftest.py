"""Fixtures for the widget tests: the app served on a port known before it starts (so a widget key
can allow the service's own origin), over the real components for the browser tests
(``serve_on_port``) or the fast tier's (``widget_server``, for the HTTP tests), a plain page server
on another port (a foreign host site), and one headless Chromium per test module, driven by
Playwright."""

from __future__ import annotations

import functools
import shutil
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from advisor.app import create_app
from tests.plugins.advisor_app import REPO, LiveServer, free_port, serve_app
from tests.plugins.fast import FastContainer

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SCREENSHOTS = REPO / "build" / "screenshots"
WIDGET_KEY = "wk_test-widget-key-0123456789"


@contextmanager
def serve_on_port(settings_for: Callable[[str], Any]) -> Iterator[LiveServer]:
    """Serve the app on a free port whose origin is known first: settings_for(origin) -> Settings."""
    port = free_port()
    app = create_app(settings_for(f"http://127.0.0.1:{port}"), warm_up=False)  # first answer loads it
    with serve_app(app, port) as live:
        yield live


def widget_keys(*origins: str, key: str = WIDGET_KEY, name: str = "demo") -> list[dict[str, Any]]:
    return [{"name": name, "key": key, "origins": list(origins)}]


@pytest.fixture
def widget_server(fast_container: FastContainer) -> Callable[..., AbstractContextManager[LiveServer]]:
    """widget_server(**overrides) -> context manager serving the app over the fast tier's index
    (tests/plugins/fast.py) with a widget key (WIDGET_KEY) allowing the server's own origin; `widget`
    overrides merge into the widget section and `extra_keys` are further widget keys."""

    def start(
        *,
        widget: dict[str, Any] | None = None,
        extra_keys: Sequence[dict[str, Any]] = (),
        key: str = WIDGET_KEY,
        **overrides: Any,
    ) -> AbstractContextManager[LiveServer]:
        port = free_port()
        keys = widget_keys(f"http://127.0.0.1:{port}", key=key) + list(extra_keys)
        container = fast_container(widget={"keys": keys, **(widget or {})}, **overrides)
        return serve_app(create_app(container=container), port)

    return start


@contextmanager
def page_server(directory: Path) -> Iterator[str]:
    """A plain static file server on another loopback port: a foreign site embedding the widget."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def chromium_browser() -> Iterator[Any]:
    """One Chromium per module (installed by `make browser` when missing)."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        apt = shutil.which("apt-get")
        hint = "run `make browser` (apt-get install -y chromium)"
        pytest.fail(f"{CHROMIUM} is missing: {hint}" + ("" if apt else "; apt-get is not available"))
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
