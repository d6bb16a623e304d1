"""The console's corpus page (fast tier, over a private copy of the fast index): uploads refused with
the corpus check's reasons, an accepted upload searchable at once as the source `uploads`, replacing
and deleting it, removing a source explicitly, and a re-ingest with its progress page."""

from __future__ import annotations

import re
import time

import httpx

from tests.admin.test_console_http import BOOTSTRAP, _csrf, _sign_in
from tests.plugins.advisor_app import LiveServer

SENTENCES = [
    "The zorblat review board approves every model before it reaches customers.",
    "Send the model card, the evaluation report and the rollback plan a week before the review.",
    "The board checks that a named owner will answer alerts after the launch.",
    "A model without a rollback plan is sent back with a list of what is missing.",
    "Approvals expire after twelve months, so the owner books a new review before then.",
    "Urgent fixes go through a short review with two board members and a written record.",
]
BODY = " ".join(SENTENCES[i % len(SENTENCES)] for i in range(40))
GOOD = f"""---
id: zorblat-review-board
title: The zorblat review board
topics: [security-governance]
summary: How models are approved for release at our company.
updated: 2026-12-05
---

{BODY}

## First steps
1. **Book the zorblat review.** Send the model card a week ahead.
"""
SHORT = GOOD.replace(BODY, "Too short to be useful guidance.")


def _upload(http: httpx.Client, token: str, name: str, text: str, replace: bool = False) -> httpx.Response:
    data = {"csrf": token, **({"replace": "1"} if replace else {})}
    return http.post(
        "/admin/corpus/upload", data=data, files={"file": (name, text.encode(), "text/markdown")}
    )


def _found(http: httpx.Client, query: str) -> set[str]:
    reply = http.post(
        "/v1/search", json={"query": query, "k": 3}, headers={"Authorization": f"Bearer {BOOTSTRAP}"}
    )
    return {r["doc_id"] for r in reply.json()["results"]}


def test_upload_search_delete_and_remove_a_source(server: LiveServer) -> None:
    with server.client() as http:
        _sign_in(http, BOOTSTRAP)
        token = _csrf(http.get("/admin/corpus"))
        refused = _upload(http, token, "zorblat.md", SHORT)
        assert refused.status_code == 422 and "upload was refused" in refused.text and "words" in refused.text
        assert _upload(http, token, "../evil.md", GOOD).status_code == 422
        assert _upload(http, "", "zorblat.md", GOOD).status_code == 403

        accepted = _upload(http, token, "zorblat.md", GOOD)
        assert accepted.status_code == 303, accepted.text[:500]
        page = http.get("/admin/corpus").text
        assert "zorblat-review-board" in page and re.search(r"<strong>uploads</strong></td><td[^>]*>1<", page)
        deadline = time.monotonic() + 10
        while "zorblat-review-board" not in _found(http, "zorblat review board approval"):
            assert time.monotonic() < deadline, "the upload never became searchable"
            time.sleep(0.2)
        assert "release-strategies" in _found(http, "How do we roll back a canary release?")
        assert "zorblat-review-board" in http.get("/admin/corpus/documents/zorblat-review-board").text
        row = re.search(r"zorblat-review-board · zorblat.md.*?</tr>", page, re.S)
        assert row and "security-governance" in row.group(0) and "2026-12-05" in row.group(0)

        assert (
            http.post("/admin/corpus/documents/release-strategies/delete", data={"csrf": token}).status_code
            == 409
        )
        assert (
            http.post("/admin/corpus/documents/zorblat-review-board/delete", data={"csrf": token}).status_code
            == 303
        )
        assert "zorblat-review-board" not in http.get("/admin/corpus").text

        removed = http.post("/admin/corpus/sources/uploads/remove", data={"csrf": token})
        assert removed.status_code == 303
        audit = http.get("/admin/audit").text
        assert "upload document" in audit and "delete document" in audit and "remove source" in audit


def _searchable(http: httpx.Client, query: str, doc_id: str) -> None:
    deadline = time.monotonic() + 10
    while doc_id not in _found(http, query):
        assert time.monotonic() < deadline, f"{doc_id} never became searchable for {query!r}"
        time.sleep(0.2)


def test_an_upload_is_replaced_in_place_only_when_asked(server: LiveServer) -> None:
    newer = GOOD.replace("zorblat", "quorblat")
    with server.client() as http:
        _sign_in(http, BOOTSTRAP)
        token = _csrf(http.get("/admin/corpus"))
        assert _upload(http, token, "board.md", GOOD).status_code == 303
        again = _upload(http, token, "board.md", newer)
        assert again.status_code == 422 and "tick &#39;replace&#39;" in again.text
        assert _upload(http, token, "board.md", SHORT, replace=True).status_code == 422  # checked first
        assert _upload(http, token, "board.md", newer, replace=True).status_code == 303
        _searchable(http, "quorblat review board approval", "quorblat-review-board")
        listing = http.get("/admin/corpus").text
        assert "quorblat-review-board" in listing and "zorblat-review-board" not in listing
        assert "replace document" in http.get("/admin/audit").text


def test_a_re_ingest_runs_in_the_background_and_shows_its_progress(server: LiveServer) -> None:
    with server.client() as http:
        _sign_in(http, BOOTSTRAP)
        token = _csrf(http.get("/admin/corpus"))
        assert http.post("/admin/corpus/ingest", data={}).status_code == 403  # no CSRF token
        started = http.post("/admin/corpus/ingest", data={"csrf": token, "force": "1"})
        assert started.status_code == 303 and started.headers["location"].startswith("/admin/corpus/ingest/")
        run_page = started.headers["location"]
        seen_running = False
        deadline = time.monotonic() + 120
        while "Ingest running" in (shown := http.get(run_page).text):
            seen_running = True
            assert 'http-equiv="refresh"' in shown and "<progress" in shown
            assert time.monotonic() < deadline, "the re-ingest never finished"
            time.sleep(0.3)
        assert seen_running
        assert "Ingest finished" in shown, shown[-1500:]
        embedded = re.search(r"chunks: (\d+) \((\d+) embedded\)", shown)
        assert embedded and embedded.group(1) == embedded.group(2) != "0"  # forced: every chunk again
        assert "re-ingest" in http.get("/admin/audit").text
        assert "release-strategies" in _found(http, "How do we roll back a canary release?")
        assert http.get("/admin/corpus/ingest/no-such-run").status_code == 404
