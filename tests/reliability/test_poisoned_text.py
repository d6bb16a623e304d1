"""Unusable text against a real `advisor serve` process with the real model (issue 16, items 1 and 2).

Under load, requests carrying a lone surrogate or a NUL are refused, and not one concurrent
legitimate request fails because of them (before the fix, 87% of concurrent /v1/search calls got 503
while two clients sent such chats). And each NUL case of the outside test (7 of 7 gave 500 on
PostgreSQL) is refused with a 4xx on both stores, with what was stored before still there."""

from __future__ import annotations

import collections
import threading
import time
from pathlib import Path

import httpx
import pytest

from advisor.store.conversations import ConversationRepository
from advisor.store.db import create_db_engine, upgrade_database
from tests.reliability.served import advisor_serve

pytestmark = pytest.mark.slow

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


def test_poisoned_requests_never_fail_legitimate_ones(indexed_data_dir: Path, tmp_path: Path) -> None:
    counts: collections.Counter[tuple[str, int]] = collections.Counter()
    lock = threading.Lock()
    with advisor_serve(indexed_data_dir, tmp_path) as url:
        stop = time.monotonic() + SECONDS

        def send(kind: str, worker: int) -> None:
            with httpx.Client(base_url=url, timeout=60) as http:
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


# The outside test's NUL cases: (method, path, JSON body or None).
NUL_CASES = [
    ("POST", "/v1/chat", '{"message": "how do we monitor drift? \\u0000"}'),
    ("POST", "/v1/chat", '{"message": "drift", "initiative": "bank \\u0000"}'),
    ("POST", "/v1/chat", '{"message": "drift", "initiative": {"industry": "bank \\u0000"}}'),
    ("POST", "/v1/chat", '{"message": "drift", "conversation_id": "ab\\u0000cd"}'),
    ("POST", "/v1/feedback", '{"message_id": "ab\\u0000cd", "rating": "up"}'),
    (
        "POST",
        "/v1/chat/completions",
        '{"model": "advisor", "messages": [{"role": "user", "content": "drift \\u0000"}]}',
    ),
    ("GET", "/v1/conversations/ab%00cd", None),
]


def test_nul_characters_are_refused_on_both_stores(
    indexed_data_dir: Path, tmp_path: Path, db_url: str
) -> None:
    # A conversation stored before the attacks (this database holds no index: the checks come first).
    engine = create_db_engine(db_url)
    upgrade_database(engine)
    store = ConversationRepository(engine)
    kept = store.create_conversation(None, "bank, fraud model")
    store.append_message(kept.id, "user", "How do we monitor drift?")
    store.append_message(kept.id, "assistant", "Track the score distribution weekly [1].")
    engine.dispose()
    served = advisor_serve(indexed_data_dir, tmp_path, ready="/healthz", ADVISOR_DATABASE__URL=db_url)
    with served as url, httpx.Client(base_url=url, timeout=60) as http:
        statuses = []
        for method, path, body in NUL_CASES:
            reply = http.request(method, path, content=body, headers={"content-type": "application/json"})
            statuses.append(reply.status_code)
            assert reply.status_code in (400, 404, 422), (path, body, reply.status_code, reply.text)
        print(f"NUL cases on {db_url.split(':')[0]}: {statuses}")
        # Nothing stored before was lost.
        view = http.get(f"/v1/conversations/{kept.id}")
        assert view.status_code == 200 and len(view.json()["messages"]) == 2, view.text
