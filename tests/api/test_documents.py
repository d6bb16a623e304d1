"""GET /v1/documents/{doc_id}: the whole document a citation names, for API keys with the chat or
search scope (widget keys: tests/widget/test_http.py)."""

from __future__ import annotations

from advisor.types import QUESTIONS_SECTION
from tests.api.helpers import assert_json_error
from tests.plugins.fast import FastServer

DOC = "drift-detection-and-retraining"
BOOTSTRAP = "documents-test-key-0123456789abcdef"


def test_a_document_comes_back_whole_with_its_sections_in_order(fast_server: FastServer) -> None:
    with fast_server() as server, server.client() as http:
        reply = http.get(f"/v1/documents/{DOC}")
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert body["doc_id"] == DOC and body["title"] and body["source"].endswith(".md")
        assert "monitoring" in body["topics"]
        sections = [s["section"] for s in body["sections"]]
        indexed = server.container.retriever.document_sections(DOC)
        assert sections == [name for name, _ in indexed if name != QUESTIONS_SECTION]
        assert QUESTIONS_SECTION not in sections  # users' questions find a document, never shown
        assert all(s["text"].strip() for s in body["sections"])


def test_an_unknown_document_is_a_404_with_a_reason(fast_server: FastServer) -> None:
    with fast_server() as server, server.client() as http:
        assert "nosuchdoc" in assert_json_error(http.get("/v1/documents/nosuchdoc"), 404, "not_found")


def test_keys_need_the_chat_or_the_search_scope(fast_server: FastServer) -> None:
    with fast_server(api={"keys": [BOOTSTRAP]}) as server, server.client() as http:
        store = server.container.api_keys
        keys = {scope: store.create([scope], scope).key for scope in ("chat", "search", "metrics")}
        for scope in ("chat", "search"):
            got = http.get(f"/v1/documents/{DOC}", headers={"Authorization": f"Bearer {keys[scope]}"})
            assert got.status_code == 200, (scope, got.text)
        refused = http.get(f"/v1/documents/{DOC}", headers={"Authorization": f"Bearer {keys['metrics']}"})
        assert "'chat' or 'search'" in assert_json_error(refused, 403, "forbidden")
        assert_json_error(http.get(f"/v1/documents/{DOC}"), 401, "unauthorized")
