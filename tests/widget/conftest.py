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
from advisor.settings import load_settings
from tests.api.helpers import llm_settings
from tests.fakes.openai_server import FakeOpenAIServer
from tests.plugins.advisor_app import KNOWLEDGE, LiveServer, free_port, serve_app
from tests.plugins.fast import FastContainer
from tests.widget.browser_app import ANSWER, API_KEY, PARTNER_KEY, QUESTION

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


@pytest.fixture(scope="session")
def partner_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """Another site (another port, so another origin) that is allowed to embed the widget."""
    directory = tmp_path_factory.mktemp("partner-site")
    with page_server(directory) as url:
        yield directory, url


@pytest.fixture(scope="session")
def app_server(
    indexed_data_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
    fake_openai_server: FakeOpenAIServer,
    partner_site: tuple[Path, str],
) -> Iterator[LiveServer]:
    """API keys on (so pages must use widget keys); a widget key for the app's own origin (the demo
    page) and one for the partner site."""
    data_dir = tmp_path_factory.mktemp("widget-browser") / "data"
    shutil.copytree(indexed_data_dir, data_dir)

    def settings_for(origin: str) -> Any:
        return load_settings(
            data_dir=data_dir,
            knowledge_dir=KNOWLEDGE,
            api={"keys": [API_KEY]},
            llm=llm_settings(fake_openai_server),
            widget={
                "keys": widget_keys(origin) + widget_keys(partner_site[1], key=PARTNER_KEY, name="partner"),
                "rate_limit_per_conversation": "2/minute",  # a conversation's 4th question is refused
            },
        )

    with serve_on_port(settings_for) as server:
        # One answer first, so the model, the index and the LLM client are loaded before any test.
        fake_openai_server.reply_with(ANSWER)
        with server.client(headers={"Authorization": f"Bearer {API_KEY}"}) as http:
            assert http.post("/v1/chat", json={"message": QUESTION}).status_code == 200
        fake_openai_server.reset()
        yield server


@pytest.fixture
def new_page(chromium_browser: Any) -> Iterator[Any]:
    contexts: list[Any] = []

    def make(width: int = 1280, height: int = 800) -> Any:
        context = chromium_browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
