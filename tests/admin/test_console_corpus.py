"""The console's corpus page (fast tier, over a private copy of the fast index): uploads refused with
the corpus check's reasons, an accepted upload searchable at once as the source `uploads`, deleting
it, and removing a source explicitly."""

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


def _upload(http: httpx.Client, token: str, name: str, text: str) -> httpx.Response:
    return http.post(
        "/admin/corpus/upload", data={"csrf": token}, files={"file": (name, text.encode(), "text/markdown")}
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
        assert "zorblat-review-board" in page and re.search(r"<strong>uploads</strong></td><td>1<", page)
        deadline = time.monotonic() + 10
        while "zorblat-review-board" not in _found(http, "zorblat review board approval"):
            assert time.monotonic() < deadline, "the upload never became searchable"
            time.sleep(0.2)
        assert "release-strategies" in _found(http, "How do we roll back a canary release?")
        assert "zorblat-review-board" in http.get("/admin/corpus/documents/zorblat-review-board").text

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
