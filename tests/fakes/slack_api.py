"""A fake Slack Web API for tests, exposed as the ``fake_slack`` fixture (the approach of slack-bolt's
own tests: a local HTTP server that plays Slack and records every call).

It is a real HTTP server on 127.0.0.1 (random free port, background thread):

* ``POST /api/<method>`` answers like Slack for auth.test, chat.postMessage, chat.update,
  chat.postEphemeral, chat.delete and reactions.add/remove (form or JSON bodies, bearer token checked).
* ``POST /response/<name>`` plays a response URL (slash commands, interactions); build one with
  :meth:`FakeSlackAPI.response_url`.
* Scripted trouble: :meth:`FakeSlackAPI.rate_limit` (HTTP 429 with Retry-After) and
  :meth:`FakeSlackAPI.fail` (``{"ok": false, "error": ...}``).
* :meth:`FakeSlackAPI.wait_for` polls the recorded calls with a deadline (listeners run in threads).

Point the app at it with ``slack.api_url = fake_slack.api_url``.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import pytest

BOT_TOKEN = "xoxb-fake-0000-advisor-test"
TEAM_ID = "T0ADVISOR"
BOT_USER_ID = "UADVISORBOT"
BOT_ID = "BADVISORBOT"
APP_TOKEN = "xapp-1-A0ADVISOR-0000-fake"


@dataclass(frozen=True)
class SlackCall:
    method: str  # a Web API method ("chat.postMessage") or "response_url"
    path: str
    args: dict[str, Any]  # form fields or JSON body; a JSON-encoded "blocks" string is decoded
    headers: dict[str, str]  # lower-cased names
    status: int  # the HTTP status the fake answered with
    reply: Any  # and the body (a "ts" of chat.postMessage is here)
    received_at: float  # time.monotonic()

    @property
    def blocks(self) -> list[dict[str, Any]]:
        blocks = self.args.get("blocks")
        return list(blocks) if isinstance(blocks, list) else []

    def block_texts(self) -> list[str]:
        """Every mrkdwn/plain text in the blocks, in order."""
        texts: list[str] = []
        for block in self.blocks:
            if "text" in block:
                texts.append(block["text"]["text"])
            for element in block.get("elements", []):
                if isinstance(element.get("text"), dict):
                    texts.append(element["text"]["text"])
                elif isinstance(element.get("text"), str):
                    texts.append(element["text"])
        return texts


@dataclass
class _Trouble:
    remaining: int | None  # None = every call
    status: int
    error: str
    retry_after: str | None


class FakeSlackAPI:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[SlackCall] = []
        self._trouble: dict[str, _Trouble] = {}
        self._ts = itertools.count(1)
        self.socket_url: str | None = None  # what apps.connections.open hands out (FakeSocketMode.url)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def response_url(self, name: str) -> str:
        return f"{self.url}/response/{name}"

    def start(self) -> FakeSlackAPI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()
            self._trouble.clear()

    # -- scripting -------------------------------------------------------------------------------

    def rate_limit(self, method: str, *, times: int = 1, retry_after: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with HTTP 429 and a Retry-After header."""
        with self._lock:
            self._trouble[method] = _Trouble(times, 429, "ratelimited", str(retry_after))

    def fail(self, method: str, error: str, *, times: int | None = None) -> None:
        """Answer calls of ``method`` with ``{"ok": false, "error": error}`` (HTTP 200, like Slack)."""
        with self._lock:
            self._trouble[method] = _Trouble(times, 200, error, None)

    # -- inspection ------------------------------------------------------------------------------

    @property
    def calls(self) -> list[SlackCall]:
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str, *, ok_only: bool = True) -> list[SlackCall]:
        return [c for c in self.calls if c.method == method and (c.status == 200 or not ok_only)]

    def wait_for(
        self, condition: Callable[[list[SlackCall]], bool], *, timeout: float = 60.0, what: str = "calls"
    ) -> list[SlackCall]:
        """Poll the recorded calls until ``condition(calls)`` holds; AssertionError after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            calls = self.calls
            if condition(calls):
                return calls
            if time.monotonic() > deadline:
                summary = [(c.method, c.status, c.args.get("text")) for c in calls]
                raise AssertionError(f"timed out after {timeout}s waiting for {what}; calls: {summary}")
            time.sleep(0.02)

    def wait_for_calls(self, method: str, count: int = 1, *, timeout: float = 60.0) -> list[SlackCall]:
        """At least ``count`` successful calls of ``method``; returns them (all of them)."""
        self.wait_for(
            lambda _: len(self.calls_to(method)) >= count, timeout=timeout, what=f"{count} {method}"
        )
        return self.calls_to(method)

    # -- serving ---------------------------------------------------------------------------------

    def _next_ts(self) -> str:
        return f"{1_800_000_000 + next(self._ts)}.000100"

    def _handle(
        self, path: str, headers: dict[str, str], args: dict[str, Any]
    ) -> tuple[int, Any, dict[str, str]]:
        if path.startswith("/response/"):
            self._record("response_url", path, headers, args, 200, "ok")
            return 200, "ok", {}
        method = path.removeprefix("/api/")
        with self._lock:
            trouble = self._trouble.get(method)
            if trouble is not None and trouble.remaining is not None:
                trouble.remaining -= 1
                if trouble.remaining < 0:
                    del self._trouble[method]
                    trouble = None
        if trouble is not None:
            extra = {"Retry-After": trouble.retry_after} if trouble.retry_after else {}
            error = {"ok": False, "error": trouble.error}
            self._record(method, path, headers, args, trouble.status if trouble.status != 200 else 400, error)
            return trouble.status, error, extra
        token = APP_TOKEN if method == "apps.connections.open" else BOT_TOKEN
        if headers.get("authorization") != f"Bearer {token}" and args.get("token") != token:
            error = {"ok": False, "error": "invalid_auth"}
            self._record(method, path, headers, args, 401, error)
            return 200, error, {}
        reply = self._reply(method, args)
        self._record(method, path, headers, args, 200, reply)
        return 200, reply, {}

    def _reply(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://advisor-test.slack.com/",
                "team": "Advisor Test",
                "user": "advisor",
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
                "is_enterprise_install": False,
            }
        if method == "chat.postMessage":
            ts = self._next_ts()
            message = {
                "type": "message",
                "text": args.get("text", ""),
                "user": BOT_USER_ID,
                "bot_id": BOT_ID,
                "ts": ts,
            }
            if args.get("thread_ts"):
                message["thread_ts"] = args["thread_ts"]
            return {"ok": True, "channel": args.get("channel"), "ts": ts, "message": message}
        if method == "chat.update":
            return {
                "ok": True,
                "channel": args.get("channel"),
                "ts": args.get("ts"),
                "text": args.get("text", ""),
            }
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method == "apps.connections.open" and self.socket_url:
            return {"ok": True, "url": self.socket_url}
        if method == "views.open":
            view = args.get("view")
            view = json.loads(view) if isinstance(view, str) else view or {}
            return {"ok": True, "view": {"id": f"V{next(self._ts):08d}", **view}}
        if method in ("reactions.add", "reactions.remove", "chat.delete"):
            return {"ok": True}
        return {"ok": False, "error": "unknown_method"}

    def _record(
        self, method: str, path: str, headers: dict[str, str], args: dict[str, Any], status: int, reply: Any
    ) -> None:
        """``status`` is what tests filter on: 200 only for calls that succeeded (a Slack error
        answered with HTTP 200 is recorded as 400, an auth failure as 401)."""
        with self._lock:
            self._calls.append(SlackCall(method, path, args, headers, status, reply, time.monotonic()))


def _parse(content_type: str, raw: bytes) -> dict[str, Any]:
    if not raw:
        return {}
    if content_type.startswith("application/json"):
        parsed = json.loads(raw)
        args = dict(parsed) if isinstance(parsed, dict) else {"_": parsed}
    else:
        args = dict(parse_qsl(raw.decode(), keep_blank_values=True))
    if isinstance(args.get("blocks"), str):
        args["blocks"] = json.loads(args["blocks"])
    return args


def _handler_for(fake: FakeSlackAPI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
            pass

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                args = _parse(headers.get("content-type", ""), raw)
            except ValueError:
                self._send(400, {"ok": False, "error": "invalid_json"}, {})
                return
            status, payload, extra = fake._handle(self.path.split("?")[0], headers, args)
            self._send(status, payload, extra)

        def _send(self, status: int, payload: Any, extra: dict[str, str]) -> None:
            is_text = isinstance(payload, str)
            data = payload.encode() if is_text else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain" if is_text else "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler


@pytest.fixture(scope="session")
def fake_slack_server() -> Iterator[FakeSlackAPI]:
    server = FakeSlackAPI().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fake_slack(fake_slack_server: FakeSlackAPI) -> Iterator[FakeSlackAPI]:
    """The fake Slack Web API, with no recorded calls and no scripted trouble."""
    fake_slack_server.reset()
    yield fake_slack_server
    fake_slack_server.reset()
