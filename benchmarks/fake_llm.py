"""A local OpenAI-protocol chat server with a fixed latency, so the LLM path's own overhead can be
separated from the model's: a fixed time to first token, then fixed-interval streamed deltas.

Same wire format as tests/fakes/openai_server.py (chat.completion / chat.completion.chunk events
ending in ``data: [DONE]``), reduced to what a timing run needs.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

REPLY = (
    "Start by writing down the business outcome the model must move and who owns it [1]. "
    "Then agree acceptance criteria with that owner before more modelling [2]. "
    "Finally plan the path to production: versioned data, a pipeline and monitoring [1]."
)


class FixedLatencyLLM:
    def __init__(self, first_token_seconds: float = 0.2, interval_seconds: float = 0.01) -> None:
        self.first_token_seconds = first_token_seconds
        self.interval_seconds = interval_seconds
        self.deltas = [w + " " for w in REPLY.split(" ")]
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.llm = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="fixed-llm", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def total_seconds(self) -> float:
        """What the server alone takes for a streamed answer: first token plus every interval."""
        return self.first_token_seconds + self.interval_seconds * (len(self.deltas) - 1)

    def __enter__(self) -> FixedLatencyLLM:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        llm: FixedLatencyLLM = self.server.llm  # type: ignore[attr-defined]
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        started = time.perf_counter()
        model = body.get("model", "fixed")
        cid = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        if not body.get("stream"):
            time.sleep(llm.total_seconds)
            message = {"role": "assistant", "content": "".join(llm.deltas).strip()}
            payload = {
                "id": cid,
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }
            data = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.end_headers()

        def event(delta: dict[str, Any], finish: str | None = None) -> None:
            chunk = {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()

        # Deadlines from the request's arrival, so the server's own timing never drifts.
        for i, text in enumerate(llm.deltas):
            delay = started + llm.first_token_seconds + i * llm.interval_seconds - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            event({"role": "assistant", "content": text} if i == 0 else {"content": text})
        event({}, "stop")
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()
