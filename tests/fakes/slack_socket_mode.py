"""A fake Socket Mode endpoint: the WebSocket server Slack would hand out from apps.connections.open.
It greets the client with ``hello``, delivers envelopes (:meth:`FakeSocketMode.deliver`) and records
the client's acknowledgements."""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

from websockets.sync.server import Server, ServerConnection, serve


class FakeSocketMode:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connection: ServerConnection | None = None
        self.acks: list[dict[str, Any]] = []
        self._server: Server = serve(self._handle, "127.0.0.1", 0, compression=None)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.socket.getsockname()[:2]
        return f"ws://{host}:{port}/link/?ticket=fake"

    def _handle(self, connection: ServerConnection) -> None:
        with self._lock:
            self._connection = connection
        hello = {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0ADVISOR"}}
        connection.send(json.dumps(hello))
        for raw in connection:
            with self._lock:
                self.acks.append(json.loads(raw))

    def wait_connected(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while self._connection is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"no Socket Mode client connected within {timeout}s")
            time.sleep(0.05)

    def deliver(self, kind: str, payload: dict[str, Any]) -> str:
        """Send one envelope (kind: events_api, slash_commands, interactive); returns its id."""
        envelope_id = uuid.uuid4().hex
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind != "events_api",
            "retry_attempt": 0,
            "retry_reason": "",
        }
        assert self._connection is not None, "call wait_connected() first"
        self._connection.send(json.dumps(envelope))
        return envelope_id

    def wait_ack(self, envelope_id: str, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                for ack in self.acks:
                    if ack.get("envelope_id") == envelope_id:
                        return ack
            if time.monotonic() > deadline:
                raise AssertionError(f"envelope {envelope_id} was not acknowledged within {timeout}s")
            time.sleep(0.02)

    def close(self) -> None:
        self._server.shutdown()
