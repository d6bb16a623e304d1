"""A fake OpenAI chat-completions server for tests, exposed as the ``fake_openai`` fixture.

It is a real HTTP server on 127.0.0.1 (random free port, background thread) that speaks enough of
the OpenAI protocol for the real ``openai`` / ``langchain_openai`` clients:

* ``POST /v1/chat/completions`` returns a ``chat.completion`` JSON body, or with ``"stream": true``
  a ``text/event-stream`` of ``chat.completion.chunk`` events ending in ``data: [DONE]``.
* Behaviour is scripted per test: :meth:`FakeOpenAIServer.reply_with`, :meth:`~FakeOpenAIServer.stall`
  and :meth:`~FakeOpenAIServer.fail`.
* Every request is recorded in :attr:`FakeOpenAIServer.requests` with its parsed JSON body.

Use it with a client pointed at ``f"{fake_openai.url}/v1"``.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

DEFAULT_REPLY = "This is the fake model's reply."


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: Any  # parsed JSON, or None when the body was empty or not JSON
    raw_body: bytes
    received_at: float  # time.monotonic()

    @property
    def messages(self) -> list[dict[str, Any]]:
        if isinstance(self.body, dict) and isinstance(self.body.get("messages"), list):
            return list(self.body["messages"])
        return []

    @property
    def streamed(self) -> bool:
        return isinstance(self.body, dict) and bool(self.body.get("stream"))


@dataclass
class _Failure:
    status: int
    remaining: int | None  # None = every request
    retry_after: str | None
    message: str


@dataclass
class _Stall:
    seconds: float
    remaining: int | None
    after_chunks: int | None  # None = before the response starts; n = after n streamed content chunks


@dataclass
class _Script:
    text: str = DEFAULT_REPLY
    chunks: list[str] | None = None
    finish_reason: str = "stop"
    failure: _Failure | None = None
    stall: _Stall | None = None
    release: threading.Event = field(default_factory=threading.Event)


def split_into_deltas(text: str) -> list[str]:
    """Split text the way a model streams it: word by word, keeping the whitespace."""
    pieces = re.findall(r"\S+\s*|\s+", text)
    return pieces or [text]


_ERROR_TYPES = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    404: ("invalid_request_error", "not_found"),
    429: ("requests", "rate_limit_exceeded"),
}


class FakeOpenAIServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._lock = threading.Lock()
        self._script = _Script()
        self._requests: list[RecordedRequest] = []
        self._httpd = _HTTPServer((host, port), _Handler, self)
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeOpenAIServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="fake-openai", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.reset()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def reset(self) -> None:
        """Forget recorded requests and scripted behaviour; release any stalled responses."""
        with self._lock:
            self._script.release.set()
            self._script = _Script()
            self._requests.clear()

    # -- scripting -------------------------------------------------------------------------------

    def reply_with(
        self, text: str, *, chunks: Sequence[str] | None = None, finish_reason: str = "stop"
    ) -> None:
        """Answer with ``text``; streamed in ``chunks`` (default: word by word)."""
        with self._lock:
            self._script.text = text
            self._script.chunks = list(chunks) if chunks is not None else None
            self._script.finish_reason = finish_reason

    def stall(self, seconds: float, *, times: int | None = None, after_chunks: int | None = None) -> None:
        """Accept requests, then send nothing for ``seconds`` before replying normally.

        ``times`` limits how many requests stall (default: all). With ``after_chunks=n`` a streamed
        response sends its headers and ``n`` content chunks before going silent.
        """
        with self._lock:
            self._script.stall = _Stall(seconds=seconds, remaining=times, after_chunks=after_chunks)

    def fail(
        self,
        status: int,
        times: int | None = None,
        retry_after: float | str | None = None,
        *,
        message: str | None = None,
    ) -> None:
        """Answer the next ``times`` requests (default: all) with an OpenAI-shaped error."""
        with self._lock:
            self._script.failure = _Failure(
                status=status,
                remaining=times,
                retry_after=None if retry_after is None else str(retry_after),
                message=message or f"fake failure with HTTP {status}",
            )

    # -- inspection ------------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.rstrip("/").endswith("/chat/completions")]

    # -- used by the handler -----------------------------------------------------------------------

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _next_action(self) -> tuple[_Failure | None, _Stall | None, _Script]:
        """Decide what this request gets, consuming one use of a limited failure or stall."""
        with self._lock:
            script = self._script
            failure = script.failure
            if failure is not None and not _consume(failure):
                failure = None
            if failure is not None:
                return failure, None, script
            stall = script.stall
            if stall is not None and not _consume(stall):
                stall = None
            return None, stall, script


def _consume(limited: _Failure | _Stall) -> bool:
    """Use up one of a limited behaviour's turns; False once none are left (None = unlimited)."""
    remaining = limited.remaining
    if remaining is None:
        return True
    if remaining <= 0:
        return False
    limited.remaining = remaining - 1
    return True


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], fake: FakeOpenAIServer
    ) -> None:
        self.fake = fake
        super().__init__(address, handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    # -- plumbing --------------------------------------------------------------------------------

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send_json(self, status: int, payload: object, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _send_error_json(self, status: int, message: str, retry_after: str | None = None) -> None:
        err_type, code = _ERROR_TYPES.get(
            status, ("server_error" if status >= 500 else "invalid_request_error", None)
        )
        headers = {"x-request-id": f"req_{uuid.uuid4().hex[:12]}"}
        if retry_after is not None:
            headers["Retry-After"] = retry_after
        body = {"error": {"message": message, "type": err_type, "param": None, "code": code}}
        self._send_json(status, body, headers)

    def _sse(self, payload: object) -> None:
        data = payload if isinstance(payload, str) else json.dumps(payload)
        self.wfile.write(f"data: {data}\n\n".encode())
        self.wfile.flush()

    # -- routes ----------------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._read_body()
        self._record(None, b"")
        if self.path.rstrip("/").endswith("/models"):
            self._send_json(
                200, {"object": "list", "data": [{"id": "fake-model", "object": "model", "owned_by": "test"}]}
            )
        else:
            self._send_error_json(404, f"no route for GET {self.path}")

    def do_POST(self) -> None:
        raw = self._read_body()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = None
        self._record(body, raw)
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._send_error_json(404, f"no route for POST {self.path}")
            return
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            self._send_error_json(400, "'messages' is a required property")
            return

        failure, stall, script = self.server.fake._next_action()
        try:
            if failure is not None:
                self._send_error_json(failure.status, failure.message, failure.retry_after)
                return
            if stall is not None and stall.after_chunks is None:
                script.release.wait(stall.seconds)
            if body.get("stream"):
                self._stream(body, script, stall)
            else:
                self._complete(body, script)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True  # the client gave up (e.g. timed out)

    def _record(self, body: Any, raw: bytes) -> None:
        self.server.fake._record(
            RecordedRequest(
                method=self.command,
                path=self.path,
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
                raw_body=raw,
                received_at=time.monotonic(),
            )
        )

    def _complete(self, body: dict[str, Any], script: _Script) -> None:
        text = script.text
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in body["messages"])
        completion_tokens = len(text.split())
        self._send_json(
            200,
            {
                "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "fake-model"),
                "system_fingerprint": "fp_fake",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text, "refusal": None},
                        "logprobs": None,
                        "finish_reason": script.finish_reason,
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            },
        )

    def _stream(self, body: dict[str, Any], script: _Script, stall: _Stall | None) -> None:
        completion_id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        created = int(time.time())
        model = body.get("model", "fake-model")

        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
            return {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "system_fingerprint": "fp_fake",
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
            }

        # No Content-Length: the body ends when the connection closes, as with a streamed reply.
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.flush()

        self._sse(chunk({"role": "assistant", "content": "", "refusal": None}))
        pieces = script.chunks if script.chunks is not None else split_into_deltas(script.text)
        for i, piece in enumerate(pieces):
            if stall is not None and stall.after_chunks == i:
                script.release.wait(stall.seconds)
            self._sse(chunk({"content": piece}))
        self._sse(chunk({}, script.finish_reason))
        options = body.get("stream_options")
        if isinstance(options, dict) and options.get("include_usage"):
            completion_tokens = len(script.text.split())
            usage = {
                "prompt_tokens": 1,
                "completion_tokens": completion_tokens,
                "total_tokens": completion_tokens + 1,
            }
            payload = chunk({})
            payload["choices"] = []
            payload["usage"] = usage
            self._sse(payload)
        self._sse("[DONE]")


# -- pytest plugin -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def fake_openai_server() -> Iterator[FakeOpenAIServer]:
    server = FakeOpenAIServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fake_openai(fake_openai_server: FakeOpenAIServer) -> Iterator[FakeOpenAIServer]:
    """The shared fake server, with behaviour and recorded requests reset for this test."""
    fake_openai_server.reset()
    try:
        yield fake_openai_server
    finally:
        fake_openai_server.reset()
