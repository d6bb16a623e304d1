"""The admin console in Chromium: signing in (and being refused without an admin key), a forged form
post refused for want of its CSRF token, revoking a key and watching the next API call fail, and
screenshots of each page on a desktop and a phone."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import update

from advisor.container import Container
from advisor.store.conversations import MessageDraft, NewConversation
from advisor.store.models import Message, new_id, utcnow
from tests.admin.conftest import BOOTSTRAP as CONSOLE_KEY
from tests.admin.test_console_corpus import GOOD
from tests.admin.test_console_reports import PARKING
from tests.plugins.advisor_app import LiveServer
from tests.plugins.fast import FastServer

BOOTSTRAP = "console-browser-key-0123456789abcdef"
SIZES = {"desktop": (1280, 800), "mobile": (390, 844)}


def _seed_activity(container: Container) -> None:
    """A fortnight of answers, some abstained, with their latencies: something for the charts."""
    for day in range(14):
        for n in range(1 + day % 4):
            conversation_id = new_id()
            container.conversations.record_turn(
                conversation_id,
                f"How do we monitor model {n}?",
                MessageDraft(
                    "Watch inputs and outputs.", abstained=(day + n) % 5 == 0, latency_ms=18 + 7 * n + day
                ),
                new_conversation=NewConversation(None, None, "widget"),
            )
            with container.engine.begin() as db:
                db.execute(
                    update(Message)
                    .where(Message.conversation_id == conversation_id)
                    .values(created_at=utcnow() - timedelta(days=day))
                )


def test_the_console_in_a_browser(fast_server: FastServer, chromium_browser: Any, screenshots: Path) -> None:
    from playwright.sync_api import expect

    with fast_server(api={"keys": [BOOTSTRAP]}) as server:
        portal_key = server.container.api_keys.create(["search"], "hr portal").key
        _seed_activity(server.container)
        for device, (width, height) in SIZES.items():
            context = chromium_browser.new_context(viewport={"width": width, "height": height})
            page = context.new_page()
            page.goto(f"{server.url}/admin")
            expect(page.get_by_label("Admin key")).to_be_visible()  # sent to sign in first
            page.screenshot(path=str(screenshots / f"admin-sign-in-{device}.png"))
            page.get_by_label("Admin key").fill(portal_key)
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_role("alert")).to_contain_text("not a key with the admin scope")

            page.get_by_label("Admin key").fill(BOOTSTRAP)
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_role("heading", name="Overview")).to_be_visible()
            page.screenshot(path=str(screenshots / f"admin-overview-{device}.png"), full_page=True)
            page.get_by_role("link", name="API keys").click()
            expect(page.get_by_role("heading", name="API keys", exact=True)).to_be_visible()
            page.screenshot(path=str(screenshots / f"admin-keys-{device}.png"), full_page=True)
            page.get_by_role("link", name="Conversations").click()
            expect(page.get_by_role("heading", name="Conversations")).to_be_visible()
            page.screenshot(path=str(screenshots / f"admin-conversations-{device}.png"), full_page=True)
            page.get_by_role("link", name="Audit log").click()
            page.screenshot(path=str(screenshots / f"admin-audit-{device}.png"), full_page=True)
            context.close()

        context = chromium_browser.new_context()
        page = context.new_page()
        page.goto(f"{server.url}/admin/sign-in")
        page.get_by_label("Admin key").fill(BOOTSTRAP)
        page.get_by_role("button", name="Sign in").click()
        # A forged post from the signed-in browser, without the form's token: refused.
        forged = page.evaluate(
            """async () => {
                const r = await fetch('/admin/keys', {method: 'POST', body: new URLSearchParams({name: 'x', scope: 'admin'})});
                return [r.status, await r.text()];
            }"""
        )
        assert forged[0] == 403 and "CSRF" in forged[1]

        search = {"query": "canary release"}
        auth = {"Authorization": f"Bearer {portal_key}"}
        assert httpx.post(f"{server.url}/v1/search", json=search, headers=auth).status_code == 200
        page.goto(f"{server.url}/admin/keys")
        page.get_by_role("button", name="Revoke hr portal").click()
        expect(page.get_by_text("revoked")).to_be_visible()
        assert httpx.post(f"{server.url}/v1/search", json=search, headers=auth).status_code == 401
        page.get_by_role("link", name="Audit log").click()
        expect(page.get_by_role("cell", name="revoke key")).to_be_visible()
        context.close()


def test_upload_find_in_search_and_chat_then_delete_and_the_gaps_page(
    server: LiveServer, chromium_browser: Any, screenshots: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    for question in PARKING:  # abstentions the gaps page clusters
        server.container.conversations.record_turn(
            new_id(),
            question,
            MessageDraft("I can't answer that.", abstained=True),
            new_conversation=NewConversation(None, None, "widget"),
        )
    document = tmp_path / "zorblat.md"
    document.write_text(GOOD)
    auth = {"Authorization": f"Bearer {CONSOLE_KEY}"}
    for device, (width, height) in SIZES.items():
        context = chromium_browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        page.goto(f"{server.url}/admin/sign-in")
        page.get_by_label("Admin key").fill(CONSOLE_KEY)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("link", name="Gaps").click()
        expect(page.get_by_text(PARKING[0])).to_be_visible()
        expect(page.get_by_text("2 abstained")).to_be_visible()
        page.screenshot(path=str(screenshots / f"admin-gaps-{device}.png"), full_page=True)
        page.get_by_role("link", name="Corpus").click()
        page.screenshot(path=str(screenshots / f"admin-corpus-{device}.png"), full_page=True)
        if device == "mobile":
            context.close()
            break
        page.get_by_label("Document", exact=True).set_input_files(str(document))
        page.get_by_role("button", name="Upload and index").click()
        expect(page.get_by_role("link", name="The zorblat review board")).to_be_visible()

        deadline = time.monotonic() + 10
        while True:  # the service looks at the index pointer every 2 s
            found = httpx.post(
                f"{server.url}/v1/search", json={"query": "zorblat review board"}, headers=auth
            ).json()
            if "zorblat-review-board" in {r["doc_id"] for r in found["results"]}:
                break
            assert time.monotonic() < deadline
            time.sleep(0.2)
        chat = httpx.post(
            f"{server.url}/v1/chat",
            json={"message": "How does the zorblat review board approve a model?"},
            headers=auth,
            timeout=30,
        ).json()
        assert "zorblat-review-board" in {c["doc_id"] for c in chat["citations"]}, chat

        page.get_by_role("button", name="Delete The zorblat review board").click()
        expect(page.get_by_role("link", name="The zorblat review board")).to_have_count(0)
        context.close()
