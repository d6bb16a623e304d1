"""Unusable text under load, against a served app with the real model: requests carrying a lone
surrogate or a NUL are refused, and not one concurrent legitimate request fails because of them
(before the fix, 87% of concurrent /v1/search calls got 503 while two clients sent such chats)."""

from __future__ import annotations

import collections
import threading
import time
from typing import Any

POISON_BODIES = [
    ("/v1/chat", '{"message": "how do we monitor drift?", "initiative": "bank \\udfff %d"}'),
    ("/v1/chat", '{"message": "how do we monitor drift? \\u0000 %d"}'),
    (
        "/v1/chat/completions",
        '{"model": "advisor", "messages": [{"role": "user", "content": "drift \\udfff %d"}]}',
    ),
]
QUERIES = ["canary release for a credit model", "how do we monitor drift", "who signs off before launch"]
SECONDS = 6.0  # bounded: every loop also stops after MAX_REQUESTS
MAX_REQUESTS = 2000


def test_poisoned_requests_never_fail_legitimate_ones(live_server: Any) -> None:
    counts: collections.Counter[tuple[str, int]] = collections.Counter()
    lock = threading.Lock()
    with live_server() as server:
        stop = time.monotonic() + SECONDS

        def send(kind: str, worker: int) -> None:
            with server.client() as http:
                for n in range(MAX_REQUESTS):
                    if time.monotonic() > stop:
                        return
                    if kind == "poison":
                        path, body = POISON_BODIES[(worker + n) % len(POISON_BODIES)]
                        reply = http.post(
                            path, content=body % n, headers={"content-type": "application/json"}
                        )
                    else:
                        query = f"{QUERIES[(worker + n) % len(QUERIES)]} {worker}-{n}"  # never a cache hit
                        reply = http.post("/v1/search", json={"query": query})
                    with lock:
                        counts[(kind, reply.status_code)] += 1

        threads = [threading.Thread(target=send, args=("poison", w)) for w in range(2)]
        threads += [threading.Thread(target=send, args=("legit", w)) for w in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=SECONDS + 60)
    legit = {status: n for (kind, status), n in counts.items() if kind == "legit"}
    poison = {status: n for (kind, status), n in counts.items() if kind == "poison"}
    print(f"legitimate: {legit}; poisoned: {poison}")
    assert set(legit) == {200} and legit[200] > 20, counts
    assert poison and set(poison) <= {400, 422}, counts
