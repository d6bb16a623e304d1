"""The console's housekeeping in Chromium, on a desktop and a phone: a key's conversations listed and
deleted, a purge confirmed, a re-ingest followed to its end, a widget key's origins and limit
changed; tables become labelled cards on a phone with nothing wider than the screen. Screenshots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from advisor.store.conversations import MessageDraft, NewConversation
from advisor.store.models import new_id
from tests.admin.conftest import BOOTSTRAP
from tests.admin.test_console_browser import SIZES
from tests.plugins.advisor_app import LiveServer

KEY = "key_portal00042"
_FITS = "() => document.scrollingElement.scrollWidth <= window.innerWidth"


def _seed(server: LiveServer, count: int) -> None:
    for n in range(count):
        server.container.conversations.record_turn(
            new_id(),
            f"Who should own the churn model once it is live? (visit {n})",
            MessageDraft("Name a business owner and a technical owner."),
            new_conversation=NewConversation(KEY, None, "api"),
        )


def test_housekeeping_in_a_browser(server: LiveServer, chromium_browser: Any, screenshots: Path) -> None:
    from playwright.sync_api import expect

    server.container.widget_key_store.create("intranet", ["https://intranet.example"])
    for device, (width, height) in SIZES.items():
        _seed(server, 3)
        context = chromium_browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        page.goto(f"{server.url}/admin/sign-in")
        page.get_by_label("Admin key").fill(BOOTSTRAP)
        page.get_by_role("button", name="Sign in").click()

        page.get_by_role("link", name="Conversations").click()
        page.get_by_role("link", name="Who should own the churn model once it is live? (visit 0)").click()
        expect(page.get_by_role("heading", name="Answer")).to_be_visible()
        page.screenshot(path=str(screenshots / f"admin-conversation-{device}.png"), full_page=True)
        page.get_by_role("link", name="All conversations").click()
        page.get_by_role("link", name=KEY).first.click()
        delete_all = page.get_by_role("button", name=f"Delete all 3 conversations of {KEY}")
        expect(delete_all).to_be_visible()
        cell = page.locator("table.stack td[data-label='Key']").first
        shown = cell.evaluate("td => getComputedStyle(td).display")
        assert shown == ("grid" if device == "mobile" else "table-cell"), shown
        assert page.evaluate(_FITS), "the conversations page is wider than the screen"
        page.screenshot(path=str(screenshots / f"admin-conversations-of-key-{device}.png"), full_page=True)
        delete_all.click()
        expect(page.get_by_text("No conversation matches.")).to_be_visible()

        page.get_by_label("Purge conversations idle for longer than").fill("1h")
        page.get_by_role("button", name="Purge…").click()
        expect(page.get_by_role("heading", name="Confirm")).to_be_visible()
        page.screenshot(path=str(screenshots / f"admin-purge-confirm-{device}.png"))
        page.get_by_role("link", name="Back to the conversations").click()

        page.get_by_role("link", name="API keys").click()
        page.get_by_text("Change").click()
        page.get_by_label("Chat limit per visitor", exact=True).fill("20/minute")
        page.screenshot(path=str(screenshots / f"admin-widget-key-edit-{device}.png"), full_page=True)
        page.get_by_role("button", name="Save widget key intranet").click()
        expect(page.get_by_role("cell", name="20/minute")).to_be_visible()
        assert page.evaluate(_FITS), "the keys page is wider than the screen"

        page.get_by_role("link", name="Evals").click()
        expect(page.get_by_role("heading", name="Eval history")).to_be_visible()
        page.screenshot(path=str(screenshots / f"admin-evals-{device}.png"), full_page=True)
        page.get_by_role("link", name="Corpus").click()
        assert page.evaluate(_FITS), "the corpus page is wider than the screen"
        page.get_by_role("link", name="Release strategies").first.click()
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        page.screenshot(path=str(screenshots / f"admin-document-{device}.png"))
        page.get_by_role("navigation", name="Admin").get_by_role("link", name="Corpus").click()
        page.get_by_role("button", name="Re-ingest now").click()
        expect(page.get_by_role("heading", name="Ingest running")).to_be_visible()
        page.screenshot(path=str(screenshots / f"admin-ingest-running-{device}.png"))
        expect(page.get_by_role("heading", name="Ingest finished")).to_be_visible(timeout=60_000)
        expect(page.get_by_role("status")).to_contain_text("unchanged")
        page.screenshot(path=str(screenshots / f"admin-ingest-finished-{device}.png"))
        context.close()
    (record,) = server.container.widget_key_store.list()
    assert record.rate_limit == "20/minute"
