"""The admin console over real HTTP (fast tier): signing in with an admin key only, the session
cookie's flags, CSRF on every form, the audit log, and a key revoked here failing at once."""

from __future__ import annotations

import re

import httpx
import pytest

from advisor.store.conversations import MessageDraft, NewConversation
from advisor.store.models import new_id
from tests.plugins.fast import FastServer

BOOTSTRAP = "console-bootstrap-key-0123456789abcdef"


def _csrf(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text[:500]
    return found.group(1)


def _sign_in(http: httpx.Client, key: str) -> httpx.Response:
    return http.post("/admin/sign-in", data={"key": key})


def test_only_an_admin_key_signs_in_and_the_cookie_is_locked_down(fast_server: FastServer) -> None:
    with fast_server(api={"keys": [BOOTSTRAP]}) as server, server.client() as http:
        assert http.get("/admin").status_code == 303  # to the sign-in page
        chat_key = server.container.api_keys.create(["chat"], "portal").key
        refused = _sign_in(http, chat_key)
        assert refused.status_code == 401 and "admin scope" in refused.text
        assert _sign_in(http, "not-a-key-at-all-0123456789").status_code == 401

        signed = _sign_in(http, BOOTSTRAP)
        assert signed.status_code == 303 and signed.headers["location"] == "/admin"
        cookie = signed.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "path=/admin" in cookie
        store = server.container.conversations
        for abstained in (True, False):
            reply = store.record_turn(
                new_id(),
                "How do we staff it?",
                MessageDraft("An answer.", abstained=abstained),
                new_conversation=NewConversation(None, None, "api"),
            )
            assert reply is not None
        store.add_feedback(reply.id, "down", None, None)
        overview = http.get("/admin?days=7")
        assert overview.status_code == 200 and "Answers per day" in overview.text
        cards = re.sub(r"\s+", " ", overview.text)
        assert "<b>2</b>answers" in cards and "<b>50%</b>abstained" in cards and "<b>0 / 1</b>rated" in cards
        assert BOOTSTRAP not in overview.text


def test_forms_without_the_csrf_token_are_refused(fast_server: FastServer) -> None:
    with fast_server(api={"keys": [BOOTSTRAP]}) as server, server.client() as http:
        _sign_in(http, BOOTSTRAP)
        forged = http.post("/admin/keys", data={"name": "forged", "scope": ["admin"]})
        assert forged.status_code == 403 and "CSRF" in forged.text
        token = _csrf(http.get("/admin/keys"))
        foreign = http.post(
            "/admin/keys", data={"csrf": token, "scope": ["chat"]}, headers={"Origin": "https://evil.example"}
        )
        assert foreign.status_code == 403
        assert server.container.api_keys.list() == []


def test_a_key_revoked_in_the_console_fails_at_once_and_both_actions_are_audited(
    fast_server: FastServer,
) -> None:
    with fast_server(api={"keys": [BOOTSTRAP]}) as server, server.client() as http:
        _sign_in(http, BOOTSTRAP)
        token = _csrf(http.get("/admin/keys"))
        created = http.post("/admin/keys", data={"csrf": token, "name": "hr portal", "scope": ["search"]})
        assert created.status_code == 200
        key = re.search(r'<code class="secret">([^<]+)</code>', created.text)
        assert key, created.text[:800]
        search = {"query": "canary release"}
        auth = {"Authorization": f"Bearer {key.group(1)}"}
        assert http.post("/v1/search", json=search, headers=auth).status_code == 200

        (record,) = server.container.api_keys.list()
        revoked = http.post(f"/admin/keys/{record.id}/revoke", data={"csrf": token})
        assert revoked.status_code == 303
        assert http.post("/v1/search", json=search, headers=auth).status_code == 401
        audit = http.get("/admin/audit").text
        assert "create key" in audit and "revoke key" in audit and record.id in audit

        signed_out = http.post("/admin/sign-out", data={"csrf": token})
        assert signed_out.status_code == 303
        assert http.get("/admin").status_code == 303


def test_conversations_are_filtered_opened_exported_and_deleted(fast_server: FastServer) -> None:
    with fast_server(api={"keys": [BOOTSTRAP]}) as server, server.client() as http:
        store = server.container.conversations
        ids = {}
        for channel, question, abstained in (
            ("widget", "Where do visitors park at the Leeds office?", True),
            ("api", "How do we roll back a canary release?", False),
        ):
            ids[channel] = new_id()
            reply = store.record_turn(
                ids[channel],
                question,
                MessageDraft("An answer [1].", abstained=abstained),
                new_conversation=NewConversation(None, None, channel),
            )
            assert reply is not None
        store.add_feedback(reply.id, "down", "vague", None)
        _sign_in(http, BOOTSTRAP)
        listed = http.get("/admin/conversations")
        assert "Leeds office" in listed.text and "canary release" in listed.text
        assert "Leeds" not in http.get("/admin/conversations", params={"channel": "api"}).text
        assert "canary" not in http.get("/admin/conversations", params={"abstained": "1"}).text
        assert "Leeds" not in http.get("/admin/conversations", params={"rating": "down"}).text
        assert "canary" not in http.get("/admin/conversations", params={"q": "visitors"}).text

        opened = http.get(f"/admin/conversations/{ids['widget']}")
        assert opened.status_code == 200 and "abstained" in opened.text and "An answer [1]." in opened.text
        as_json = http.get("/admin/conversations/export.json", params={"channel": "api"})
        (exported,) = as_json.json()
        assert exported["id"] == ids["api"] and exported["turns"][1]["ratings"] == ["down"]
        as_csv = http.get("/admin/conversations/export.csv")
        assert (
            as_csv.headers["content-type"].startswith("text/csv")
            and len(as_csv.text.strip().splitlines()) == 3
        )

        token = _csrf(opened)
        assert http.post(f"/admin/conversations/{ids['widget']}/delete", data={}).status_code == 403
        assert (
            http.post(f"/admin/conversations/{ids['widget']}/delete", data={"csrf": token}).status_code == 303
        )
        assert store.list_messages(ids["widget"]) == []
        assert "delete conversation" in http.get("/admin/audit").text


def test_without_any_key_or_secret_the_console_says_what_to_set(fast_server: FastServer) -> None:
    with fast_server() as server, server.client() as http:  # keyless local mode
        assert http.get("/admin").status_code == 303
        page = http.get("/admin/sign-in")
        assert page.status_code == 503 and "admin.session_secret" in page.text


def test_the_overview_charts_answers_abstentions_and_answer_latency(fast_server: FastServer) -> None:
    from advisor.store.admin import percentiles

    assert percentiles([]) == (None, None) and percentiles([40]) == (40.0, 40.0)
    assert percentiles(list(range(1, 101))) == (pytest.approx(50.5), pytest.approx(95.05))
    with fast_server(api={"keys": [BOOTSTRAP]}) as server, server.client() as http:
        auth = {"Authorization": f"Bearer {BOOTSTRAP}"}
        for question in ("How do we roll back a canary release?", "What should our monitoring cover?"):
            assert http.post("/v1/chat", json={"message": question}, headers=auth).status_code == 200
        stored = server.container.admin_store.latencies(1)
        assert len(stored) == 2 and all(0 <= ms < 30_000 for ms in stored)  # a real turn is timed
        store = server.container.conversations
        store.record_turn(
            new_id(),
            "Slow one?",
            MessageDraft("An answer.", latency_ms=900),
            new_conversation=NewConversation(None, None, "api"),
        )
        _sign_in(http, BOOTSTRAP)
        page = re.sub(r"\s+", " ", http.get("/admin?days=7").text)
        p50, p95 = percentiles([*stored, 900])
        assert f"<b>{round(p50)} / {round(p95)} ms</b>answer time p50 / p95" in page
        assert page.count('<svg class="chart"') == 5 and 'role="img"' in page
        assert ": 3</title></rect>" in page  # today's bar: three answers
        assert "p95: " in page and "<polyline" in page
