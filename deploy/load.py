"""A bounded load on a cluster's searches from client threads, recording every outcome, for the
cluster tests (a replica killed or an index switched under load) and the cluster benchmark."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import httpx

QUESTIONS = (
    "how do we notice our forecast quietly getting worse",
    "who should own the churn model once it is live",
    "our data sits in three CRMs, where do we start",
    "what should a production readiness review cover",
    "how do we keep cloud costs down when traffic spikes",
    "how do we get the sales team to trust the model",
)


@dataclass(frozen=True)
class Outcome:
    at: float  # seconds since the load started, when the request was sent
    status: int  # 0: no HTTP response at all
    served_by: str
    error: str = ""


class SearchLoad:
    """``clients`` threads each sending POST /v1/search in a loop until stop() or ``max_seconds``."""

    def __init__(self, url: str, api_key: str, clients: int, max_seconds: float = 120.0) -> None:
        self._url, self._key, self._clients, self._max = url, api_key, clients, max_seconds
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.outcomes: list[Outcome] = []
        self._threads: list[threading.Thread] = []
        self._started = 0.0

    def __enter__(self) -> SearchLoad:
        self._started = time.monotonic()
        self._threads = [
            threading.Thread(target=self._client, args=(i,), daemon=True) for i in range(self._clients)
        ]
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def stop(self) -> list[Outcome]:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)
        return self.outcomes

    def elapsed(self) -> float:
        return time.monotonic() - self._started

    def _client(self, number: int) -> None:
        headers = {"Authorization": f"Bearer {self._key}"}
        with httpx.Client(base_url=self._url, headers=headers, timeout=30) as client:
            sent = 0
            while not self._stop.is_set() and time.monotonic() - self._started < self._max:
                query = f"{QUESTIONS[(number + sent) % len(QUESTIONS)]} ({number}-{sent})"
                at = time.monotonic() - self._started
                try:
                    got = client.post("/v1/search", json={"query": query, "k": 5})
                    outcome = Outcome(at, got.status_code, got.headers.get("x-served-by", ""))
                except httpx.HTTPError as exc:
                    outcome = Outcome(at, 0, "", f"{type(exc).__name__}: {exc}")
                with self._lock:
                    self.outcomes.append(outcome)
                sent += 1

    def failures(self) -> list[Outcome]:
        with self._lock:
            return [o for o in self.outcomes if o.status != 200]
